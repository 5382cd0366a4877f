#!/usr/bin/env python3
"""Turns run.sh's raw measurements (files and environment variables) into the markdown report."""
import json, os, platform, statistics, sys
from collections import defaultdict

E = os.environ


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def f(x, nd=0, unit=""):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}{unit}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as fh:
        mem = f"{int(fh.readline().split()[1]) / 1048576:.1f} GiB"
    return f"{os.cpu_count()} CPUs ({model}), {mem} RAM, Linux {platform.release()}"


# ---- wrk --------------------------------------------------------------------------------------------
# (scenario, target, conns) -> [(rps, p50, p99, cpu, upstream cpu, errors, sys cpu, upstream sys cpu)]
rr = defaultdict(list)
with open(E["WRK_TSV"]) as fh:
    for line in fh:
        sc, t, c, rps, p50, p99, cpu, mcpu, err, *rest = line.rstrip("\n").split("\t")
        # the proxy's and the mock's system (kernel) time alone; absent in older files
        scpu, mscpu = (rest + ["-", "-"])[:2]
        rr[(sc, t, int(c))].append((float(rps), float(p50), float(p99), None if cpu == "-" else float(cpu),
                                    float(mcpu), int(err), None if scpu == "-" else float(scpu),
                                    None if mscpu == "-" else float(mscpu)))


def rrm(sc, t, c):
    rows = rr.get((sc, t, c), [])
    if not rows:
        return None
    return {"rps": med([r[0] for r in rows]), "p50": med([r[1] for r in rows]), "p99": med([r[2] for r in rows]),
            "cpu": med([r[3] for r in rows]), "ucpu": med([r[4] for r in rows]), "err": sum(r[5] for r in rows),
            "sys": med([r[6] for r in rows]), "usys": med([r[7] for r in rows]), "n": len(rows)}


conns = sorted({k[2] for k in rr})
out = []
P = out.append
P(f"# mini-proxy benchmark — {E.get('SHA')}{' (QUICK)' if E.get('QUICK') == '1' else ''}")
P("")
P(f"- Machine: {machine()}")
P(f"- Tools: {E.get('WRK_VERSION')}, nginx {E.get('NGINX_VERSION')}, Python {platform.python_version()} (SSE/memory client)"
  + (f", LiteLLM {E['LITELLM_V']} (`litellm[proxy]` from PyPI)" if E.get("LITELLM_V") else ""))
P(f"- Command: `{E.get('CMD')}` — took {E.get('ELAPSED')} s")
P("- Everything on 127.0.0.1: upstream = `mini-proxy mock`; wrk `-t1`, medians over rounds; "
  "\"mp1\"/\"mp2\" = mini-proxy with 1/2 workers; nginx = 1 worker, keepalive 64, proxy_buffering off; "
  "\"floor\" = `bench/forwarder.c`, a C byte forwarder (epoll, read/write, one upstream connection per client, "
  "not HTTP-aware): not a competitor, the kernel's cost that any user-space proxy pays here."
  + (" \"litellm\" = LiteLLM's proxy (1 worker, its default logging) forwarding the same chat request to the "
     "mock's OpenAI path (pass-through table; at 1 and 32 connections)." if E.get("LITELLM_V") else ""))
P("")

# ---- targets summary ----------------------------------------------------------------------------------
targets = []


def target(name, goal, measured, ok):
    targets.append((name, goal, measured, "met" if ok else ("**missed**" if ok is not None else "–")))


def print_targets():
    P("## Targets (issue 4" + ("; Claude Code on a strict Bedrock, item 8" if rr.get(("cc", "mp1", 1)) else "")
      + ("; See what it does, part 1: the access log" if rr.get(("lg", "mp-text", 32)) else "") + ")")
    P("")
    P("| Target | Goal | Measured | |")
    P("|---|---|---|---|")
    for name, goal, measured, ok in targets:
        P(f"| {name} | {goal} | {measured} | {ok} |")
    P("")


# ---- the Claude Code request (scenarios cc: Anthropic route and its peers; ccpt: the same client bytes
# through the OpenAI pass-through route) ------------------------------------------------------------------
def kb(n):
    return f"{int(n) / 1000:.1f} KB" if n else "?"


