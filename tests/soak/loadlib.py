"""Shared pieces of the chaos and reload runs (tests/soak/chaos.py, tests/soak/reload.py): processes
started and stopped by PID, a raw asyncio HTTP/1.1 client that keeps every byte of a response and how
it ended, SSE parsing, and the checks that say whether a response is a complete answer or an error in
the client's dialect. Standard library only; everything on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import time

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, IndexError, ValueError):
        return 0.0


def raise_nofile(want: int) -> int:
    """Raises this process's descriptor limit (children inherit it) as bench/run.sh does; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(hard, want)
    target = max(soft, target)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def proxy_sockets(pid: int, proxy_port: int, ports: dict[str, int]) -> dict[str, int]:
    """The proxy's descriptors by kind: listen, client (to its listen port), mock-<name> (upstream
    connections to that mock), other."""
    by_port = {port: f"mock-{name}" for name, port in ports.items()}
    inodes = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{name}") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, remote, state, inode = parts[1], parts[2], parts[3], parts[9]
                    lport, rport = int(local.split(":")[1], 16), int(remote.split(":")[1], 16)
                    kind = "listen" if state == "0A" else "client" if lport == proxy_port else by_port.get(rport, "tcp")
                    inodes[inode] = kind + ("" if state in ("01", "0A") else f"-state{state}")
        except OSError:
            pass
    counts: dict[str, int] = {}
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            kind = inodes.get(target[8:-1], "socket-other") if target.startswith("socket:[") else "other"
            counts[kind] = counts.get(kind, 0) + 1
    except OSError:
        pass
    return counts


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


