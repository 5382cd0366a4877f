#!/usr/bin/env python3
"""Chaos: a long mixed load through mini-proxy while the mock upstream misbehaves on a few percent of
requests at random, with the proxy's RSS sampled.

Four routes, both dialects, streams and non-streams:
  /openai/v1/chat/completions                        OpenAI -> OpenAI (pass-through)
  /bedrock/claude/v1/messages                        Anthropic -> Bedrock (keep-alive pings every 1 s)
  /provider/bedrock/format/openai/v1/chat/completions  OpenAI -> Bedrock
  /provider/openai/format/anthropic/v1/messages      Anthropic -> OpenAI (keep-alive pings every 1 s)

Each request draws its fate from the mock's options on the model name: CHAOS_FAULT_PCT percent each
(default 2) of resets before the head, 529s, stalls before the head, and, on streams, resets, stalls
and closes mid-stream (and Bedrock error events), on non-streams truncated bodies and closes before
the head; those faults hit every attempt, so the proxy's retries cannot hide them. Another
CHAOS_FLAKY_PCT percent (default 30) carry `+fail-rate=5` with a 529 or a reset before the head, which
the mock rolls per attempt, so the proxy's retries should answer them. 1% of streams are abandoned by
the client mid-way. The generated config sets short timeouts: first byte 3 s, idle 2 s, total 15 s,
retries 3 attempts with 100 ms backoff.

Rules (any break is a violation; the run exits 1):
- every request ends within CHAOS_DEADLINE seconds (default 20): a hang is a violation;
- it ends with a complete answer (OpenAI streams: chunks with the mock's whole text, a finish_reason
  and [DONE]; Anthropic: message_start ... message_stop with the whole text; non-streams: a 200 JSON
  answer in the dialect) or an error in its dialect (an HTTP error with the dialect's JSON error shape,
  or, once a stream started, an error event in the dialect as the last event and a clean end of the
  chunked body); anything else is malformed;
- the kind of ending fits what was injected (no fault: complete; a reset before the head: 502; a
  stall before the head: 504; ...): an error where none was injected is "unexpected";
- after warm-up (the first 20% of the run) the RSS slope stays under CHAOS_MAX_MIB_PER_MIN (0.5).

Usage: make chaos  (CHAOS_SECONDS=120 default; CHAOS_CONCURRENCY=32, CHAOS_WORKERS=1, CHAOS_SEED)
Everything runs on 127.0.0.1; the mock and the proxy are stopped by PID at exit.
"""
from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadlib import (HOST, Incomplete, Processes, cpu_seconds, free_port, judge, percentile, read_response,  # noqa: E402
                     request_bytes, sample_rss, slope_mib_per_min, verdict, wait_listening)

BIN = os.environ.get("MINI_PROXY_BIN", ".build/release/mini-proxy")
SECONDS = int(os.environ.get("CHAOS_SECONDS", "120"))
CONCURRENCY = int(os.environ.get("CHAOS_CONCURRENCY", "32"))
WORKERS = int(os.environ.get("CHAOS_WORKERS", "1"))
FAULT_PCT = float(os.environ.get("CHAOS_FAULT_PCT", "2"))
FLAKY_PCT = float(os.environ.get("CHAOS_FLAKY_PCT", "30"))
LEAVE_PCT = float(os.environ.get("CHAOS_LEAVE_PCT", "1"))
DEADLINE = float(os.environ.get("CHAOS_DEADLINE", "20"))
SAMPLE_EVERY = float(os.environ.get("CHAOS_SAMPLE_SECONDS", "3"))
MAX_SLOPE = float(os.environ.get("CHAOS_MAX_MIB_PER_MIN", "0.5"))
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))

# path, client dialect, base model, Bedrock egress (midstream-error applies), pings before the first byte
ROUTES = [
    ("/openai/v1/chat/completions", "openai", "gpt-5", False, False),
    ("/bedrock/claude/v1/messages", "anthropic", "claude-sonnet-4-5", True, True),
    ("/provider/bedrock/format/openai/v1/chat/completions", "openai", "claude-sonnet-4-5", True, False),
    ("/provider/openai/format/anthropic/v1/messages", "anthropic", "gpt-5", False, True),
]

RETRIES = "{ attempts: 3, backoff: 100ms, max_backoff: 1s, deadline: 8s }"


def config_text(mock_port: int, access_log: str) -> str:
    return f"""workers: {WORKERS}
access_log: {{ path: "{access_log}" }}
limits: {{ shutdown_grace: 5s }}
upstreams:
  mock:
    url: "http://{HOST}:{mock_port}"
    timeouts: {{ connect: 1s, first_byte: 3s, idle: 2s, total: 15s }}
routes:
  - {{ path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
      upstream_path: /v1/openai/v1/chat/completions, retries: {RETRIES} }}
  - {{ path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic,
      keep_alive_interval: 1s, retries: {RETRIES} }}
  - {{ path: /provider/bedrock/format/openai/v1/chat/completions, upstream: mock, ingress: openai-chat,
      egress: bedrock-anthropic, retries: {RETRIES} }}
  - {{ path: /provider/openai/format/anthropic/v1/messages, upstream: mock, ingress: anthropic-messages,
      egress: openai-chat, upstream_path: /v1/openai/v1/chat/completions, keep_alive_interval: 1s,
      retries: {RETRIES} }}
"""


