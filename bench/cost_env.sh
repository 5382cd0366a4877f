# Sourced by bench/per_request_cost.sh and bench/per_event_cost.sh: the upstream both measure against and
# the environment the shipped config (config/ai-gateway.yaml) reads, so that the per-request and the
# per-event figures come from the proxy started the same way. Needs TMP, PIDS and SEQ (sequential.py);
# `start_mock BIN` sets P_MOCK and MOCK_PID and then PROXY_ENV.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

TOKEN=bench-slauth-token-0123456789abcdef0123456789abcdef

start_mock() {  # mock binary
  P_MOCK=$(free_port)
  "$1" mock --listen "127.0.0.1:$P_MOCK" 2>"$TMP/mock.log" &
  MOCK_PID=$!; PIDS+=("$MOCK_PID")
  "${SEQ[@]}" wait-listen "$P_MOCK" 10
  # The variables the shipped file reads, as bench/run.sh's logging case sets them. A command prefix (not
  # a function): `"${PROXY_ENV[@]}" valgrind ... &` leaves valgrind's own PID in $! (env execs it).
  # SWIFT_DETERMINISTIC_HASHING=1: a fixed hash seed, so that dictionaries lay out alike in every run; with
  # a random seed two runs of the same setting differ by ~10k instructions, with it by ~1-2k.
  PROXY_ENV=(env -u MINI_PROXY_API_KEY -u AI_GATEWAY_CA_FILE -u ATLASSIAN_CLOUD_ID -u AI_GATEWAY_USE_CASE_ID
    MINI_PROXY_WORKERS=1 AI_GATEWAY_URL="http://127.0.0.1:$P_MOCK" AI_GATEWAY_TOKEN_COMMAND="printf %s $TOKEN"
    SWIFT_DETERMINISTIC_HASHING=${SWIFT_DETERMINISTIC_HASHING-1})
}
