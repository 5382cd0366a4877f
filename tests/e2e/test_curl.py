"""curl and raw sockets: health, bad input in each dialect, routing errors, CORS, limits, pipelining,
Expect: 100-continue."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from conftest import CLAUDE
from helpers import RawConnection, assert_anthropic_error, assert_openai_error, request_bytes


def curl(*args: str, timeout: float = 15) -> tuple[int, dict[str, str], bytes, str]:
    """Runs curl; returns (status, headers of the final response, body, verbose stderr)."""
    r = subprocess.run(["curl", "-sS", "-v", "--noproxy", "*", "--max-time", "10", "-D", "-", *args],
                       capture_output=True, timeout=timeout)
    assert r.returncode == 0, f"curl failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}"
    out = r.stdout
    # -D - writes every head (100 Continue too) before the body; keep the last one.
    status, headers, rest = 0, {}, out
    while rest.startswith(b"HTTP/"):
        head, _, rest = rest.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    return status, headers, rest, r.stderr.decode(errors="replace")


OPENAI = "/openai/v1/chat/completions"
CLAUDE_PATH = "/bedrock/claude/v1/messages"
TRANSLATE = "/provider/bedrock/format/openai/v1/chat/completions"


def test_healthz(proxy):
    status, headers, body, _ = curl(proxy.base + "/healthz")
    assert status == 200
    assert headers.get("x-request-id")


@pytest.mark.parametrize("path,shape", [(OPENAI, "openai"), (CLAUDE_PATH, "anthropic"), (TRANSLATE, "openai")])
@pytest.mark.parametrize("body", ['{"model": "gpt-5", "messages": [', "not json at all", "[1, 2]"])
def test_bad_json_is_400_in_dialect(proxy, path, shape, body):
    status, headers, out, _ = curl("-X", "POST", "-H", "content-type: application/json", "--data-binary", body,
                                   proxy.base + path)
    assert status == 400, f"{path} answered {status}: {out[:300]!r}"
    assert headers.get("x-request-id")
    parsed = json.loads(out)
    (assert_openai_error if shape == "openai" else assert_anthropic_error)(parsed)


@pytest.mark.parametrize("path,shape", [(CLAUDE_PATH, "anthropic"), (TRANSLATE, "openai")])
def test_wrong_json_types_are_400(proxy, path, shape):
    body = json.dumps({"model": CLAUDE, "max_tokens": "lots", "messages": "hi"})
    status, _, out, _ = curl("-X", "POST", "-H", "content-type: application/json", "--data-binary", body,
                             proxy.base + path)
    assert status == 400, out[:300]
    (assert_openai_error if shape == "openai" else assert_anthropic_error)(json.loads(out))


def test_unknown_path_is_404(proxy):
    status, headers, out, _ = curl(proxy.base + "/no/such/route")
    assert status == 404
    assert headers.get("x-request-id")
    assert_openai_error(json.loads(out))


def test_wrong_method_is_405(proxy):
    status, _, out, _ = curl("-X", "GET", proxy.base + OPENAI)
    assert status == 405
    assert_openai_error(json.loads(out), contains=["GET"])
    status, _, out, _ = curl("-X", "DELETE", proxy.base + CLAUDE_PATH)
    assert status == 405
    assert_anthropic_error(json.loads(out))


def test_cors_preflight_on_claude_route(proxy):
    status, headers, out, _ = curl(
        "-X", "OPTIONS", "-H", "Origin: https://app.example.com", "-H", "Access-Control-Request-Method: POST",
        "-H", "Access-Control-Request-Headers: content-type, x-api-key, anthropic-version", proxy.base + CLAUDE_PATH)
    assert status in (200, 204)
    assert headers.get("access-control-allow-origin") in ("*", "https://app.example.com")
    assert "POST" in headers.get("access-control-allow-methods", "")
    allowed = headers.get("access-control-allow-headers", "").lower()
    for h in ("content-type", "x-api-key", "anthropic-version"):
        assert h in allowed, f"{h} not allowed by preflight: {allowed}"
    assert int(headers.get("access-control-max-age", "0")) > 0
    assert out == b""


def test_cors_header_on_responses(proxy):
    status, headers, _, _ = curl("-H", "Origin: https://app.example.com", proxy.base + "/bedrock/claude/v1/models")
    assert status == 200
    assert headers.get("access-control-allow-origin") in ("*", "https://app.example.com")


def test_no_cors_on_route_without_it(proxy):
    status, headers, _, _ = curl("-X", "OPTIONS", "-H", "Origin: https://app.example.com",
                                 "-H", "Access-Control-Request-Method: POST", proxy.base + OPENAI)
    assert "access-control-allow-origin" not in headers, "CORS is not enabled on the OpenAI route"


def test_huge_header_is_431(proxy):
    """A 100 KB header (limit 64 KiB): the client must read a 431, not a connection reset."""
    with RawConnection(proxy.port) as c:
        try:
            c.send(request_bytes("GET", "/healthz", headers={"X-Huge": "a" * 100_000}))
            r = c.read_response()
        except (ConnectionResetError, BrokenPipeError) as e:
            pytest.fail(f"proxy reset the connection instead of letting the client read a 431 ({e!r})")
    assert r.status == 431
    assert_openai_error(r.json())


def test_too_many_headers_is_431(proxy):
    headers = {f"X-H{i}": "v" for i in range(150)}  # default max_header_count is 100
    with RawConnection(proxy.port) as c:
        c.send(request_bytes("GET", "/healthz", headers=headers))
        r = c.read_response()
    assert r.status == 431


def test_pipelined_requests_answered_in_order(proxy):
    """A slow stream first, then fast requests, in one write: the answers must come back in order."""
    stream_body = json.dumps({"model": "gpt-5+chunks=3+delay=80", "messages": [], "stream": True}).encode()
    reqs = [
        request_bytes("POST", OPENAI, stream_body, {"Content-Type": "application/json", "X-Request-Id": "pipe-1"}),
        request_bytes("GET", "/healthz", headers={"X-Request-Id": "pipe-2"}),
        request_bytes("GET", "/openai/v1/models", headers={"X-Request-Id": "pipe-3"}),
        request_bytes("POST", OPENAI, json.dumps({"model": "gpt-5", "messages": []}).encode(),
                      {"Content-Type": "application/json", "X-Request-Id": "pipe-4"}),
        request_bytes("GET", "/healthz", headers={"X-Request-Id": "pipe-5"}),
    ]
    with RawConnection(proxy.port) as c:
        c.send(b"".join(reqs))
        responses = [c.read_response(m) for m in ("POST", "GET", "GET", "POST", "GET")]
    assert [r.header("x-request-id") for r in responses] == [f"pipe-{i}" for i in range(1, 6)]
    assert [r.status for r in responses] == [200] * 5
    assert b"data: [DONE]" in responses[0].body and b"tok2 " in responses[0].body
    assert responses[2].json()["data"], "models list"
    assert responses[3].json()["object"] == "chat.completion"


def test_keep_alive_reuses_connection(proxy):
    with RawConnection(proxy.port) as c:
        for i in range(3):
            c.send(request_bytes("POST", OPENAI, json.dumps({"model": "gpt-5", "messages": []}).encode(),
                                 {"Content-Type": "application/json"}))
            assert c.read_response("POST").status == 200


def test_expect_100_continue_raw(proxy):
    body = json.dumps({"model": "gpt-5", "messages": [{"role": "user", "content": "x" * 2000}]}).encode()
    head = (f"POST {OPENAI} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
    with RawConnection(proxy.port, timeout=5) as c:
        c.send(head)
        status, _, _ = c.read_head()  # bounded by the socket timeout
        assert status == 100, f"expected 100 Continue before the body, got {status}"
        c.send(body)
        r = c.read_response("POST")
    assert r.status == 200
    assert r.json()["object"] == "chat.completion"


def test_expect_100_continue_curl(proxy, tmp_path):
    f = tmp_path / "body.json"
    f.write_text(json.dumps({"model": "gpt-5", "messages": [{"role": "user", "content": "y" * 5000}]}))
    status, _, out, verbose = curl("-X", "POST", "-H", "Content-Type: application/json",
                                   "-H", "Expect: 100-continue", "--data-binary", f"@{f}", proxy.base + OPENAI)
    assert status == 200, out[:300]
    assert "HTTP/1.1 100 Continue" in verbose, "curl saw no 100 Continue"


def test_chunked_request_body(proxy):
    body = json.dumps({"model": "gpt-5", "messages": []}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:7], body[7:])) + b"0\r\n\r\n"
    head = (f"POST {OPENAI} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    with RawConnection(proxy.port) as c:
        c.send(head + chunked)
        r = c.read_response("POST")
    assert r.status == 200 and r.json()["object"] == "chat.completion"


@pytest.mark.parametrize("name,raw", [
    ("conflicting CL and TE", b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("duplicate CL", b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                     b"Content-Length: 3\r\n\r\n{}"),
    ("bad chunk size", b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"zz\r\n{}\r\n0\r\n\r\n"),
    ("obs-fold", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n"),
])
def test_smuggling_vectors_rejected_and_closed(proxy, name, raw):
    with RawConnection(proxy.port, timeout=5) as c:
        c.send(raw)
        r = c.read_response()
        assert r.status == 400, f"{name}: {r.status}"
        # The connection must be closed after a framing error.
        c.sock.settimeout(3)
        try:
            rest = c.sock.recv(1024)
        except (ConnectionResetError, socket.timeout) as e:
            rest = b"" if isinstance(e, ConnectionResetError) else b"<still open>"
        assert rest == b"", f"{name}: connection not closed after 400"
