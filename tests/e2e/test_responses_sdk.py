"""The official `openai` SDK's Responses API on Claude: `/provider/bedrock/format/openai/v1/responses`
(openai-responses → bedrock-anthropic) through the release binary to the strict Bedrock mock."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import CLAUDE

BASE = "/provider/bedrock/format/openai/v1"
TOOL = {"type": "function", "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture(scope="module")
def client(proxy):
    return openai.OpenAI(api_key="sk-client-not-upstream", base_url=proxy.base + BASE, max_retries=0, timeout=15)


def test_create(client):
    r = client.responses.create(model="claude-sonnet-4-5", input="What is the weather in Paris?",
                                instructions="Be brief.", max_output_tokens=200)
    assert r.status == "completed" and r.object == "response"
    assert r.output_text.startswith("Hello from the mini-proxy mock upstream.")
    assert r.usage.input_tokens == 12 and r.usage.output_tokens == 40


def test_stream_events_in_order(client):
    types = []
    text = ""
    with client.responses.stream(model="claude-sonnet-4-5", input="hi") as stream:
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
        final = stream.get_final_response()
    assert types[0] == "response.created" and types[1] == "response.in_progress"
    assert types[-1] == "response.completed"
    for t in ("response.output_item.added", "response.content_part.added", "response.output_text.done",
              "response.content_part.done", "response.output_item.done"):
        assert t in types, types
    assert text and final.output_text == text
    seqs = [e for e in types]
    assert len(seqs) == len(types)


def test_function_call_round_trip(client):
    prompt = 'Check the weather.\nmock:tool=get_weather\nmock:input={"city":"Paris"}'
    first = client.responses.create(model="claude-sonnet-4-5", input=prompt, tools=[TOOL])
    calls = [o for o in first.output if o.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris"}
    second = client.responses.create(
        model="claude-sonnet-4-5", tools=[TOOL],
        input=[{"role": "user", "content": prompt}, calls[0].model_dump(exclude_none=True),
               {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21 C"}])
    assert second.output_text == "tool result: sunny, 21 C"


def test_streamed_function_call(client):
    prompt = 'Weather?\nmock:tool=get_weather\nmock:input={"city":"Lyon"}'
    args = ""
    with client.responses.stream(model="claude-sonnet-4-5", input=prompt, tools=[TOOL]) as stream:
        for event in stream:
            if event.type == "response.function_call_arguments.delta":
                args += event.delta
        final = stream.get_final_response()
    assert json.loads(args) == {"city": "Lyon"}
    assert [o.type for o in final.output if o.type == "function_call"] == ["function_call"]


def test_stateless_requests_are_refused_clearly(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="claude-sonnet-4-5", input="hi", store=True)
    assert "store" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="claude-sonnet-4-5", input="hi", previous_response_id="resp_123")
    assert "previous_response_id" in str(e.value)


def test_upstream_error_in_openai_shape(client):
    with pytest.raises(openai.RateLimitError) as e:
        client.responses.create(model=CLAUDE + "+status=429+retry-after=120", input="hi")
    assert e.value.response.headers.get("retry-after") == "120"
