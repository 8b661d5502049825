#!/usr/bin/env bash
# Benchmark (not a test): verifying N Sigstore bundles of the private test instance offline, with
# one `wsc-forensics inspect` run over all of them against one `sigstore verify identity`
# invocation of sigstore-python (4.5.1) over the same bundles, with the same trust root and the
# same identity policy. Prints a Markdown table (best of $RUNS by wall time): wall, CPU (user +
# sys), peak RSS (GNU time), and the ratios. Not part of CI.
#
#   N=1000 RUNS=3 bash bench/sigstore.sh          (these are the defaults)
#
# Environment: BENCH_OUT (work folder, default bench/out-sigstore), SIGSTORE_PYTHON (interpreter
# with `pip install sigstore==4.5.1`, default python3), NO_BUILD=1 (use target/release as built,
# e.g. on a loaded machine; the results file then names the commit the binaries were built at).
#
# The corpus (examples/gen_sigstore_corpus.rs): N v0.3 bundles over one artifact, each by its own
# leaf (embedded SCT from the instance's CT log), logged in one Rekor v1 tree (SET, inclusion
# proof, checkpoint), and the instance's trusted_root.json. sigstore-python takes many inputs
# only as `FILE` with `FILE.sigstore.json` beside it (its `--bundle` allows one input), so each
# bundle sits beside a copy of the artifact; `inspect` is given the bundles and `--artifact`.
# Both must accept every bundle: the script checks exit 0 and counts N passes for each.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench/out-sigstore}
PY=${SIGSTORE_PYTHON:-python3}
IDENTITY=https://ci.example.test/release@refs/tags/v1
ISSUER=https://oidc.example.test

command -v /usr/bin/time > /dev/null || { echo "missing: /usr/bin/time (apt-get install time)" >&2; exit 2; }
SIGSTORE_VERSION=$("$PY" -m sigstore --version 2>/dev/null | awk '{print $NF}') ||
    { echo "missing: sigstore-python ($PY -m pip install sigstore==4.5.1)" >&2; exit 2; }
[ "$SIGSTORE_VERSION" = 4.5.1 ] || echo "note: sigstore-python $SIGSTORE_VERSION, not 4.5.1" >&2

[ "${NO_BUILD:-}" = 1 ] || cargo build --release --quiet --bin wsc-forensics --example gen_sigstore_corpus
BIN=$PWD/target/release/wsc-forensics
rm -rf "$OUT" && mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
"$PWD/target/release/examples/gen_sigstore_corpus" "$OUT" "$N" > /dev/null
cd "$OUT"
cat bundles/* > /dev/null   # warm the cache

INSPECT="'$BIN' inspect --trusted-root trusted_root.json --artifact artifact --cert-identity '$IDENTITY' --cert-oidc-issuer '$ISSUER' bundles/*.sigstore.json"
SIGSTORE="'$PY' -m sigstore --trust-config trust_config.json verify identity --offline --cert-identity '$IDENTITY' --cert-oidc-issuer '$ISSUER' \$(ls bundles | grep -v '\\.sigstore\\.json\$' | sed 's|^|bundles/|')"

# Correctness first: both accept all N.
PASSED=$(bash -c "$INSPECT" | grep -c '^  verdict: every required check passed$' || true)
[ "$PASSED" = "$N" ] || { echo "inspect passed $PASSED of $N bundles" >&2; exit 1; }
OK=$(bash -c "$SIGSTORE" 2>&1 | grep -c '^OK: ' || true)
[ "$OK" = "$N" ] || { echo "sigstore-python passed $OK of $N bundles" >&2; exit 1; }

declare -A T C M
measure() { # name, command
    local name=$1 best="" bestc="" bestm=""
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" bash -c "$2" > /dev/null 2> "$OUT/$name.err" || {
            echo "FAILED: $name (see $OUT/$name.err)" >&2; cat "$OUT/$name.err" >&2; exit 1; }
        read -r t u s m < <(tail -n 1 "$OUT/time.txt")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then
            best=$t; bestc=$(awk "BEGIN{print $u + $s}"); bestm=$m
        fi
    done
    T[$name]=$best; C[$name]=$bestc; M[$name]=$bestm
    printf '%-18s %8.2f s wall %8.2f s cpu %8d KiB\n' "$name" "$best" "$bestc" "$bestm" >&2
}
LOAD=$(cut -d' ' -f1 /proc/loadavg)
measure inspect "$INSPECT"
measure sigstore-python "$SIGSTORE"

echo
echo "Corpus: $N bundles (v0.3, Rekor v1 hashedrekord, SET + inclusion proof + checkpoint, SCT), private instance; best of $RUNS by wall time; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $LOAD at start; sigstore-python $SIGSTORE_VERSION; $(date -u +%FT%TZ)"
echo
echo "| command | wall (s) | CPU (s) | peak RSS (MiB) | bundles/s |"
echo "| --- | ---: | ---: | ---: | ---: |"
for name in inspect sigstore-python; do
    printf '| %s | %.2f | %.2f | %.1f | %.0f |\n' "$name" "${T[$name]}" "${C[$name]}" \
        "$(awk "BEGIN{print ${M[$name]}/1024}")" "$(awk "BEGIN{print $N/${T[$name]}}")"
done
echo
awk "BEGIN{printf \"inspect vs sigstore-python: %.1f× faster (wall), %.1f× less CPU, %.1f× lower peak RSS\n\", ${T[sigstore-python]}/${T[inspect]}, ${C[sigstore-python]}/${C[inspect]}, ${M[sigstore-python]}/${M[inspect]}}"
