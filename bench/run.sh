#!/usr/bin/env bash
# Benchmark: wsc-forensics against the tools a responder would otherwise use, on one generated
# corpus, in one run, warm cache. Prints a Markdown table (best of $RUNS by wall time) with wall
# time, CPU time (user + sys, children included), MiB/s, peak RSS (GNU time), ratios to each peer
# and to the floor. Not part of CI.
#
#   MODULES=2000 TOTAL_MIB=1024 BIG_MIB=100 RUNS=3 bash bench/run.sh     (these are the defaults)
#   bash bench/run.sh 200 100 10                                         (positional form)
#
# Environment: BENCH_OUT (work folder, default bench/out; needs about 4× TOTAL_MIB of disk),
# WSC_BIN (the real wsc CLI for the scope peer; default: examples/wsc_verify_one.rs, which takes
# the same arguments), ONLY (space-separated names of the rows to run, e.g. "collect verify").
#
# WSC_BIN: path of a `wsc` binary (the pulseengine wsc CLI, e.g. wsc-cli 0.12.0; this project
# neither ships nor builds it). The wsc-verify-loop row runs, once per module, exactly the
# runbook's `wsc verify -K keys/key-0.pub -i MODULE` and counts the "Signature is valid." lines
# (wsc prints failures on stderr); it never passes -S, so detached signatures are missed, as in
# the runbook. Before trusting a wsc build as the peer, replay the plain `wsc verify -K [-S]`
# runs of fixtures/wsc/modules/*.transcript.txt with it: they must give the same output and
# exit status. Without WSC_BIN the stand-in (same arguments, same per-module work through
# wsc-verify-core, lighter start-up than the CLI) is used.
#
# Peers: bagit-python 1.9 (make a bag with `--processes 2`, then `zip -0 -r`; `--validate
# --processes 2`, against our verify of the bundle and of bagit-python's bag directory itself), `sha256sum` + `zip -0 -r` and `sha256sum -c`, and the runbook's per-module
# `wsc verify` loop for scope. Floors: warm `cat` of every byte, writing every byte once
# (cat > file + sync), 2-way parallel SHA-256 with SHA-NI (openssl dgst).
# Our collect is given the corpus and the keys folder (modules are judged against the keys, as in
# the runbook); the peers only hash and copy.
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES=${1:-${MODULES:-2000}}
TOTAL_MIB=${2:-${TOTAL_MIB:-1024}}
BIG_MIB=${3:-${BIG_MIB:-100}}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench/out}
ONLY=${ONLY:-}
python3 -c 'import bagit' 2>/dev/null || python3 -m pip install --quiet --root-user-action=ignore bagit==1.9.0
for tool in zip openssl sha256sum /usr/bin/time; do
    command -v "$tool" > /dev/null || { echo "missing: $tool (apt-get install zip openssl time)" >&2; exit 2; }
done

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
sync   # the fresh corpus's dirty pages would otherwise be written back during the first rows
find corpus keys -type f -print0 | xargs -0 cat > /dev/null   # warm the cache

declare -A T C M L
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
measure() { # name, command...   (PREP: untimed command run before each round)
    local name=$1; shift
    want "$name" || return 0
    local best="" bestc="" bestm="" load
    load=$(cut -d' ' -f1 /proc/loadavg)
    for _ in $(seq "$RUNS"); do
        [ -n "${PREP:-}" ] && eval "$PREP"
        /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" bash -c "$*" > /dev/null 2> "$OUT/$name.err" || {
            echo "FAILED: $name (see $OUT/$name.err)" >&2; cat "$OUT/$name.err" >&2; exit 1; }
        read -r t u s m < <(tail -n 1 "$OUT/time.txt")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then
            best=$t; bestc=$(awk "BEGIN{print $u + $s}"); bestm=$m
        fi
    done
    T[$name]=$best; C[$name]=$bestc; M[$name]=$bestm; L[$name]=$load
    printf '%-22s %8.2f s wall %8.2f s cpu %8d KiB  (load %s)\n' "$name" "$best" "$bestc" "$bestm" "$load" >&2
}

