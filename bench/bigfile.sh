#!/usr/bin/env bash
# Memory on one huge module: a sparse file of SIZE_GIB GiB (default 8) that is a valid wasm module
# (header, then 1 GiB custom sections of zeros), collected, verified and scoped; peak RSS
# (GNU time), wall and CPU time. Needs SIZE_GIB of free disk for the bundle (removed at the end).
#
#   bash bench/bigfile.sh                    SIZE_GIB=8
#
# Environment: BENCH_OUT (default bench/out-big).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_GIB=${SIZE_GIB:-8}
OUT=${BENCH_OUT:-bench/out-big}
cargo build --release --quiet --bin wsc-forensics
BIN=$PWD/target/release/wsc-forensics
rm -rf "$OUT" && mkdir -p "$OUT/in"
OUT=$(cd "$OUT" && pwd)
free_gib=$(df -B1G --output=avail "$OUT" | tail -n 1 | tr -d ' ')
[ "$free_gib" -gt $(( SIZE_GIB + 2 )) ] || { echo "need $(( SIZE_GIB + 2 )) GiB free in $OUT, have $free_gib" >&2; exit 2; }

# Header, then custom sections "fill" of 1 GiB each (a section size is a u32) up to the end.
python3 - "$OUT/in/huge.wasm" "$SIZE_GIB" <<'EOF'
import sys
path, gib = sys.argv[1], int(sys.argv[2])
total = gib << 30
def leb5(v):
    return bytes(((v >> (7 * i)) & 0x7f) | (0x80 if i < 4 else 0) for i in range(5))
with open(path, "wb") as f:
    f.write(b"\0asm\x01\0\0\0")
    pos = 8
    while pos < total:
        sec = min(1 << 30, total - pos)
        f.seek(pos)
        f.write(b"\0" + leb5(sec - 6) + b"\x04fill")
        pos += sec
    f.truncate(total)
EOF
ls -ls "$OUT/in/huge.wasm" >&2

run() { # label, command
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" bash -c "$2" > /dev/null 2> "$OUT/$1.err" || {
        echo "FAILED: $1 (see $OUT/$1.err)" >&2; cat "$OUT/$1.err" >&2; exit 1; }
    read -r t u s m < <(tail -n 1 "$OUT/time.txt")
    printf '| %s | %.1f | %.1f | %.1f | %s |\n' "$1" "$t" "$(awk "BEGIN{print $u + $s}")" "$(awk "BEGIN{print $m/1024}")" "$(cut -d' ' -f1 /proc/loadavg)"
}
echo "| command ($SIZE_GIB GiB sparse module) | wall (s) | CPU (s) | peak RSS (MiB) | load |"
echo "| --- | ---: | ---: | ---: | ---: |"
run collect "'$BIN' collect -q -o '$OUT/case.zip' --case-id BIG --collected-at 2026-01-01T00:00:00Z '$OUT/in'; test \$? -le 1"
run verify "'$BIN' verify -q '$OUT/case.zip'"
rm -f "$OUT/case.zip"
run scope "'$BIN' scope -q --key fixtures/wsc/keys/test-key-a.pub '$OUT/in'; test \$? -le 1"
rm -rf "$OUT"
