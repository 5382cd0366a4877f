#!/usr/bin/env bash
# User-space instructions per request (callgrind Ir) of the proxy, per observability setting.
#
#   bash bench/per_request_cost.sh      # or: make bench-cost (release build first); ~5 min with N=2000
#   N=200 bash bench/per_request_cost.sh
#
# For every setting below, the shipped config (config/ai-gateway.yaml, 1 worker, pointed at the bundled
# mock as bench/run.sh's logging case does it) runs under `valgrind --tool=callgrind` twice: once for 1
# request, once for 1+N requests, sent one after the other over ONE keep-alive connection
# (bench/sequential.py). Then it gets SIGTERM and its total Ir is read from the out file.
#   Ir per request = (Ir(1+N) - Ir(1)) / N
# so start-up, the first request's one-time work (upstream connect, the token command) and shutdown
# cancel out. Allocations per request: calls to malloc/calloc/realloc/aligned_alloc/posix_memalign/
# memalign in the same two files, the same way. Callgrind runs with --separate-threads=yes: the tracing
# setting's second table splits each figure into the span export thread's part and the rest (the
# worker's request path, plus the main thread's share, ~0 per request). Requests:
#   pass-through: the logging case's 178-byte POST to /openai/v1/chat/completions (openai-chat,
#                 rename_max_tokens) -> the mock's chat.completion;
#   Anthropic -> Bedrock: a short Messages request to /bedrock/claude/v1/messages (model
#                 claude-sonnet-4-5, aliased to a Bedrock id; the bedrock-claude profile, translation);
#   openai-bedrock: the same short chat request (model claude-sonnet-4-5) to
#                 /provider/bedrock/format/openai/v1/chat/completions (OpenAI -> Bedrock translation, as
#                 bench/run.sh's tr/mp1); not in the default ROUTES;
#   claude-code:  the Claude Code-sized request (bench/claude_code_request.py, ~123 KB, with its
#                 anthropic-beta header) to /bedrock/claude/v1/messages?beta=true, as bench/run.sh's cc/mp1
#                 (the bedrock-claude profile cuts it, then it is translated); not in the default ROUTES;
#   claude-code-passthrough: the same bytes and header to /openai/v1/chat/completions (ccpt/mp1).
#   e.g. ROUTES="claude-code claude-code-passthrough" SETTINGS=off N=200 bash bench/per_request_cost.sh
# Settings (only these lines of the shipped file change):
#   off             access_log: false, metrics: false (the baseline)
#   text            access_log: {format: text, path: FILE}, metrics: false
#   json            access_log: {format: json, path: FILE}, metrics: false
#   metrics         access_log: false, metrics on (the default)
#   text+metrics    the shipped config as users run it (access_log: {format: text, path: FILE}, metrics on)
#   tracing         access_log: false, metrics: false, tracing: {endpoint: a local OTLP sink}; skipped
#                   when `mini-proxy check` rejects the tracing key (a build without it)
# Log files go to tmpfs (/dev/shm) when there is one. Everything binds 127.0.0.1; every process is
# stopped by PID on exit.
#
# Knobs: N (default 2000), MINI_PROXY_BIN (default: swift build -c release --show-bin-path/mini-proxy),
# SETTINGS (space-separated subset of the names above), ROUTES ("passthrough bedrock"; also openai-bedrock, claude-code,
# claude-code-passthrough), KEEP=1 keeps the
# callgrind out files and logs (their directory is printed).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-2000}
SETTINGS=${SETTINGS:-"off text json metrics text+metrics tracing"}
ROUTES=${ROUTES:-"passthrough bedrock"}
KEEP=${KEEP:-0}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "N=$N: expected a positive integer" >&2; exit 2; }
T_START=$(date +%s)
log() { printf '[cost %3ds] %s\n' $(( $(date +%s) - T_START )) "$*" >&2; }

# --- tools ------------------------------------------------------------------------------------------
need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  log "installing: ${need[*]}"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${need[@]}" >/dev/null; }
fi
BIN=${MINI_PROXY_BIN:-$(cd "$ROOT" && swift build -c release --show-bin-path 2>/dev/null)/mini-proxy}
[ -x "$BIN" ] || { echo "no release binary at $BIN: run make release (swift build -c release --static-swift-stdlib)" >&2; exit 1; }
SEQ=(python3 "$ROOT/bench/sequential.py")
SHIPPED=$ROOT/config/ai-gateway.yaml
grep -qx 'access_log: true' "$SHIPPED" \
  || { echo "config/ai-gateway.yaml: no 'access_log: true' line to vary" >&2; exit 1; }
