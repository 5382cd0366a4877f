"""The `openai` SDK on the translation route: OpenAI Chat in, Claude on Bedrock (data-only SSE) out."""

from __future__ import annotations

import json
import time

import openai
import pytest

from conftest import CLAUDE
from helpers import assert_arrivals_spread, httpx, sse_events

MSG = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "get_time", "description": "Current time",
                                      "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}},
]


@pytest.fixture(scope="module")
def client(proxy):
    return openai.OpenAI(api_key="sk-anything", base_url=proxy.base + "/provider/bedrock/format/openai/v1",
                         max_retries=0, timeout=15)


def collect_stream(stream):
    """Reassembles a chat.completion.chunk stream: text, tool calls by index, finish reason, usage."""
    text, tools, finish, usage, ids, created = [], {}, None, None, set(), set()
    role_first = None
    for i, chunk in enumerate(stream):
        ids.add(chunk.id)
        created.add(chunk.created)
        if chunk.usage is not None and not chunk.choices:
            usage = chunk.usage
            continue
        choice = chunk.choices[0]
        if i == 0:
            role_first = choice.delta.role
        if choice.delta.content:
            text.append(choice.delta.content)
        for tc in choice.delta.tool_calls or []:
            entry = tools.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
            if tc.id:
                assert entry["id"] in (None, tc.id), f"tool index {tc.index} got a second id"
                entry["id"] = tc.id
            if tc.function and tc.function.name:
                entry["name"] = tc.function.name
            if tc.function and tc.function.arguments:
                entry["arguments"] += tc.function.arguments
        if choice.finish_reason:
            finish = choice.finish_reason
    return {"text": "".join(text), "tools": tools, "finish": finish, "usage": usage, "ids": ids,
            "created": created, "role_first": role_first}


def test_non_stream(client):
    r = client.chat.completions.create(model=CLAUDE, messages=MSG, max_tokens=100)
    assert r.object == "chat.completion"
    assert r.choices[0].message.content.startswith("Hello from the mini-proxy mock upstream.")
    assert r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (12, 40)


