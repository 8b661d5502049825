#!/usr/bin/env bash
# Scaling and memory: collect, verify and scope on corpora of 1k, 10k and 100k modules of the same
# mean size (so bytes grow with files), warm cache, one round each; wall time, CPU time (user +
# sys), peak RSS (GNU time), and microseconds per file. Not part of CI.
#
#   bash bench/scale.sh                      SIZES="1000 10000 100000" KIB_PER_MODULE=8
#
# Environment: BENCH_OUT (default bench/out-scale; each corpus is removed after its row).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000 10000 100000"}
KIB_PER_MODULE=${KIB_PER_MODULE:-8}
OUT=${BENCH_OUT:-bench/out-scale}
cargo build --release --quiet --bin wsc-forensics --example gen_corpus
BIN=$PWD/target/release/wsc-forensics
GEN=$PWD/target/release/examples/gen_corpus
rm -rf "$OUT" && mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

run() { # label, command   -> "wall cpu rss_kib status"
    local status=ok
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" bash -c "$2" > "$OUT/$1.out" 2> "$OUT/$1.err" || {
        status=FAILED; echo "FAILED: $1 at $n modules:" >&2; tail -n 3 "$OUT/$1.out" "$OUT/$1.err" >&2; }
    read -r t u s m < <(tail -n 1 "$OUT/time.txt")
    echo "$t $(awk "BEGIN{print $u + $s}") $m $status"
}
cell() { # "wall cpu rss status" files -> markdown cells
    read -r t c m st <<< "$1"
    local mark=""; [ "$st" = ok ] || mark=" ($st)"
    printf '%.2f%s | %.2f | %.0f | %.1f' "$t" "$mark" "$c" "$(awk "BEGIN{print $t*1e6/$2}")" "$(awk "BEGIN{print $m/1024}")"
}

echo "| modules | files | MiB | collect wall (s) | CPU (s) | µs/file | RSS (MiB) | verify wall (s) | CPU (s) | µs/file | RSS (MiB) | scope wall (s) | CPU (s) | µs/file | RSS (MiB) | load |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $SIZES; do
    mib=$(( n * KIB_PER_MODULE / 1024 )); [ "$mib" -ge 1 ] || mib=1
    "$GEN" "$OUT/c$n" "$n" "$mib" 0 2> /dev/null
    cd "$OUT/c$n"
    files=$(find corpus -type f | wc -l)
    bytes=$(find corpus -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f", s/1048576}')
    find corpus keys -type f -print0 | xargs -0 cat > /dev/null
    load=$(cut -d' ' -f1 /proc/loadavg)
    c=$(run collect "'$BIN' collect -q -o '$OUT/case.zip' --case-id BENCH --collected-at 2026-01-01T00:00:00Z corpus keys; test \$? -le 1")
    v=$(run verify "'$BIN' verify '$OUT/case.zip'")
    s=$(run scope "'$BIN' scope -q --key keys/key-0.pub --list '$OUT/scope.txt' corpus; test \$? -le 1")
    sort "$OUT/scope.txt" | diff -q - expected-valid-key-0.txt > /dev/null || { echo "scope list differs from the oracle at $n" >&2; exit 1; }
    echo "| $n | $files | $bytes | $(cell "$c" "$files") | $(cell "$v" "$files") | $(cell "$s" "$files") | $load |"
    cd - > /dev/null
    rm -rf "$OUT/c$n" "$OUT/case.zip"
done
