"""Short runs of the chaos and reload-under-load checks (tests/soak/chaos.py and reload.py; the long
runs are `make chaos` and `make reload-test`), and a reload regression: connections that in-flight
exchanges return after a SIGHUP must not stay open to an upstream the new config removed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[1] / "soak"
sys.path.insert(0, str(SOAK))
from loadlib import HOST, Processes, free_port, judge, proxy_sockets, read_response, request_bytes, wait_listening  # noqa: E402


def run(script: str, bin_path: str, seconds: int, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ, MINI_PROXY_BIN=bin_path, **{k: str(v) for k, v in env.items()})
    return subprocess.run([sys.executable, str(SOAK / script)], env=e, capture_output=True, text=True,
                          timeout=seconds + 60)


def test_chaos_short(bin_path):
    """10 s of mixed load with faults injected: every request a complete answer or an error in its dialect."""
    p = run("chaos.py", bin_path, 10, CHAOS_SECONDS=10, CHAOS_CONCURRENCY=16, CHAOS_FAULT_PCT=4,
            CHAOS_MAX_MIB_PER_MIN=1000)  # 10 s is too short to judge an RSS slope; make chaos does
    assert p.returncode == 0, p.stdout + p.stderr
    assert "chaos: PASS" in p.stdout


def test_reload_under_load_short(bin_path):
    """Two SIGHUPs under 100 slow streams and 100 req/s: zero failed requests, streams end on their config."""
    p = run("reload.py", bin_path, 14, RELOAD_SECONDS=12, RELOAD_STREAMS=100, RELOAD_RPS=100, RELOAD_COUNT=2,
            RELOAD_STEADY_CONNECTIONS=8, RELOAD_STREAM_DELAY_MS=50,
            )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "reload-test: PASS" in p.stdout


def _config(upstream: str, port: int) -> str:
    return f"""workers: 1
access_log: false
upstreams:
  {upstream}: {{ url: "http://{HOST}:{port}" }}
routes:
  - {{ path: /v1/chat/completions, upstream: {upstream}, ingress: openai-chat, egress: openai-chat,
      upstream_path: /v1/openai/v1/chat/completions }}
"""


def test_reload_closes_connections_of_removed_upstream(bin_path, tmp_path):
    old_port, new_port, proxy_port = free_port(), free_port(), free_port()
    config = tmp_path / "reload.yaml"
    config.write_text(_config("old", old_port))
    procs = Processes(str(tmp_path))
    try:
        procs.start("mock-old", [bin_path, "mock", "--listen", f"{HOST}:{old_port}"])
        procs.start("mock-new", [bin_path, "mock", "--listen", f"{HOST}:{new_port}"])
        proxy = procs.start("proxy", [bin_path, "serve", "--config", str(config), "--listen", f"{HOST}:{proxy_port}"])
        for port in (old_port, new_port, proxy_port):
            wait_listening(port)

        async def stream_across_reload():
            reader, writer = await asyncio.open_connection(HOST, proxy_port)
            body = b'{"model":"gpt-5+chunks=10+delay=100","stream":true,"messages":[]}'
            writer.write(request_bytes("/v1/chat/completions", body))
            await asyncio.sleep(0.4)
            config.write_text(_config("new", new_port))
            proxy.send_signal(signal.SIGHUP)
            r = await asyncio.wait_for(read_response(reader), 10)
            writer.close()
            return r

        r = asyncio.run(stream_across_reload())
        assert judge("openai", True, r, 10).kind == "complete", "the stream must finish on the old config"
        time.sleep(1.0)
        left = proxy_sockets(proxy.pid, proxy_port, {"old": old_port}).get("mock-old", 0)
        assert left == 0, f"{left} connection(s) to the removed upstream still open 1 s after its last stream"
    finally:
        procs.stop()