def plan(rng: random.Random, route, stream: bool):
    """(model suffix, fault label, allowed endings, leave mid-stream)."""
    _, _, _, bedrock, pings = route
    faults = [("reset-before-head", "+fault=reset-before-head", {"error-502"}),
              ("status-529", "+status=529", {"error-529"}),
              # with keep-alive pings the stream may have started before the first-byte timeout
              ("stall-head", "+fault=stall-head", {"error-504", "stream-error"} if stream and pings else {"error-504"})]
    if stream:
        # A reset can make the kernel drop bytes the proxy had not read yet: then it is a reset
        # before the head (retried, then 502).
        faults += [("reset-mid", "+fault=reset-mid", {"stream-error", "error-502"}),
                   ("stall-mid", "+fault=stall-mid", {"stream-error"}),
                   ("close-mid", "+fault=close-mid", {"stream-error"})]
        if bedrock:
            faults.append(("midstream-error", "+fault=midstream-error", {"stream-error"}))
    else:
        faults += [("truncated-json", "+fault=truncated-json", {"error-502"}),
                   ("close-before-head", "+fault=close-before-head", {"error-502"})]
    x = rng.random() * 100
    if stream and x < LEAVE_PCT:
        return "", "client-leaves", {"client-left"}, True
    x -= LEAVE_PCT if stream else 0
    for label, suffix, allowed in faults:
        if x < FAULT_PCT:
            return suffix, label, allowed, False
        x -= FAULT_PCT
    if x < FLAKY_PCT:
        if rng.random() < 0.5:
            return "+fail-rate=5+status=529", "flaky-529", {"complete", "error-529"}, False
        return "+fail-rate=5+fault=reset-before-head", "flaky-reset", {"complete", "error-502"}, False
    return "", "none", {"complete"}, False


def body_for(stream: bool, model: str) -> bytes:
    """A body both dialects take (OpenAI Chat and Anthropic Messages share these keys)."""
    return b'{"model":"%s","stream":%s,"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}' % (
        model.encode(), b"true" if stream else b"false")


class Stats:
    def __init__(self):
        self.requests = 0
        self.outcomes: dict[str, int] = {}
        self.by_fault: dict[str, dict[str, int]] = {}
        self.by_route: dict[str, int] = {}
        self.latency: list[float] = []
        self.latency_complete: list[float] = []
        self.violations: list[str] = []
        self.violation_kinds: dict[str, int] = {}

    def record(self, fault: str, kind: str, seconds: float, route: str):
        self.requests += 1
        self.outcomes[kind] = self.outcomes.get(kind, 0) + 1
        per = self.by_fault.setdefault(fault, {})
        per[kind] = per.get(kind, 0) + 1
        self.by_route[route] = self.by_route.get(route, 0) + 1
        self.latency.append(seconds)
        if kind == "complete":
            self.latency_complete.append(seconds)

    def violation(self, kind: str, text: str):
        self.violation_kinds[kind] = self.violation_kinds.get(kind, 0) + 1
        if len(self.violations) < 20:
            self.violations.append(f"[{kind}] {text}")


async def worker(index: int, port: int, deadline: float, stats: Stats, rng: random.Random):
    reader = writer = None
    n = 0
    while time.monotonic() < deadline:
        route = ROUTES[rng.randrange(len(ROUTES))]
        path, dialect, base, _, _ = route
        stream = rng.random() < 0.6
        suffix, fault, allowed, leave = plan(rng, route, stream)
        chunks = None
        if stream:
            chunks = rng.randint(4, 24)
            delay = rng.choice((0, 0, 5, 20))
            suffix = f"+chunks={chunks}+delay={delay}" + suffix
        model = base + suffix
        rid = f"chaos-{index}-{n}"
        n += 1
        req = request_bytes(path, body_for(stream, model), f"X-Request-Id: {rid}\r\n")
        what = f"POST {path} stream={stream} model={model} x-request-id={rid}"
        started = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
            writer.write(req)
            r = await asyncio.wait_for(read_response(reader, leave_after=200 if leave else 0), DEADLINE)
        except asyncio.TimeoutError:
            stats.record(fault, "hang", time.monotonic() - started, path)
            stats.violation("hang", f"no complete response within {DEADLINE} s: {what}")
            writer.close()
            writer = None
            continue
        except Incomplete as e:
            stats.record(fault, "cut", time.monotonic() - started, path)
            stats.violation("malformed", f"{e} (status {e.response.status}, {len(e.response.body)} body bytes, "
                                         f"tail {e.response.body[-160:]!r}): {what}")
            writer.close()
            writer = None
            continue
        except (ConnectionError, OSError) as e:
            stats.record(fault, "connection-error", time.monotonic() - started, path)
            stats.violation("connection", f"{type(e).__name__}: {e}: {what}")
            if writer is not None:
                writer.close()
            writer = None
            continue
        elapsed = time.monotonic() - started
        if leave:
            stats.record(fault, "client-left", elapsed, path)
            writer.close()
            writer = None
            continue
        v = judge(dialect, stream, r, chunks)
        stats.record(fault, v.kind, elapsed, path)
        if v.kind == "malformed":
            stats.violation("malformed", f"{v.why}: {what}")
        elif v.kind not in allowed:
            stats.violation("unexpected", f"{v.kind} ({v.why or r.body[:160]!r}) where {sorted(allowed)} were possible: {what}")
        if not r.keep_alive or n % 40 == 0:  # churn connections too
            writer.close()
            writer = None


