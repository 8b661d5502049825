#!/usr/bin/env bash
# Archive audit (#19): `verify` over a folder of BUNDLES bundles (one generated corpus collected
# BUNDLES times under different case ids: the payload bytes repeat, the files are distinct),
# warm cache, against the floor
# (2-way parallel SHA-256 of every bundle file with openssl) and against bagit-python run per
# bundle after unzip (`bagit --validate`, the per-bundle tool an auditor would otherwise script).
# Wall time, CPU (user + sys), MiB/s, peak RSS (GNU time). Not part of CI.
#
#   BUNDLES=200 MODULES=20 MIB=2 bash bench/archive.sh     (defaults: 200 bundles, ~2 MiB each)
#
# Environment: BENCH_OUT (default bench/out-archive; removed at the end unless KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLES=${BUNDLES:-200}
MODULES=${MODULES:-20}
MIB=${MIB:-2}
OUT=${BENCH_OUT:-bench/out-archive}
python3 -c 'import bagit' 2>/dev/null || python3 -m pip install --quiet --root-user-action=ignore bagit==1.9.0
cargo build --release --quiet --bin wsc-forensics --example gen_corpus
BIN=$PWD/target/release/wsc-forensics
GEN=$PWD/target/release/examples/gen_corpus
rm -rf "$OUT" && mkdir -p "$OUT/archive" "$OUT/unzipped"
OUT=$(cd "$OUT" && pwd)

"$GEN" "$OUT/gen" "$MODULES" "$MIB" 0 > /dev/null
for i in $(seq -w 1 "$BUNDLES"); do
    "$BIN" collect -q --case-id "ARCH-$i" --collected-at 2026-01-01T00:00:00Z \
        -o "$OUT/archive/case-$i.zip" "$OUT/gen/corpus" > /dev/null || true
done
rm -rf "$OUT/gen"
BYTES=$(find "$OUT/archive" -name '*.zip' -printf '%s\n' | awk '{s+=$1} END {print s}')
for z in "$OUT"/archive/*.zip; do
    (cd "$OUT/unzipped" && unzip -q "$z" -d "$(basename "$z" .zip)")
done
find "$OUT" -type f -print0 | xargs -0 cat > /dev/null   # warm the cache
echo "archive: $BUNDLES bundles, $BYTES bytes ($(awk "BEGIN{printf \"%.0f\", $BYTES/1048576}") MiB)"

measure() { # name, command
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" bash -c "$2" > /dev/null 2>&1 || true
    read -r wall user sys rss < "$OUT/time.txt"
    printf '| %s | %.2f | %.2f | %.0f | %.0f |\n' "$1" "$wall" "$(awk "BEGIN{print $user + $sys}")" \
        "$(awk "BEGIN{print $BYTES/1048576/$wall}")" "$(awk "BEGIN{print $rss/1024}")"
}
echo "| run | wall s | cpu s | MiB/s | peak RSS MiB |"
echo "| --- | --- | --- | --- | --- |"
measure "floor: sha256 of every bundle, 2-way (openssl)" \
    "find '$OUT/archive' -name '*.zip' -print0 | xargs -0 -P2 -n 16 openssl dgst -sha256"
rm -f "$OUT/fixity.jsonl"
measure "wsc-forensics verify -o fixity.jsonl archive/" "'$BIN' verify -q -o '$OUT/fixity.jsonl' '$OUT/archive'"
measure "bagit --validate per unzipped bundle (2 processes)" \
    "for d in '$OUT'/unzipped/*/*/; do python3 -m bagit --quiet --validate --processes 2 \"\$d\" || exit 1; done"
grep -c '"status":"intact"' "$OUT/fixity.jsonl" | sed 's/^/intact records: /'
[ "${KEEP:-0}" = 1 ] || rm -rf "$OUT"
