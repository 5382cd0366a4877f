"""A client that leaves: mid-stream (FIN or RST) on each route kind, and mid-request-body.

A client that left a pass-through stream (`curl -sN ... | head -c 100`) once killed the whole proxy with
SIGPIPE (exit 141) and every other connection with it. For each way of leaving, the proxy must live on
(a fresh connection gets 200 on the same route), close its upstream connection, and write an access-log
line with status 499.

The upstream here is a small plain-HTTP server in this process (`LoopbackUpstream`): it streams SSE
events as fast as the proxy takes them, for as long as the proxy keeps the connection, and records how
and when each connection ended. Each request carries its own `X-Request-Id`, which the proxy forwards
upstream and writes in its access log, so both records are found exactly.

FIN: the client reads part of the stream, sends FIN (`shutdown(SHUT_WR)`), drops what has arrived and
closes, as `curl | head` does. The proxy, still writing, gets the FIN and then a reset for its next
segment; a write after that fails with EPIPE, which raised SIGPIPE before the fix. Whether the proxy
writes again before it reads the FIN is a race, so each stream test leaves LEAVES_PER_TEST times, and
the client has a large receive buffer (the proxy is not held back by backpressure and keeps writing).
Against the binary without the fix (emulated by an LD_PRELOAD shim that drops `signal(SIGPIPE,
SIG_IGN)`) the passthrough, Anthropic and translated FIN tests died of SIGPIPE in every run tried, the
OpenAI one in most.
RST: SO_LINGER 0, then close: the proxy sees ECONNRESET (a write's first error after a reset is
ECONNRESET, not EPIPE, and the stream writes nothing after its first error), so RST never raised SIGPIPE;
it checks the other path to 499 and the upstream close.
"""

from __future__ import annotations

import itertools
import json
import re
import select
import signal
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import pytest

from conftest import CLAUDE, MODELS, standard_routes, start_proxy, upstream
from helpers import HOST, httpx, request_bytes

WAIT = 5.0  # every wait for the proxy or the upstream is bounded by this
READ_BEFORE_LEAVING = 16 * 1024  # stream bytes the client reads before it leaves
LEAVES_PER_TEST = 3  # stream clients that leave in turn in each mid-stream test
CLIENT_RCVBUF = 4 * 1024 * 1024
BODY_ANNOUNCED = 100_000  # Content-Length of the mid-body requests
BODY_SENT = 10_000  # what the client sends of it before leaving
UPSTREAM_STREAM_LIMIT = 10.0  # the upstream ends an endless stream after this many seconds regardless


@dataclass(frozen=True)
class RouteKind:
    path: str
    stream_body: dict
    plain_body: dict  # the same request without `stream`, for the follow-up
    marker: bytes  # seen in the client's stream once upstream events flow through


def _messages() -> list[dict]:
    return [{"role": "user", "content": "hi"}]


ROUTES = {
    "passthrough": RouteKind("/openai/v1/responses", {"model": "gpt-5", "input": "hi", "stream": True},
                             {"model": "gpt-5", "input": "hi"}, b"response.output_text.delta"),
    "openai": RouteKind("/openai/v1/chat/completions", {"model": "gpt-5", "messages": _messages(), "stream": True},
                        {"model": "gpt-5", "messages": _messages()}, b"tok "),
    "anthropic": RouteKind("/bedrock/claude/v1/messages",
                           {"model": CLAUDE, "max_tokens": 100, "messages": _messages(), "stream": True},
                           {"model": CLAUDE, "max_tokens": 100, "messages": _messages()}, b"tok "),
    "translated": RouteKind("/provider/bedrock/format/openai/v1/chat/completions",
                            {"model": CLAUDE, "messages": _messages(), "stream": True},
                            {"model": CLAUDE, "messages": _messages()}, b"tok "),
}


# MARK: the loopback upstream


@dataclass
class UpstreamConn:
    """One connection the proxy opened to the upstream, and how it ended."""

    number: int
    request_ids: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    body_received: int = 0
    stream_bytes_sent: int = 0
    how: str | None = None  # eof-idle, eof-head, eof-body, eof-stream, reset-..., upstream-limit, stopped
    ended: threading.Event = field(default_factory=threading.Event)

    def end(self, how: str) -> None:
        if self.how is None:
            self.how = how
        self.ended.set()


class PeerGone(Exception):
    def __init__(self, how: str):
        super().__init__(how)
        self.how = how


