#!/usr/bin/env python3
"""The benchmark's own clients for what wrk cannot measure (stdlib only, one thread, epoll).

  sse      N concurrent SSE streams; per stream: time to first event, worst gap between events,
           events received, whether the stream ended cleanly. Prints one JSON line (medians/maxima).
           --pids samples the RSS of those processes every 50 ms while the streams run.
  slow     one client reading a long stream at a fixed rate (e.g. 1 MB/s) for a bounded time;
           prints the RSS of --pids after the first second and the maximum seen afterwards.
  idle     opens N keep-alive connections, one GET each, holds them idle, then checks every one
           is still open by sending a second GET on it; prints counts and the RSS of --pids.
  startup  starts a command, polls the port every 0.5 ms with a real request, prints the ms
           from spawn to the first 200 answer.

Every figure is taken with time.perf_counter(); all sockets use TCP_NODELAY.
"""
import argparse, json, os, selectors, socket, subprocess, sys, time


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def request_bytes(host, port, method, path, body=b"", keep_alive=True, extra=()):
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n" + "".join(h + "\r\n" for h in extra)
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    head += "Accept: text/event-stream\r\n" if b'"stream"' in body else ""
    head += "Connection: keep-alive\r\n\r\n" if keep_alive else "Connection: close\r\n\r\n"
    return head.encode() + body


class Stream:
    """One SSE response read incrementally: head, then body (chunked or not), events split on a blank line."""

    __slots__ = ("sock", "t0", "first", "last", "gap", "events", "head", "buf", "chunked", "chunk_left",
                 "tail", "done", "ok", "status", "body_bytes")

    def __init__(self, sock, t0):
        self.sock, self.t0 = sock, t0
        self.first = self.last = None
        self.gap = 0.0
        self.events = 0
        self.head = True
        self.buf = b""
        self.chunked = False
        self.chunk_left = -1  # -1: expecting a size line
        self.tail = b""  # last byte(s) of the previous body piece, so "\n\n" split across reads counts
        self.done = False
        self.ok = False
        self.status = 0
        self.body_bytes = 0

    def feed(self, data, now):
        if self.head:
            self.buf += data
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            head = self.buf[:i].decode("latin-1").lower()
            try:
                self.status = int(head.split(" ", 2)[1])
            except (IndexError, ValueError):
                self.status = 0
            self.chunked = "transfer-encoding: chunked" in head
            data, self.buf, self.head = self.buf[i + 4:], b"", False
            if not data:
                return
        if self.chunked:
            self.buf += data
            body = []
            while True:
                if self.chunk_left == -2:  # a read ended between a chunk's data and its CRLF
                    if len(self.buf) < 2:
                        break
                    self.buf, self.chunk_left = self.buf[2:], -1
                if self.chunk_left < 0:
                    j = self.buf.find(b"\r\n")
                    if j < 0:
                        break
                    try:
                        size = int(self.buf[:j].split(b";")[0], 16)
                    except ValueError:
                        self.done = True
                        break
                    self.buf = self.buf[j + 2:]
                    if size == 0:
                        self.done = self.ok = True
                        break
                    self.chunk_left = size
                take = self.buf[:self.chunk_left]
                body.append(take)
                self.buf = self.buf[len(take):]
                self.chunk_left -= len(take)
                if self.chunk_left == 0:
                    if len(self.buf) < 2:
                        self.chunk_left = -2  # the CRLF after the chunk has not arrived yet
                        break
                    self.buf = self.buf[2:]
                    self.chunk_left = -1
                else:
                    break
            data = b"".join(body)
        self.count(data, now)

    def count(self, data, now):
        """Splits the body into events; the gap is measured between content events (text deltas)."""
        if not data:
            return
        self.body_bytes += len(data)
        self.tail += data
        parts = self.tail.split(b"\n\n")
        self.tail = parts.pop()
        if not parts:
            return
        if self.first is None:
            self.first = now - self.t0
        self.events += len(parts)
        for ev in parts:
            if b"text_delta" in ev or (b'"delta":{"content":"' in ev and b'"content":""' not in ev):
                if self.last is not None:
                    self.gap = max(self.gap, now - self.last)
                self.last = now
            elif b"[DONE]" in ev or b"message_stop" in ev:
                self.ok = True


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def connect(host, port):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def run_sse(a):
    body = a.body.encode()
    req = request_bytes(a.host, a.port, "POST", a.path, body, keep_alive=False)
    sel = selectors.DefaultSelector()
    streams = []
    peak = {p: rss_kb(p) for p in a.pids}
    # Connect everyone first (in batches, so the listen backlog never overflows), then fire together.
    socks = []
    for _ in range(a.n):
        s = connect(a.host, a.port)
        s.setblocking(False)
        socks.append(s)
    start = time.perf_counter()
    for s in socks:
        st = Stream(s, time.perf_counter())
        s.send(req)  # a few hundred bytes: fits the empty send buffer
        sel.register(s, selectors.EVENT_READ, st)
        streams.append(st)
    open_n = len(streams)
    next_sample = time.perf_counter()
    deadline = start + a.timeout
    while open_n and time.perf_counter() < deadline:
        for key, _ in sel.select(timeout=0.05):
            st = key.data
            now = time.perf_counter()
            try:
                data = st.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if data:
                st.feed(data, now)
            if not data or st.done:
                sel.unregister(st.sock)
                st.sock.close()
                st.done = True
                open_n -= 1
        if a.pids and time.perf_counter() >= next_sample:
            for p in a.pids:
                peak[p] = max(peak[p], rss_kb(p))
            next_sample = time.perf_counter() + 0.05
    for st in streams:
        if not st.done:
            sel.unregister(st.sock)
            st.sock.close()
    firsts = [s.first for s in streams if s.first is not None]
    gaps = [s.gap for s in streams if s.events > 1]
    out = {
        "streams": a.n,
        "ttfe_ms_p50": round(median(firsts) * 1e3, 3) if firsts else None,
        "ttfe_ms_max": round(max(firsts) * 1e3, 3) if firsts else None,
        "gap_ms_max": round(max(gaps) * 1e3, 3) if gaps else None,
        "gap_ms_p50": round(median(gaps) * 1e3, 3) if gaps else None,
        "events": sum(s.events for s in streams),
        "events_min": min((s.events for s in streams), default=0),
        "events_max": max((s.events for s in streams), default=0),
        "incomplete": sum(1 for s in streams if not s.ok),
        "non200": sum(1 for s in streams if s.status != 200),
        "wall_s": round(time.perf_counter() - start, 3),
        "rss_peak_kb": {str(p): v for p, v in peak.items()},
    }
    print(json.dumps(out))


