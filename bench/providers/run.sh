#!/usr/bin/env bash
# Builds the Providers sources with a benchmark main outside SwiftPM (release, -O) and prints
# callgrind instructions per operation: (Ir(N iterations) - Ir(0 iterations)) / N.
# Usage: bench/providers/run.sh [N] [op...]   (run from anywhere; needs swiftc and valgrind)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
n="${1:-2000}"; shift || true
ops=("$@")
[ ${#ops[@]} -eq 0 ] && ops=(passthrough.request passthrough.response passthrough.chunk anthropic.request anthropic.request.beta anthropic.event openai-bedrock.request openai-bedrock.response openai-bedrock.event responses-bedrock.request responses-bedrock.event anthropic-openai.request anthropic-openai.event usage.json usage.json.anthropic usage.chunk)
bin="${PBENCH_BIN:-/tmp/pbench-$(id -u)}"
swiftc -O -wmo -parse-as-library -module-name pbench -I "$root/Sources/CByteSearch" $(find "$root/Sources/Providers" -name '*.swift') "$here/main.swift" -o "$bin"
strip --strip-debug "$bin" -o "$bin.stripped" 2>/dev/null || cp "$bin" "$bin.stripped"
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin.stripped" "$1" "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
for op in "${ops[@]}"; do
    base=$(ir "$op" 0); total=$(ir "$op" "$n")
    printf '%-26s %8d instructions/op\n' "$op" $(( (total - base) / n ))
done
