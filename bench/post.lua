-- wrk: POST one JSON body to one path on every request. BENCH_PATH and BENCH_BODY come from run.sh.
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/"
wrk.body = os.getenv("BENCH_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")  -- LiteLLM's master key (run.sh), for the targets that need one
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