class Processes:
    """Children started with their output in a log file; `stop()` ends each by its PID (SIGTERM, a
    bounded wait, then SIGKILL)."""

    def __init__(self, tmp: str):
        self.tmp = tmp
        self.procs: list[tuple[str, subprocess.Popen, str]] = []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log_path = os.path.join(self.tmp, f"{name}.log")
        log = open(log_path, "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append((name, p, log_path))
        return p

    def log(self, name: str) -> str:
        for n, _, path in self.procs:
            if n == name:
                with open(path, errors="replace") as f:
                    return f.read()
        return ""

    def stop(self, remove_logs: bool = False) -> None:
        """Ends every child; with `remove_logs`, then removes the folder of logs (`tmp`)."""
        for _, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p, _ in reversed(self.procs):
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if remove_logs:
            shutil.rmtree(self.tmp, ignore_errors=True)


def verdict(name: str, problems: list[str], tmp: str, logs: str) -> bool:
    """Prints `<name>: PASS`, or `<name>: FAIL: <problems>` and where the logs (`logs`) are kept; True on a pass."""
    if not problems:
        print(f"{name}: PASS")
        return True
    print(f"{name}: FAIL: " + "; ".join(problems))
    print(f"logs kept in {tmp} ({logs})")
    return False


def wait_listening(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {seconds} s")


# MARK: HTTP


class Response:
    """One response as the client saw it. `framing`: length, chunked or close; `clean`: the body
    ended as its framing says (all Content-Length bytes, or the terminating 0-chunk)."""

    __slots__ = ("status", "headers", "body", "framing", "clean", "first_byte_at")

    def __init__(self):
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.framing = ""
        self.clean = False
        self.first_byte_at = 0.0

    @property
    def keep_alive(self) -> bool:
        return self.clean and self.framing != "close" and "close" not in self.headers.get("connection", "").lower()


class Incomplete(Exception):
    """The connection ended before the response did; carries what arrived."""

    def __init__(self, response: Response, why: str):
        super().__init__(why)
        self.response = response


def request_bytes(path: str, body: bytes, extra: str = "") -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
            % (path.encode(), len(body), extra.encode(), body))


async def read_response(reader: asyncio.StreamReader, leave_after: int = 0) -> Response:
    """Reads one response whole. `leave_after` > 0: return after that many body bytes (a client that
    leaves mid-stream)."""
    r = Response()
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        raise Incomplete(r, f"connection ended before the response head ({len(e.partial)} bytes)") from None
    r.first_byte_at = time.monotonic()
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise Incomplete(r, f"bad status line {lines[0]!r}")
    r.status = int(parts[1])
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            r.headers[k.strip().lower()] = v.strip()
    body = bytearray()
    try:
        if "content-length" in r.headers:
            r.framing = "length"
            body += await reader.readexactly(int(r.headers["content-length"]))
        elif "chunked" in r.headers.get("transfer-encoding", "").lower():
            r.framing = "chunked"
            # Decoded from a buffer filled by large reads (one await per segment, not three per chunk:
            # a thousand streams stay cheap for the client).
            buf, pos = bytearray(), 0
            while True:
                nl = buf.find(b"\r\n", pos)
                if nl >= 0:
                    size = int(bytes(buf[pos:nl]).split(b";")[0].strip(), 16)
                    if size == 0:
                        if buf[nl + 2:nl + 4] == b"\r\n":
                            rest = len(buf) - (nl + 4)
                        else:
                            t = buf.find(b"\r\n\r\n", nl)  # trailers
                            rest = len(buf) - (t + 4) if t >= 0 else -1
                        if rest >= 0:
                            if rest > 0:
                                r.body = bytes(body)
                                raise Incomplete(r, f"{rest} bytes after the last chunk")
                            break
                    elif len(buf) >= nl + 4 + size:
                        end = nl + 2 + size
                        if buf[end:end + 2] != b"\r\n":
                            r.body = bytes(body)
                            raise Incomplete(r, "chunk not followed by CRLF")
                        body += buf[nl + 2:end]
                        pos = end + 2
                        if leave_after and len(body) >= leave_after:
                            r.body = bytes(body)
                            return r
                        continue
                if pos > 65536:
                    del buf[:pos]
                    pos = 0
                data = await reader.read(65536)
                if not data:
                    raise asyncio.IncompleteReadError(bytes(buf[pos:]), None)
                buf += data
        elif r.status in (204, 304) or 100 <= r.status < 200:
            r.framing = "length"
        else:
            r.framing = "close"
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                body += data
        r.clean = True
    except (asyncio.IncompleteReadError, ConnectionError, ValueError) as e:
        r.body = bytes(body)
        raise Incomplete(r, f"body cut ({r.framing}, {len(body)} bytes): {type(e).__name__}") from None
    r.body = bytes(body)
    return r


# MARK: SSE and dialect checks


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """[(event, data)] of an SSE body, comment-only blocks (keep-alive pings) skipped."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data = None, []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
        if event is not None or data:
            events.append((event, "\n".join(data)))
    return events


def openai_error_ok(obj) -> bool:
    """{"error": {"message", "type", "param", "code"}}"""
    if not isinstance(obj, dict) or not isinstance(obj.get("error"), dict):
        return False
    e = obj["error"]
    return (isinstance(e.get("message"), str) and e["message"] != "" and isinstance(e.get("type"), str)
            and e["type"] != "" and "param" in e and "code" in e)


def anthropic_error_ok(obj) -> bool:
    """{"type": "error", "error": {"type", "message"}}"""
    if not isinstance(obj, dict) or obj.get("type") != "error" or not isinstance(obj.get("error"), dict):
        return False
    e = obj["error"]
    return isinstance(e.get("type"), str) and e["type"] != "" and isinstance(e.get("message"), str) and e["message"] != ""


def error_ok(dialect: str, obj) -> bool:
    return openai_error_ok(obj) if dialect == "openai" else anthropic_error_ok(obj)


def expected_text(chunks: int) -> str:
    """What the mock streams for `+chunks=N` (MockBodies.token)."""
    return "".join(f"tok{i} " for i in range(chunks))


class Verdict:
    """kind: complete, stream-error (a started stream ended by an error event and a clean end),
    error-<status> (an HTTP error in the dialect's shape), or malformed (with why). `model`: the model
    the answer names (which config resolved it, in the reload run)."""

    __slots__ = ("kind", "why", "model", "text")

    def __init__(self, kind: str, why: str = "", model: str | None = None, text: str | None = None):
        self.kind, self.why, self.model, self.text = kind, why, model, text


def _json(b: bytes):
    try:
        return json.loads(b)
    except (ValueError, UnicodeDecodeError):
        return None


def judge(dialect: str, stream: bool, r: Response, chunks: int | None = None) -> Verdict:
    """Classifies a whole response; `chunks`: the text deltas a complete stream must carry (None: any)."""
    if not r.clean:
        return Verdict("malformed", "body not ended by its framing")
    ctype = r.headers.get("content-type", "")
    if r.status != 200:
        if not (400 <= r.status <= 599):
            return Verdict("malformed", f"status {r.status}")
        if "json" not in ctype:
            return Verdict("malformed", f"error {r.status} with content-type {ctype!r}")
        obj = _json(r.body)
        if not error_ok(dialect, obj):
            return Verdict("malformed", f"error {r.status} not in the {dialect} shape: {r.body[:300]!r}")
        return Verdict(f"error-{r.status}")
    if not stream:
        obj = _json(r.body)
        if obj is None:
            return Verdict("malformed", f"200 with a body that is not JSON: {r.body[:200]!r}...{r.body[-100:]!r}")
        if dialect == "openai":
            try:
                content = obj["choices"][0]["message"]["content"]
                ok = obj["object"] == "chat.completion" and isinstance(content, str) and content != ""
            except (KeyError, IndexError, TypeError):
                ok = False
        else:
            content = obj.get("content") if isinstance(obj, dict) else None
            ok = (isinstance(obj, dict) and obj.get("type") == "message" and isinstance(content, list) and content != []
                  and obj.get("stop_reason") is not None)
        if not ok:
            return Verdict("malformed", f"200 JSON not a complete {dialect} answer: {r.body[:300]!r}")
        return Verdict("complete", model=obj.get("model"))
    if "text/event-stream" not in ctype:
        return Verdict("malformed", f"stream answered with content-type {ctype!r}: {r.body[:200]!r}")
    try:
        events = sse_events(r.body.decode())
    except UnicodeDecodeError:
        return Verdict("malformed", "stream is not UTF-8")
    return _judge_openai_stream(events, chunks) if dialect == "openai" else _judge_anthropic_stream(events, chunks)


def _judge_openai_stream(events, chunks) -> Verdict:
    if not events or events[-1][1] != "[DONE]":
        return Verdict("malformed", f"OpenAI stream does not end with [DONE]: {events[-2:]!r}")
    objs = []
    for _, data in events[:-1]:
        obj = _json(data.encode())
        if obj is None:
            return Verdict("malformed", f"OpenAI stream event is not JSON: {data[:200]!r}")
        objs.append(obj)
    errors = [i for i, o in enumerate(objs) if isinstance(o, dict) and "error" in o]
    if errors:
        if errors != [len(objs) - 1]:
            return Verdict("malformed", "an error event that is not the last before [DONE]")
        if not openai_error_ok(objs[-1]):
            return Verdict("malformed", f"error event not in OpenAI's shape: {objs[-1]!r}")
        return Verdict("stream-error", objs[-1]["error"].get("type", ""))
    text, finish, model = [], None, None
    for o in objs:
        if o.get("object") != "chat.completion.chunk":
            return Verdict("malformed", f"not a chat.completion.chunk: {str(o)[:200]}")
        model = model or o.get("model")
        for c in o.get("choices") or []:
            d = c.get("delta") or {}
            if d.get("content"):
                text.append(d["content"])
            finish = c.get("finish_reason") or finish
    if finish is None:
        return Verdict("malformed", "OpenAI stream ended with [DONE] but no finish_reason and no error")
    got = "".join(text)
    if chunks is not None and got != expected_text(chunks):
        return Verdict("malformed", f"OpenAI stream text incomplete: {len(got)} chars, want {len(expected_text(chunks))}")
    return Verdict("complete", model=model, text=got)


def _judge_anthropic_stream(events, chunks) -> Verdict:
    names = [e for e, _ in events]
    if any(e is None for e in names):
        return Verdict("malformed", "Anthropic stream event without an event: line")
    # Keep-alive pings may come before message_start (keep_alive_interval; the SDKs skip pings); an
    # error may follow them directly when the upstream never answered. Otherwise message_start is first.
    first = next((e for e in names if e != "ping"), None)
    if first not in ("message_start", "error") or (first == "error" and names.count("error") != len(names) - names.count("ping")):
        return Verdict("malformed", f"Anthropic stream does not start with message_start: {names[:4]}")
    objs = []
    for e, data in events:
        obj = _json(data.encode())
        if not isinstance(obj, dict) or obj.get("type") != e:
            return Verdict("malformed", f"event {e} with data {data[:200]!r}")
        objs.append(obj)
    if "error" in names:
        if names.index("error") != len(names) - 1:
            return Verdict("malformed", f"events after an error event: {names[-4:]}")
        if "message_stop" in names:
            return Verdict("malformed", "a stream with an error event also says message_stop")
        if not anthropic_error_ok(objs[-1]):
            return Verdict("malformed", f"error event not in Anthropic's shape: {objs[-1]!r}")
        return Verdict("stream-error", objs[-1]["error"]["type"])
    if names[-1] != "message_stop":
        return Verdict("malformed", f"Anthropic stream ends with {names[-1]} (no message_stop, no error)")
    if "message_delta" not in names or objs[names.index("message_delta")].get("delta", {}).get("stop_reason") is None:
        return Verdict("malformed", "Anthropic stream without a message_delta stop_reason")
    model = objs[names.index("message_start")].get("message", {}).get("model")
    text = "".join(o["delta"].get("text", "") for o in objs if o["type"] == "content_block_delta")
    if chunks is not None and text != expected_text(chunks):
        return Verdict("malformed", f"Anthropic stream text incomplete: {len(text)} chars, want {len(expected_text(chunks))}")
    return Verdict("complete", model=model, text=text)


# MARK: figures


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def slope_mib_per_min(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, KiB) samples, in MiB/min."""
    n = len(samples)
    if n < 3:
        return 0.0
    mx = sum(t for t, _ in samples) / n
    my = sum(r for _, r in samples) / n
    num = sum((t - mx) * (r - my) for t, r in samples)
    den = sum((t - mx) ** 2 for t, _ in samples) or 1.0
    return num / den * 60 / 1024


async def sample_rss(pid: int, stop: asyncio.Event, samples: list, start: float, every: float) -> None:
    while not stop.is_set():
        samples.append((time.monotonic() - start, rss_kib(pid)))
        try:
            await asyncio.wait_for(stop.wait(), every)
        except asyncio.TimeoutError:
            pass
    samples.append((time.monotonic() - start, rss_kib(pid)))