def test_alias_resolves_to_bedrock_id(client):
    """The configured alias becomes the Bedrock id in the invoke path; the body is Bedrock-shaped."""
    r = client.chat.completions.create(model="claude-sonnet-4-5", messages=MSG)
    assert r.choices[0].message.content  # the alias alone reaches the mock (no options)
    seen = json.loads(client.chat.completions.create(model=CLAUDE + "+echo", messages=MSG,
                                                     temperature=0).choices[0].message.content)
    assert seen["path"].startswith("/v1/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert seen["path"].endswith("/invoke")
    body = json.loads(seen["body"])
    assert body["anthropic_version"] == "bedrock-2023-05-31"
    assert "model" not in body and "stream" not in body
    assert body["max_tokens"] == 1024, "default_max_tokens applies when the client sends none"
    assert body["temperature"] == 0, "temperature 0 is a value and must be kept"
    assert body["messages"][0]["role"] == "user"


def test_options_survive_dated_model_name(client):
    """`+option` suffixes on a plain Claude name must reach the mock (interface: works through every route)."""
    r = client.chat.completions.create(model="claude-3-7-sonnet-20250219+tools", messages=MSG, tools=TOOLS[:1])
    assert r.choices[0].finish_reason == "tool_calls", (
        "a dated Claude name with +tools lost its option on the way (id mapping appends -v1:0 after it)")


def test_non_stream_tools(client):
    r = client.chat.completions.create(model=CLAUDE + "+parallel-tools", messages=MSG, tools=TOOLS)
    assert r.choices[0].finish_reason == "tool_calls"
    calls = r.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert json.loads(calls[1].function.arguments) == {}
    assert calls[0].id != calls[1].id


def test_stream_text_arrives_one_by_one(client):
    arrivals = []
    stream = client.chat.completions.create(model=CLAUDE + "+chunks=5+delay=100", messages=MSG, stream=True)
    out = []
    first_role = None
    for chunk in stream:
        if chunk.choices:
            if first_role is None:
                first_role = chunk.choices[0].delta.role or "missing"
            if chunk.choices[0].delta.content:
                arrivals.append(time.monotonic())
                out.append(chunk.choices[0].delta.content)
    assert first_role == "assistant"
    assert "".join(out) == "tok0 tok1 tok2 tok3 tok4 "
    assert_arrivals_spread(arrivals, 0.1)


def test_stream_text_and_finish(client):
    s = collect_stream(client.chat.completions.create(model=CLAUDE + "+chunks=4", messages=MSG, stream=True))
    assert s["text"] == "tok0 tok1 tok2 tok3 "
    assert s["finish"] == "stop"
    assert s["role_first"] == "assistant"
    assert len(s["ids"]) == 1 and len(s["created"]) == 1, "one id and one created for the whole stream"
    assert s["usage"] is None, "no usage chunk unless the client asked"


@pytest.mark.parametrize("scenario,expected", [
    ("tools", {"get_weather": {"city": "Paris"}}),
    ("parallel-tools", {"get_weather": {"city": "Paris"}, "get_time": {"tz": "UTC"}}),
])
def test_stream_tool_calls(client, scenario, expected):
    s = collect_stream(client.chat.completions.create(
        model=f"{CLAUDE}+{scenario}+chunks=2", messages=MSG, tools=TOOLS, stream=True))
    assert s["finish"] == "tool_calls"
    assert sorted(s["tools"]) == list(range(len(expected))), f"tool indexes must be distinct: {s['tools']}"
    got = {}
    for index, t in sorted(s["tools"].items()):
        assert t["id"] and t["id"].startswith("toolu_"), t
        got[t["name"]] = json.loads(t["arguments"])  # must be valid JSON once reassembled
    assert got == expected
    assert len({t["id"] for t in s["tools"].values()}) == len(expected)
    assert s["text"] == "tok0 tok1 "


def test_stream_include_usage(client):
    s = collect_stream(client.chat.completions.create(
        model=CLAUDE + "+chunks=3", messages=MSG, stream=True, stream_options={"include_usage": True}))
    assert s["usage"] is not None, "include_usage asked for a final usage chunk"
    assert s["usage"].completion_tokens == 4, "output tokens come from message_delta, not message_start"
    assert s["usage"].prompt_tokens == 12
    assert s["usage"].total_tokens == 16


def test_thinking_not_in_content(client):
    s = collect_stream(client.chat.completions.create(model=CLAUDE + "+thinking+chunks=2", messages=MSG, stream=True))
    assert s["text"] == "tok0 tok1 "
    assert "think" not in s["text"].lower()
    r = client.chat.completions.create(model=CLAUDE + "+thinking", messages=MSG)
    assert "Let me think" not in (r.choices[0].message.content or "")
    assert r.choices[0].message.content.startswith("Hello from the mini-proxy mock upstream.")


def test_unicode_intact(client):
    s = collect_stream(client.chat.completions.create(model=CLAUDE + "+unicode+chunks=5", messages=MSG, stream=True))
    assert s["text"] == 'héllo ✓ 日本語 😀 "quoted"\n'


def test_raw_stream_framing(proxy):
    """Raw bytes: data-only chat.completion.chunk events, ending with data: [DONE]."""
    with httpx.stream("POST", proxy.base + "/provider/bedrock/format/openai/v1/chat/completions",
                      json={"model": CLAUDE + "+chunks=2", "messages": MSG, "stream": True}, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers.get("x-request-id")
        text = r.read().decode()
    events = sse_events(text)
    assert events[-1]["data"] == "[DONE]"
    for e in events[:-1]:
        assert e["event"] is None
        assert json.loads(e["data"])["object"] == "chat.completion.chunk"
    assert "amazon-bedrock-invocationMetrics" not in text


def test_bad_request_n_greater_than_one(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=CLAUDE, messages=MSG, n=2)
    assert info.value.status_code == 400


def test_upstream_error_is_openai_shaped(client):
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=CLAUDE + "+status=429", messages=MSG)
    assert info.value.response.headers.get("retry-after") == "7"
    assert isinstance(info.value.body, dict) and info.value.body.get("message")


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert "claude-sonnet-4-5" in ids and "gpt-5" not in ids