! grep -q '^metrics:' "$SHIPPED" \
  || { echo "config/ai-gateway.yaml sets metrics: this script assumes the default (on)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/mini-proxy-cost.XXXXXX)
LOGDIR=""
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then LOGDIR=$(mktemp -d /dev/shm/mini-proxy-cost-logs.XXXXXX 2>/dev/null || true); fi
[ -n "$LOGDIR" ] || { LOGDIR=$TMP/logs; mkdir -p "$LOGDIR"; }
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then echo "kept: $TMP $LOGDIR" >&2; else rm -rf "$TMP" "$LOGDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the upstream (and the OTLP sink for the tracing setting), the shipped config's environment -------
source "$ROOT/bench/cost_env.sh"
start_mock "$BIN"
P_SINK=""

# --- configs --------------------------------------------------------------------------------------
make_config() {  # name -> $TMP/<name>.yaml
  local name=$1 access=false metrics=false tracing=""
  case "$name" in
    off) ;;
    text) access="{format: text, path: $LOGDIR/$name.log}" ;;
    json) access="{format: json, path: $LOGDIR/$name.log}" ;;
    metrics) metrics="" ;;
    text+metrics) access="{format: text, path: $LOGDIR/$name.log}"; metrics="" ;;
    tracing) tracing="tracing: {endpoint: http://127.0.0.1:$P_SINK/v1/traces}" ;;
    *) echo "unknown setting $name (expected off text json metrics text+metrics tracing)" >&2; exit 2 ;;
  esac
  {
    sed "s|^access_log: true\$|access_log: $access|" "$SHIPPED"
    [ -n "$metrics" ] && echo "metrics: $metrics"
    [ -n "$tracing" ] && echo "$tracing"
    true
  } >"$TMP/$name.yaml"
}

# --- requests -------------------------------------------------------------------------------------
MSG='"messages":[{"role":"user","content":"Write one short sentence that says hello to the benchmark."}]'
declare -A R_PATH R_BODY R_HEADER R_TITLE
R_PATH[passthrough]=/openai/v1/chat/completions
R_BODY[passthrough]='{"model":"gpt-5",'$MSG',"max_tokens":64,"temperature":0.2,"user":"bench-client-0001"}'
R_HEADER[passthrough]=""
R_TITLE[passthrough]="pass-through"
R_PATH[bedrock]=/bedrock/claude/v1/messages
R_BODY[bedrock]='{"model":"claude-sonnet-4-5","max_tokens":64,'$MSG'}'
R_HEADER[bedrock]="anthropic-version: 2023-06-01"
R_TITLE[bedrock]="Anthropic → Bedrock"
R_PATH[openai-bedrock]=/provider/bedrock/format/openai/v1/chat/completions
R_BODY[openai-bedrock]='{"model":"claude-sonnet-4-5",'$MSG',"max_tokens":64,"temperature":0.2,"user":"bench-client-0001"}'
R_HEADER[openai-bedrock]=""
R_TITLE[openai-bedrock]="OpenAI → Bedrock"
# The Claude Code request: the body from a file (sequential.py reads @FILE; ~123 KB is close to the
# kernel's 128 KiB limit on one argument), two headers (R_HEADER holds them one a line).
CC_BODY=$TMP/claude-code.json
python3 "$ROOT/bench/claude_code_request.py" --out "$CC_BODY"
CC_BETA=$(python3 "$ROOT/bench/claude_code_request.py" --beta)
R_PATH[claude-code]='/bedrock/claude/v1/messages?beta=true'
R_BODY[claude-code]=@$CC_BODY
R_HEADER[claude-code]=$(printf 'anthropic-version: 2023-06-01\nanthropic-beta: %s' "$CC_BETA")
R_TITLE[claude-code]="Claude Code → Bedrock"
R_PATH[claude-code-passthrough]=/openai/v1/chat/completions
R_BODY[claude-code-passthrough]=@$CC_BODY
R_HEADER[claude-code-passthrough]="anthropic-beta: $CC_BETA"
R_TITLE[claude-code-passthrough]="Claude Code pass-through"
for r in $ROUTES; do
  [ -n "${R_PATH[$r]:-}" ] || { echo "unknown route $r (expected passthrough bedrock openai-bedrock claude-code claude-code-passthrough)" >&2; exit 2; }
done

