"""Claude's clients on GPT: `/provider/openai/format/anthropic/v1/messages` (anthropic-messages →
openai-chat) with the official `anthropic` SDK and the real Claude Code CLI, through the release binary
to the mock's OpenAI Chat endpoint."""

from __future__ import annotations

import json
import os

import anthropic
import pytest

from capture_server import TOOL_PROMPT, find_claude_bin
from helpers import httpx
from test_claude_code import run_claude, from_mock

BASE = "/provider/openai/format/anthropic"
ROUTE = BASE + "/v1/messages"
TOOLS = [{"name": "get_weather", "description": "Weather for a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]


@pytest.fixture(scope="module")
def client(proxy):
    return anthropic.Anthropic(api_key="sk-ant-client", base_url=proxy.base + BASE, max_retries=0, timeout=15)


def test_create_and_stream(client):
    m = client.messages.create(model="gpt-5", max_tokens=100, system="Be brief.",
                               messages=[{"role": "user", "content": "hi"}])
    assert m.role == "assistant" and m.content[0].text.startswith("Hello from the mini-proxy mock upstream.")
    assert m.stop_reason == "end_turn"
    with client.messages.stream(model="gpt-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text.startswith("tok0 tok1") and final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_tool_round_trip(client):
    prompt = 'Weather?\nmock:tool=get_weather\nmock:input={"city":"Paris"}'
    with client.messages.stream(model="claude-opus-5-5", max_tokens=100, tools=TOOLS,
                                messages=[{"role": "user", "content": prompt}]) as s:
        first = s.get_final_message()
    assert first.stop_reason == "tool_use"
    call = [b for b in first.content if b.type == "tool_use"][0]
    assert call.name == "get_weather" and call.input == {"city": "Paris"}
    second = client.messages.create(
        model="claude-opus-5-5", max_tokens=100, tools=TOOLS,
        messages=[{"role": "user", "content": prompt},
                  {"role": "assistant", "content": [c.model_dump(exclude_none=True) for c in first.content]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}]}])
    assert second.content[0].text == "tool result: sunny"


def test_models_list_in_anthropic_shape(proxy):
    r = httpx.get(proxy.base + BASE + "/v1/models", timeout=5)
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == ["gpt-5"]


@pytest.mark.skipif(find_claude_bin() is None, reason="Claude Code CLI not installed: run `make agents-venv`")
def test_claude_code_on_gpt(proxy, tmp_path):
    """Claude Code's default model (claude-opus-5-5, aliased to gpt-5 on this route) answers through GPT."""
    run = run_claude(find_claude_bin(), proxy, tmp_path, "-p", "say hi", base_path=BASE)
    assert run.returncode == 0, run.explain()
    assert from_mock(run.stdout), run.explain()
    lines = run.access(ROUTE)
    assert lines and all(status == 200 for status, _ in lines), run.explain()


@pytest.mark.skipif(find_claude_bin() is None, reason="Claude Code CLI not installed: run `make agents-venv`")
def test_claude_code_tool_round_trip_on_gpt(proxy, tmp_path):
    run = run_claude(find_claude_bin(), proxy, tmp_path, "-p", TOOL_PROMPT, "--allowedTools", "Bash", base_path=BASE)
    assert run.returncode == 0, run.explain()
    assert "tool result:" in run.stdout and "mock-tool-ok-42" in run.stdout, run.explain()
