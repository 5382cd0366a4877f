"""Upstream faults injected by the mock: each becomes a clear error in the client's dialect, or, once a
stream has started, an error event followed by a clean end."""

from __future__ import annotations

import json

import pytest

from conftest import CLAUDE, start_mock, start_proxy, upstream
from helpers import HOST, assert_anthropic_error, assert_openai_error, dead_port, httpx, sse_events

OPENAI = "/openai/v1/chat/completions"
TRANSLATE = "/provider/bedrock/format/openai/v1/chat/completions"
CLAUDE_PATH = "/bedrock/claude/v1/messages"


def post(proxy, path, body, timeout=15):
    return httpx.post(proxy.base + path, json=body, timeout=timeout)


# MARK: faults before the response (non-streaming OpenAI route)

HEAD_FAULTS = [
    # fault, status, words the message must contain (any of each tuple)
    ("reset-before-head", 502, [("closed", "reset")]),
    ("close-before-head", 502, [("closed", "reset")]),
    ("stall-head", 504, [("timed out", "timeout", "no response within")]),
    ("bad-status", 502, [("status", "head", "invalid")]),
    ("bad-header", 502, [("header", "head", "invalid")]),
    ("bad-chunk", 502, [("chunk",)]),
    ("truncated-json", 502, [("closed", "mid-response", "truncated", "incomplete")]),
]


@pytest.mark.parametrize("fault,status,words", HEAD_FAULTS, ids=[f[0] for f in HEAD_FAULTS])
def test_fault_before_response(proxy, fault, status, words):
    r = post(proxy, OPENAI, {"model": f"gpt-5+fault={fault}", "messages": []})
    assert r.status_code == status, f"{fault}: got {r.status_code} {r.text[:300]}"
    assert r.headers.get("x-request-id")
    err = assert_openai_error(r.json())
    message = err["message"].lower()
    for alternatives in words:
        assert any(w in message for w in alternatives), f"{fault}: message {err['message']!r} lacks {alternatives}"
    # The proxy keeps serving.
    assert post(proxy, OPENAI, {"model": "gpt-5", "messages": []}).status_code == 200


def test_close_delimited_body_is_complete(proxy):
    r = post(proxy, OPENAI, {"model": "gpt-5+fault=close-delimited", "messages": []})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "close-delimited"


def test_fault_before_response_anthropic_shape(proxy):
    r = post(proxy, CLAUDE_PATH, {"model": CLAUDE + "+fault=reset-before-head", "max_tokens": 10,
                                  "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 502
    assert_anthropic_error(r.json())


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 503])
def test_upstream_error_status_kept(proxy, status):
    r = post(proxy, OPENAI, {"model": f"gpt-5+status={status}", "messages": []})
    assert r.status_code == status
    assert_openai_error(r.json())
    if status in (429, 503):
        assert r.headers.get("retry-after") == "7"


