#!/usr/bin/env bash
# mini-proxy benchmark suite (issue 4): mini-proxy beside nginx and beside the upstream itself, in one
# run, on 127.0.0.1, interleaved rounds, medians. Prints one markdown table and saves it to
# bench/results/<date>-<shortsha>.md. See bench/README.md for what each figure means.
#
#   make bench                 # full run, about 10 minutes
#   QUICK=1 bash bench/run.sh  # smoke run, about 2.5 minutes (1 round, short runs, 20 s slow reader)
#   ONLY=claude-code bash bench/run.sh   # the Claude Code-sized request alone (~3 min; ~1 min with QUICK=1)
#   ONLY=logging bash bench/run.sh       # the access log side by side with nginx's (~1 min 30 s; ~25 s with QUICK=1)
#   ONLY=huge bash bench/run.sh          # 115 KB, 1 MB and 10 MB agent requests through the two new pairs (~30 s)
#
# Knobs (environment): QUICK, DURATION (s per wrk run), ROUNDS, SSE_ROUNDS, SLOW_SECONDS, IDLE_CONNS,
# CC_DURATION (s per wrk run of the Claude Code request; default min(DURATION, 3)), ONLY (all, claude-code, logging, huge),
# HUGE_SIZES (default "small 1m 10m"), HUGE_N ("small:1m:10m" requests per target and round, default 20:10:3,
# QUICK 10:5:2), HUGE_SECONDS (time bound per target and round, default 20),
# MINI_PROXY_BIN (default: the release binary), SAVE=0 (print only, no results file).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  DURATION=${DURATION:-2}; ROUNDS=${ROUNDS:-1}; SSE_ROUNDS=${SSE_ROUNDS:-1}; SLOW_SECONDS=${SLOW_SECONDS:-15}
  STARTUP_RUNS=${STARTUP_RUNS:-3}
else
  DURATION=${DURATION:-5}; ROUNDS=${ROUNDS:-3}; SSE_ROUNDS=${SSE_ROUNDS:-2}; SLOW_SECONDS=${SLOW_SECONDS:-100}
  STARTUP_RUNS=${STARTUP_RUNS:-7}
fi
IDLE_CONNS=${IDLE_CONNS:-10000}
CC_DURATION=${CC_DURATION:-$(( DURATION < 3 ? DURATION : 3 ))}
ONLY=${ONLY:-all}
case "$ONLY" in all|claude-code|logging|huge) ;; *) echo "ONLY=$ONLY: expected all, claude-code, logging or huge" >&2; exit 2 ;; esac
CONNS="1 32 256"
STREAMS="1 32 1000"
T_START=$(date +%s)

log() { printf '[bench %3ds] %s\n' $(( $(date +%s) - T_START )) "$*" >&2; }

# --- tools: install what is missing (Debian/Ubuntu CI images start without them) -------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v python3 >/dev/null || need+=(python3)
command -v strip >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  log "installing: ${need[*]}"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${need[@]}" >/dev/null; }
fi
# Optional: perf counts the proxies' system calls (run_kernel); without it that column is "-".
if ! command -v perf >/dev/null; then
  $([ "$(id -u)" = 0 ] || echo sudo) apt-get install -y -q linux-perf >/dev/null 2>&1 \
    || log "linux-perf not installed: the system-call column will be empty"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
BIN=${MINI_PROXY_BIN:-$(swift build -c release --show-bin-path 2>/dev/null)/mini-proxy}
[ -x "$BIN" ] || { echo "no release binary at $BIN: run make release (swift build -c release --static-swift-stdlib)" >&2; exit 1; }

# 10,000 idle connections need more descriptors than the usual 1024 (children inherit this).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
NOFILE=$(ulimit -n)

TMP=$(mktemp -d /tmp/mini-proxy-bench.XXXXXX)
# Access logs of the logging case go to memory (tmpfs), so that a disk does not decide the figures:
# /dev/shm when it is a tmpfs, else the temp dir (and the report says which file system it was).
LOGDIR=""
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then LOGDIR=$(mktemp -d /dev/shm/mini-proxy-bench-logs.XXXXXX 2>/dev/null || true); fi
[ -n "$LOGDIR" ] || { LOGDIR=$TMP/logs; mkdir -p "$LOGDIR"; }
LOG_FS=$(stat -f -c %T "$LOGDIR")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP" "$LOGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The SSE client: bench/sseclient.c (C, epoll), compiled once here; bench/loadclient.py sse (Python)
# is the fallback when there is no C compiler. Both take the same flags and print the same JSON line;
# the C one reads 1,000 streams (~50,000 events/s) without adding milliseconds of its own.
if cc -O2 -Wall -Wextra -o "$TMP/sseclient" "$ROOT/bench/sseclient.c" 2>"$TMP/sseclient.cc.log"; then
  SSE_CMD=("$TMP/sseclient" sse); SSE_CLIENT="bench/sseclient.c"
  log "SSE client: bench/sseclient.c (C, compiled with cc -O2)"
else
  SSE_CMD=(python3 "$ROOT/bench/loadclient.py" sse); SSE_CLIENT="bench/loadclient.py sse"
  log "SSE client: bench/loadclient.py sse (Python fallback: cc failed: $(head -c 300 "$TMP/sseclient.cc.log"))"
fi
# The floor: bench/forwarder.c, a C byte forwarder (epoll, read/write, not HTTP-aware) in front of the
# mock. It is not a competitor: its figures are what the kernel costs any user-space proxy here.
if cc -O2 -Wall -Wextra -o "$TMP/forwarder" "$ROOT/bench/forwarder.c" 2>"$TMP/forwarder.cc.log"; then
  FLOOR=1; log "floor: bench/forwarder.c (C, compiled with cc -O2)"
else
  FLOOR=0; log "floor: skipped, cc failed: $(head -c 300 "$TMP/forwarder.cc.log")"
fi