def main() -> int:
    rng = random.Random(SEED)
    tmp = tempfile.mkdtemp(prefix="mini-proxy-chaos-")
    mock_port, proxy_port = free_port(), free_port()
    config = os.path.join(tmp, "chaos.yaml")
    with open(config, "w") as f:
        f.write(config_text(mock_port, os.path.join(tmp, "access.log")))
    procs = Processes(tmp)
    ok = False
    try:
        procs.start("mock", [BIN, "mock", "--listen", f"{HOST}:{mock_port}"])
        proxy = procs.start("proxy", [BIN, "serve", "--config", config, "--listen", f"{HOST}:{proxy_port}"])
        wait_listening(mock_port)
        wait_listening(proxy_port)
        stats, samples = Stats(), []
        start = time.monotonic()
        deadline = start + SECONDS
        cpu0 = cpu_seconds(proxy.pid)

        async def run():
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(proxy.pid, stop, samples, start, SAMPLE_EVERY))
            workers = [worker(i, proxy_port, deadline, stats, random.Random(rng.random())) for i in range(CONCURRENCY)]
            await asyncio.gather(*workers)
            stop.set()
            await sampler
        asyncio.run(run())
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(proxy.pid) - cpu0
        alive = proxy.poll() is None

        warm = [s for s in samples if s[0] >= SECONDS * 0.2]
        slope = slope_mib_per_min(warm)
        mib = lambda kib: kib / 1024  # noqa: E731
        print(f"chaos: {elapsed:.0f} s, {CONCURRENCY} connections, {WORKERS} worker(s), seed {SEED}, "
              f"faults {FAULT_PCT:g}% each + {FLAKY_PCT:g}% flaky (fail-rate=5) + {LEAVE_PCT:g}% of streams left")
        print(f"requests: {stats.requests} ({stats.requests / elapsed:.0f}/s), proxy CPU {cpu:.1f} s "
              f"({cpu / max(stats.requests, 1) * 1e6:.0f} us/request)")
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items(), key=lambda kv: -kv[1])))
        for fault in sorted(stats.by_fault, key=lambda f: (f != "none", f)):
            per = stats.by_fault[fault]
            print(f"  {fault:18s} " + ", ".join(f"{k} {v}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])))
        lat, latc = stats.latency, stats.latency_complete
        print(f"time ms: all p50 {percentile(lat, 50) * 1e3:.0f}, p99 {percentile(lat, 99) * 1e3:.0f}, "
              f"max {max(lat or [0]) * 1e3:.0f}; complete answers p50 {percentile(latc, 50) * 1e3:.0f}, "
              f"p99 {percentile(latc, 99) * 1e3:.0f}, max {max(latc or [0]) * 1e3:.0f} (deadline {DEADLINE * 1e3:.0f})")
        print(f"RSS MiB: start {mib(samples[0][1]):.1f}, after warm-up {mib(warm[0][1]) if warm else 0:.1f}, "
              f"end {mib(samples[-1][1]):.1f}, max {mib(max(r for _, r in samples)):.1f}; "
              f"slope after warm-up {slope:+.3f} MiB/min (bound {MAX_SLOPE}), {len(samples)} samples")
        problems = []
        if stats.violation_kinds:
            problems.append("violations " + ", ".join(f"{k} {v}" for k, v in stats.violation_kinds.items()))
        if slope > MAX_SLOPE:
            problems.append(f"RSS grows {slope:+.3f} MiB/min after warm-up")
        if not alive:
            problems.append(f"the proxy exited ({proxy.returncode})")
        if stats.requests == 0:
            problems.append("no requests")
        for v in stats.violations:
            print("  " + v)
        ok = verdict("chaos", problems, tmp, "proxy.log, access.log, mock.log, chaos.yaml")
        return 0 if ok else 1
    finally:
        procs.stop(remove_logs=ok)


if __name__ == "__main__":
    sys.exit(main())
