#!/usr/bin/env python3
"""Instructions per request, user space, from callgrind: the proxy (release binary) run under
`valgrind --tool=callgrind --separate-threads=yes` for 1 and for N+1 sequential keep-alive requests
against the bundled mock, (Ir(N+1) - Ir(1)) / N per thread kind. Used for the access log's and the
traces' cost (bench/README.md, "Reading the numbers").

    python3 bench/callgrind_requests.py BIN [--requests 2000] [--route raw|chat|messages] [--tracing]

With --tracing a tiny OTLP/HTTP receiver runs in this process (it answers 200 to every export) and the
proxy exports to it; the worker's figure is the request path's, the exporter thread's is reported apart.
Prints one line per thread kind. Every process is stopped by PID; everything binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
BODIES = {
    "raw": ("/raw/v1/chat/completions", {"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}),
    "chat": ("/openai/v1/chat/completions", {"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}),
    "messages": ("/bedrock/claude/v1/messages", {"model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                                  "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def collector() -> tuple[ThreadingHTTPServer, int]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    s = ThreadingHTTPServer((HOST, 0), H)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s, s.server_address[1]


def run(bin_path: str, mock_port: int, n: int, route: str, tracing: str | None, tmp: str, traceparent: bool) -> dict:
    port = free_port()
    config = {
        "listen": f"{HOST}:{port}", "workers": 1, "access_log": False, "metrics": False,
        "upstreams": {"mock": {"url": f"http://{HOST}:{mock_port}"}},
        "routes": [
            {"path": "/raw/*", "upstream": "mock", "ingress": "passthrough", "egress": "passthrough",
             "upstream_path": "/*"},
            {"path": "/openai/v1/chat/completions", "upstream": "mock", "ingress": "openai-chat",
             "egress": "openai-chat", "upstream_path": "/v1/openai/v1/chat/completions"},
            {"path": "/bedrock/claude/v1/messages", "upstream": "mock", "ingress": "anthropic-messages",
             "egress": "bedrock-anthropic"},
        ],
    }
    if tracing:
        config["tracing"] = {"endpoint": tracing, "batch": {"interval_ms": 1000}}
    cfg = os.path.join(tmp, f"proxy-{n}.yaml")
    with open(cfg, "w") as f:
        json.dump(config, f)
    out = os.path.join(tmp, f"cg-{n}-{int(time.time() * 1000)}")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out}",
                             bin_path, "serve", "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        path, body = BODIES[route]
        data = json.dumps(body).encode()
        extra = f"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n" if traceparent else ""
        req = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
               f"Content-Length: {len(data)}\r\n\r\n").encode() + data
        s = socket.create_connection((HOST, port))
        f = s.makefile("rb")
        for _ in range(n):
            s.sendall(req)
            line = f.readline()
            assert b" 200 " in line, line
            length = 0
            chunked = False
            while True:
                h = f.readline()
                if h in (b"\r\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
                if h.lower().startswith(b"transfer-encoding:") and b"chunked" in h.lower():
                    chunked = True
            if not chunked:
                f.read(length)
                continue
            while True:
                size = int(f.readline().split(b";")[0].strip(), 16)
                f.read(size + 2)
                if size == 0:
                    break
        s.close()
        time.sleep(1.5)  # the last batch is handed over and exported
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    totals: dict[str, int] = {}
    for path in glob.glob(out + "*"):
        text = open(path, errors="replace").read()
        m = re.search(r"^summary: (\d+)", text, re.M) or re.search(r"^totals: (\d+)", text, re.M)
        ir = int(m.group(1)) if m else 0
        if "SpanExporter" in text and "OTLPJSON" in text:
            kind = "exporter"
        elif "Exchange" in text:
            kind = "worker"
        else:
            kind = "other"
        totals[kind] = totals.get(kind, 0) + ir
    return totals


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--route", default="raw", choices=sorted(BODIES))
    ap.add_argument("--tracing", action="store_true")
    ap.add_argument("--traceparent", action="store_true", help="clients send a traceparent")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cg-")
    mock_port = free_port()
    mock = subprocess.Popen([a.bin, "mock", "--listen", f"{HOST}:{mock_port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    col = None
    try:
        wait_port(mock_port)
        endpoint = None
        if a.tracing:
            col, cport = collector()
            endpoint = f"http://{HOST}:{cport}/v1/traces"
        one = run(a.bin, mock_port, 1, a.route, endpoint, tmp, a.traceparent)
        many = run(a.bin, mock_port, a.requests + 1, a.route, endpoint, tmp, a.traceparent)
        for kind in sorted(set(one) | set(many)):
            per = (many.get(kind, 0) - one.get(kind, 0)) / a.requests
            print(f"{a.route} tracing={'on' if a.tracing else 'off'} {kind}: {per:,.0f} instructions/request "
                  f"({one.get(kind, 0):,} for 1, {many.get(kind, 0):,} for {a.requests + 1})")
    finally:
        mock.send_signal(signal.SIGTERM)
        mock.wait(timeout=30)
        if col:
            col.shutdown()


if __name__ == "__main__":
    sys.exit(main())