free_ports() {  # prints N free TCP ports on 127.0.0.1
  python3 - "$1" <<'EOF'
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
EOF
}
wait_port() {  # waits until something accepts on 127.0.0.1:$1 (5 s at most)
  local i
  for i in $(seq 1 500); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.01
  done
  echo "nothing listening on port $1" >&2; return 1
}
cpu_ticks() {  # utime+stime of a process (all its threads), in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
sys_ticks() {  # stime alone: the kernel's share of cpu_ticks
  awk '{ sub(/^.*\) /, ""); print $13 }' "/proc/$1/stat"
}
tcp_out_segs() {  # TCP segments sent by the whole machine (Tcp: OutSegs in /proc/net/snmp)
  awk '$1 == "Tcp:" { if (!col) { for (i = 2; i <= NF; i++) if ($i == "OutSegs") col = i } else print $col }' /proc/net/snmp
}
per_request_us() {  # ticks before, ticks after, requests -> microseconds per request
  awk -v b="$1" -v a="$2" -v r="$3" -v k="$CLK_TCK" 'BEGIN { printf "%.2f", (a - b) / k * 1e6 / r }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
CLK_TCK=$(getconf CLK_TCK)

read -r P_MOCK P_NGX P_MP1 P_MP2 P_START P_FLOOR P_NGXL0 P_NGXL1 P_LGOFF P_LGTEXT P_LGJSON P_LITELLM <<<"$(free_ports 12)"

# --- the upstream ---------------------------------------------------------------------------------
"$BIN" mock --listen "127.0.0.1:$P_MOCK" 2>"$TMP/mock.log" &
MOCK=$!; PIDS+=("$MOCK")
wait_port "$P_MOCK"

# --- the floor: one upstream connection per client connection, bytes copied both ways ---------------
FWD=""
if [ "$FLOOR" = 1 ]; then
  "$TMP/forwarder" --listen "127.0.0.1:$P_FLOOR" --upstream "127.0.0.1:$P_MOCK" 2>"$TMP/floor.log" &
  FWD=$!; PIDS+=("$FWD")
  wait_port "$P_FLOOR"
fi

# --- mini-proxy: its own config (no access log, the mock as upstream) ------------------------------
cat >"$TMP/bench.yaml" <<EOF
listen: 127.0.0.1:$P_MP1
workers: 1
access_log: false
log_level: warning
limits:
  max_connections: 12000   # the default (10,000) would refuse the 10,000-idle test's last connections
upstreams:
  mock:
    url: http://127.0.0.1:$P_MOCK
    max_idle_connections: 64   # the same pool as nginx's keepalive 64 (plus the default 2 s surplus_idle_timeout)
routes:
  - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
      upstream_path: /v1/openai/v1/chat/completions, rename_max_tokens: true, models_path: /openai/v1/models }
  - { path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic,
      upstream_path: "/v1/bedrock/model/{model}/{action}" }
  - { path: /provider/bedrock/format/openai/v1/chat/completions, upstream: mock, ingress: openai-chat,
      egress: bedrock-anthropic }
  - { path: /bench/stream, upstream: mock, ingress: passthrough, upstream_path: /v1/bench/stream }
  # The Claude Code request's Bedrock bytes with no JSON work at all (cc/mp1raw: the floor of the Anthropic
  # route's I/O path, what nginx does).
  - { path: /raw/*, upstream: mock, ingress: passthrough, upstream_path: /v1/*, methods: [POST] }
  # The two pairs of issue "Any agent on any model" (the huge case), as config/demo.yaml has them.
  - { path: /provider/bedrock/format/openai/v1/responses, upstream: mock, ingress: openai-responses,
      egress: bedrock-anthropic }
  - { path: /provider/openai/format/anthropic/v1/messages, upstream: mock, ingress: anthropic-messages,
      egress: openai-chat, upstream_path: /v1/openai/v1/chat/completions }
models:
  - { id: gpt-5, owned_by: openai, created: 1754524800, dialects: [openai-chat] }
EOF
"$BIN" serve --config "$TMP/bench.yaml" --listen "127.0.0.1:$P_MP1" --workers 1 2>"$TMP/mp1.log" &
MP1=$!; PIDS+=("$MP1")
"$BIN" serve --config "$TMP/bench.yaml" --listen "127.0.0.1:$P_MP2" --workers 2 2>"$TMP/mp2.log" &
MP2=$!; PIDS+=("$MP2")

# --- the logging case: the shipped config (config/ai-gateway.yaml) as users run it -----------------
# Three processes from a copy of the shipped file in which only the access_log line differs: off, text
# to a file, JSON to a file (both files on tmpfs). The rest is the file as shipped (1 worker, log_level
# info, metrics on, pool of 64, the upstream's slauth token from a command), with its variables pointing
# it at the mock (whose /v1/openai/... is AI-Gateway's path). nginx gets the same token (LG_TOKEN).
LG_TOKEN=bench-slauth-token-0123456789abcdef0123456789abcdef
LG=0; { [ "$ONLY" = all ] || [ "$ONLY" = logging ]; } && LG=1
LG_MPOFF=""; LG_MPTEXT=""; LG_MPJSON=""
if [ "$LG" = 1 ]; then
  grep -qx 'access_log: true' "$ROOT/config/ai-gateway.yaml" \
    || { echo "config/ai-gateway.yaml: no 'access_log: true' line to vary" >&2; exit 1; }
  lg_start() {  # name port access_log-value -> pid in LG_PID
    sed "s|^access_log: true\$|access_log: $3|" "$ROOT/config/ai-gateway.yaml" >"$TMP/lg-$1.yaml"
    env -u MINI_PROXY_API_KEY -u AI_GATEWAY_CA_FILE -u MINI_PROXY_WORKERS \
      AI_GATEWAY_URL="http://127.0.0.1:$P_MOCK" AI_GATEWAY_TOKEN_COMMAND="printf %s $LG_TOKEN" \
      MINI_PROXY_LISTEN="127.0.0.1:$2" \
      "$BIN" serve --config "$TMP/lg-$1.yaml" 2>"$TMP/lg-$1.log" &
    LG_PID=$!; PIDS+=("$LG_PID")
  }
  lg_start off "$P_LGOFF" false; LG_MPOFF=$LG_PID
  lg_start text "$P_LGTEXT" "{format: text, path: $LOGDIR/mp-text.log}"; LG_MPTEXT=$LG_PID
  lg_start json "$P_LGJSON" "{format: json, path: $LOGDIR/mp-json.log}"; LG_MPJSON=$LG_PID
fi

# --- nginx: 1 worker, keep-alive upstream pool, unbuffered for SSE ---------------------------------
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 20000;
error_log $TMP/nginx/logs/error.log warn;
pid $TMP/nginx/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  upstream mock { server 127.0.0.1:$P_MOCK; keepalive 64; }
  server {
    listen 127.0.0.1:$P_NGX reuseport backlog=4096;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_read_timeout 300s;
    tcp_nodelay on;
    location = /healthz { return 200 "ok"; }
    # /openai/v1/chat/completions -> /v1/openai/v1/chat/completions (the mock's AI-Gateway path)
    location /openai/ { proxy_pass http://mock/v1/openai/; }
    location /bench/ { proxy_pass http://mock/v1/bench/; }
    # The Claude Code request: the Bedrock body mini-proxy sends, to the mock's invoke path, byte for byte.
    # A body above client_body_buffer_size (16k by default) would go to a temp file on every request;
    # 256k keeps the ~120 KB body in memory, as mini-proxy does.
    location /bedrock/model/ { client_body_buffer_size 256k; proxy_pass http://mock/v1/bedrock/model/; }
  }
  # The logging case: the pass-through route with the shipped config's upstream token, without and with
  # nginx's stock access log (default "combined" format, one write per request) to a file on tmpfs.
  server {
    listen 127.0.0.1:$P_NGXL0 reuseport backlog=4096;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Authorization "slauth $LG_TOKEN";
    proxy_buffering off;
    tcp_nodelay on;
    location /openai/ { proxy_pass http://mock/v1/openai/; }
  }
  server {
    listen 127.0.0.1:$P_NGXL1 reuseport backlog=4096;
    access_log $LOGDIR/nginx-access.log;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Authorization "slauth $LG_TOKEN";
    proxy_buffering off;
    tcp_nodelay on;
    location /openai/ { proxy_pass http://mock/v1/openai/; }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' 2>"$TMP/nginx.log" &
NGX=$!; PIDS+=("$NGX")
wait_port "$P_MP1"; wait_port "$P_MP2"; wait_port "$P_NGX"
if [ "$LG" = 1 ]; then wait_port "$P_LGOFF"; wait_port "$P_LGTEXT"; wait_port "$P_LGJSON"; fi
NGXW=""
for i in $(seq 1 100); do
  NGXW=$(cat "/proc/$NGX/task/$NGX/children" 2>/dev/null | awk '{ print $1 }')
  [ -n "$NGXW" ] && break; sleep 0.02
done
[ -n "$NGXW" ] || { echo "nginx worker not found" >&2; exit 1; }

# --- LiteLLM (ONLY=all; LITELLM=0 skips it): the Python gateway most teams run, on the same pass-through
# work. Its proxy (the version pinned here, installed once into .venv-bench, ~760 MB) forwards the same chat
# request to the mock's OpenAI path, set up as its docs do it: an openai/ model with an api_base, a master
# key, one worker, its default logging. drop_params: LiteLLM refuses `temperature` for gpt-5 otherwise
# (mini-proxy and nginx forward it); like mini-proxy's route, it renames max_tokens for gpt-5.
LITELLM=${LITELLM:-1}
LITELLM_VERSION=1.108.7
LITELLM_PID=""; LITELLM_KEY=""
if [ "$ONLY" = all ] && [ "$LITELLM" = 1 ]; then
  LVENV=$ROOT/.venv-bench
  if [ ! -f "$LVENV/.litellm-$LITELLM_VERSION" ]; then
    log "installing litellm[proxy]==$LITELLM_VERSION into .venv-bench (once; ~1.5 min)"
    if { python3 -m venv "$LVENV" && "$LVENV/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION" \
         && touch "$LVENV/.litellm-$LITELLM_VERSION"; } >"$TMP/litellm-install.log" 2>&1; then :; else
      log "LiteLLM could not be installed (offline? $TMP/litellm-install.log): its rows are left out"
    fi
  fi
  if [ -f "$LVENV/.litellm-$LITELLM_VERSION" ]; then
    cat >"$TMP/litellm.yaml" <<EOF
model_list:
  - model_name: gpt-5
    litellm_params: {model: openai/gpt-5, api_base: "http://127.0.0.1:$P_MOCK/v1/openai/v1", api_key: bench-token}
litellm_settings:
  drop_params: true
EOF
    LITELLM_KEY=sk-bench-$RANDOM$RANDOM-litellm
    LITELLM_MASTER_KEY=$LITELLM_KEY LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False \
      "$LVENV/bin/litellm" --config "$TMP/litellm.yaml" --host 127.0.0.1 --port "$P_LITELLM" --num_workers 1 \
      >"$TMP/litellm.log" 2>&1 &
    LITELLM_PID=$!; PIDS+=("$LITELLM_PID")
    for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$P_LITELLM") 2>/dev/null && break; sleep 0.5; done
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$P_LITELLM") 2>/dev/null; then
      log "LiteLLM did not start within 60 s ($TMP/litellm.log): its rows are left out"
      kill "$LITELLM_PID" 2>/dev/null || true; LITELLM_PID=""
    fi
  fi
fi
LITELLM_V=""; if [ -n "$LITELLM_PID" ]; then LITELLM_V=$LITELLM_VERSION; fi

# Idle RSS: fresh processes, nothing served yet.
RSS_IDLE_MP1=$(rss_kb "$MP1"); RSS_IDLE_MP2=$(rss_kb "$MP2")
RSS_IDLE_NGX=$(( $(rss_kb "$NGX") + $(rss_kb "$NGXW") ))

# --- bodies ---------------------------------------------------------------------------------------
MSG='"messages":[{"role":"user","content":"Write one short sentence that says hello to the benchmark."}]'
CHAT_BODY='{"model":"gpt-5",'$MSG',"max_tokens":64,"temperature":0.2,"user":"bench-client-0001"}'
TR_BODY='{"model":"claude-sonnet-4-5",'$MSG',"max_tokens":64,"temperature":0.2,"user":"bench-client-0001"}'
BEDROCK_BODY='{"anthropic_version":"bedrock-2023-05-31",'$MSG',"max_tokens":64,"temperature":0.2}'
BEDROCK_PATH=/v1/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke
SSE_OPT='+chunks=64+delay=20'
SSE_CHAT='{"model":"gpt-5'$SSE_OPT'",'$MSG',"max_tokens":64,"stream":true}'
SSE_ANTH='{"model":"claude-sonnet-4-5'$SSE_OPT'",'$MSG',"max_tokens":64,"stream":true}'
SSE_BEDROCK='{"anthropic_version":"bedrock-2023-05-31",'$MSG',"max_tokens":64}'
# Dateless ids take -v1 on Bedrock (never -v1:0: the strict mock refuses it), as mini-proxy maps claude-sonnet-4-5.
SSE_BEDROCK_PATH="/v1/bedrock/model/anthropic.claude-sonnet-4-5$SSE_OPT-v1/invoke-with-response-stream"

# Each target: name port path body pid-of-the-proxy ("-" for direct).
declare -A T_PORT T_PATH T_BODY T_PID T_FILE T_AUTH
def() { T_PORT[$1]=$2; T_PATH[$1]=$3; T_BODY[$1]=$4; T_PID[$1]=$5; }
def pt/direct "$P_MOCK" /v1/openai/v1/chat/completions "$CHAT_BODY" -
def pt/nginx "$P_NGX" /openai/v1/chat/completions "$CHAT_BODY" "$NGXW"
def pt/mp1 "$P_MP1" /openai/v1/chat/completions "$CHAT_BODY" "$MP1"
def pt/mp2 "$P_MP2" /openai/v1/chat/completions "$CHAT_BODY" "$MP2"
# The floor cannot rewrite the path (nor max_tokens): it is sent the mock's own path.
[ "$FLOOR" = 1 ] && def pt/floor "$P_FLOOR" /v1/openai/v1/chat/completions "$CHAT_BODY" "$FWD"
if [ -n "$LITELLM_PID" ]; then
  def pt/litellm "$P_LITELLM" /v1/chat/completions "$CHAT_BODY" "$LITELLM_PID"; T_AUTH[pt/litellm]="Bearer $LITELLM_KEY"
fi
def tr/direct "$P_MOCK" "$BEDROCK_PATH" "$BEDROCK_BODY" -
def tr/mp1 "$P_MP1" /provider/bedrock/format/openai/v1/chat/completions "$TR_BODY" "$MP1"
def tr/mp2 "$P_MP2" /provider/bedrock/format/openai/v1/chat/completions "$TR_BODY" "$MP2"
# The logging case (the same 178-byte POST on the same pass-through route); T_LOG: the log file it writes.
declare -A T_LOG
if [ "$LG" = 1 ]; then
  def lg/nginx-off "$P_NGXL0" /openai/v1/chat/completions "$CHAT_BODY" "$NGXW"
  def lg/nginx-log "$P_NGXL1" /openai/v1/chat/completions "$CHAT_BODY" "$NGXW"
  def lg/mp-off "$P_LGOFF" /openai/v1/chat/completions "$CHAT_BODY" "$LG_MPOFF"
  def lg/mp-text "$P_LGTEXT" /openai/v1/chat/completions "$CHAT_BODY" "$LG_MPTEXT"
  def lg/mp-json "$P_LGJSON" /openai/v1/chat/completions "$CHAT_BODY" "$LG_MPJSON"
  T_LOG[lg/nginx-log]=$LOGDIR/nginx-access.log
  T_LOG[lg/mp-text]=$LOGDIR/mp-text.log; T_LOG[lg/mp-json]=$LOGDIR/mp-json.log
fi

# Every route answers 200 before anything is measured.
for t in "${!T_PORT[@]}"; do
  code=$(python3 - "${T_PORT[$t]}" "${T_PATH[$t]}" "${T_BODY[$t]}" "${T_AUTH[$t]:-}" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
auth = {"Authorization": sys.argv[4]} if sys.argv[4] else {}
c.request("POST", sys.argv[2], sys.argv[3], {"Content-Type": "application/json", **auth})
r = c.getresponse(); r.read(); print(r.status)
EOF
)
  [ "$code" = 200 ] || { echo "$t answered $code" >&2; tail -5 "$TMP"/*.log >&2; exit 1; }
done

# --- request/response: wrk --------------------------------------------------------------------------
WRK_TSV=$TMP/wrk.tsv; : >"$WRK_TSV"
KERNEL_TSV=$TMP/kernel.tsv; : >"$KERNEL_TSV"
LOG_TSV=$TMP/log.tsv; : >"$LOG_TSV"
SSE_JSONL=$TMP/sse.jsonl; : >"$SSE_JSONL"
to_us() {  # "812.00us" / "1.20ms" / "2.00s" -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}
log_size() {  # lines and bytes of a log file ("0 0" before it exists)
  if [ -f "$1" ]; then printf '%s %s\n' "$(wc -l <"$1")" "$(stat -c %s "$1")"; else echo "0 0"; fi
}
run_wrk() {  # target conns duration round
  local t=$1 c=$2 d=$3 round=$4 pid=${T_PID[$1]} out b0 a0 m0 m1 s0=0 s1=0 ms0 ms1 reqs rps p50 p99 err
  local lf=${T_LOG[$1]:-} l0=0 l1=0 y0=0 y1=0
  [ -n "$lf" ] && read -r l0 y0 <<<"$(log_size "$lf")"
  b0=0; [ "$pid" != - ] && b0=$(cpu_ticks "$pid") && s0=$(sys_ticks "$pid")
  m0=$(cpu_ticks "$MOCK"); ms0=$(sys_ticks "$MOCK")
  if [ -n "${T_FILE[$t]:-}" ]; then  # the Claude Code request: its body from a file, its anthropic-beta header
    out=$(BENCH_PATH=${T_PATH[$t]} BENCH_BODY_FILE=${T_FILE[$t]} BENCH_BETA=$CC_BETA ${WRK_PIN[@]+"${WRK_PIN[@]}"} wrk -t1 -c"$c" -d"${d}s" \
          --timeout 5s --latency -s "$ROOT/bench/claude_code.lua" "http://127.0.0.1:${T_PORT[$t]}")
  else
    out=$(BENCH_PATH=${T_PATH[$t]} BENCH_BODY=${T_BODY[$t]} BENCH_AUTH=${T_AUTH[$t]:-} wrk -t1 -c"$c" -d"${d}s" --timeout 5s --latency \
          -s "$ROOT/bench/post.lua" "http://127.0.0.1:${T_PORT[$t]}")
  fi
  a0=0; [ "$pid" != - ] && a0=$(cpu_ticks "$pid") && s1=$(sys_ticks "$pid")
  m1=$(cpu_ticks "$MOCK"); ms1=$(sys_ticks "$MOCK")
  [ "$round" = warm ] && return 0
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  err=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  local cpu=- scpu=- mcpu mscpu
  [ "$pid" != - ] && cpu=$(per_request_us "$b0" "$a0" "$reqs") && scpu=$(per_request_us "$s0" "$s1" "$reqs")
  mcpu=$(per_request_us "$m0" "$m1" "$reqs"); mscpu=$(per_request_us "$ms0" "$ms1" "$reqs")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${t%%/*}" "${t#*/}" "$c" "$rps" "$p50" "$p99" "$cpu" "$mcpu" "$err" "$scpu" "$mscpu" >>"$WRK_TSV"
  local logged=""
  if [ -n "$lf" ]; then  # lines written during the run (exchanges cut when wrk stops are logged too)
    sleep 0.05; read -r l1 y1 <<<"$(log_size "$lf")"
    printf '%s\t%s\t%s\t%s\t%s\n' "${t#*/}" "$c" "$reqs" "$((l1 - l0))" "$((y1 - y0))" >>"$LOG_TSV"
    logged=" logged $((l1 - l0)) lines"
  fi
  log "wrk $t c=$c: $rps req/s p50 ${p50}us p99 ${p99}us cpu ${cpu}us/req errors $err$logged"
}
# Everything from here to the logging case runs with ONLY=all (the default); ONLY=claude-code and
# ONLY=logging skip it. (Not indented: the block is most of the script.)
STARTUP=(); SLOW={}; IDLE_MP={}; IDLE_NGX={}; SIZE=0; SWIFT_LIBS=0
if [ "$ONLY" = all ]; then
RR_TARGETS="pt/direct pt/nginx pt/mp1 pt/mp2${FWD:+ pt/floor}${LITELLM_PID:+ pt/litellm} tr/direct tr/mp1 tr/mp2"
log "warm-up"
for t in $RR_TARGETS; do run_wrk "$t" 32 1 warm; done
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONNS; do
    for t in $RR_TARGETS; do
      # LiteLLM serves tens to hundreds of requests a second here: 256 connections would only time out.
      if [ "$t" = pt/litellm ] && [ "$c" -gt 32 ]; then continue; fi
      run_wrk "$t" "$c" "$DURATION" "$round"
    done
  done