def cc_targets():
    d1c, n1c, m1c = rrm("cc", "direct", 1), rrm("cc", "nginx", 1), rrm("cc", "mp1", 1)
    dp1, mp1c = rrm("ccpt", "direct", 1), rrm("ccpt", "mp1", 1)
    size = kb(E.get("CC_BODY_BYTES"))
    if d1c and n1c and m1c:
        a, n = m1c["p50"] - d1c["p50"], n1c["p50"] - d1c["p50"]
        pt = f"; OpenAI pass-through, same client bytes, {mp1c['p50'] - dp1['p50']:+.0f} µs" if dp1 and mp1c else ""
        r = f" = {a / n:.2f}× nginx's" if n > 0 else ""
        target(f"Claude Code request ({size}), added p50 at 1 conn: Anthropic route (profile + translation)",
               "≤ 1.3× nginx's (same Bedrock bytes)", f"{a:+.0f} µs{r} (nginx {n:+.0f} µs{pt})", a <= 1.3 * max(n, 0))
        a99, n99 = m1c["p99"] - d1c["p99"], n1c["p99"] - d1c["p99"]
        pt99 = f"; pass-through {mp1c['p99'] - dp1['p99']:+.0f} µs" if dp1 and mp1c else ""
        target(f"Claude Code request ({size}), added p99 at 1 conn: Anthropic route", "–",
               f"{a99:+.0f} µs (nginx {n99:+.0f} µs{pt99})", None)
    r1c = rrm("cc", "mp1raw", 1)
    if d1c and n1c and r1c:
        a, n = r1c["p50"] - d1c["p50"], n1c["p50"] - d1c["p50"]
        r = f" = {a / n:.2f}× nginx's" if n > 0 else ""
        cut = (f"; the Anthropic route's profile, scan and translation add {m1c['p50'] - r1c['p50']:+.0f} µs on top"
               if m1c else "")
        target(f"Claude Code request ({size}), added p50 at 1 conn: the same Bedrock bytes through a passthrough "
               "route (no JSON work, nginx's work)", "–", f"{a:+.0f} µs{r} (nginx {n:+.0f} µs){cut}", None)
    d1, n1, m1, r1 = (rrm("cc1", t, 1) for t in ("direct", "nginx", "mp1", "mp1raw"))
    dpt1, pt1 = rrm("ccpt1", "direct", 1), rrm("ccpt1", "mp1", 1)
    if d1 and n1 and m1:
        a, n = m1["p50"] - d1["p50"], n1["p50"] - d1["p50"]
        r = f" = {a / n:.2f}× nginx's" if n > 0 else ""
        raw = f"; passthrough route {r1['p50'] - d1['p50']:+.0f} µs" if r1 else ""
        pt = f"; OpenAI pass-through (one validating scan) {pt1['p50'] - dpt1['p50']:+.0f} µs" if dpt1 and pt1 else ""
        target(f"Claude Code request ({size}), added p50 at 1 conn, every process on one core: Anthropic route",
               "≤ 1.3× nginx's (same Bedrock bytes)", f"{a:+.0f} µs{r} (nginx {n:+.0f} µs{raw}{pt})",
               a <= 1.3 * max(n, 0))
    n32, m32, p32 = rrm("cc", "nginx", 32), rrm("cc", "mp1", 32), rrm("ccpt", "mp1", 32)
    if m32 and p32 and m32["cpu"] is not None and p32["cpu"] is not None:
        extra = m32["cpu"] - p32["cpu"]
        ng = f", nginx {n32['cpu']:.1f}" if n32 and n32["cpu"] is not None else ""
        target(f"Claude Code request ({size}), proxy CPU at 32 conns: Anthropic route above pass-through",
               "≤ 50 µs (profile + translation; exact figure: bench/providers callgrind)",
               f"{extra:+.1f} µs (Anthropic route {m32['cpu']:.1f} µs/req, pass-through {p32['cpu']:.1f}{ng})",
               extra <= 50)
    if m32 and n32:
        pt = f", pass-through {p32['rps']:,.0f} ({p32['rps'] / n32['rps']:.2f}×)" if p32 else ""
        target(f"Claude Code request ({size}), req/s at 32 conns", "–",
               f"Anthropic route {m32['rps']:,.0f} = {m32['rps'] / n32['rps']:.2f}× nginx's {n32['rps']:,.0f}{pt}", None)


