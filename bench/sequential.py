#!/usr/bin/env python3
"""Helpers for bench/per_request_cost.sh (callgrind instructions per request).

    sequential.py send PORT PATH BODY COUNT [NAME:VALUE ...]
        COUNT POSTs of BODY (or of the bytes of FILE when BODY is @FILE) to PATH, one after the other over ONE keep-alive connection to
        127.0.0.1:PORT. Every answer must be a 200 with a Content-Length (or chunked) body; a closed
        connection is an error (the client never reconnects). Prints one JSON line: requests,
        request_bytes, response_bytes (body of the last answer), seconds.
    sequential.py wait-listen PORT SECONDS
        Waits until a socket LISTENs on 127.0.0.1:PORT, read from /proc/net/tcp: it never connects,
        so the proxy under measurement sees no extra connection.
    sequential.py sink PORT
        A tiny OTLP/HTTP receiver for the tracing setting: answers 200 {} to every POST, until killed.
    sequential.py ir FILE
        Reads a callgrind out file: prints "IR ALLOCS EXPORT_IR EXPORT_ALLOCS", the total Ir (its
        totals:/summary: lines) and the calls to malloc, calloc, realloc, aligned_alloc, posix_memalign
        and memalign (its calls= lines). With callgrind's --separate-threads=yes (FILE-01, FILE-02, ...)
        it sums the threads' files, and EXPORT_* are the span export thread's own (the file whose
        functions include OTLPJSON's encoder); without them, or without tracing, EXPORT_* are 0.
"""

from __future__ import annotations

import glob
import json
import os
import re
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

HOST = "127.0.0.1"
ALLOC_FUNCTIONS = {"malloc", "calloc", "realloc", "aligned_alloc", "posix_memalign", "memalign"}


def read_answer(sock: socket.socket, buf: bytearray) -> tuple[int, bytes, bytearray]:
    """One HTTP/1.1 response from sock (buf holds bytes already read); returns status, body, rest."""
    def fill() -> None:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("the server closed the connection (the client does not reconnect)")
        buf.extend(chunk)

    while (end := buf.find(b"\r\n\r\n")) < 0:
        fill()
    head = bytes(buf[:end]).decode("latin-1")
    del buf[:end + 4]
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("connection", "").lower() == "close":
        raise SystemExit(f"the server answered Connection: close (status {status})")
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            fill()
        body = bytes(buf[:n])
        del buf[:n]
        return status, body, buf
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            while (eol := buf.find(b"\r\n")) < 0:
                fill()
            size = int(bytes(buf[:eol]).split(b";")[0], 16)
            del buf[:eol + 2]
            while len(buf) < size + 2:
                fill()
            body.extend(buf[:size])
            del buf[:size + 2]
            if size == 0:  # no trailers expected; the final CRLF was consumed above
                return status, bytes(body), buf
    raise SystemExit(f"answer without Content-Length or chunked body (status {status})")


def send(port: int, path: str, body: str, count: int, extra: list[str]) -> None:
    if body.startswith("@"):
        with open(body[1:], "rb") as fh:
            data = fh.read()
    else:
        data = body.encode()
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}", "Content-Type: application/json",
            f"Content-Length: {len(data)}"]
    for h in extra:
        name, _, value = h.partition(":")
        head.append(f"{name}: {value.strip()}")
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + data
    sock = socket.create_connection((HOST, port), timeout=120)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    t0 = time.monotonic()
    body_out = b""
    for i in range(count):
        sock.sendall(request)
        status, body_out, buf = read_answer(sock, buf)
        if status != 200:
            raise SystemExit(f"request {i + 1} of {count}: status {status}: {body_out[:300]!r}")
    if buf:
        raise SystemExit(f"{len(buf)} unexpected bytes after the last answer")
    sock.close()
    print(json.dumps({"requests": count, "request_bytes": len(data), "response_bytes": len(body_out),
                      "seconds": round(time.monotonic() - t0, 3)}))


def wait_listen(port: int, seconds: float) -> None:
    want = f"0100007F:{port:04X}"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":  # local address, state LISTEN
                    return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {HOST}:{port} after {seconds} s")


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def sink(port: int) -> None:
    HTTPServer((HOST, port), Sink).serve_forever()


def ir_file(path: str) -> tuple[int, int, bool]:
    """(total Ir, allocation calls, whether the file names the span encoder) of one callgrind file."""
    totals = summary = None
    names: dict[str, str] = {}
    callee = None
    allocs = 0
    exporter = False
    ref = re.compile(r"^c?fn=\((\d+)\)(?: (.*))?$")
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                m = ref.match(line.rstrip("\n"))
                if m:
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                    name = names.get(m.group(1), "")
                else:  # uncompressed names
                    name = line.rstrip("\n").split("=", 1)[1]
                if "OTLPJSON" in name or "OTLPHTTPClientC4post" in name:
                    exporter = True
                callee = name if line.startswith("cfn=") else None
            elif line.startswith("calls="):
                if callee in ALLOC_FUNCTIONS:
                    allocs += int(line[6:].split()[0])
            elif line.startswith("totals:"):
                totals = (totals or 0) + int(line.split()[1])
            elif line.startswith("summary:"):
                summary = (summary or 0) + int(line.split()[1])
    total = totals if totals is not None else summary
    if total is None:
        raise SystemExit(f"{path}: no totals: or summary: line")
    return total, allocs, exporter


def ir(path: str) -> None:
    paths = sorted(glob.glob(glob.escape(path) + "-[0-9]*")) or [path]
    if not paths:
        raise SystemExit(f"{path}: no callgrind out file")
    total = allocs = exp_ir = exp_allocs = 0
    for p in paths:
        t, a, e = ir_file(p)
        total += t
        allocs += a
        if e and len(paths) > 1:
            exp_ir += t
            exp_allocs += a
    print(total, allocs, exp_ir, exp_allocs)


def main() -> None:
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    cmd = args[0]
    if cmd == "send" and len(args) >= 5:
        send(int(args[1]), args[2], args[3], int(args[4]), args[5:])
    elif cmd == "wait-listen" and len(args) == 3:
        wait_listen(int(args[1]), float(args[2]))
    elif cmd == "sink" and len(args) == 2:
        sink(int(args[1]))
    elif cmd == "ir" and len(args) == 2:
        ir(args[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