done

# --- what the kernel is asked to do per pass-through request (32 connections, one more run each) -----
# System calls made by the proxy (by the mock for "direct"), counted with `perf stat` on the
# raw_syscalls:sys_enter tracepoint when perf can count it here (the column is "-" otherwise), and TCP
# segments sent on the whole machine (all hops: client, proxy, mock). A separate run, because counting
# every system call costs a little CPU and the medians above must not pay it.
PERF_OK=0
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -x, -o /dev/null -- true 2>/dev/null; then
  PERF_OK=1
else
  log "perf cannot count system calls here (install linux-perf; needs perf_event_paranoid <= 1 or root): syscall column skipped"
fi
run_kernel() {  # target: wrk at 32 connections for DURATION seconds with the syscalls and segments counted
  local t=$1 pid=${T_PID[$1]} out reqs g0 g1 calls=- pp=""
  [ "$pid" = - ] && pid=$MOCK
  if [ "$PERF_OK" = 1 ]; then
    perf stat -e raw_syscalls:sys_enter -x, -o "$TMP/perf.txt" -p "$pid" 2>/dev/null & pp=$!; PIDS+=("$pp")
    sleep 0.3  # attached before the first request
  fi
  g0=$(tcp_out_segs)
  out=$(BENCH_PATH=${T_PATH[$t]} BENCH_BODY=${T_BODY[$t]} wrk -t1 -c32 -d"${DURATION}s" --timeout 5s \
        -s "$ROOT/bench/post.lua" "http://127.0.0.1:${T_PORT[$t]}")
  g1=$(tcp_out_segs)
  if [ -n "$pp" ]; then
    kill -INT "$pp" 2>/dev/null; wait "$pp" 2>/dev/null || true
    calls=$(awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$TMP/perf.txt")
  fi
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  printf '%s\t%s\t%s\t%s\n' "${t#*/}" "$reqs" "${calls:--}" "$((g1 - g0))" >>"$KERNEL_TSV"
  log "kernel $t c=32: $reqs requests, ${calls:--} syscalls, $((g1 - g0)) TCP segments"
}
for t in pt/direct pt/nginx pt/mp1 pt/mp2${FWD:+ pt/floor}; do run_kernel "$t"; done

# --- SSE: our own client ($SSE_CLIENT), 64 events 20 ms apart --------------------------------------
SSE_PIDS=("$MP1" "$NGXW" "$MP2" $FWD)  # peak RSS of every proxy (report.py reads each row's own)
run_sse() {  # route target port path body n round
  local res
  res=$("${SSE_CMD[@]}" --port "$3" --path "$4" --body "$5" -n "$6" --timeout 60 --pids "${SSE_PIDS[@]}")
  printf '{"route":"%s","target":"%s","round":%s,"r":%s}\n' "$1" "$2" "$7" "$res" >>"$SSE_JSONL"
  log "sse $1/$2 n=$6: $res"
}
for round in $(seq 1 "$SSE_ROUNDS"); do
  for n in $STREAMS; do
    run_sse openai-chat direct "$P_MOCK" /v1/openai/v1/chat/completions "$SSE_CHAT" "$n" "$round"
    run_sse openai-chat nginx "$P_NGX" /openai/v1/chat/completions "$SSE_CHAT" "$n" "$round"
    run_sse openai-chat mp1 "$P_MP1" /openai/v1/chat/completions "$SSE_CHAT" "$n" "$round"
    run_sse openai-chat mp2 "$P_MP2" /openai/v1/chat/completions "$SSE_CHAT" "$n" "$round"
    [ -n "$FWD" ] && run_sse openai-chat floor "$P_FLOOR" /v1/openai/v1/chat/completions "$SSE_CHAT" "$n" "$round"
    run_sse anthropic-messages direct "$P_MOCK" "$SSE_BEDROCK_PATH" "$SSE_BEDROCK" "$n" "$round"
    run_sse anthropic-messages mp1 "$P_MP1" /bedrock/claude/v1/messages "$SSE_ANTH" "$n" "$round"
    run_sse openai-to-bedrock direct "$P_MOCK" "$SSE_BEDROCK_PATH" "$SSE_BEDROCK" "$n" "$round"
    run_sse openai-to-bedrock mp1 "$P_MP1" /provider/bedrock/format/openai/v1/chat/completions "$SSE_ANTH" "$n" "$round"
  done
done

# --- SSE at 32 streams, the proxy under test on a core of its own -----------------------------------
# With 2 cores, the client, the mock and the proxy all run during a 32-stream burst and the scheduler
# adds milliseconds that are not the proxy's. Here the client and the mock share CPU 0 and the proxy
# under test (mini-proxy, or nginx's worker) has CPU 1, so "+first event" is the proxy's own latency.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin() { taskset -a -p -c "$1" "$2" >/dev/null; }
  pin 0 "$MOCK"; pin 1 "$MP1"; pin 1 "$NGXW"; [ -n "$FWD" ] && pin 1 "$FWD"
  run_sse_pinned() {  # route target port path body
    local res
    res=$(taskset -c 0 "${SSE_CMD[@]}" --port "$3" --path "$4" --body "$5" -n 32 --timeout 60)
    printf '{"route":"%s","target":"%s@pinned","round":%s,"r":%s}\n' "$1" "$2" "$round" "$res" >>"$SSE_JSONL"
    log "sse pinned $1/$2 n=32: $res"
  }
  for round in $(seq 1 $((SSE_ROUNDS + 1))); do
    run_sse_pinned openai-chat direct "$P_MOCK" /v1/openai/v1/chat/completions "$SSE_CHAT"
    run_sse_pinned openai-chat nginx "$P_NGX" /openai/v1/chat/completions "$SSE_CHAT"
    run_sse_pinned openai-chat mp1 "$P_MP1" /openai/v1/chat/completions "$SSE_CHAT"
    [ -n "$FWD" ] && run_sse_pinned openai-chat floor "$P_FLOOR" /v1/openai/v1/chat/completions "$SSE_CHAT"
    run_sse_pinned anthropic-messages direct "$P_MOCK" "$SSE_BEDROCK_PATH" "$SSE_BEDROCK"
    run_sse_pinned anthropic-messages mp1 "$P_MP1" /bedrock/claude/v1/messages "$SSE_ANTH"
    run_sse_pinned openai-to-bedrock direct "$P_MOCK" "$SSE_BEDROCK_PATH" "$SSE_BEDROCK"
    run_sse_pinned openai-to-bedrock mp1 "$P_MP1" /provider/bedrock/format/openai/v1/chat/completions "$SSE_ANTH"
  done
  all=0-$(( $(nproc) - 1 ))
  pin "$all" "$MOCK"; pin "$all" "$MP1"; pin "$all" "$NGXW"; [ -n "$FWD" ] && pin "$all" "$FWD"
fi

# --- memory: a slow reader of a 100 MB stream, 10,000 idle connections ------------------------------
log "slow reader: 100 MB stream read at 1 MB/s for ${SLOW_SECONDS}s (mini-proxy and nginx side by side)"
SLOW=$(python3 "$ROOT/bench/loadclient.py" slow --ports "$P_MP1" "$P_NGX" --path /bench/stream \
       --header "x-mock-bytes: 104857600" --body '{"model":"gpt-5","stream":true}' --rate 1048576 --seconds "$SLOW_SECONDS" \
       --pids "$MP1" "$NGXW")
log "slow: $SLOW"
log "idle: $IDLE_CONNS keep-alive connections (ulimit -n $NOFILE)"
IDLE_MP=$(python3 "$ROOT/bench/loadclient.py" idle --port "$P_MP1" --path /openai/v1/models -n "$IDLE_CONNS" \
          --hold 3 --pids "$MP1")
log "idle mini-proxy: $IDLE_MP"
IDLE_NGX=$(python3 "$ROOT/bench/loadclient.py" idle --port "$P_NGX" --path /healthz -n "$IDLE_CONNS" \
           --hold 3 --pids "$NGXW")
log "idle nginx: $IDLE_NGX"

# --- start-up and size ------------------------------------------------------------------------------
STARTUP=()
for i in $(seq 1 "$STARTUP_RUNS"); do
  s=$(python3 "$ROOT/bench/loadclient.py" startup --port "$P_START" --path /openai/v1/chat/completions \
      --body "$CHAT_BODY" -- "$BIN" serve --config "$TMP/bench.yaml" --listen "127.0.0.1:$P_START")
  STARTUP+=("$s")
done
log "startup: ${STARTUP[*]}"
cp "$BIN" "$TMP/mini-proxy.stripped"; strip "$TMP/mini-proxy.stripped"
SIZE=$(stat -c %s "$TMP/mini-proxy.stripped")
SWIFT_LIBS=$(ldd "$BIN" 2>/dev/null | awk '/libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime/ { print $3 }' | sort -u \
             | xargs -r stat -L -c %s | awk '{ s += $1 } END { print s + 0 }')

fi  # ONLY=all

# --- the logging case: the shipped config's access log beside nginx's, 32 connections -------------------
# lg/mp-off, lg/mp-text, lg/mp-json: the shipped config with access_log false, {format: text, path: FILE},
# {format: json, path: FILE}; lg/nginx-off and lg/nginx-log: nginx on the same route with the same token,
# without and with `access_log FILE;` (combined). Interleaved rounds of DURATION s; each run also counts
# the lines its log gained (log.tsv), so that "every exchange is logged" is checked, not assumed.
if [ "$LG" = 1 ]; then
LG_TARGETS="lg/nginx-off lg/nginx-log lg/mp-off lg/mp-text lg/mp-json"
log "logging case: access logs in $LOGDIR ($LOG_FS)"
for t in $LG_TARGETS; do run_wrk "$t" 32 1 warm; done
# The lines are what the formats promise: JSON lines parse, text lines start with the time.
python3 - "$LOGDIR/mp-json.log" "$LOGDIR/mp-text.log" "$LOGDIR/nginx-access.log" <<'EOF' || exit 1
import json, sys
j, t, n = (open(p, "rb").read().splitlines() for p in sys.argv[1:])
for name, lines in (("json", j), ("text", t), ("nginx", n)):
    if not lines:
        sys.exit(f"logging case: the {name} access log is empty")
for line in j:
    rec = json.loads(line)
    assert {"time", "request_id", "method", "path", "status", "duration_ms"} <= rec.keys(), rec
assert all(l[:2] == b"20" and b" POST /openai/v1/chat/completions " in l for l in t), t[-1]
EOF
# One line of each for the report: a 200 (the warm-up's last lines are the exchanges cut when wrk stopped).
LG_SAMPLE_TEXT=$(grep -m1 ' 200 ' "$LOGDIR/mp-text.log" || true)
LG_SAMPLE_JSON=$(grep -m1 '"status":200,' "$LOGDIR/mp-json.log" || true)
LG_SAMPLE_NGINX=$(grep -m1 '" 200 ' "$LOGDIR/nginx-access.log" || true)
# Odd rounds in one order, even rounds in the reverse one, so that a load that drifts (a shared machine)
# weighs on every target alike over two rounds; report.py also gives each round's own ratio.
LG_REVERSED=$(printf '%s\n' $LG_TARGETS | tac | tr '\n' ' ')
for round in $(seq 1 "$ROUNDS"); do
  order=$LG_TARGETS; [ $((round % 2)) = 0 ] && order=$LG_REVERSED
  for t in $order; do run_wrk "$t" 32 "$DURATION" "$round"; done
done
fi  # the logging case

if [ "$ONLY" = all ] || [ "$ONLY" = claude-code ]; then
# --- the Claude Code request (issue "Claude Code on a strict Bedrock", item 8) --------------------------
# bench/claude_code_request.py: ~120 KB built from a captured Claude Code request (40 tools, the long system
# prompt, 30 turns with tool results, the role system message with output_config, thinking.display,
# defer_loading on a tool, 8 betas, stream false). Targets:
#   cc/mp1       the Anthropic route: the bedrock-claude profile cuts the body, then it is translated;
#   cc/nginx     nginx forwarding, byte for byte, the Bedrock body mini-proxy sends (captured below);
#   cc/direct    that Bedrock body straight to the mock's invoke path;
#   cc/mp1raw    that Bedrock body through mini-proxy's passthrough route /raw/* (no JSON work: the body is
#                streamed as it arrives), i.e. nginx's work: the floor of mini-proxy's own I/O path;
#   ccpt/mp1     the same client bytes (and header) through the OpenAI pass-through route;
#   ccpt/direct  those bytes straight to the mock's chat path.
# Runs last, so that its large bodies do not weigh on the memory figures above.
CC_BODY=$TMP/claude-code.json; CC_BEDROCK=$TMP/claude-code.bedrock.json
python3 "$ROOT/bench/claude_code_request.py" --out "$CC_BODY"
python3 "$ROOT/bench/claude_code_request.py" --model 'claude-opus-4-6+echo' --out "$TMP/claude-code.echo.json"
CC_BETA=$(python3 "$ROOT/bench/claude_code_request.py" --beta)
CC_PATH='/bedrock/claude/v1/messages?beta=true'
# What mini-proxy sends upstream for this request, from the mock's +echo (the model is in the invoke path,
# so the body is the one sent for claude-opus-4-6). Prints the invoke path without +echo.
CC_INVOKE=$(python3 - "$P_MP1" "$CC_PATH" "$TMP/claude-code.echo.json" "$CC_BETA" "$CC_BEDROCK" <<'EOF'
import http.client, json, sys
port, path, src, beta, dst = sys.argv[1:]
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
c.request("POST", path, open(src, "rb").read(), {"Content-Type": "application/json", "anthropic-beta": beta})
r = c.getresponse(); data = r.read()
if r.status != 200:
    sys.exit(f"claude-code echo through mini-proxy answered {r.status}: {data[:300]!r}")
text = next(b["text"] for b in json.loads(data)["content"] if b["type"] == "text")
sent = json.loads(text)
open(dst, "wb").write(sent["body"].encode())
print(sent["path"].replace("%2Becho", "").replace("+echo", ""))
EOF
)
def cc/direct "$P_MOCK" "$CC_INVOKE" "" -
def cc/nginx "$P_NGX" "${CC_INVOKE#/v1}" "" "$NGXW"
def cc/mp1 "$P_MP1" "$CC_PATH" "" "$MP1"
def cc/mp1raw "$P_MP1" "/raw${CC_INVOKE#/v1}" "" "$MP1"
def ccpt/direct "$P_MOCK" /v1/openai/v1/chat/completions "" -
def ccpt/mp1 "$P_MP1" /openai/v1/chat/completions "" "$MP1"
T_FILE[cc/direct]=$CC_BEDROCK; T_FILE[cc/nginx]=$CC_BEDROCK; T_FILE[cc/mp1raw]=$CC_BEDROCK
T_FILE[cc/mp1]=$CC_BODY; T_FILE[ccpt/direct]=$CC_BODY; T_FILE[ccpt/mp1]=$CC_BODY
CC_TARGETS="cc/direct cc/nginx cc/mp1 cc/mp1raw ccpt/direct ccpt/mp1"
for t in $CC_TARGETS; do
  code=$(python3 - "${T_PORT[$t]}" "${T_PATH[$t]}" "${T_FILE[$t]}" "$CC_BETA" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("POST", sys.argv[2], open(sys.argv[3], "rb").read(), {"Content-Type": "application/json", "anthropic-beta": sys.argv[4]})
r = c.getresponse(); r.read(); print(r.status)
EOF
)
  [ "$code" = 200 ] || { echo "$t answered $code" >&2; tail -5 "$TMP"/*.log >&2; exit 1; }
done
CC_BODY_BYTES=$(stat -c %s "$CC_BODY"); CC_BEDROCK_BYTES=$(stat -c %s "$CC_BEDROCK")
log "Claude Code request: $CC_BODY_BYTES bytes from the client, $CC_BEDROCK_BYTES bytes to $CC_INVOKE"
for t in $CC_TARGETS; do run_wrk "$t" 32 1 warm; done
for round in $(seq 1 "$ROUNDS"); do
  for c in 1 32; do
    for t in $CC_TARGETS; do run_wrk "$t" "$c" "$CC_DURATION" "$round"; done
  done
done
# The same one-connection runs with every process on CPU 0 (wrk, the mock, the proxy under test): at one
# connection the work is a chain (client -> proxy -> mock -> proxy -> client), and on two cores the
# scheduler's placement and the cross-core wake-ups (IPIs, costly in a VM) move "direct" alone by up to 60%
# between rounds (319 to 516 us in one run). On one core the added p50 is the proxy's own work on the request's path, round after round.
# Scenarios cc1/ccpt1 (report.py: "one core").
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  for t in $CC_TARGETS; do
    def "${t/\//1/}" "${T_PORT[$t]}" "${T_PATH[$t]}" "" "${T_PID[$t]}"; T_FILE[${t/\//1/}]=${T_FILE[$t]}
  done
  pin() { taskset -a -p -c "$1" "$2" >/dev/null; }
  pin 0 "$MOCK"; pin 0 "$MP1"; pin 0 "$NGXW"
  WRK_PIN=(taskset -c 0)
  for round in $(seq 1 "$ROUNDS"); do
    for t in $CC_TARGETS; do run_wrk "${t/\//1/}" 1 "$CC_DURATION" "$round"; done
  done
  WRK_PIN=()
  all=0-$(( $(nproc) - 1 ))
  pin "$all" "$MOCK"; pin "$all" "$MP1"; pin "$all" "$NGXW"
fi
fi  # the Claude Code request

if [ "$ONLY" = all ] || [ "$ONLY" = huge ]; then
# --- huge agent requests (issue "Any agent on any model": 100 KB-10 MB with images, through the new pairs) --
# bench/huge_request.py: a Codex-like Responses request (stream: true) to /provider/bedrock/format/openai/v1/
# responses (Responses -> Claude on Bedrock), and a Claude Code-like Anthropic request (stream: false) to
# /provider/openai/format/anthropic/v1/messages (Anthropic -> OpenAI Chat), each at ~115 KB ("small"), 1 MB
# and 10 MB (base64 images and long tool outputs). "direct" sends the mock the body mini-proxy sends
# upstream for the same request (taken from the mock's +echo at start) on the path it uses. bench/huge_client.py:
# one keep-alive connection, requests one after another, bounded by count and by time; proxy CPU from
# schedstat. Targets interleave, direct then mini-proxy, per size, kind and round.
HUGE_SIZES=${HUGE_SIZES:-small 1m 10m}
HUGE_N=${HUGE_N:-$([ "$QUICK" = 1 ] && echo 10:5:2 || echo 20:10:3)}
HUGE_SECONDS=${HUGE_SECONDS:-20}
HUGE_JSONL=$TMP/huge.jsonl; : >"$HUGE_JSONL"
declare -A HG_PATH HG_DIRECT
hg_n() { local i; case "$1" in small) i=1 ;; 1m) i=2 ;; *) i=3 ;; esac; cut -d: -f"$i" <<<"$HUGE_N"; }
for size in $HUGE_SIZES; do
  for kind in responses anthropic; do
    hb=$TMP/huge-$kind-$size
    python3 "$ROOT/bench/huge_request.py" --kind "$kind" --size "$size" --out "$hb.json"
    if [ "$kind" = responses ]; then
      HG_PATH[$kind]=/provider/bedrock/format/openai/v1/responses; model=claude-sonnet-4-5
    else
      HG_PATH[$kind]=/provider/openai/format/anthropic/v1/messages; model=gpt-5
    fi
    # What mini-proxy sends upstream: the same request with the model's +echo and stream false (the body
    # is the same whether it streams: Bedrock's stream is the path's action, and the Anthropic request does
    # not stream); prints the path to send it on directly.
    HG_DIRECT[$kind-$size]=$(python3 - "$P_MP1" "${HG_PATH[$kind]}" "$hb.json" "$model" "$hb.upstream.json" <<'EOF'
import http.client, json, sys
port, path, src, model, dst = sys.argv[1:]
body = json.load(open(src, encoding="utf-8"))
stream = body.get("stream", False)
body["model"], body["stream"] = model + "+echo", False
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
c.request("POST", path, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
          {"Content-Type": "application/json"})
r = c.getresponse(); data = r.read()
if r.status != 200:
    sys.exit(f"huge echo through {path} answered {r.status}: {data[:300]!r}")
reply = json.loads(data)
if "output" in reply:  # a Responses object
    text = next(p["text"] for o in reply["output"] if o["type"] == "message" for p in o["content"]
                if p["type"] == "output_text")
else:  # an Anthropic message
    text = next(b["text"] for b in reply["content"] if b["type"] == "text")
sent = json.loads(text)
up = sent["body"].encode()
up = up.replace(f'"model":"{model}+echo"'.encode(), f'"model":"{model}"'.encode(), 1)
open(dst, "wb").write(up)
p = sent["path"].replace("%2Becho", "").replace("+echo", "")
if stream and p.endswith("/invoke"):
    p += "-with-response-stream"
print(p)
EOF
)
  done
done
for round in $(seq 1 "$ROUNDS"); do
  for size in $HUGE_SIZES; do
    for kind in responses anthropic; do
      hb=$TMP/huge-$kind-$size
      for t in direct mp1; do
        if [ "$t" = direct ]; then port=$P_MOCK; path=${HG_DIRECT[$kind-$size]}; body=$hb.upstream.json; pid=$MOCK
        else port=$P_MP1; path=${HG_PATH[$kind]}; body=$hb.json; pid=$MP1; fi
        res=$(python3 "$ROOT/bench/huge_client.py" --port "$port" --path "$path" --body "$body" \
              -n "$(hg_n "$size")" --seconds "$HUGE_SECONDS" --pid "$pid")
        printf '{"size":"%s","kind":"%s","target":"%s","round":%s,"upstream_bytes":%s,"r":%s}\n' "$size" "$kind" \
          "$t" "$round" "$(stat -c %s "$hb.upstream.json")" "$res" >>"$HUGE_JSONL"
        log "huge $kind $size $t: $res"
      done
    done
  done
done
fi  # the huge requests

# --- the report ---------------------------------------------------------------------------------------
SHA=$(git rev-parse --short HEAD 2>/dev/null || echo nosha)
CMD="${QUICK:+QUICK=$QUICK }$([ "$ONLY" = all ] || echo "ONLY=$ONLY ")bash bench/run.sh   (DURATION=$DURATION ROUNDS=$ROUNDS SSE_ROUNDS=$SSE_ROUNDS SLOW_SECONDS=$SLOW_SECONDS IDLE_CONNS=$IDLE_CONNS CC_DURATION=$CC_DURATION${HUGE_JSONL:+ HUGE_SIZES=\"$HUGE_SIZES\" HUGE_N=$HUGE_N HUGE_SECONDS=$HUGE_SECONDS})"
export WRK_TSV KERNEL_TSV SSE_JSONL SSE_CLIENT SLOW IDLE_MP IDLE_NGX SIZE SWIFT_LIBS CMD SHA QUICK ONLY
export CC_BODY_BYTES CC_BEDROCK_BYTES CC_BETA CC_INVOKE CC_DURATION
export HUGE_JSONL=${HUGE_JSONL:-} HUGE_N=${HUGE_N:-} HUGE_SECONDS=${HUGE_SECONDS:-}
export LOG_TSV LOG_FS LG_TOKEN LG_SAMPLE_TEXT LG_SAMPLE_JSON LG_SAMPLE_NGINX
export RSS_IDLE_MP1 RSS_IDLE_MP2 RSS_IDLE_NGX MP1 MP2 NGXW FWD LITELLM_V
export STARTUP_JSON="[$(IFS=,; echo "${STARTUP[*]}")]"
export ELAPSED=$(( $(date +%s) - T_START ))
export NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
export WRK_VERSION=$(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')
REPORT=$(python3 "$ROOT/bench/report.py")
printf '%s\n' "$REPORT"
if [ "${SAVE:-1}" = 1 ]; then
  mkdir -p "$ROOT/bench/results"
  suffix=""; [ "$QUICK" = 1 ] && suffix="-quick"; [ "$ONLY" = all ] || suffix="$suffix-$ONLY"
  f="$ROOT/bench/results/$(date +%Y-%m-%d)-$SHA$suffix.md"
  printf '%s\n' "$REPORT" >"$f"
  log "saved $f"
fi
