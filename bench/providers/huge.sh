#!/usr/bin/env bash
# The huge agent requests through the two new pairs' request translation (issue "Any agent on any model":
# "huge agent requests (100 KB-10 MB with images) translate in one pass without quadratic work"), beside
# the floor: the same bytes through `JSONParser.parse` + `JSON.write` (what the translators are built on).
# Prints one markdown table: callgrind instructions per op ((Ir(N) - Ir(0)) / N, as run.sh), instructions
# per input byte, allocations per op (dhat, (blocks(N) - blocks(0)) / N) and the ratio to the floor.
# Usage: bench/providers/huge.sh   (needs swiftc, valgrind, python3; ~10 minutes, most of it the 10 MB runs)
# Knobs: PBENCH_BIN (reuse a built binary: skips the build), HUGE_DIR (where the bodies go), SIZES, KINDS
# (`responses anthropic`: the pairs to run).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${PBENCH_BIN:-/tmp/pbench-$(id -u)}"
dir="${HUGE_DIR:-/tmp/pbench-huge-$(id -u)}"
sizes=(${SIZES:-small 1m 10m})
mkdir -p "$dir"
if [ -z "${PBENCH_BIN:-}" ]; then
    swiftc -O -wmo -parse-as-library -module-name pbench -I "$root/Sources/CByteSearch" $(find "$root/Sources/Providers" -name '*.swift') \
        "$here/main.swift" -o "$bin" 2>/dev/null
fi
[ -x "$bin.stripped" ] && [ "$bin.stripped" -nt "$bin" ] || strip --strip-debug "$bin" -o "$bin.stripped" 2>/dev/null || cp "$bin" "$bin.stripped"
iters() { case "$1" in small) echo 50 ;; 1m) echo 10 ;; *) echo 2 ;; esac; }
ir() { PBENCH_BODY=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin.stripped" "$2" "$3" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
blocks() { PBENCH_BODY=$1 valgrind --tool=dhat --dhat-out-file=/dev/null "$bin.stripped" "$2" "$3" 2>&1 \
        | sed -n 's/.*Total: .* in \([0-9,]*\) blocks.*/\1/p' | tr -d ,; }
printf '| request | bytes | op | instructions/op | instructions/byte | allocations/op | vs parse+write |\n'
printf '|---|---:|---|---:|---:|---:|---:|\n'
for kind in ${KINDS:-responses anthropic}; do
    op=$([ "$kind" = responses ] && echo responses-bedrock.request.file || echo anthropic-openai.request.file)
    for size in "${sizes[@]}"; do
        f="$dir/$kind-$size.json"
        [ -s "$f" ] || python3 "$root/bench/huge_request.py" --kind "$kind" --size "$size" --out "$f"
        bytes=$(stat -c %s "$f"); n=$(iters "$size"); floor=""
        for o in json.parse.file json.roundtrip.file "$op"; do
            i=$(( ($(ir "$f" "$o" "$n") - $(ir "$f" "$o" 0)) / n ))
            a=$(( ($(blocks "$f" "$o" "$n") - $(blocks "$f" "$o" 0)) / n ))
            [ "$o" = json.roundtrip.file ] && floor=$i
            vs=""; [ "$o" = "$op" ] && vs=$(awk -v a="$i" -v b="$floor" 'BEGIN { printf "%.2f×", a / b }')
            printf '| %s %s | %d | %s | %d | %s | %d | %s |\n' "$kind" "$size" "$bytes" "$o" "$i" \
                "$(awk -v a="$i" -v b="$bytes" 'BEGIN { printf "%.1f", a / b }')" "$a" "$vs"
        done
    done
done