def test_upstream_error_status_kept_claude(proxy):
    r = post(proxy, CLAUDE_PATH, {"model": CLAUDE + "+status=503", "max_tokens": 10,
                                  "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 503
    assert r.headers.get("retry-after") == "7"
    assert_anthropic_error(r.json())


# MARK: faults after the stream started


def stream_text(proxy, path, body, timeout=15) -> tuple[int, str]:
    with httpx.stream("POST", proxy.base + path, json=body, timeout=timeout) as r:
        return r.status_code, r.read().decode()


def assert_openai_stream_error(text: str, fault: str):
    events = sse_events(text)
    assert events and events[-1]["data"] == "[DONE]", f"{fault}: stream must end with [DONE]: {text[-400:]!r}"
    errors = [json.loads(e["data"]) for e in events[:-1] if '"error"' in e["data"]]
    assert errors, f"{fault}: no error event in {text[-400:]!r}"
    err = assert_openai_error(errors[-1])
    assert '"error"' in events[-2]["data"], f"{fault}: the error event must come right before [DONE]"
    return err


STREAM_FAULTS = ["reset-mid", "stall-mid", "close-mid"]


@pytest.mark.parametrize("fault", STREAM_FAULTS)
def test_stream_fault_openai_route(proxy, fault):
    status, text = stream_text(proxy, OPENAI, {"model": f"gpt-5+fault={fault}+chunks=6", "messages": [],
                                               "stream": True})
    assert status == 200
    assert "tok0 " in text, "events before the fault reach the client"
    err = assert_openai_stream_error(text, fault)
    if fault == "stall-mid":
        assert "timeout" in err["type"] or "timeout" in str(err.get("code")), f"a stall is a timeout: {err}"
        assert "2000 ms" in err["message"] or "timed out" in err["message"].lower(), err


@pytest.mark.parametrize("fault", STREAM_FAULTS + ["midstream-error", "invalid-sse"])
def test_stream_fault_translation_route(proxy, fault):
    status, text = stream_text(proxy, TRANSLATE, {"model": f"{CLAUDE}+fault={fault}+chunks=6",
                                                  "messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert status == 200
    assert_openai_stream_error(text, fault)


@pytest.mark.parametrize("fault", STREAM_FAULTS + ["midstream-error", "invalid-sse"])
def test_stream_fault_claude_route(proxy, fault):
    status, text = stream_text(proxy, CLAUDE_PATH, {"model": f"{CLAUDE}+fault={fault}+chunks=6", "max_tokens": 10,
                                                    "messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert status == 200
    events = sse_events(text)
    assert events and events[0]["event"] == "message_start"
    assert events[-1]["event"] == "error", f"{fault}: last event {events[-1]!r}"
    assert_anthropic_error(json.loads(events[-1]["data"]))
    assert "message_stop" not in [e["event"] for e in events], f"{fault}: a failed stream must not look complete"


def test_stream_upstream_error_before_start(proxy):
    """An error status on a stream request is an ordinary error response, not a 200 stream."""
    r = post(proxy, OPENAI, {"model": "gpt-5+status=429", "messages": [], "stream": True})
    assert r.status_code == 429
    assert_openai_error(r.json())


# MARK: connection and TLS failures (a second proxy with broken upstreams)


@pytest.fixture(scope="module")
def broken(bin_path, registry, certs, mock):
    _, other_port = start_mock(bin_path, registry, certs["other_cert"], certs["other_key"], "mock-other-name")
    ups = {
        "dead": upstream(f"http://{HOST}:{dead_port()}", ca_file=None),
        "noca": upstream(mock["url"], ca_file=None),
        "wrongname": upstream(f"https://localhost:{other_port}", ca_file=certs["ca"]),
        "plainhttp": upstream(f"http://{HOST}:{mock['port']}", ca_file=None),
    }
    routes = []
    for name in ups:
        routes.append({"path": f"/{name}/v1/chat/completions", "upstream": name, "ingress": "openai-chat",
                       "egress": "openai-chat", "upstream_path": "/v1/openai/v1/chat/completions"})
    routes.append({"path": "/deadclaude/v1/messages", "upstream": "dead", "ingress": "anthropic-messages",
                   "egress": "bedrock-anthropic"})
    return start_proxy(bin_path, registry, "proxy-broken", {"upstreams": ups, "routes": routes})


def test_connection_refused_is_502(broken):
    r = post(broken, "/dead/v1/chat/completions", {"model": "gpt-5", "messages": []})
    assert r.status_code == 502, r.text
    assert_openai_error(r.json(), contains=["connect"])


def test_connection_refused_claude_shape(broken):
    r = post(broken, "/deadclaude/v1/messages", {"model": CLAUDE, "max_tokens": 5,
                                                 "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 502
    assert_anthropic_error(r.json())


def test_unknown_ca_is_502_certificate_verify(broken):
    r = post(broken, "/noca/v1/chat/completions", {"model": "gpt-5", "messages": []})
    assert r.status_code == 502, r.text
    assert_openai_error(r.json(), contains=["certificate verify"])


def test_wrong_hostname_is_502_mismatch(broken):
    r = post(broken, "/wrongname/v1/chat/completions", {"model": "gpt-5", "messages": []})
    assert r.status_code == 502, r.text
    assert_openai_error(r.json(), contains=["mismatch"])


def test_plain_http_to_tls_upstream_is_502(broken):
    r = post(broken, "/plainhttp/v1/chat/completions", {"model": "gpt-5", "messages": []})
    assert r.status_code in (502, 504), r.text
    assert_openai_error(r.json())


def test_broken_proxy_still_healthy(broken):
    assert httpx.get(broken.base + "/healthz", timeout=5).status_code == 200
