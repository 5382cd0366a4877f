-- wrk: POST the Claude Code-sized request (bench/claude_code_request.py) on every request. run.sh sets
-- BENCH_PATH, BENCH_BODY_FILE (the body is ~120 KB: too long for an environment variable) and BENCH_BETA
-- (the anthropic-beta header Claude Code sends; sent to every target, whether it reads it or not).
local fh = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.body = fh:read("*a")
fh:close()
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/"
wrk.headers["Content-Type"] = "application/json"
local beta = os.getenv("BENCH_BETA")
if beta and beta ~= "" then wrk.headers["anthropic-beta"] = beta end