PREP="" measure floor-read "find corpus -type f -print0 | xargs -0 cat > /dev/null"
PREP="rm -f '$OUT/floor.bin'; sync" measure floor-write "find corpus -type f -print0 | xargs -0 cat > '$OUT/floor.bin' && sync '$OUT/floor.bin'"
rm -f "$OUT/floor.bin"   # outputs are removed once measured, to keep the disk use near 4x the corpus
PREP="" measure floor-sha256-2way "find corpus -type f -print0 | xargs -0 -P2 -n 64 openssl dgst -sha256 > /dev/null"
# collect exits 1 when the evidence holds high findings (the tampered modules): not a failure here.
collect_cmd() { echo "'$BIN' collect -q $* -o '$OUT/case.zip' --case-id BENCH --collected-at 2026-01-01T00:00:00Z corpus keys; test \$? -le 1"; }
# Each writing row starts with no dirty pages left by the previous round (untimed `sync`).
PREP="rm -f '$OUT/case.zip'; sync" measure collect "$(collect_cmd)"
PREP="rm -f '$OUT/case.zip'; sync" measure collect-compress "$(collect_cmd --compress)"
rm -f "$OUT/case.zip"
PREP="rm -rf '$OUT/bag' '$OUT/bag.zip'; cp -a corpus '$OUT/bag'; sync" measure bagit-make+zip "python3 -m bagit --quiet --processes 2 --sha256 '$OUT/bag' && cd '$OUT' && zip -0 -qr bag.zip bag"
rm -f "$OUT/bag.zip"
PREP="rm -f '$OUT/manual.zip' manual.sha256; sync" measure sha256sum+zip "find corpus -type f -print0 | xargs -0 sha256sum > manual.sha256 && zip -0 -qr '$OUT/manual.zip' corpus manual.sha256"
rm -f "$OUT/manual.zip"
# The last collect round may have been --compress: verify the default bundle.
want verify && { rm -f "$OUT/case.zip"; bash -c "$(collect_cmd)" > /dev/null 2>&1; }
PREP="" measure verify "'$BIN' verify -q '$OUT/case.zip'"
# With ONLY naming a validate row but not bagit-make+zip, the bag directory is made untimed.
{ want bagit-validate || want verify-bag-dir; } && [ ! -d "$OUT/bag" ] && { cp -a corpus "$OUT/bag" && python3 -m bagit --quiet --processes 2 --sha256 "$OUT/bag"; }
PREP="" measure bagit-validate "python3 -m bagit --quiet --validate --processes 2 '$OUT/bag'"
# The same bag directory (made by bagit-python above, SHA-256 manifests) verified by us as a
# generic BagIt bag: every manifest line against the bytes, completeness, Payload-Oxum.
PREP="" measure verify-bag-dir "'$BIN' verify -q '$OUT/bag'"
PREP="" measure sha256sum-c "sha256sum -c --quiet manual.sha256"
PREP="rm -f '$OUT/scope.txt'" measure scope "'$BIN' scope -q --key keys/key-0.pub --list '$OUT/scope.txt' corpus; test \$? -le 1"
PREP="" measure wsc-verify-loop "find corpus -name '*.wasm' -exec '$WSC_LOOP_BIN' verify -K keys/key-0.pub -i {} \\; 2>/dev/null | grep -c valid; true"

# Exactness: scope's list must equal the generator's oracle; the loop's count is what it finds.
SCOPE_EXACT=-
want scope && { sort "$OUT/scope.txt" | diff -q - expected-valid-key-0.txt > /dev/null && SCOPE_EXACT=yes || SCOPE_EXACT=NO; }
ORACLE=$(wc -l < expected-valid-key-0.txt)
LOOP_FOUND=-
want wsc-verify-loop && LOOP_FOUND=$(find corpus -name '*.wasm' -exec "$WSC_LOOP_BIN" verify -K keys/key-0.pub -i {} \; 2>/dev/null | grep -c valid || true)

mib() { awk "BEGIN{printf \"%.0f\", $BYTES/1048576/$1}"; }
ratio() { if [ -n "${T[$1]:-}" ] && [ -n "${T[$2]:-}" ]; then awk "BEGIN{printf \"%.2f\", ${T[$1]}/${T[$2]}}"; else echo -; fi; }
cratio() { if [ -n "${C[$1]:-}" ] && [ -n "${C[$2]:-}" ]; then awk "BEGIN{printf \"%.2f\", ${C[$1]}/${C[$2]}}"; else echo -; fi; }
echo
echo "Corpus: $FILES files, $(awk "BEGIN{printf \"%.0f\", $BYTES/1048576}") MiB ($MODULES modules, largest ${BIG_MIB} MiB); best of $RUNS by wall time; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); SHA-NI: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no); $(date -u +%FT%TZ)"
echo
echo "| command | wall (s) | CPU (s) | MiB/s | peak RSS (MiB) | load | vs peer (wall; CPU) | vs floor (wall) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
row() {
    [ -n "${T[$1]:-}" ] || return 0
    printf '| %s | %.2f | %.2f | %s | %.1f | %s | %s | %s |\n' "$1" "${T[$1]}" "${C[$1]}" "$(mib "${T[$1]}")" \
        "$(awk "BEGIN{print ${M[$1]}/1024}")" "${L[$1]}" "$2" "$3"
}
row floor-read "" ""
row floor-write "" ""
row floor-sha256-2way "" ""
row collect "$(ratio bagit-make+zip collect)× (CPU $(cratio bagit-make+zip collect)×) faster than bagit+zip; $(ratio sha256sum+zip collect)× (CPU $(cratio sha256sum+zip collect)×) faster than sha256sum+zip" "$(ratio collect floor-write)× the write floor"
row collect-compress "$(ratio collect-compress collect)× the default" ""
row bagit-make+zip "" ""
row sha256sum+zip "" ""
row verify "$(ratio bagit-validate verify)× (CPU $(cratio bagit-validate verify)×) faster than bagit validate; $(ratio sha256sum-c verify)× faster than sha256sum -c" "$(ratio verify floor-sha256-2way)× the SHA-256 floor"
row verify-bag-dir "$(ratio bagit-validate verify-bag-dir)× (CPU $(cratio bagit-validate verify-bag-dir)×) faster than bagit validate on the same directory" "$(ratio verify-bag-dir floor-sha256-2way)× the SHA-256 floor"
row bagit-validate "" ""
row sha256sum-c "" ""
row scope "$(ratio wsc-verify-loop scope)× (CPU $(cratio wsc-verify-loop scope)×) faster than the wsc verify loop; list exact: $SCOPE_EXACT ($ORACLE modules)" "$(ratio scope floor-sha256-2way)× the SHA-256 floor"
row wsc-verify-loop "finds $LOOP_FOUND of $ORACLE (no detached signatures)" ""