# run_one setting route count -> RES_IR, RES_ALLOC (not in a subshell: the trap must see the PID)
declare -A RESP_BYTES
run_one() {
  local s=$1 r=$2 count=$3 port out pid i info lines headers=()
  [ -z "${R_HEADER[$r]}" ] || mapfile -t headers <<<"${R_HEADER[$r]}"
  port=$(free_port); out=$TMP/callgrind.$s.$r.$count
  rm -f "$LOGDIR/$s.log"
  "${PROXY_ENV[@]}" MINI_PROXY_LISTEN="127.0.0.1:$port" \
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" "$BIN" serve --config "$TMP/$s.yaml" \
    >"$TMP/proxy.$s.$r.$count.out" 2>"$TMP/proxy.$s.$r.$count.err" &
  pid=$!; PIDS+=("$pid")
  if ! "${SEQ[@]}" wait-listen "$port" 120; then tail -5 "$TMP/proxy.$s.$r.$count.err" >&2; return 1; fi
  if ! info=$(timeout 1200 "${SEQ[@]}" send "$port" "${R_PATH[$r]}" "${R_BODY[$r]}" "$count" ${headers[@]+"${headers[@]}"}); then
    echo "$s/$r: the client failed; the proxy's last lines:" >&2; tail -5 "$TMP/proxy.$s.$r.$count.err" >&2; return 1
  fi
  sleep 0.3  # the proxy sees the client's close before SIGTERM (the same in both runs)
  kill -TERM "$pid"
  for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    echo "$s/$r: the proxy did not exit within 60 s of SIGTERM" >&2; return 1
  fi
  local rc=0; wait "$pid" 2>/dev/null || rc=$?
  if [ "$rc" != 0 ] || ! grep -qs '^totals:\|^summary:' "$out"-[0-9]*; then
    echo "$s/$r: the proxy exited with status $rc without a complete callgrind file; its last lines:" >&2
    tail -5 "$TMP/proxy.$s.$r.$count.err" >&2; return 1
  fi
  if [ -f "$LOGDIR/$s.log" ]; then  # every exchange logged
    lines=$(wc -l <"$LOGDIR/$s.log")
    [ "$lines" = "$count" ] || { echo "$s/$r: $lines access log lines for $count requests" >&2; return 1; }
  fi
  log "$s / $r / $count request(s): $info"
  RESP_BYTES[$r]=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["response_bytes"])' "$info")
  local res; res=$("${SEQ[@]}" ir "$out")
  read -r RES_IR RES_ALLOC RES_XIR RES_XALLOC <<<"$res"
  [ "$KEEP" = 1 ] || rm -f "$out" "$out"-[0-9]*
}

# --- the runs -------------------------------------------------------------------------------------
declare -A IR ALLOC XIR XALLOC SKIP
RUN_SETTINGS=()
for s in $SETTINGS; do
  if [ "$s" = tracing ] && [ -z "$P_SINK" ]; then
    P_SINK=$(free_port)
    "${SEQ[@]}" sink "$P_SINK" 2>"$TMP/sink.log" &
    PIDS+=("$!")
    "${SEQ[@]}" wait-listen "$P_SINK" 10
  fi
  make_config "$s"
  if ! "${PROXY_ENV[@]}" MINI_PROXY_LISTEN=127.0.0.1:1 "$BIN" check --config "$TMP/$s.yaml" >"$TMP/check.$s.out" 2>&1; then
    if [ "$s" = tracing ]; then
      SKIP[$s]="\`mini-proxy check\` rejects the tracing key: $(grep -m1 -i 'tracing' "$TMP/check.$s.out" || head -1 "$TMP/check.$s.out")"
      log "tracing: skipped (${SKIP[$s]})"; continue
    fi
    echo "$s: mini-proxy check rejects the config:" >&2; cat "$TMP/check.$s.out" >&2; exit 1
  fi
  RUN_SETTINGS+=("$s")
done
[[ " ${RUN_SETTINGS[*]} " == *" off "* ]] || log "no 'off' setting: the delta column is empty"

