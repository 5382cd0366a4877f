"""The official `anthropic` SDK on the Messages route (anthropic-messages → bedrock-anthropic)."""

from __future__ import annotations

import json
import time

import anthropic
import pytest

from conftest import CLAUDE
from helpers import assert_anthropic_error, assert_arrivals_spread, httpx, sse_events

MSG = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [{"name": "get_weather", "description": "Weather for a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"


@pytest.fixture(scope="module")
def client(proxy):
    return anthropic.Anthropic(api_key="sk-ant-client-key-not-upstream", base_url=proxy.base + "/bedrock/claude",
                               max_retries=0, timeout=15)


def test_messages_create(client):
    m = client.messages.create(model=CLAUDE, max_tokens=100, messages=MSG)
    assert m.type == "message" and m.role == "assistant"
    assert m.content[0].type == "text"
    assert m.content[0].text.startswith("Hello from the mini-proxy mock upstream.")
    assert m.stop_reason == "end_turn"
    assert (m.usage.input_tokens, m.usage.output_tokens) == (12, 40)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_messages_create_alias(client):
    m = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=MSG)
    assert m.content[0].text


def test_upstream_request_is_bedrock_shaped(client):
    m = client.messages.create(model=CLAUDE + "+echo", max_tokens=100, messages=MSG, system="be brief",
                               extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14"})
    seen = json.loads(m.content[0].text)
    assert seen["path"].endswith("/invoke")
    body = json.loads(seen["body"])
    assert body["anthropic_version"] == "bedrock-2023-05-31"
    assert "model" not in body and "stream" not in body
    assert body["max_tokens"] == 100 and body["system"] == "be brief"
    assert body.get("anthropic_beta") == ["interleaved-thinking-2025-05-14"]
    assert "sk-ant-client-key-not-upstream" not in json.dumps(seen), "x-api-key reached the upstream"


def test_messages_stream_text_and_final_message(client):
    arrivals, pieces = [], []
    with client.messages.stream(model=CLAUDE + "+chunks=5+delay=100", max_tokens=100, messages=MSG) as stream:
        for text in stream.text_stream:
            arrivals.append(time.monotonic())
            pieces.append(text)
        final = stream.get_final_message()
    assert "".join(pieces) == "tok0 tok1 tok2 tok3 tok4 "
    assert_arrivals_spread(arrivals, 0.1)
    assert final.id == "msg_mock"
    assert final.content[0].text == "tok0 tok1 tok2 tok3 tok4 "
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 6 and final.usage.input_tokens == 12


def test_tool_use_non_stream(client):
    m = client.messages.create(model=CLAUDE + "+tools", max_tokens=100, messages=MSG, tools=TOOLS)
    assert m.stop_reason == "tool_use"
    tool = [b for b in m.content if b.type == "tool_use"][0]
    assert tool.name == "get_weather" and tool.input == {"city": "Paris", "unit": "celsius"}


def test_tool_use_stream(client):
    with client.messages.stream(model=CLAUDE + "+parallel-tools+chunks=1", max_tokens=100, messages=MSG,
                                tools=TOOLS) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    tools = [b for b in final.content if b.type == "tool_use"]
    assert [(t.id, t.name, t.input) for t in tools] == [
        ("toolu_mock_1", "get_weather", {"city": "Paris"}), ("toolu_mock_2", "get_time", {"tz": "UTC"})]


def test_thinking_with_signature(client):
    m = client.messages.create(model=CLAUDE + "+thinking", max_tokens=2048, messages=MSG,
                               thinking={"type": "enabled", "budget_tokens": 1024})
    assert m.content[0].type == "thinking"
    assert m.content[0].signature == SIGNATURE
    with client.messages.stream(model=CLAUDE + "+thinking+chunks=2", max_tokens=2048, messages=MSG,
                                thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "thinking"
    assert final.content[0].thinking == "Let me think."
    assert final.content[0].signature == SIGNATURE, "signature must be byte-exact"
    assert final.content[1].text == "tok0 tok1 "


def test_midstream_error_raises(client):
    got = []
    with pytest.raises(anthropic.APIError) as info:
        with client.messages.stream(model=CLAUDE + "+fault=midstream-error+chunks=5", max_tokens=100,
                                    messages=MSG) as stream:
            for text in stream.text_stream:
                got.append(text)
    assert "".join(got) == "tok0 ", "text before the error is delivered"
    assert "overloaded" in str(info.value).lower(), f"the upstream's error should be surfaced: {info.value}"


def test_upstream_429(client):
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=CLAUDE + "+status=429", max_tokens=100, messages=MSG)
    assert info.value.status_code == 429
    assert info.value.response.headers.get("retry-after") == "7"
    assert_anthropic_error(info.value.body)


def test_missing_max_tokens_is_anthropic_400(proxy):
    r = httpx.post(proxy.base + "/bedrock/claude/v1/messages", json={"model": CLAUDE, "messages": MSG}, timeout=10)
    assert r.status_code == 400
    assert_anthropic_error(r.json(), contains=["max_tokens"])


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert "claude-sonnet-4-5" in ids and "gpt-5" not in ids


def test_raw_stream_has_event_lines(proxy):
    """Bedrock sends data-only SSE; the client must get `event: <type>` lines matching each data's type."""
    with httpx.stream("POST", proxy.base + "/bedrock/claude/v1/messages", timeout=10,
                      json={"model": CLAUDE + "+chunks=2", "max_tokens": 50, "messages": MSG, "stream": True},
                      headers={"anthropic-version": "2023-06-01"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers.get("x-request-id")
        text = r.read().decode()
    events = [e for e in sse_events(text) if e["event"] != "ping"]
    types = []
    for e in events:
        data = json.loads(e["data"])
        assert e["event"] == data["type"], f"event line {e['event']!r} for data type {data['type']!r}"
        types.append(data["type"])
    assert types == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop", "message_delta", "message_stop"]
    start = json.loads(events[0]["data"])["message"]
    assert start["id"] == "msg_mock" and start["role"] == "assistant" and start["content"] == []
    assert start["usage"]["input_tokens"] == 12
    assert "amazon-bedrock-invocationMetrics" not in text


def test_raw_midstream_error_event(proxy):
    with httpx.stream("POST", proxy.base + "/bedrock/claude/v1/messages", timeout=10,
                      json={"model": CLAUDE + "+fault=midstream-error", "max_tokens": 50, "messages": MSG,
                            "stream": True}) as r:
        assert r.status_code == 200
        text = r.read().decode()
    events = sse_events(text)
    assert events[-1]["event"] == "error", f"last event should be an error: {events[-3:]}"
    assert_anthropic_error(json.loads(events[-1]["data"]))


def test_betas_and_fields_bedrock_refuses_are_cut_by_the_profile(client):
    """What the strict mock (like Bedrock) refuses never reaches it: betas outside the profile, fields
    without their beta, tool and thinking keys, a system message inside `messages` (folded)."""
    kwargs = dict(
        model="claude-opus-4-6", max_tokens=100,
        betas=["oauth-2025-04-20", "claude-code-20250219", "fast-mode-2026-02-01"],
        messages=[{"role": "user", "content": "What is the weather in Paris?"},
                  {"role": "system", "content": "Answer in one word."}],
        tools=[{**TOOLS[0], "defer_loading": True}],
        extra_body={"context_management": {"edits": []}, "speed": "fast",
                    "thinking": {"type": "enabled", "budget_tokens": 1024, "display": "omitted"}},
    )
    m = client.beta.messages.create(**kwargs)
    assert m.content[-1].type == "text" and m.content[-1].text
    assert m.content[0].type == "thinking" and m.content[0].signature == SIGNATURE
    # What the upstream saw (the mock's echo, lenient about nothing but the body's own checks).
    kwargs["model"] = "claude-opus-4-6+echo"
    seen = json.loads(client.beta.messages.create(**kwargs).content[0].text)
    body = json.loads(seen["body"])
    assert seen["path"] == "/v1/bedrock/model/anthropic.claude-opus-4-6%2Becho-v1/invoke"  # dateless: -v1, no :0
    assert body["anthropic_beta"] == ["claude-code-20250219"]
    assert "context_management" not in body and "speed" not in body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert "defer_loading" not in body["tools"][0]
    assert [msg["role"] for msg in body["messages"]] == ["user"]
    assert [b["text"] for b in body["messages"][0]["content"]] == ["What is the weather in Paris?", "Answer in one word."]
