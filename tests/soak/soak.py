#!/usr/bin/env python3
"""Soak: mixed streaming and non-streaming load through mini-proxy for SOAK_SECONDS (default 600),
sampling the proxy's RSS every few seconds. After warm-up the RSS must plateau: the script prints
the slope (MiB/min) of a least-squares fit over the post-warm-up samples and fails above a bound.

Everything runs on 127.0.0.1; the processes it starts are stopped by PID at exit.
Usage: make soak   (or SOAK_SECONDS=60 python3 tests/soak/soak.py)
"""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("MINI_PROXY_BIN", ".build/release/mini-proxy")
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
CONCURRENCY = int(os.environ.get("SOAK_CONCURRENCY", "32"))
SAMPLE_EVERY = float(os.environ.get("SOAK_SAMPLE_SECONDS", "5"))
MAX_SLOPE = float(os.environ.get("SOAK_MAX_MIB_PER_MIN", "0.5"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


REQUESTS = [
    ("/openai/v1/chat/completions", b'{"model":"gpt-5","messages":[{"role":"user","content":"hi"}],"max_tokens":32}'),
    ("/openai/v1/chat/completions", b'{"model":"gpt-5+chunks=16+delay=5","stream":true,"messages":[{"role":"user","content":"hi"}]}'),
    ("/provider/bedrock/format/openai/v1/chat/completions",
     b'{"model":"claude-x+chunks=16+delay=5","stream":true,"messages":[{"role":"user","content":"hi"}]}'),
    ("/provider/bedrock/format/openai/v1/chat/completions", b'{"model":"claude-x","messages":[{"role":"user","content":"hi"}]}'),
    ("/bedrock/claude/v1/messages",
     b'{"model":"claude-x+tools+chunks=8","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}'),
]


async def worker(port, deadline, counts, index):
    reader = writer = None
    i = index
    while time.monotonic() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            path, body = REQUESTS[i % len(REQUESTS)]
            i += 1
            writer.write(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (path.encode(), len(body), body))
            status = await asyncio.wait_for(read_response(reader), 30)
            counts[status] = counts.get(status, 0) + 1
            if i % 50 == 0:  # churn connections too
                writer.close()
                writer = None
        except Exception as e:  # noqa: BLE001 - counted, the soak goes on
            counts[type(e).__name__] = counts.get(type(e).__name__, 0) + 1
            if writer is not None:
                writer.close()
            writer = None


async def sampler(pid, deadline, samples, start):
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - start, rss_kib(pid)))
        await asyncio.sleep(SAMPLE_EVERY)


def slope_mib_per_min(samples):
    n = len(samples)
    if n < 3:
        return 0.0
    mx = sum(t for t, _ in samples) / n
    my = sum(r for _, r in samples) / n
    num = sum((t - mx) * (r - my) for t, r in samples)
    den = sum((t - mx) ** 2 for t, _ in samples) or 1.0
    return num / den * 60 / 1024  # KiB/s → MiB/min


def main():
    mock_port, proxy_port = free_port(), free_port()
    tmp = tempfile.mkdtemp(prefix="mini-proxy-soak-")
    config = os.path.join(tmp, "soak.yaml")
    with open(config, "w") as f:
        f.write(f"""access_log: false
upstreams:
  mock: {{ url: "http://127.0.0.1:{mock_port}" }}
routes:
  - {{ path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
      upstream_path: /v1/openai/v1/chat/completions, rename_max_tokens: true }}
  - {{ path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic }}
  - {{ path: /provider/bedrock/format/openai/v1/chat/completions, upstream: mock, ingress: openai-chat,
      egress: bedrock-anthropic }}
""")
    mock = subprocess.Popen([BIN, "mock", "--listen", f"127.0.0.1:{mock_port}"], stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen([BIN, "serve", "--config", config, "--listen", f"127.0.0.1:{proxy_port}"],
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", proxy_port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        start = time.monotonic()
        deadline = start + SECONDS
        counts, samples = {}, []

        async def run():
            await asyncio.gather(sampler(proxy.pid, deadline, samples, start),
                                 *(worker(proxy_port, deadline, counts, i) for i in range(CONCURRENCY)))
        asyncio.run(run())
        warm = [s for s in samples if s[0] >= SECONDS * 0.2]
        slope = slope_mib_per_min(warm)
        total = sum(v for k, v in counts.items() if isinstance(k, int))
        print(f"soak: {SECONDS} s, {CONCURRENCY} connections, {total} requests ({total / SECONDS:.0f}/s), outcomes {counts}")
        print(f"RSS MiB: start {samples[0][1] / 1024:.1f}, after warm-up {warm[0][1] / 1024:.1f}, "
              f"end {samples[-1][1] / 1024:.1f}, max {max(r for _, r in samples) / 1024:.1f}")
        print(f"RSS slope after warm-up: {slope:+.3f} MiB/min (bound {MAX_SLOPE})")
        errors = {k: v for k, v in counts.items() if k != 200}
        ok = slope <= MAX_SLOPE and not errors
        print("soak: PASS" if ok else f"soak: FAIL {errors}")
        return 0 if ok else 1
    finally:
        for p in (proxy, mock):
            p.send_signal(signal.SIGTERM)
        for p in (proxy, mock):
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
