"""Backpressure: a slow client on a 100 MB pass-through stream must not grow the proxy's memory."""

from __future__ import annotations

import json
import socket
import time

from helpers import HOST, RawConnection, httpx, request_bytes, tcp_connections_to, vm_rss_kib

STREAM_BYTES = 100_000_000
READ_SECONDS = 8.0
RATE = 1_000_000  # bytes per second the client reads
RECV = 16 * 1024
MAX_GROWTH_KIB = 8 * 1024


def open_stream(port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive buffer keeps the kernel from soaking up the stream on the client's behalf.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.settimeout(10)
    s.connect((HOST, port))
    s.sendall((f"GET /raw/stream HTTP/1.1\r\nHost: {HOST}\r\nx-mock-bytes: {STREAM_BYTES}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode())
    return s


def test_slow_client_keeps_memory_bounded(proxy):
    pid = proxy.pid
    # Warm up: one ordinary exchange so pools, buffers and TLS state exist before the baseline.
    assert httpx.post(proxy.base + "/openai/v1/chat/completions", timeout=10,
                      json={"model": "gpt-5", "messages": []}).status_code == 200
    s = open_stream(proxy.port)
    received = 0
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            chunk = s.recv(RECV)
            assert chunk, f"connection closed before the response head: {head!r}"
            head += chunk
        status_line = head.split(b"\r\n", 1)[0]
        assert b" 200 " in status_line, status_line
        received = len(head) - head.index(b"\r\n\r\n") - 4
        # Let the stream reach steady state (pipes full, watermarks hit) before the baseline.
        warm_deadline = time.monotonic() + 1.0
        while time.monotonic() < warm_deadline:
            received += len(s.recv(RECV))
            time.sleep(RECV / RATE)
        baseline = vm_rss_kib(pid)
        samples = [baseline]
        start = time.monotonic()
        next_sample = start + 0.25
        while time.monotonic() - start < READ_SECONDS:
            chunk = s.recv(RECV)
            assert chunk, f"stream ended early after {received} bytes"
            received += len(chunk)
            time.sleep(len(chunk) / RATE)
            if time.monotonic() >= next_sample:
                samples.append(vm_rss_kib(pid))
                next_sample += 0.25
        elapsed = time.monotonic() - start
    finally:
        s.close()
    growth = max(samples) - baseline
    print(f"backpressure: read {received} bytes in {elapsed:.1f}s, RSS baseline {baseline} KiB, growth {growth} KiB")
    assert received < STREAM_BYTES / 4, "the client read slowly; most of the stream must still be upstream"
    assert received > 2_000_000, f"stream too slow to test anything: {received} bytes in {elapsed:.1f}s"
    assert growth <= MAX_GROWTH_KIB, (
        f"proxy RSS grew {growth} KiB (baseline {baseline} KiB, samples {samples}) while a client read "
        f"{received} bytes at ~1 MB/s of a {STREAM_BYTES} byte stream")

    # After the client leaves: still healthy, memory not climbing (the upstream stream was abandoned).
    time.sleep(0.5)
    assert httpx.get(proxy.base + "/healthz", timeout=5).status_code == 200
    after = []
    for _ in range(8):
        after.append(vm_rss_kib(pid))
        time.sleep(0.25)
    assert after[-1] - after[0] <= 1024, f"RSS keeps climbing after disconnect: {after}"
    assert max(after) <= baseline + MAX_GROWTH_KIB, f"RSS after disconnect {after}, baseline {baseline}"
    assert httpx.post(proxy.base + "/openai/v1/chat/completions", timeout=10,
                      json={"model": "gpt-5", "messages": []}).status_code == 200


def test_fast_client_reads_whole_large_stream(proxy):
    """The same path at full speed: 20 MB arrive complete and end with [DONE] (no truncation, no stall)."""
    total = 20_000_000
    t0 = time.monotonic()
    with httpx.stream("GET", proxy.base + "/raw/stream", headers={"x-mock-bytes": str(total)}, timeout=20) as r:
        assert r.status_code == 200
        n, tail = 0, b""
        for chunk in r.iter_raw():
            n += len(chunk)
            tail = (tail + chunk)[-64:]
    assert n >= total
    assert tail.endswith(b"data: [DONE]\n\n"), tail
    assert time.monotonic() - t0 < 20


def test_client_gone_mid_stream_closes_upstream(proxy, mock):
    """A client that leaves mid-stream: the proxy drops its upstream connection at once (never pools it)."""
    body = json.dumps({"model": "gpt-5+chunks=100+delay=100", "messages": [], "stream": True}).encode()
    c = RawConnection(proxy.port)
    try:
        c.send(request_bytes("POST", "/openai/v1/chat/completions", body, {"Content-Type": "application/json"}))
        status, _, _ = c.read_head()
        assert status == 200
        c.read_until(b"tok1 ")  # the stream is flowing
        during = tcp_connections_to(proxy.pid, mock["port"])
        assert during >= 1
    finally:
        c.close()
    deadline = time.monotonic() + 1.0
    after = during
    while time.monotonic() < deadline:
        after = tcp_connections_to(proxy.pid, mock["port"])
        if after == during - 1:
            break
        time.sleep(0.02)
    assert after == during - 1, f"upstream connections: {during} while streaming, {after} 1 s after the client left"
    assert httpx.get(proxy.base + "/healthz", timeout=5).status_code == 200
