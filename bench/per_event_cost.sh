#!/usr/bin/env bash
# User-space instructions per stream event (callgrind Ir) of the proxy, on each streaming route.
#
#   bash bench/per_event_cost.sh                       # release build first; ~6 min
#   MINI_PROXY_BIN=/tmp/old/mini-proxy MOCK_BIN=.build/release/mini-proxy bash bench/per_event_cost.sh
#
# For every route below, the shipped config (config/ai-gateway.yaml, 1 worker, access log and metrics off:
# per_request_cost.sh's "off" setting) runs under `valgrind --tool=callgrind` twice. Each run answers R
# streaming requests, one after the other over one keep-alive connection (bench/sequential.py); the mock
# streams K1 content events per request in the first run and K2 in the second (`+chunks=K+delay=D` on the
# model name), D ms apart, so that each event is its own upstream read and client write, as in a live
# stream. Then
#   Ir per event = (Ir(K2) - Ir(K1)) / (R × (K2 - K1))
# so start-up, the requests themselves, each stream's first and last events and shutdown cancel out.
# Allocations per event the same way (malloc & co., as per_request_cost.sh counts them). Routes:
#   pass-through:        POST /openai/v1/chat/completions (openai-chat both sides), the upstream's SSE
#                        chunks passed on as they are (`passStreamChunk`);
#   Anthropic → Bedrock: POST /bedrock/claude/v1/messages, Bedrock's binary event stream translated to
#                        Anthropic SSE;
#   Chat → Claude:       POST /provider/bedrock/format/openai/v1/chat/completions, Bedrock's event stream
#                        to Chat Completions chunks;
#   Responses → Claude:  POST /provider/bedrock/format/openai/v1/responses, to Responses events.
# Knobs: MINI_PROXY_BIN (the proxy measured; default the release build of this tree), MOCK_BIN (the
# upstream; default MINI_PROXY_BIN: pass the same one to compare two builds against one mock), R (3),
# K1 (20), K2 (1020), D (6 ms), ROUTES ("passthrough bedrock chat-claude responses-claude"), KEEP=1.
# Everything binds 127.0.0.1; every process is stopped by PID on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
R=${R:-3}; K1=${K1:-20}; K2=${K2:-1020}; D=${D:-6}
ROUTES=${ROUTES:-"passthrough bedrock chat-claude responses-claude"}
KEEP=${KEEP:-0}
for v in R K1 K2 D; do [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$v=${!v}: expected a number" >&2; exit 2; }; done
[ "$K2" -gt "$K1" ] || { echo "K2 must be larger than K1" >&2; exit 2; }
log() { printf '[event cost] %s\n' "$*" >&2; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
BIN=${MINI_PROXY_BIN:-$(cd "$ROOT" && swift build -c release --show-bin-path 2>/dev/null)/mini-proxy}
MOCK=${MOCK_BIN:-$BIN}
[ -x "$BIN" ] || { echo "no release binary at $BIN (swift build -c release --static-swift-stdlib)" >&2; exit 1; }
SEQ=(python3 "$ROOT/bench/sequential.py")
TMP=$(mktemp -d /tmp/mini-proxy-event-cost.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then echo "kept: $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
source "$ROOT/bench/cost_env.sh"
start_mock "$MOCK"
sed "s|^access_log: true\$|access_log: false|" "$ROOT/config/ai-gateway.yaml" >"$TMP/off.yaml"
echo "metrics: false" >>"$TMP/off.yaml"

MSG='"messages":[{"role":"user","content":"Write one short sentence that says hello to the benchmark."}]'
declare -A R_PATH R_BODY R_HEADER R_TITLE
R_PATH[passthrough]=/openai/v1/chat/completions
R_BODY[passthrough]='{"model":"gpt-5+chunks=%K%+delay=%D%",'$MSG',"max_tokens":64,"stream":true}'
R_HEADER[passthrough]=""
R_TITLE[passthrough]="pass-through SSE"
R_PATH[bedrock]=/bedrock/claude/v1/messages
R_BODY[bedrock]='{"model":"claude-sonnet-4-5+chunks=%K%+delay=%D%","max_tokens":64,'$MSG',"stream":true}'
R_HEADER[bedrock]="anthropic-version: 2023-06-01"
R_TITLE[bedrock]="Anthropic → Bedrock"
R_PATH[chat-claude]=/provider/bedrock/format/openai/v1/chat/completions
R_BODY[chat-claude]='{"model":"claude-sonnet-4-5+chunks=%K%+delay=%D%",'$MSG',"max_tokens":64,"stream":true}'
R_HEADER[chat-claude]=""
R_TITLE[chat-claude]="Chat → Claude"
R_PATH[responses-claude]=/provider/bedrock/format/openai/v1/responses
R_BODY[responses-claude]='{"model":"claude-sonnet-4-5+chunks=%K%+delay=%D%","input":"Write one short sentence that says hello to the benchmark.","max_output_tokens":64,"stream":true}'
R_HEADER[responses-claude]=""
R_TITLE[responses-claude]="Responses → Claude"
for r in $ROUTES; do [ -n "${R_PATH[$r]:-}" ] || { echo "unknown route $r" >&2; exit 2; }; done

# run_one route K -> RES_IR RES_ALLOC RES_BYTES
run_one() {
  local r=$1 k=$2 port out pid info body headers=() rc=0 i
  [ -z "${R_HEADER[$r]}" ] || mapfile -t headers <<<"${R_HEADER[$r]}"
  body=${R_BODY[$r]//%K%/$k}; body=${body//%D%/$D}
  port=$(free_port); out=$TMP/callgrind.$r.$k
  "${PROXY_ENV[@]}" MINI_PROXY_LISTEN="127.0.0.1:$port" \
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" "$BIN" serve --config "$TMP/off.yaml" \
    >"$TMP/proxy.$r.$k.out" 2>"$TMP/proxy.$r.$k.err" &
  pid=$!; PIDS+=("$pid")
  "${SEQ[@]}" wait-listen "$port" 120 || { tail -5 "$TMP/proxy.$r.$k.err" >&2; return 1; }
  info=$(timeout 600 "${SEQ[@]}" send "$port" "${R_PATH[$r]}" "$body" "$R" ${headers[@]+"${headers[@]}"}) \
    || { echo "$r/$k: the client failed" >&2; tail -5 "$TMP/proxy.$r.$k.err" >&2; return 1; }
  sleep 0.3
  kill -TERM "$pid"
  for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid" 2>/dev/null || rc=$?
  [ "$rc" = 0 ] || { echo "$r/$k: the proxy exited with $rc" >&2; return 1; }
  read -r RES_IR RES_ALLOC _ _ <<<"$("${SEQ[@]}" ir "$out")"
  RES_BYTES=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["response_bytes"])' "$info")
  log "$r, $R streams of $k events: Ir $RES_IR, allocations $RES_ALLOC, last answer $RES_BYTES bytes"
  [ "$KEEP" = 1 ] || rm -f "$out" "$out"-[0-9]*
}

declare -A EV_IR EV_ALLOC EV_BYTES
for r in $ROUTES; do
  run_one "$r" "$K1"; ir1=$RES_IR; al1=$RES_ALLOC; b1=$RES_BYTES
  run_one "$r" "$K2"; ir2=$RES_IR; al2=$RES_ALLOC; b2=$RES_BYTES
  n=$(( R * (K2 - K1) ))
  EV_IR[$r]=$(awk -v a="$ir1" -v b="$ir2" -v n="$n" 'BEGIN { printf "%.0f", (b - a) / n }')
  EV_ALLOC[$r]=$(awk -v a="$al1" -v b="$al2" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n }')
  EV_BYTES[$r]=$(awk -v a="$b1" -v b="$b2" -v k="$(( K2 - K1 ))" 'BEGIN { printf "%.0f", (b - a) / k }')
done

echo
echo "### Instructions per stream event (callgrind Ir, user space)"
echo
echo "$(date -u +%Y-%m-%d), proxy $BIN, mock $MOCK, $(valgrind --version); R=$R streams of K1=$K1 and K2=$K2 events, D=$D ms apart; access log and metrics off."
echo
echo "| route | Ir/event | allocs/event | client bytes/event |"
echo "|---|---:|---:|---:|"
for r in $ROUTES; do echo "| ${R_TITLE[$r]} | ${EV_IR[$r]} | ${EV_ALLOC[$r]} | ${EV_BYTES[$r]} |"; done
