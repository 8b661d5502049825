#!/usr/bin/env bash
# Benchmark: wsc-forensics against the tools a responder would otherwise use, on one generated
# corpus, in one run, warm cache. Prints a Markdown table (best of $RUNS) with wall time, MiB/s,
# ratios to each peer and to the floor, and peak RSS (GNU time). Not part of CI.
#
#   bash bench/run.sh [MODULES] [TOTAL_MIB] [BIG_MIB]      default: 2000 1024 100
#
# Peers: bagit-python (make a bag, `--processes 2`, then `zip -0 -r`; `--validate --processes 2`),
# `sha256sum` + `zip -0 -r` and `sha256sum -c`, and the runbook's per-module `wsc verify` loop
# (the real wsc CLI when WSC_BIN points at it, else a one-process-per-module wsc-verify-core
# stand-in, examples/wsc_verify_one.rs). Floors: warm `cat` of every byte, writing every byte
# once (cat > file + sync), 2-way parallel SHA-256 with SHA-NI (openssl dgst).
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES=${1:-2000}
TOTAL_MIB=${2:-1024}
BIG_MIB=${3:-100}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench/out}
python3 -c 'import bagit' 2>/dev/null || python3 -m pip install --quiet --root-user-action=ignore bagit==1.9.0

cargo build --release --quiet --bin wsc-forensics --example gen_corpus --example wsc_verify_one
BIN=$PWD/target/release/wsc-forensics
GEN=$PWD/target/release/examples/gen_corpus
WSC_LOOP_BIN=${WSC_BIN:-$PWD/target/release/examples/wsc_verify_one}

rm -rf "$OUT" && mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
"$GEN" "$OUT/gen" "$MODULES" "$TOTAL_MIB" "$BIG_MIB"
cd "$OUT/gen"
BYTES=$(find corpus -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find corpus -type f | wc -l)
cat $(find corpus -type f) > /dev/null   # warm the cache

declare -A T M
measure() { # name, command...
    local name=$1; shift
    local best="" bestm=""
    for _ in $(seq "$RUNS"); do
        [ -n "${PREP:-}" ] && eval "$PREP"
        /usr/bin/time -f '%e %M' -o "$OUT/time.txt" bash -c "$*" > /dev/null 2> "$OUT/$name.err" || {
            echo "FAILED: $name (see $OUT/$name.err)" >&2; cat "$OUT/$name.err" >&2; exit 1; }
        read -r t m < <(tail -n 1 "$OUT/time.txt")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; bestm=$m; fi
    done
    T[$name]=$best; M[$name]=$bestm
    printf '%-22s %8.2f s %8d KiB\n' "$name" "$best" "$bestm" >&2
}

PREP="" measure floor-read "find corpus -type f -print0 | xargs -0 cat > /dev/null"
PREP="rm -f '$OUT/floor.bin'" measure floor-write "find corpus -type f -print0 | xargs -0 cat > '$OUT/floor.bin' && sync '$OUT/floor.bin'"
PREP="" measure floor-sha256-2way "find corpus -type f -print0 | xargs -0 -P2 -n 64 openssl dgst -sha256 > /dev/null"
PREP="rm -f '$OUT/case.zip'" measure collect "'$BIN' collect -q -o '$OUT/case.zip' --case-id BENCH --collected-at 2026-01-01T00:00:00Z corpus"
PREP="rm -rf '$OUT/bag' '$OUT/bag.zip'; cp -a corpus '$OUT/bag'" measure bagit-make+zip "python3 -m bagit --quiet --processes 2 --sha256 '$OUT/bag' && cd '$OUT' && zip -0 -qr bag.zip bag"
PREP="rm -f '$OUT/manual.zip' manual.sha256" measure sha256sum+zip "find corpus -type f -print0 | xargs -0 sha256sum > manual.sha256 && zip -0 -qr '$OUT/manual.zip' corpus manual.sha256"
PREP="" measure verify "'$BIN' verify -q '$OUT/case.zip'"
PREP="" measure bagit-validate "python3 -m bagit --quiet --validate --processes 2 '$OUT/bag'"
PREP="" measure sha256sum-c "sha256sum -c --quiet manual.sha256"
PREP="rm -f '$OUT/scope.txt'" measure scope "'$BIN' scope -q --key keys/key-0.pub --list '$OUT/scope.txt' corpus; test \$? -le 1"
PREP="" measure wsc-verify-loop "find corpus -name '*.wasm' -exec '$WSC_LOOP_BIN' verify -K keys/key-0.pub -i {} \\; 2>/dev/null | true"

# Exactness of scope: the list must equal the generator's oracle.
sort "$OUT/scope.txt" | diff -q - expected-valid-key-0.txt > /dev/null && SCOPE_EXACT=yes || SCOPE_EXACT=NO

mib() { awk "BEGIN{printf \"%.0f\", $BYTES/1048576/$1}"; }
ratio() { awk "BEGIN{printf \"%.2f\", $1/$2}"; }
echo
echo "Corpus: $FILES files, $(awk "BEGIN{printf \"%.0f\", $BYTES/1048576}") MiB ($MODULES modules, largest ${BIG_MIB} MiB); best of $RUNS; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); SHA-NI: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no)"
echo
echo "| command | time (s) | MiB/s | peak RSS (MiB) | vs peer | vs floor |"
echo "| --- | ---: | ---: | ---: | --- | --- |"
row() { printf '| %s | %.2f | %s | %.1f | %s | %s |\n' "$1" "${T[$1]}" "$(mib "${T[$1]}")" "$(awk "BEGIN{print ${M[$1]}/1024}")" "$2" "$3"; }
row floor-read "" ""
row floor-write "" ""
row floor-sha256-2way "" ""
row collect "$(ratio "${T[bagit-make+zip]}" "${T[collect]}")× faster than bagit+zip, $(ratio "${T[sha256sum+zip]}" "${T[collect]}")× faster than sha256sum+zip" "$(ratio "${T[collect]}" "${T[floor-write]}")× the write floor"
row bagit-make+zip "" ""
row sha256sum+zip "" ""
row verify "$(ratio "${T[bagit-validate]}" "${T[verify]}")× faster than bagit validate, $(ratio "${T[sha256sum-c]}" "${T[verify]}")× faster than sha256sum -c" "$(ratio "${T[verify]}" "${T[floor-sha256-2way]}")× the SHA-256 floor"
row bagit-validate "" ""
row sha256sum-c "" ""
row scope "$(ratio "${T[wsc-verify-loop]}" "${T[scope]}")× faster than the wsc verify loop; list exact: $SCOPE_EXACT" ""
row wsc-verify-loop "" ""
