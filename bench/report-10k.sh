#!/usr/bin/env bash
# Report rendering at 10,000 timeline events, end to end from the binary: a generated corpus is
# collected into a bundle whose timeline has at least 10,000 events, then `report` renders all
# five reports as Markdown, PDF and HTML (verification of the bundle included). Three rounds,
# warm cache; wall time, CPU time (user + sys) and peak RSS (GNU time). Not part of CI (a timed
# test would be flaky on shared machines); the target is under 2 s.
#
#   bash bench/report-10k.sh            MODULES=3000 (about 10,350 events)
#
# Environment: BENCH_OUT (default bench/out-report; removed at the end unless KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES=${MODULES:-3000}
OUT=${BENCH_OUT:-bench/out-report}
cargo build --release --quiet --bin wsc-forensics --example gen_corpus
BIN=$PWD/target/release/wsc-forensics
GEN=$PWD/target/release/examples/gen_corpus
rm -rf "$OUT" && mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

"$GEN" "$OUT/corpus" "$MODULES" 16 > /dev/null
"$BIN" collect -q --case-id BENCH-REPORT -o "$OUT/bundle.zip" "$OUT/corpus" > /dev/null || true
events=$("$BIN" timeline --format jsonl "$OUT/bundle.zip" | wc -l)
echo "bundle: $MODULES modules, $events timeline events"
if [ "$events" -lt 10000 ]; then
    echo "fewer than 10,000 events: raise MODULES" >&2
    exit 1
fi
for round in 1 2 3; do
    rm -rf "$OUT/reports"
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" \
        "$BIN" report -q --format md,pdf,html -o "$OUT/reports" "$OUT/bundle.zip" > /dev/null
    read -r wall user sys rss < "$OUT/time.txt"
    pages=$(pdfinfo "$OUT/reports/incident-timeline.pdf" 2>/dev/null | awk '/^Pages:/{print $2}')
    printf 'round %d: %s events, md+pdf+html of 5 reports: wall %.2f s, cpu %.2f s, peak RSS %.0f MiB; timeline PDF %s pages, %s bytes; timeline HTML %s bytes\n' \
        "$round" "$events" "$wall" "$(awk "BEGIN{print $user + $sys}")" "$(awk "BEGIN{print $rss/1024}")" \
        "${pages:-?}" "$(stat -c %s "$OUT/reports/incident-timeline.pdf")" \
        "$(stat -c %s "$OUT/reports/incident-timeline.html")"
done
[ "${KEEP:-0}" = 1 ] || rm -rf "$OUT"