class LoopbackUpstream:
    """Plain HTTP/1.1 on 127.0.0.1, one thread per connection, keep-alive.

    AI-Gateway's paths: `/v1/openai/v1/...` (OpenAI chat chunks, or Responses events on `/responses`) and
    `/v1/bedrock/model/<id>/invoke[-with-response-stream]` (Anthropic events as data-only SSE). A stream
    request (`"stream": true`, or Bedrock's stream action) gets an endless chunked SSE stream, written as
    fast as the peer reads it; anything else a small JSON answer.
    """

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.conns: list[UpstreamConn] = []
        self.by_request_id: dict[str, UpstreamConn] = {}
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.counter = itertools.count(1)
        self.acceptor = threading.Thread(target=self._accept, name="upstream-accept", daemon=True)
        self.acceptor.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.stopping.set()
        self.acceptor.join(timeout=2)
        self.listener.close()
        for t in self.threads:
            t.join(timeout=2)

    def conn_for(self, request_id: str) -> UpstreamConn | None:
        with self.lock:
            return self.by_request_id.get(request_id)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                s, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn = UpstreamConn(next(self.counter))
            with self.lock:
                self.conns.append(conn)
            t = threading.Thread(target=self._serve, args=(s, conn), name=f"upstream-{conn.number}", daemon=True)
            self.threads.append(t)
            t.start()

    # Socket primitives: non-blocking, woken every 0.1 s to honour stop().

    def _recv(self, s: socket.socket, deadline: float, stage: str) -> bytes:
        while True:
            if self.stopping.is_set():
                raise PeerGone("stopped")
            if time.monotonic() > deadline:
                raise PeerGone(f"idle-{stage}")
            r, _, _ = select.select([s], [], [], 0.1)
            if not r:
                continue
            try:
                data = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                raise PeerGone(f"reset-{stage}") from None
            if not data:
                raise PeerGone(f"eof-{stage}")
            return data

    def _send_all(self, s: socket.socket, data: bytes, stage: str) -> None:
        view = memoryview(data)
        while view:
            if self.stopping.is_set():
                raise PeerGone("stopped")
            _, w, _ = select.select([], [s], [], 0.1)
            if not w:
                continue
            try:
                n = s.send(view)
            except (ConnectionResetError, BrokenPipeError):
                raise PeerGone(f"reset-{stage}") from None
            view = view[n:]

    def _serve(self, s: socket.socket, conn: UpstreamConn) -> None:
        s.setblocking(False)
        buf = b""
        try:
            while True:
                stage = "idle" if not buf else "head"
                while b"\r\n\r\n" not in buf:
                    buf += self._recv(s, time.monotonic() + 30, stage)
                    stage = "head"
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                rid = headers.get("x-request-id", "")
                with self.lock:
                    conn.request_ids.append(rid)
                    conn.paths.append(target)
                    if rid:
                        self.by_request_id[rid] = conn
                length = int(headers.get("content-length", "0"))
                assert "transfer-encoding" not in headers, "the proxy sends bodies with Content-Length here"
                conn.body_received = min(len(buf), length)
                while len(buf) < length:
                    buf += self._recv(s, time.monotonic() + 30, "body")
                    conn.body_received = min(len(buf), length)
                body, buf = buf[:length], buf[length:]
                try:
                    req = json.loads(body) if body else {}
                except ValueError:
                    req = {}
                if "/bedrock/" in target:
                    stream = target.endswith("/invoke-with-response-stream")
                else:
                    stream = isinstance(req, dict) and req.get("stream") is True
                if stream:
                    self._stream(s, conn, target)
                    return
                self._send_all(s, self._plain_response(target), "response")
        except PeerGone as e:
            conn.end(e.how)
        finally:
            conn.end("closed-by-upstream")
            s.close()

    @staticmethod
    def _plain_response(target: str) -> bytes:
        if "/bedrock/" in target:
            body = {"id": "msg_loopback", "type": "message", "role": "assistant", "model": "claude",
                    "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn",
                    "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}
        elif target.endswith("/responses"):
            body = {"id": "resp_loopback", "object": "response", "status": "completed", "model": "gpt-5",
                    "output": [{"type": "message", "role": "assistant",
                                "content": [{"type": "output_text", "text": "hello"}]}]}
        else:
            body = {"id": "chatcmpl-loopback", "object": "chat.completion", "created": 1754524800, "model": "gpt-5",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
        data = json.dumps(body).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(data)).encode() + b"\r\n\r\n" + data)

    @staticmethod
    def _events(target: str) -> tuple[bytes, bytes]:
        """(the events that open the stream, one block of events repeated until the peer leaves)."""
        text = "tok " * 64
        if "/bedrock/" in target:
            start = [
                {"type": "message_start", "message": {"id": "msg_loopback", "type": "message", "role": "assistant",
                                                      "model": "claude", "content": [], "stop_reason": None,
                                                      "stop_sequence": None,
                                                      "usage": {"input_tokens": 3, "output_tokens": 1}}},
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ]
            event = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
            first = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in start)
            one = b"data: " + json.dumps(event).encode() + b"\n\n"
        elif target.endswith("/responses"):
            first = b'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_loopback"}}\n\n'
            one = (b"event: response.output_text.delta\ndata: "
                   + json.dumps({"type": "response.output_text.delta", "delta": text}).encode() + b"\n\n")
        else:
            def chunk(delta: dict) -> bytes:
                return b"data: " + json.dumps({"id": "chatcmpl-loopback", "object": "chat.completion.chunk",
                                               "created": 1754524800, "model": "gpt-5",
                                               "choices": [{"index": 0, "delta": delta,
                                                            "finish_reason": None}]}).encode() + b"\n\n"
            first = chunk({"role": "assistant", "content": ""})
            one = chunk({"content": text})
        return first, one * max(1, 32 * 1024 // len(one))

    def _stream(self, s: socket.socket, conn: UpstreamConn, target: str) -> None:
        """An endless chunked SSE stream until the peer closes or resets (or the limit passes)."""
        first, block = self._events(target)
        framed = b"%x\r\n%s\r\n" % (len(block), block)
        out = bytearray(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        out += b"%x\r\n%s\r\n" % (len(first), first)
        limit = time.monotonic() + UPSTREAM_STREAM_LIMIT
        while True:
            if self.stopping.is_set():
                raise PeerGone("stopped")
            if time.monotonic() > limit:
                raise PeerGone("upstream-limit")  # the proxy kept the connection: the tests say so
            if len(out) < 64 * 1024:
                out += framed
            r, w, _ = select.select([s], [s], [], 0.1)
            if r:
                try:
                    data = s.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    raise PeerGone("reset-stream") from None
                if not data:
                    raise PeerGone("eof-stream")
            if w:
                try:
                    n = s.send(out)
                except (ConnectionResetError, BrokenPipeError):
                    raise PeerGone("reset-stream") from None
                del out[:n]
                conn.stream_bytes_sent += n


@pytest.fixture(scope="module")
def loopback_upstream():
    up = LoopbackUpstream()
    yield up
    up.stop()


_proxy_numbers = itertools.count(1)


@pytest.fixture
def leave_proxy(bin_path, registry, loopback_upstream):
    """A proxy of its own per test (a crash in one case cannot spill into the next), stopped at the end."""
    config = {"upstreams": {"loopback": upstream(loopback_upstream.url, ca_file=None)},
              "routes": standard_routes("loopback"), "models": MODELS, "log_level": "debug", "access_log": True}
    p = start_proxy(bin_path, registry, f"proxy-leaves-{next(_proxy_numbers)}", config)
    yield p
    p.process.stop()


# MARK: checks


class NoAccessLine(AssertionError):
    """The proxy wrote no access-log line at all for a request."""


def describe_death(proxy) -> str:
    code = proxy.process.popen.returncode
    why = f"status {code}"
    if code is not None and code < 0:
        why = f"signal {signal.Signals(-code).name}"
    return f"the proxy died ({why}) after the client left:\n{proxy.process.log_tail()}"


def assert_alive(proxy) -> None:
    assert proxy.process.alive(), describe_death(proxy)


def wait_for(proxy, what: str, probe, timeout: float = WAIT, error=AssertionError):
    """Polls probe() until it returns something truthy; fails at once if the proxy died."""
    deadline = time.monotonic() + timeout
    while True:
        assert_alive(proxy)
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise error(f"{what} within {timeout} s\nproxy log tail:\n{proxy.process.log_tail()}")
        time.sleep(0.01)


def access_line(proxy, request_id: str) -> re.Match | None:
    pattern = re.compile(rf"^\S+ {re.escape(request_id)} (?P<method>\S+) (?P<path>\S+) (?P<status>\d{{3}}) .*$",
                         re.MULTILINE)
    return pattern.search(proxy.process.log())


def assert_logged_499(proxy, request_id: str, path: str, timeout: float = WAIT) -> None:
    line = wait_for(proxy, f"no access-log line for request {request_id}", lambda: access_line(proxy, request_id),
                    timeout, NoAccessLine)
    assert line["path"] == path, line[0]
    assert line["status"] == "499", f"the client left, so the access log should say 499: {line[0]!r}"


def assert_upstream_closed(proxy, up: LoopbackUpstream, request_id: str, stage: str) -> UpstreamConn:
    """The proxy's upstream connection for the request ended from the proxy's side (FIN or RST) in time."""
    conn = wait_for(proxy, f"the upstream never saw request {request_id}", lambda: up.conn_for(request_id))
    if not conn.ended.wait(WAIT):
        assert_alive(proxy)
        pytest.fail(f"the upstream connection of {request_id} is still open {WAIT} s after the client left "
                    f"({conn.stream_bytes_sent} stream bytes sent, {conn.body_received} body bytes received)\n"
                    f"proxy log tail:\n{proxy.process.log_tail()}")
    assert conn.how in (f"eof-{stage}", f"reset-{stage}"), (
        f"the upstream connection of {request_id} ended as {conn.how!r}, not closed by the proxy mid-{stage}")
    return conn


def follow_up(proxy, route: RouteKind) -> str:
    """A fresh connection, the same route: the proxy still serves. Returns the follow-up's request id."""
    assert_alive(proxy)
    rid = f"follow-up-{time.monotonic_ns()}"
    r = httpx.post(proxy.base + route.path, json=route.plain_body, headers={"X-Request-Id": rid}, timeout=10)
    assert r.status_code == 200, f"follow-up on {route.path}: {r.status_code} {r.text[:300]}"
    assert_alive(proxy)
    return rid


# MARK: the client


def connect(port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A large receive buffer (set before connecting, so the window scales): the proxy writes on freely.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(WAIT)
    s.connect((HOST, port))
    return s


def leave(s: socket.socket, how: str) -> None:
    if how == "rst":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return
    # FIN first, then what a process that stops reading and exits does: drop what has arrived, close.
    s.shutdown(socket.SHUT_WR)
    s.setblocking(False)
    try:
        while s.recv(1 << 20):
            pass
    except (BlockingIOError, ConnectionError):
        pass
    s.close()


def read_some_stream(s: socket.socket, marker: bytes) -> None:
    """The response head (200, streamed) and READ_BEFORE_LEAVING bytes of the stream, marker included."""
    got = b""
    deadline = time.monotonic() + WAIT
    while b"\r\n\r\n" not in got or len(got) - got.index(b"\r\n\r\n") < READ_BEFORE_LEAVING or marker not in got:
        assert time.monotonic() < deadline, f"the stream did not flow: {got[:300]!r}"
        chunk = s.recv(65536)
        assert chunk, f"the proxy closed the stream early: {got[:300]!r}"
        got += chunk
    status_line = got.split(b"\r\n", 1)[0]
    assert b" 200 " in status_line, got[:300]


def new_request_id(kind: str, how: str) -> str:
    return f"leave-{kind}-{how}-{time.monotonic_ns()}"


# MARK: tests


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("kind", list(ROUTES))
def test_client_leaves_mid_stream(leave_proxy, loopback_upstream, kind, how):
    proxy, up, route = leave_proxy, loopback_upstream, ROUTES[kind]
    body = json.dumps(route.stream_body).encode()
    for _ in range(LEAVES_PER_TEST):
        rid = new_request_id(kind, how)
        s = connect(proxy.port)
        try:
            s.sendall(request_bytes("POST", route.path, body, {"Content-Type": "application/json",
                                                               "Accept": "text/event-stream", "X-Request-Id": rid}))
            read_some_stream(s, route.marker)
        finally:
            leave(s, how)
        assert_upstream_closed(proxy, up, rid, "stream")
        assert_logged_499(proxy, rid, route.path)
    follow_up(proxy, route)


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("kind", ["passthrough", "translated"])
def test_client_leaves_mid_request_body(leave_proxy, loopback_upstream, kind, how):
    proxy, up, route = leave_proxy, loopback_upstream, ROUTES[kind]
    rid = new_request_id(kind, how)
    head = request_bytes("POST", route.path, None, {"Content-Type": "application/json", "X-Request-Id": rid,
                                                    "Content-Length": str(BODY_ANNOUNCED)})
    part = b'{"model":"gpt-5","input":"' + b"x" * (BODY_SENT - 26)
    s = connect(proxy.port)
    try:
        s.sendall(head + part)
        if kind == "passthrough":
            # Pass-through streams the request body: the upstream holds what was sent before the client leaves.
            wait_for(proxy, f"the upstream did not receive {BODY_SENT} body bytes of {rid}",
                     lambda: (c := up.conn_for(rid)) is not None and c.body_received >= BODY_SENT)
        else:
            time.sleep(0.1)  # the proxy reads the head and the part, and waits for the rest (it buffers the body)
    finally:
        leave(s, how)
    if kind == "passthrough":
        conn = assert_upstream_closed(proxy, up, rid, "body")
        assert conn.body_received < BODY_ANNOUNCED
    follow_up_id = follow_up(proxy, route)
    if kind != "passthrough":
        # A translated request is translated once whole: cut short, it never went upstream.
        assert up.conn_for(rid) is None, "a partial request body reached the upstream"
    # The client left before the follow-up connected, and one worker handles both in order: once the
    # follow-up is logged, the line for the request that was left is there too (a second of slack).
    wait_for(proxy, "no access-log line for the follow-up", lambda: access_line(proxy, follow_up_id))
    assert_logged_499(proxy, rid, route.path, timeout=1.0)
