"""What each answer said of itself reaches the access log and the metrics: token usage, stop reason,
time to first byte and first token, route, client and upstream model, the inbound key's name (never
the key), on every route kind, JSON and streamed, read from the bytes the client got.

A client that closes right after its dialect's last event (Codex closes on `response.completed`,
before the chunked framing's last chunk) had the whole answer: it is logged with the upstream's
status, not 499. One that leaves before that is 499.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import pytest

from conftest import CLAUDE, MODELS, command_auth, standard_routes, start_proxy, upstream
from helpers import HOST, httpx, request_bytes

KEYS = [{"name": "team-a", "key": "usage-key-aaa"}, "usage-key-bbb"]
WAIT = 5.0


@pytest.fixture(scope="module")
def logged(bin_path, registry, certs, mock, token_script, workdir):
    state = workdir / "tokens-usage"
    registry.token_dirs.append(state)
    log_path = workdir / "usage-access.jsonl"
    registry.secrets += ["usage-key-aaa", "usage-key-bbb"]
    config = {
        "upstreams": {"mock": upstream(mock["url"], ca_file=certs["ca"], auth=command_auth(token_script, state))},
        "routes": standard_routes("mock"),
        "models": MODELS,
        "inbound_keys": KEYS,
        "access_log": {"enabled": True, "format": "json", "path": str(log_path)},
        "metrics": {"enabled": True},
    }
    proxy = start_proxy(bin_path, registry, "proxy-usage", config)
    return proxy, log_path


def line_for(log_path: Path, request_id: str) -> dict:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if log_path.exists():
            for raw in log_path.read_text().splitlines():
                entry = json.loads(raw)
                if entry.get("request_id") == request_id:
                    return entry
        time.sleep(0.05)
    raise AssertionError(f"no access-log line for {request_id} in {log_path}")


def post(proxy, path: str, body: dict, key: str = "usage-key-aaa") -> tuple[httpx.Response, str]:
    rid = "usage-" + uuid.uuid4().hex[:12]
    headers = {"Authorization": f"Bearer {key}", "X-Request-Id": rid}
    r = httpx.post(proxy.base + path, json=body, headers=headers, timeout=10)
    return r, rid


MSGS = [{"role": "user", "content": "hi"}]
CASES = {
    # name: (path, body, stop reason the client saw)
    "openai-json": ("/openai/v1/chat/completions", {"model": "gpt-5", "messages": MSGS}, "stop"),
    "openai-stream": ("/openai/v1/chat/completions",
                      {"model": "gpt-5", "messages": MSGS, "stream": True, "stream_options": {"include_usage": True}}, "stop"),
    "passthrough-responses-stream": ("/openai/v1/responses", {"model": "gpt-5", "input": "hi", "stream": True}, "completed"),
    "passthrough-responses-json": ("/openai/v1/responses", {"model": "gpt-5", "input": "hi"}, "completed"),
    "anthropic-json": ("/bedrock/claude/v1/messages", {"model": CLAUDE, "max_tokens": 100, "messages": MSGS}, "end_turn"),
    "anthropic-stream": ("/bedrock/claude/v1/messages",
                         {"model": CLAUDE, "max_tokens": 100, "messages": MSGS, "stream": True}, "end_turn"),
    "chat-to-bedrock-stream": ("/provider/bedrock/format/openai/v1/chat/completions",
                               {"model": CLAUDE, "messages": MSGS, "stream": True,
                                "stream_options": {"include_usage": True}}, "stop"),
    "responses-to-bedrock-stream": ("/provider/bedrock/format/openai/v1/responses",
                                    {"model": CLAUDE, "input": "hi", "stream": True}, "completed"),
    "responses-to-bedrock-json": ("/provider/bedrock/format/openai/v1/responses", {"model": CLAUDE, "input": "hi"}, "completed"),
    "anthropic-to-gpt-stream": ("/provider/openai/format/anthropic/v1/messages",
                                {"model": "claude-opus-5-5", "max_tokens": 100, "messages": MSGS, "stream": True}, "end_turn"),
    "anthropic-to-gpt-json": ("/provider/openai/format/anthropic/v1/messages",
                              {"model": "claude-opus-5-5", "max_tokens": 100, "messages": MSGS}, "end_turn"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_usage_and_timings_in_the_log(logged, case):
    proxy, log_path = logged
    path, body, stop = CASES[case]
    r, rid = post(proxy, path, body)
    assert r.status_code == 200, r.text
    line = line_for(log_path, rid)
    assert line["status"] == 200
    assert line["route"] == path
    assert line["key"] == "team-a"
    assert line["stop"] == stop, line
    assert line["input_tokens"] > 0 and line["output_tokens"] > 0, line
    assert 0 <= line["ttfb_ms"] <= line["duration_ms"], line
    if body.get("stream"):
        assert 0 <= line["ttft_ms"] <= line["duration_ms"], line
    else:
        assert "ttft_ms" not in line
    if "to-bedrock" in case or case.startswith("anthropic-"):
        assert line["model"] == body["model"]
    if "bedrock" in case or case.startswith("anthropic-json") or case.startswith("anthropic-stream"):
        assert line["upstream_model"].startswith("us.anthropic.") or line["upstream_model"] == CLAUDE, line
    if "to-gpt" in case:
        assert line["upstream_model"] == "gpt-5", line
    raw = json.dumps(line)
    assert "usage-key-aaa" not in raw and "Bearer" not in raw


def test_the_key_name_is_logged_never_the_key(logged):
    proxy, log_path = logged
    r, rid = post(proxy, "/openai/v1/chat/completions", {"model": "gpt-5", "messages": MSGS}, key="usage-key-bbb")
    assert r.status_code == 200
    line = line_for(log_path, rid)
    assert line["key"] == "key-2"
    assert "usage-key-bbb" not in log_path.read_text()


def test_tokens_reach_the_metrics(logged):
    proxy, _ = logged
    post(proxy, "/bedrock/claude/v1/messages", {"model": CLAUDE, "max_tokens": 100, "messages": MSGS})
    text = httpx.get(proxy.base + "/metrics", headers={"Authorization": "Bearer usage-key-aaa"}, timeout=5).text
    from prometheus_client.parser import text_string_to_metric_families
    tokens = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "mini_proxy_tokens_total":
                tokens[(s.labels["route"], s.labels["kind"])] = s.value
    assert tokens.get(("/bedrock/claude/v1/messages", "input"), 0) > 0, tokens
    assert tokens.get(("/bedrock/claude/v1/messages", "output"), 0) > 0, tokens


def _stream_then_close(proxy, path: str, body: dict, until: bytes | None) -> str:
    """Reads a stream up to `until` (None: its first bytes), then resets the connection."""
    rid = "leave-" + uuid.uuid4().hex[:12]
    payload = json.dumps(body).encode()
    s = socket.create_connection((HOST, proxy.port), timeout=WAIT)
    s.sendall(request_bytes("POST", path, payload, {"Content-Type": "application/json",
                                                   "Authorization": "Bearer usage-key-aaa", "X-Request-Id": rid}))
    got = b""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        if (until is None and b"\r\n\r\n" in got) or (until is not None and until in got):
            break
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    return rid


def test_a_client_closing_after_the_last_event_is_not_a_499(logged, mock):
    proxy, log_path = logged
    # The mock holds the stream's end back for a moment, so the client closes before the framing ends.
    body = {"model": "gpt-5+end-delay=300", "input": "hi", "stream": True}
    rid = _stream_then_close(proxy, "/openai/v1/responses", body, until=b"event: response.completed\n")
    line = line_for(log_path, rid)
    assert line["status"] == 200, line
    assert line["note"] == "client closed after the end of the stream"
    assert line["stop"] == "completed"


def test_a_client_leaving_before_the_last_event_is_a_499(logged):
    proxy, log_path = logged
    body = {"model": "gpt-5+chunks=400+delay=20", "input": "hi", "stream": True}
    rid = _stream_then_close(proxy, "/openai/v1/responses", body, until=b"response.output_text.delta")
    line = line_for(log_path, rid)
    assert line["status"] == 499, line