for s in "${RUN_SETTINGS[@]}"; do
  for r in $ROUTES; do
    run_one "$s" "$r" 1; ir1=$RES_IR; al1=$RES_ALLOC; xir1=$RES_XIR; xal1=$RES_XALLOC
    run_one "$s" "$r" $(( N + 1 )); irn=$RES_IR; aln=$RES_ALLOC
    XIR[$s/$r]=$(awk -v a="$xir1" -v b="$RES_XIR" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')
    XALLOC[$s/$r]=$(awk -v a="$xal1" -v b="$RES_XALLOC" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')
    IR[$s/$r]=$(awk -v a="$ir1" -v b="$irn" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')
    ALLOC[$s/$r]=$(awk -v a="$al1" -v b="$aln" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')
    log "$s / $r: Ir(1) $ir1, Ir($(( N + 1 ))) $irn -> ${IR[$s/$r]} per request, ${ALLOC[$s/$r]} allocations"
  done
done

# --- the table ------------------------------------------------------------------------------------
fmt() { awk -v v="$1" 'BEGIN { s = sprintf("%.0f", v); n = ""; neg = (s ~ /^-/); if (neg) s = substr(s, 2);
  while (length(s) > 3) { n = "," substr(s, length(s) - 2) n; s = substr(s, 1, length(s) - 3) } printf "%s%s%s", (neg ? "−" : ""), s, n }'; }
delta() {  # value base -> "+1,234" / "−12" / "–"
  [ -n "$2" ] || { printf '–'; return; }
  awk -v v="$1" -v b="$2" 'BEGIN { exit !(v - b >= 0) }' && printf '+'
  fmt "$(awk -v v="$1" -v b="$2" 'BEGIN { print v - b }')"
}
declare -A S_TITLE=([off]="access_log off, metrics off (baseline)" [text]="access_log text" [json]="access_log json"
  [metrics]="metrics on (log off)" [text+metrics]="log text + metrics (shipped config)" [tracing]="tracing on (log, metrics off)")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -1)
sleep 0.1  # let the progress lines on stderr come first
echo
echo "### Instructions per request (callgrind Ir, user space), N=$N"
echo
echo "$(date -u +%Y-%m-%d), script's tree at $COMMIT${DIRTY:+ (with uncommitted changes)}, binary $BIN (built from that tree unless MINI_PROXY_BIN says otherwise), $(valgrind --version)."
echo "(Ir(1+N) − Ir(1)) / N per setting, one keep-alive connection, 1 worker, SWIFT_DETERMINISTIC_HASHING=${SWIFT_DETERMINISTIC_HASHING-1}; Δ is against the baseline."
echo
head="| setting |"; rule="|---|"
for r in $ROUTES; do head+=" ${R_TITLE[$r]} Ir/req | Δ | allocs/req |"; rule+="---:|---:|---:|"; done
echo "$head"; echo "$rule"
for s in $SETTINGS; do
  row="| ${S_TITLE[$s]:-$s} |"
  if [ -n "${SKIP[$s]:-}" ]; then
    for r in $ROUTES; do row+=" skipped | | |"; done
  else
    for r in $ROUTES; do
      base=""; [ -n "${IR[off/$r]:-}" ] && base=${IR[off/$r]}
      if [ "$s" = off ]; then d="–"; else d=$(delta "${IR[$s/$r]}" "$base"); fi
      row+=" $(fmt "${IR[$s/$r]}") | $d | ${ALLOC[$s/$r]} |"
    done
  fi
  echo "$row"
done
if [ -n "${XIR[tracing/${ROUTES%% *}]:-}" ]; then
  echo
  echo "Tracing, by thread (per request; the request path is every thread but the span export thread):"
  echo
  head="| tracing on |"; rule="|---|"
  for r in $ROUTES; do head+=" ${R_TITLE[$r]} Ir/req | allocs/req |"; rule+="---:|---:|"; done
  echo "$head"; echo "$rule"
  row="| request path |"; row2="| span export thread |"
  for r in $ROUTES; do
    row+=" $(fmt "$(awk -v a="${IR[tracing/$r]}" -v b="${XIR[tracing/$r]}" 'BEGIN { print a - b }')") |"
    row+=" $(awk -v a="${ALLOC[tracing/$r]}" -v b="${XALLOC[tracing/$r]}" 'BEGIN { printf "%.2f", a - b }') |"
    row2+=" $(fmt "${XIR[tracing/$r]}") | ${XALLOC[tracing/$r]} |"
  done
  echo "$row"; echo "$row2"
fi
for s in $SETTINGS; do [ -n "${SKIP[$s]:-}" ] && echo && echo "$s: skipped: ${SKIP[$s]}"; done
echo
for r in $ROUTES; do
  if [[ "${R_BODY[$r]}" == @* ]]; then bytes=$(stat -c %s "${R_BODY[$r]#@}"); else bytes=$(printf %s "${R_BODY[$r]}" | wc -c); fi
  echo "- ${R_TITLE[$r]}: POST ${R_PATH[$r]}, $bytes bytes${R_HEADER[$r]:+ ($(tr '\n' ';' <<<"${R_HEADER[$r]}" | sed 's/;$//; s/;/; /g'))}, answer ${RESP_BYTES[$r]:-?} bytes"
done
true