def run_slow(a):
    """Reads at `rate` bytes/s for `seconds`; tracks the RSS of the pids; one socket per --port."""
    body = a.body.encode()
    socks = []
    for port in a.ports:
        s = connect(a.host, port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(request_bytes(a.host, port, "POST", a.path, body, keep_alive=False, extra=a.header))
        s.settimeout(5)
        socks.append(s)
    start = time.perf_counter()
    got = [0] * len(socks)
    base, peak = {}, {p: 0 for p in a.pids}
    piece = max(1, a.rate // 50)  # 50 reads a second
    while True:
        now = time.perf_counter()
        el = now - start
        if el >= a.seconds:
            break
        if not base and el >= 1.0:
            base = {p: rss_kb(p) for p in a.pids}
        for i, s in enumerate(socks):
            want = int(a.rate * el) - got[i]
            while want > 0:
                try:
                    d = s.recv(min(piece, want, 65536))
                except OSError:
                    d = b""
                if not d:
                    want = 0
                    break
                got[i] += len(d)
                want -= len(d)
        if base:
            for p in a.pids:
                peak[p] = max(peak[p], rss_kb(p))
        time.sleep(0.02)
    for s in socks:
        s.close()
    out = {"seconds": a.seconds, "rate": a.rate, "bytes_read": got,
           "rss_base_kb": {str(p): base.get(p, 0) for p in a.pids},
           "rss_peak_kb": {str(p): peak[p] for p in a.pids},
           "growth_kb": {str(p): max(0, peak[p] - base.get(p, 0)) for p in a.pids}}
    print(json.dumps(out))


def read_response(s):
    """Blocking read of one small Content-Length response; returns the status or 0."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return 0
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        d = s.recv(65536)
        if not d:
            return 0
        rest += d
    return int(head.split(b" ", 2)[1])


def run_idle(a):
    req = request_bytes(a.host, a.port, "GET", a.path)
    socks, errors = [], 0
    base = {p: rss_kb(p) for p in a.pids}
    t0 = time.perf_counter()
    for i in range(a.n):
        try:
            s = connect(a.host, a.port)
            s.settimeout(10)
            s.sendall(req)
            if read_response(s) != 200:
                errors += 1
            socks.append(s)
        except OSError:
            errors += 1
    opened = time.perf_counter() - t0
    time.sleep(a.hold)
    held = {p: rss_kb(p) for p in a.pids}
    alive = 0
    for s in socks:
        try:
            s.sendall(req)
            if read_response(s) == 200:
                alive += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    print(json.dumps({"wanted": a.n, "opened": len(socks), "errors": errors, "alive_after_hold": alive,
                      "open_s": round(opened, 2), "hold_s": a.hold,
                      "rss_before_kb": {str(p): base[p] for p in a.pids},
                      "rss_held_kb": {str(p): held[p] for p in a.pids}}))


def run_startup(a):
    body = a.body.encode()
    req = request_bytes(a.host, a.port, "POST", a.path, body, keep_alive=False)
    t0 = time.perf_counter()
    proc = subprocess.Popen(a.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ms = None
    try:
        while time.perf_counter() - t0 < 5:
            try:
                s = socket.create_connection((a.host, a.port), timeout=1)
            except OSError:
                time.sleep(0.0005)
                continue
            try:
                s.sendall(req)
                if read_response(s) == 200:
                    ms = (time.perf_counter() - t0) * 1e3
                    break
            except OSError:
                pass
            finally:
                s.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print(json.dumps({"startup_ms": round(ms, 2) if ms is not None else None}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["sse", "slow", "idle", "startup"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ports", type=int, nargs="*", default=[])
    p.add_argument("--path", default="/")
    p.add_argument("--body", default="")
    p.add_argument("-n", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--pids", type=int, nargs="*", default=[])
    p.add_argument("--rate", type=int, default=1 << 20)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--header", action="append", default=[], help="extra request header (slow)")
    p.add_argument("--hold", type=float, default=3)
    argv = sys.argv[1:]
    cmd = argv[argv.index("--") + 1:] if "--" in argv else []
    a = p.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    a.cmd = cmd  # startup: the command to spawn, after "--"
    {"sse": run_sse, "slow": run_slow, "idle": run_idle, "startup": run_startup}[a.mode](a)


if __name__ == "__main__":
    main()
