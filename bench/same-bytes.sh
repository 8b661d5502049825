#!/usr/bin/env bash
# Same bytes before and after a change: runs two builds of wsc-forensics (OLD and NEW) with the
# same argv on the same generated corpora and the demo incident, with and without --compress, and
# compares the bundle zips byte for byte (sha256) and the `verify --json`, `scope --json` and
# `timeline` outputs. Exit 0 only when every pair is identical. Not part of CI (it needs a second
# build); run it before landing a change that must not alter bundles.
#
#   bash bench/same-bytes.sh OLD_BIN NEW_BIN        (GEN: gen_corpus example of either build)
#
# custody.jsonl records argv (argv[0] included), so each build is copied to a folder of its own
# under the one name `wsc-forensics` and run through PATH with the same relative argv.
set -euo pipefail
GEN=${GEN:-$(dirname "$(realpath "$2")")/examples/gen_corpus}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/old-bin" "$W/new-bin"
cp "$1" "$W/old-bin/wsc-forensics"
cp "$2" "$W/new-bin/wsc-forensics"
old() { PATH="$W/old-bin:$PATH" wsc-forensics "$@"; }
new() { PATH="$W/new-bin:$PATH" wsc-forensics "$@"; }
OLD=old
NEW=new
fail=0

"$GEN" "$W/big" "${MODULES:-2000}" "${TOTAL_MIB:-1024}" "${BIG_MIB:-100}" > /dev/null
"$GEN" "$W/many" 10000 100 10 > /dev/null
# Evidence records each source's atime, and with relatime the first read after writing moves
# it: read every file once now, so the first collect does not change what the second records.
find "$W/big" "$W/many" -type f -exec cat {} + > /dev/null

same() { # label, file-in-old-run, file-in-new-run
    local a b
    a=$(sha256sum < "$2" | cut -c1-64)
    b=$(sha256sum < "$3" | cut -c1-64)
    if [ "$a" = "$b" ]; then echo "same      $1 $a"; else echo "DIFFERENT $1 old $a new $b"; fail=1; fi
}

for corpus in big many; do
    for flags in "" "--compress"; do
        label="$corpus${flags:+ $flags}"
        # One output name for both binaries (argv is in custody.jsonl), renamed after each run.
        for side in old new; do
            bin=$side
            (cd "$W/$corpus" && rm -f out.zip && $bin collect -q $flags -o out.zip --case-id SAME \
                --collected-at 2026-01-01T00:00:00Z corpus keys > /dev/null || [ $? -le 1 ]
             mv out.zip "out-$side.zip")
        done
        same "collect $label" "$W/$corpus/out-old.zip" "$W/$corpus/out-new.zip"
        (cd "$W/$corpus" && { $OLD verify --json out-old.zip || true; } > verify-old.json
         { $NEW verify --json out-old.zip || true; } > verify-new.json)
        same "verify --json $label" "$W/$corpus/verify-old.json" "$W/$corpus/verify-new.json"
    done
    (cd "$W/$corpus" && { $OLD scope --json --key keys/key-0.pub corpus || true; } > scope-old.json
     { $NEW scope --json --key keys/key-0.pub corpus || true; } > scope-new.json
     { $OLD scope --json --key keys/key-0.pub out-old.zip || true; } > scope-bundle-old.json
     { $NEW scope --json --key keys/key-0.pub out-old.zip || true; } > scope-bundle-new.json
     { $OLD timeline --format jsonl out-old.zip || true; } > timeline-old.jsonl
     { $NEW timeline --format jsonl out-old.zip || true; } > timeline-new.jsonl)
    same "scope --json $corpus" "$W/$corpus/scope-old.json" "$W/$corpus/scope-new.json"
    same "scope --json $corpus bundle" "$W/$corpus/scope-bundle-old.json" "$W/$corpus/scope-bundle-new.json"
    same "timeline $corpus" "$W/$corpus/timeline-old.jsonl" "$W/$corpus/timeline-new.jsonl"
done

# The demo incident: its bundle, and every report it renders.
for side in old new; do
    bin=$side
    mkdir -p "$W/demo-$side" && (cd "$W/demo-$side" && $bin demo --out out > /dev/null 2>&1 || true)
done
for f in $(cd "$W/demo-old/out" && find . -type f | sort); do
    same "demo $f" "$W/demo-old/out/$f" "$W/demo-new/out/$f"
done
[ $fail = 0 ] && echo "all identical" || { echo "differences found"; exit 1; }