def cc_table():
    if not rr.get(("cc", "mp1", 1)) and not rr.get(("cc", "mp1", 32)):
        return
    P(f"## Claude Code request ({kb(E.get('CC_BODY_BYTES'))}): Anthropic route beside nginx and pass-through, non-stream")
    P("")
    P(f"`bench/claude_code_request.py`: a request captured from the Claude Code CLI scaled up to a long session "
      f"({E.get('CC_BODY_BYTES')} bytes: 40 tools, the ~27 KB system prompt, 30 turns with tool results, the "
      "`role: system` message with `output_config`, `thinking.display`, `defer_loading` on a tool, `stream: false`), "
      f"with Claude Code's `anthropic-beta` header ({len((E.get('CC_BETA') or '').split(','))} betas). "
      "**Anthropic route**: `POST /bedrock/claude/v1/messages?beta=true`, where the `bedrock-claude` profile cuts the "
      "request (4 betas, `output_config` on the message, `defer_loading`, `thinking.display` dropped; the system "
      "message folded into the user turn) and it is translated to Bedrock; its \"direct\" and nginx send the mock's "
      f"`invoke` path the Bedrock body mini-proxy sends ({E.get('CC_BEDROCK_BYTES')} bytes, taken from the mock's "
      "`+echo` at start), nginx byte for byte. **Pass-through**: the same client bytes to `POST "
      "/openai/v1/chat/completions` (openai-chat, one validating scan, `max_tokens` renamed), its \"direct\" the "
      "mock's chat path. **mp1raw**: the Bedrock body through mini-proxy's passthrough route `/raw/*` (no JSON "
      "work; the body streamed as it arrives), nginx's work on the same bytes. Added latency is against each route's "
      "own direct; CPU as in the tables above. **One core**: the one-connection runs again with wrk, the mock and "
      "the proxy under test all on CPU 0, where the added p50 is the proxy's own work on the request's path (on two "
      "cores the scheduler's placement moved even \"direct\" from 319 to 516 µs between rounds of one run).")
    P("")
    P("| conns | route | target | req/s | vs nginx | vs direct | p50 µs | p99 µs | +p50 vs direct | +p99 vs direct | proxy CPU µs/req | of which kernel µs | upstream CPU µs/req | errors |")
    P("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    runs = [(c, "cc", "ccpt", str(c)) for c in sorted({k[2] for k in rr if k[0] in ("cc", "ccpt")})]
    if rr.get(("cc1", "mp1", 1)):
        runs.append((1, "cc1", "ccpt1", "1, one core"))
    for c, cc, ccpt, label in runs:
        ng = rrm(cc, "nginx", c)
        for sc, route in ((cc, "Anthropic → Bedrock"), (ccpt, "OpenAI pass-through")):
            d = rrm(sc, "direct", c)
            for t in ("direct", "nginx", "mp1", "mp1raw"):
                m = rrm(sc, t, c)
                if not m:
                    continue
                add50 = f"{m['p50'] - d['p50']:+.0f}" if d and t != "direct" else ""
                add99 = f"{m['p99'] - d['p99']:+.0f}" if d and t != "direct" else ""
                P(f"| {label} | {route} | {t} | {f(m['rps'])} | {ratio(m['rps'], ng['rps']) if ng else '–'} | "
                  f"{ratio(m['rps'], d['rps']) if d else '–'} | {f(m['p50'])} | {f(m['p99'])} | {add50} | {add99} | "
                  f"{f(m['cpu'], 2)} | {f(m['sys'], 2)} | {f(m['ucpu'], 2)} | {m['err']} |")
    P("")


# ---- the logging case (scenario lg): the shipped config's access log beside nginx's stock one ---------------
# log.tsv: target, conns, requests wrk completed, lines the log gained, bytes the log gained (one row per run)
logged = defaultdict(list)
if E.get("LOG_TSV") and os.path.exists(E["LOG_TSV"]):
    with open(E["LOG_TSV"]) as fh:
        for line in fh:
            if line.strip():
                t, c, reqs, lines, nbytes = line.rstrip("\n").split("\t")
                logged[t].append((int(reqs or 0), int(lines), int(nbytes)))
LG_ROWS = (("nginx-off", "nginx", "off"), ("nginx-log", "nginx", "stock `access_log FILE;` (combined)"),
           ("mp-off", "mini-proxy", "off (`access_log: false`)"),
           ("mp-text", "mini-proxy", "`{format: text, path: FILE}`"),
           ("mp-json", "mini-proxy", "`{format: json, path: FILE}`"))
LG_OFF = {"nginx-log": "nginx-off", "mp-text": "mp-off", "mp-json": "mp-off"}


def lg_log_cost(t):  # CPU per request of the log itself: the proxy with it minus the same proxy without
    m, o = rrm("lg", t, 32), rrm("lg", LG_OFF.get(t, ""), 32)
    if m and o and m["cpu"] is not None and o["cpu"] is not None:
        return m["cpu"] - o["cpu"]
    return None


def lg_targets():
    nl = rrm("lg", "nginx-log", 32)
    if not nl:
        return
    for t, name in (("mp-text", "text"), ("mp-json", "JSON")):
        m = rrm("lg", t, 32)
        if not m:
            continue
        r = m["rps"] / nl["rps"]
        off = rrm("lg", "mp-off", 32)
        noff = rrm("lg", "nginx-off", 32)
        both_off = f"; both off: {off['rps'] / noff['rps']:.2f}×" if off and noff else ""
        # Each round's own ratio (the two runs were seconds apart): how far the medians can be trusted.
        per = [a[0] / b[0] for a, b in zip(rr[("lg", t, 32)], rr[("lg", "nginx-log", 32)])]
        per = f"; per round: {', '.join(f'{x:.2f}' for x in per)}" if len(per) > 1 else ""
        target(f"Shipped config, access log on ({name} to a file): req/s at 32 conns vs nginx with its access log",
               "≥ 1.0×", f"{r:.2f}× ({m['rps']:,.0f} vs {nl['rps']:,.0f}{both_off}{per})", r >= 1.0)
    for t, name in (("mp-text", "text"), ("mp-json", "JSON")):
        c = lg_log_cost(t)
        if c is None:
            continue
        ng = lg_log_cost("nginx-log")
        ng = f"; nginx's log {ng:+.2f} µs" if ng is not None else ""
        # Each round's own difference: on a shared machine the CPU per request moves by more than the log costs.
        per = [a[3] - b[3] for a, b in zip(rr[("lg", t, 32)], rr[("lg", "mp-off", 32)])
               if a[3] is not None and b[3] is not None]
        per = f"; per round: {', '.join(f'{x:+.2f}' for x in per)}" if len(per) > 1 else ""
        target(f"The access log's own CPU per request ({name}; on minus off, wall clock)",
               "≤ 1 µs (exact figure: callgrind)",
               f"{c:+.2f} µs ({rrm('lg', t, 32)['cpu']:.2f} vs {rrm('lg', 'mp-off', 32)['cpu']:.2f}{ng}{per})", c <= 1)
    runs = [(t, r) for t in ("mp-text", "mp-json") for r in logged.get(t, [])]
    if runs:
        short = sum(1 for _, (reqs, lines, _) in runs if lines < reqs)
        extra = max(lines - reqs for _, (reqs, lines, _) in runs)
        target("Every exchange logged (mini-proxy, text and JSON runs)", "lines ≥ requests in every run",
               f"{len(runs) - short}/{len(runs)} runs (at most {extra} lines beyond wrk's count: exchanges cut "
               "when wrk stops)", short == 0)


def lg_table():
    if not rr.get(("lg", "mp-text", 32)) and not rr.get(("lg", "nginx-log", 32)):
        return
    nl, noff = rrm("lg", "nginx-log", 32), rrm("lg", "nginx-off", 32)
    P("## The access log: the shipped config beside nginx with its access log (pass-through, 32 connections)")
    P("")
    P("`POST /openai/v1/chat/completions`, the same 178-byte body as the pass-through table, 32 connections, "
      "interleaved rounds. **mini-proxy**: `config/ai-gateway.yaml` as shipped (1 worker, `log_level: info`, "
      "metrics on, pool of 64, the upstream's `slauth` token from a command) pointed at the mock, three processes "
      "that differ only in the `access_log` line. **nginx**: one worker, the same route and rewrite, the same "
      "`Authorization: slauth …` header, `access_log off` or its stock `access_log FILE;` (combined format, one "
      f"`write()` per request). Every log file is on {E.get('LOG_FS', '?')}. \"log's CPU\" is the proxy's "
      "CPU per request with its log minus the same proxy's without (medians; 10 ms tick, so read it as ±0.3 µs; "
      "callgrind gives the exact figure). \"lines/req\" counts the lines each run added to its log against the "
      "requests wrk completed (exchanges cut when wrk stops are logged too).")
    P("")
    P("| proxy | access log | req/s | vs nginx with log | vs nginx without | p50 µs | p99 µs | proxy CPU µs/req | of which kernel µs | log's CPU µs/req | upstream CPU µs/req | lines/req | bytes/line | errors |")
    P("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t, proxy, how in LG_ROWS:
        m = rrm("lg", t, 32)
        if not m:
            continue
        runs = logged.get(t, [])
        reqs, lines, nbytes = (sum(r[i] for r in runs) for i in range(3))
        cost = lg_log_cost(t)
        P(f"| {proxy} | {how} | {f(m['rps'])} | {ratio(m['rps'], nl['rps']) if nl else '–'} | "
          f"{ratio(m['rps'], noff['rps']) if noff else '–'} | {f(m['p50'])} | {f(m['p99'])} | {f(m['cpu'], 2)} | "
          f"{f(m['sys'], 2)} | {'' if cost is None else f'{cost:+.2f}'} | {f(m['ucpu'], 2)} | "
          f"{f'{lines / reqs:.3f}' if reqs else ''} | {f'{nbytes / lines:.0f}' if lines else ''} | {m['err']} |")
    P("")
    for k, name in (("LG_SAMPLE_TEXT", "mini-proxy, text"), ("LG_SAMPLE_JSON", "mini-proxy, JSON"),
                    ("LG_SAMPLE_NGINX", "nginx, combined")):
        if E.get(k):
            P(f"- A line ({name}): `{E[k]}`")
    P("")


if E.get("ONLY") == "logging":
    lg_targets()
    print_targets()
    lg_table()
    print("\n".join(out))
    sys.exit(0)


if E.get("ONLY") == "claude-code":
    cc_targets()
    print_targets()
    cc_table()
    print("\n".join(out))
    sys.exit(0)


# ---- huge agent requests (issue "Any agent on any model"; run.sh's huge case) ------------------------------
def huge_table():
    path = E.get("HUGE_JSONL")
    if not path or not os.path.exists(path):
        return
    rows = defaultdict(list)  # (size, kind, target) -> [r]
    ubytes = {}
    with open(path) as fh:
        for line in fh:
            d = json.loads(line)
            rows[(d["size"], d["kind"], d["target"])].append(d["r"])
            ubytes[(d["size"], d["kind"])] = d["upstream_bytes"]
    if not rows:
        return
    P("## Huge agent requests through the new pairs (one connection, requests one after another)")
    P("")
    P("`bench/huge_request.py`: **Responses → Bedrock** = a Codex-like request (the captured `codex exec` "
      "request's instructions and tools, turns of reasoning items, `function_call`s and their outputs; "
      "`stream: true`) to `POST /provider/bedrock/format/openai/v1/responses`; **Anthropic → OpenAI** = a "
      "Claude Code-like request (`bench/claude_code_request.py`'s, `stream: false`) to "
      "`POST /provider/openai/format/anthropic/v1/messages`. The 1 MB and 10 MB variants add base64 PNG "
      "images (~256 KB of base64 each: `input_image` data URLs, `image` blocks in messages and tool results) "
      "and 32-64 KB tool outputs. \"direct\" sends the mock the body mini-proxy sends upstream (from the "
      "mock's `+echo`) on the same upstream path. `bench/huge_client.py`: one keep-alive connection, "
      f"at most {E.get('HUGE_N') or '?'} (small:1m:10m) requests per target and round and "
      f"{E.get('HUGE_SECONDS') or '?'} s; medians over rounds of each run's median. CPU: the process's "
      "schedstat time per request (mini-proxy for its rows, the mock for direct). The 2-core machine is "
      "shared (the client, the mock and the proxy run on it, and other work may): read the milliseconds as "
      "±20%; the instruction counts of `bench/providers/huge.sh` are the exact figures.")
    P("")
    P("| request | pair | client bytes | upstream bytes | direct p50 ms | mini-proxy p50 ms | added p50 ms "
      "| added µs per MB | proxy CPU ms/req | proxy CPU µs per MB | mock CPU ms/req | requests (direct / proxy) |")
    P("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    names = {"responses": "Responses → Bedrock", "anthropic": "Anthropic → OpenAI"}
    order = {"small": 0, "1m": 1, "10m": 2}
    for size, kind in sorted({(k[0], k[1]) for k in rows}, key=lambda x: (order.get(x[0], 9), x[1] != "responses")):
        d, m = rows.get((size, kind, "direct"), []), rows.get((size, kind, "mp1"), [])
        if not d or not m:
            continue
        dp50, mp50 = med([r["p50_us"] for r in d]), med([r["p50_us"] for r in m])
        cpu, mcpu = med([r["cpu_us"] for r in m]), med([r["cpu_us"] for r in d])
        cb = m[0]["body_bytes"]
        mb = cb / 1e6
        P(f"| {size} | {names.get(kind, kind)} | {cb:,} | {ubytes[(size, kind)]:,} | {dp50 / 1000:.2f} | "
          f"{mp50 / 1000:.2f} | {(mp50 - dp50) / 1000:+.2f} | {(mp50 - dp50) / mb:+,.0f} | "
          f"{f(cpu and cpu / 1000, 2)} | {f(cpu and cpu / mb)} | {f(mcpu and mcpu / 1000, 2)} | "
          f"{sum(r['n'] for r in d)} / {sum(r['n'] for r in m)} |")
    P("")


if E.get("ONLY") == "huge":
    huge_table()
    print("\n".join(out))
    sys.exit(0)


pt_n32, pt_m32 = rrm("pt", "nginx", 32), rrm("pt", "mp1", 32)
pt_m232 = rrm("pt", "mp2", 32)
pt_f32 = rrm("pt", "floor", 32)  # None when cc failed and run.sh skipped the floor
if pt_n32 and pt_m32:
    r1 = pt_m32["rps"] / pt_n32["rps"]
    two = "" if not pt_m232 else ", %.2f× (2 workers)" % (pt_m232["rps"] / pt_n32["rps"])
    fl = "" if not pt_f32 else "; floor (C byte forwarder, no HTTP): %.2f×" % (pt_f32["rps"] / pt_n32["rps"])
    target("Pass-through req/s at 32 conns vs nginx", "≥ 1.25×", f"{r1:.2f}× (1 worker){two}{fl}",
           r1 >= 1.25 or (pt_m232 is not None and pt_m232["rps"] / pt_n32["rps"] >= 1.25))
    fl = "" if not pt_f32 else f"; floor {pt_f32['cpu']:.1f} µs"
    target("Proxy CPU per request, pass-through, 32 conns", "≤ 8 µs",
           f"{pt_m32['cpu']:.1f} µs (nginx {pt_n32['cpu']:.1f} µs{fl})", pt_m32["cpu"] <= 8)
tr_m32 = rrm("tr", "mp1", 32)
tr_m232 = rrm("tr", "mp2", 32)
if tr_m32 and pt_n32:
    r = tr_m32["rps"] / pt_n32["rps"]
    r2 = tr_m232["rps"] / pt_n32["rps"] if tr_m232 else 0
    target("Translation req/s at 32 conns vs nginx pass-through", "≥ 0.8×",
           f"{r:.2f}× (1 worker), {r2:.2f}× (2 workers)", r >= 0.8 or r2 >= 0.8)
d1, m1, n1, f1 = rrm("pt", "direct", 1), rrm("pt", "mp1", 1), rrm("pt", "nginx", 1), rrm("pt", "floor", 1)
l1, l32 = rrm("pt", "litellm", 1), rrm("pt", "litellm", 32)
if pt_m32 and l32:
    a = f"; added p50 at 1 conn: mini-proxy {m1['p50'] - d1['p50']:+.0f} µs, LiteLLM {l1['p50'] - d1['p50']:+,.0f} µs" \
        if l1 and m1 and d1 else ""
    cpu = f"; CPU per request {pt_m32['cpu']:.1f} µs vs {l32['cpu']:,.0f} µs" if l32["cpu"] and pt_m32["cpu"] else ""
    target("Pass-through beside LiteLLM (same request, same mock)", "–",
           f"req/s at 32 conns: {pt_m32['rps'] / l32['rps']:,.0f}× LiteLLM's ({pt_m32['rps']:,.0f} vs {l32['rps']:,.0f})"
           f"{cpu}{a}; LiteLLM errors {l32['err'] + (l1['err'] if l1 else 0)}", None)


def peers_added(k):  # " (nginx +39 µs; floor +28 µs)": the same percentile's added latency for the peers
    parts = [f"{name} {x[k] - d1[k]:+.0f} µs" for name, x in (("nginx", n1), ("floor", f1)) if x]
    return f" ({'; '.join(parts)})" if parts else ""


if d1 and m1:
    a50, a99 = m1["p50"] - d1["p50"], m1["p99"] - d1["p99"]
    target("Added latency at 1 conn, p50", "≤ 30 µs", f"{a50:+.0f} µs{peers_added('p50')}", a50 <= 30)
    target("Added latency at 1 conn, p99", "≤ 100 µs", f"{a99:+.0f} µs{peers_added('p99')}", a99 <= 100)
cc_targets()
lg_targets()

# ---- SSE ----------------------------------------------------------------------------------------------
sse = defaultdict(list)
with open(E["SSE_JSONL"]) as fh:
    for line in fh:
        j = json.loads(line)
        sse[(j["route"], j["target"], j["r"]["streams"])].append(j["r"])
baseline = {}  # events per stream at 1 stream, per (route, target)
for (route, t, n), rs in sse.items():
    if n == 1:
        baseline[(route, t)] = max(r["events_max"] for r in rs)


def ssem(route, t, n):
    rs = sse.get((route, t, n))
    if not rs:
        return None
    per = baseline.get((route, t), max(r["events_max"] for r in rs))
    lost = sum(max(0, per * n - r["events"]) for r in rs)
    def medv(key):  # None when no run of this target got an event (all streams refused or cut)
        vs = [r[key] for r in rs if r[key] is not None]
        return med(vs) if vs else None

    return {"ttfe": medv("ttfe_ms_p50"), "ttfe_max": medv("ttfe_ms_max"),
            "gap": medv("gap_ms_max"), "lost": lost, "per": per,
            "incomplete": sum(r["incomplete"] + r["non200"] for r in rs),
            "rss": [r["rss_peak_kb"] for r in rs]}


routes = ["openai-chat", "anthropic-messages", "openai-to-bedrock"]
streams = sorted({k[2] for k in sse})
worst_add_ttfe32, worst_add_gap, lost1000 = None, None, 0
for route in routes:
    for n in streams:
        d, m = ssem(route, "direct", n), ssem(route, "mp1", n)
        if n == max(streams) and m:
            lost1000 += m["lost"] + m["incomplete"]
        if not (d and m) or None in (d["ttfe"], m["ttfe"], d["gap"], m["gap"]):
            continue
        at, ag = m["ttfe"] - d["ttfe"], m["gap"] - d["gap"]
        if n == 32:
            worst_add_ttfe32 = at if worst_add_ttfe32 is None else max(worst_add_ttfe32, at)
        worst_add_gap = ag if worst_add_gap is None else max(worst_add_gap, ag)
# The same at 32 streams with the proxy on a core of its own (client and mock share the other).
worst_pinned = None
for route in routes:
    d, m = ssem(route, "direct@pinned", 32), ssem(route, "mp1@pinned", 32)
    if d and m and d["ttfe"] is not None and m["ttfe"] is not None:
        at = m["ttfe"] - d["ttfe"]
        worst_pinned = at if worst_pinned is None else max(worst_pinned, at)
# The peers on openai-chat, the one route they serve: "(openai-chat: nginx -0.027, floor +0.010 ms)".
def sse_peers(t_suffix, n, key, names):
    d = ssem("openai-chat", "direct" + t_suffix, n)
    parts = [f"{t} {m[key] - d[key]:+.3f}" for t in names for m in [ssem("openai-chat", t + t_suffix, n)]
             if m and d and m[key] is not None and d[key] is not None]
    return f"openai-chat: {' / '.join(parts)} ms" if parts else ""


if worst_pinned is not None:
    shared = f"; all on shared cores: {worst_add_ttfe32:+.3f} ms" if worst_add_ttfe32 is not None else ""
    peers = sse_peers("@pinned", 32, "ttfe", ("mp1", "nginx", "floor"))
    shared += f"; pinned, {peers}" if peers else ""
    target("SSE added time to first event, 32 streams (worst route; proxy on its own core)", "≤ 0.2 ms",
           f"{worst_pinned:+.3f} ms{shared}", worst_pinned <= 0.2)
elif worst_add_ttfe32 is not None:
    target("SSE added time to first event, 32 streams (worst route)", "≤ 0.2 ms", f"{worst_add_ttfe32:+.3f} ms",
           worst_add_ttfe32 <= 0.2)
if worst_add_gap is not None:
    peers = sse_peers("", max(streams), "gap", ("mp1", "mp2", "nginx", "floor"))
    peers = f"; at {max(streams)} streams, {peers}" if peers else ""
    target("SSE added worst inter-event gap (worst route, any load)", "≤ 1 ms", f"{worst_add_gap:+.3f} ms{peers}",
           worst_add_gap <= 1)
others = [f"{t} {m['lost'] + m['incomplete']}" for t in ("mp2", "floor")
          for m in [ssem("openai-chat", t, max(streams) if streams else 0)] if m]
target(f"SSE events lost at {max(streams) if streams else '?'} streams (all routes)", "0",
       str(lost1000) + (f" (openai-chat: {', '.join(others)})" if others else ""), lost1000 == 0)

# ---- memory ---------------------------------------------------------------------------------------------
mp1, ngxw = E["MP1"], E["NGXW"]
idle_mb = int(E["RSS_IDLE_MP1"]) / 1024
target("Idle RSS", "≤ 12 MB", f"{idle_mb:.1f} MB (nginx master+worker {int(E['RSS_IDLE_NGX']) / 1024:.1f} MB)",
       idle_mb <= 12)
peak_mp = peak_ngx = 0
for route in routes:
    for t in ("mp1", "nginx"):
        for r in sse.get((route, t, max(streams) if streams else 0), []):
            if t == "mp1":
                peak_mp = max(peak_mp, r["rss_peak_kb"].get(mp1, 0))
            else:
                peak_ngx = max(peak_ngx, r["rss_peak_kb"].get(ngxw, 0))
target(f"RSS at {max(streams)} concurrent streams", "≤ 64 MB",
       f"{peak_mp / 1024:.1f} MB (nginx worker {peak_ngx / 1024:.1f} MB)", peak_mp / 1024 <= 64)
slow = json.loads(E["SLOW"])
g_mp, g_ngx = slow["growth_kb"].get(mp1, 0) / 1024, slow["growth_kb"].get(ngxw, 0) / 1024
read_mb = [b / 1048576 for b in slow["bytes_read"]]
target("RSS growth, one reader of a 100 MB stream at 1 MB/s", "≤ 4 MB",
       f"{g_mp:.2f} MB over {slow['seconds']:.0f} s, {read_mb[0]:.0f} MB read (nginx {g_ngx:.2f} MB)", g_mp <= 4)
idle_mp, idle_ngx = json.loads(E["IDLE_MP"]), json.loads(E["IDLE_NGX"])
held_mb = idle_mp["rss_held_kb"].get(mp1, 0) / 1024
ok = idle_mp["opened"] == idle_mp["wanted"] and idle_mp["errors"] == 0 and idle_mp["alive_after_hold"] == idle_mp["wanted"]
target(f"{idle_mp['wanted']:,} idle keep-alive connections held",
       "no errors", f"{idle_mp['alive_after_hold']:,} alive after {idle_mp['hold_s']:.0f} s, {idle_mp['errors']} errors, "
       f"RSS {held_mb:.1f} MB (nginx: {idle_ngx['alive_after_hold']:,} alive, "
       f"{idle_ngx['rss_held_kb'].get(ngxw, 0) / 1024:.1f} MB)", ok)
startups = [s["startup_ms"] for s in json.loads(E["STARTUP_JSON"])]
st = med(startups)
target("Start-up to first served request (median)", "≤ 50 ms",
       f"{st:.1f} ms (runs: {', '.join(f'{x:.1f}' if x is not None else 'fail' for x in startups)})",
       st is not None and st <= 50)
size_mb = int(E["SIZE"]) / 1048576
libs_mb = int(E.get("SWIFT_LIBS") or 0) / 1048576
target("Binary size (stripped)", "–", f"{size_mb:.1f} MB" + (f" + {libs_mb:.1f} MB of shared Swift runtime libraries"
                                                               if libs_mb else " (static)"), None)

print_targets()

# ---- detail tables -------------------------------------------------------------------------------------
for sc, title in (("pt", "Pass-through `POST /openai/v1/chat/completions` (max_tokens rewrite on)"),
                  ("tr", "Translation `POST /provider/bedrock/format/openai/v1/chat/completions` (OpenAI → Bedrock), non-stream")):
    P(f"## {title}")
    P("")
    P("| conns | target | req/s | vs nginx | vs direct | p50 µs | p99 µs | +p50 vs direct | +p99 vs direct | proxy CPU µs/req | of which kernel µs | upstream CPU µs/req | errors |")
    P("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in conns:
        d = rrm(sc, "direct", c)
        ng = rrm("pt", "nginx", c)
        for t in ("direct", "nginx", "mp1", "mp2", "floor", "litellm"):
            m = rrm(sc, t, c)
            if not m:
                continue
            add50 = f"{m['p50'] - d['p50']:+.0f}" if d and t != "direct" else ""
            add99 = f"{m['p99'] - d['p99']:+.0f}" if d and t != "direct" else ""
            P(f"| {c} | {t} | {f(m['rps'])} | {ratio(m['rps'], ng['rps']) if ng else '–'} | "
              f"{ratio(m['rps'], d['rps']) if d else '–'} | {f(m['p50'])} | {f(m['p99'])} | {add50} | {add99} | "
              f"{f(m['cpu'], 2)} | {f(m['sys'], 2)} | {f(m['ucpu'], 2)} | {m['err']} |")
    P("")
    if sc == "pt" and any(k[1] == "floor" for k in rr):
        P("\"floor\" is `bench/forwarder.c`: bytes copied both ways with read()/write(), one upstream connection "
          "per client connection, no HTTP parsing, so it is sent the mock's own path and does not rename "
          "`max_tokens`. It is not a competitor: it is the kernel's cost (epoll, read, write, TCP on loopback) "
          "that any user-space proxy pays here, measured in the same rounds.")
        P("")
    if sc == "tr":
        P("Translation \"direct\" is the mock's own `/v1/bedrock/model/<id>/invoke` with the Bedrock body; "
          "\"vs nginx\" compares with nginx on the pass-through route (nginx cannot translate).")
        P("")

cc_table()
lg_table()

# ---- kernel work per request ----------------------------------------------------------------------
kernel = []
if E.get("KERNEL_TSV") and os.path.exists(E["KERNEL_TSV"]):
    with open(E["KERNEL_TSV"]) as fh:
        kernel = [line.rstrip("\n").split("\t") for line in fh if line.strip()]
if kernel:
    P("## What the kernel does per pass-through request (32 connections)")
    P("")
    P("One more wrk run per target (not part of the medians above): system calls made by the proxy process "
      "(for direct: by the mock), counted with `perf stat -e raw_syscalls:sys_enter`, and TCP segments sent on "
      "the whole machine (`OutSegs` in /proc/net/snmp, every hop). \"kernel µs\" is the proxy's system time per "
      "request from the rounds above, and the mock's beside it: the mock reads and writes one socket per request, "
      "a proxy two. A proxy that parses HTTP must read and write each message once on each "
      "side: 2 reads and 2 writes per request, 4 segments on loopback (2 for direct).")
    P("")
    P("| target | requests | proxy system calls per request | TCP segments per request (all hops) | proxy kernel µs/req | proxy user µs/req | mock kernel µs/req |")
    P("|---|---:|---:|---:|---:|---:|---:|")
    for t, reqs, calls, segs in kernel:
        n = int(reqs or 0)
        m = rrm("pt", t, 32)
        per_call = f"{int(calls) / n:.2f}" if calls not in ("-", "") and n else "–"
        user = f(m["cpu"] - m["sys"], 2) if m and m["cpu"] is not None and m["sys"] is not None else "–"
        usys = f(m["usys"], 2) if m else "–"
        P(f"| {t} | {n:,} | {per_call} | {int(segs) / n:.2f} | {f(m['sys'], 2) if m else '–'} | {user} | {usys} |"
          if n else f"| {t} | 0 | – | – | – | – | – |")
    P("")

P(f"## SSE: 64 events 20 ms apart per stream (our client, `{E.get('SSE_CLIENT', 'bench/loadclient.py sse')}`)")
P("")
def sse_added(m, d, t):  # "+first event" and "+worst gap" vs direct, as table cells ("" for direct itself)
    if not d or t == "direct" or None in (m["ttfe"], d["ttfe"], m["gap"], d["gap"]):
        return "", ""
    return f"{m['ttfe'] - d['ttfe']:+.3f}", f"{m['gap'] - d['gap']:+.3f}"


P("| route | streams | target | first event p50 ms | +first event vs direct ms | worst content gap ms | +worst gap vs direct ms | events/stream | lost | incomplete |")
P("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for route in routes:
    for n in streams:
        d = ssem(route, "direct", n)
        for t in ("direct", "nginx", "mp1", "mp2", "floor"):
            m = ssem(route, t, n)
            if not m:
                continue
            at, ag = sse_added(m, d, t)
            P(f"| {route} | {n} | {t} | {f(m['ttfe'], 3)} | {at} | {f(m['gap'], 3)} | {ag} | {m['per']} | {m['lost']} | {m['incomplete']} |")
P("")
if any(k[1].endswith("@pinned") for k in sse):
    P("### SSE at 32 streams, the proxy under test on a core of its own")
    P("")
    P("On 2 cores the client, the mock and the proxy compete during a 32-stream burst, and the scheduler's delays "
      "land in \"+first event\". Here the client and the mock share CPU 0 and the proxy under test (mini-proxy, "
      "nginx's worker, or the floor) runs alone on CPU 1 (`taskset`), so the added time is the proxy's own.")
    P("")
    P("| route | target | first event p50 ms | +first event vs direct ms | worst content gap ms | +worst gap vs direct ms | lost | incomplete |")
    P("|---|---|---:|---:|---:|---:|---:|---:|")
    for route in routes:
        d = ssem(route, "direct@pinned", 32)
        for t in ("direct", "nginx", "mp1", "floor"):
            m = ssem(route, t + "@pinned", 32)
            if not m:
                continue
            at, ag = sse_added(m, d, t)
            P(f"| {route} | {t} | {f(m['ttfe'], 3)} | {at} | {f(m['gap'], 3)} | {ag} | {m['lost']} | {m['incomplete']} |")
    P("")
P("Direct for the two Bedrock routes is the mock's `invoke-with-response-stream` (data-only SSE); "
  "gaps are between content events (text deltas), so a translation that drops an empty upstream event "
  "(content_block_start) is not counted as delay; \"lost\" = events per stream at 1 stream × streams − events received.")
P("")
huge_table()
print("\n".join(out))
