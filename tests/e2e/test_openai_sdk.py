"""The official `openai` SDK through the proxy's OpenAI route (openai-chat → openai-chat) to the mock."""

from __future__ import annotations

import json
import time

import openai
import pytest

from conftest import main_tokens
from helpers import assert_arrivals_spread, httpx

CLIENT_KEY = "sk-client-secret-must-not-go-upstream"


@pytest.fixture(scope="module")
def client(proxy):
    return openai.OpenAI(api_key=CLIENT_KEY, base_url=proxy.base + "/openai/v1", max_retries=0, timeout=15)


def echo(client, **kwargs) -> dict:
    """Asks the mock to describe what it received (method, path, headers, body)."""
    r = client.chat.completions.create(model="gpt-5+echo", messages=[{"role": "user", "content": "hi"}], **kwargs)
    return json.loads(r.choices[0].message.content)


def test_non_stream_content_and_usage(client):
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-5", messages=[{"role": "user", "content": "hello"}])
    assert raw.headers.get("x-request-id"), "every response carries X-Request-Id"
    r = raw.parse()
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content.startswith("Hello from the mini-proxy mock upstream.")
    assert r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (12, 40, 52)


def test_stream_chunks_arrive_one_by_one(client):
    """With 100 ms between upstream events the client must see the gaps: nothing is batched."""
    arrivals: list[tuple[float, str]] = []
    finish = None
    stream = client.chat.completions.create(
        model="gpt-5+chunks=6+delay=100", messages=[{"role": "user", "content": "hi"}], stream=True)
    for chunk in stream:
        now = time.monotonic()
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append((now, chunk.choices[0].delta.content))
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    assert [t for _, t in arrivals] == [f"tok{i} " for i in range(6)]
    assert finish == "stop"
    assert_arrivals_spread([t for t, _ in arrivals], 0.1)


def test_stream_include_usage(client):
    chunks = list(client.chat.completions.create(
        model="gpt-5+chunks=3", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "tok0 tok1 tok2 "


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert "gpt-5" in ids
    assert "claude-sonnet-4-5" not in ids, "openai-chat models endpoint lists only openai-chat models"


def test_upstream_429_is_rate_limit_error(client):
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-5+status=429", messages=[{"role": "user", "content": "hi"}])
    e = info.value
    assert e.status_code == 429
    assert e.response.headers.get("retry-after") == "7", "Retry-After from the upstream is kept"
    assert e.response.headers.get("x-request-id")
    assert isinstance(e.body, dict) and e.body.get("message"), f"OpenAI error body expected, got {e.body!r}"


def test_upstream_500_keeps_status(client):
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="gpt-5+status=500", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 500


def test_rename_max_tokens(client):
    seen = echo(client, max_tokens=77)
    body = json.loads(seen["body"])
    assert body.get("max_completion_tokens") == 77
    assert "max_tokens" not in body
    assert seen["method"] == "POST" and seen["path"] == "/v1/openai/v1/chat/completions"


def test_unknown_fields_pass_byte_exact(proxy):
    """Only max_tokens is renamed; every other byte of the body reaches the upstream unchanged."""
    unknown = '"x_unknown":{"n":[1,2.50,1e3,-0.0],"s":"caf\\u00e9 \\ud83d\\ude00","deep":{"a":null,"b":true}}'
    raw = ('{"model":"gpt-5+echo","messages":[{"role":"user","content":"hi"}],"temperature":0.70,'
           '"max_tokens":5,' + unknown + ',"seed":42}')
    r = httpx.post(proxy.base + "/openai/v1/chat/completions", content=raw.encode(),
                   headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text
    seen = json.loads(r.json()["choices"][0]["message"]["content"])
    upstream_body = seen["body"]
    assert unknown in upstream_body, f"unknown field altered: {upstream_body}"
    assert '"temperature":0.70' in upstream_body and '"seed":42' in upstream_body
    assert '"max_tokens"' not in upstream_body and '"max_completion_tokens":5' in upstream_body


def test_client_credentials_never_go_upstream(client, main_token_state):
    seen = echo(client, extra_headers={"Cookie": "session=client-cookie", "x-api-key": "client-x-api-key"})
    h = seen["headers"]
    assert CLIENT_KEY not in json.dumps(seen), "the client's Authorization reached the upstream"
    assert "client-x-api-key" not in json.dumps(seen) and "client-cookie" not in json.dumps(seen)
    assert h.get("x-atlassian-cloudid") == "test-cloud"
    assert h.get("x-atlassian-usecaseid") == "mini-proxy-e2e"
    tokens = main_tokens(main_token_state)
    assert tokens, "the credential command never ran"
    assert h.get("authorization") in {"slauth " + t for t in tokens}
    assert h.get("host", "").startswith("localhost"), f"upstream Host should be the upstream's: {h.get('host')}"
    assert h.get("user-agent", "").startswith("mini-proxy/")


def test_request_id_kept_and_returned(proxy):
    r = httpx.post(proxy.base + "/openai/v1/chat/completions", json={"model": "gpt-5", "messages": []},
                   headers={"x-request-id": "e2e-req-12345"}, timeout=10)
    assert r.headers.get("x-request-id") == "e2e-req-12345"


def test_passthrough_responses_route(proxy):
    """The pass-through route forwards the body unchanged with the upstream's credentials."""
    raw = b'{"model":"gpt-5+echo","input":"hi","max_tokens":3}'
    r = httpx.post(proxy.base + "/openai/v1/responses", content=raw,
                   headers={"content-type": "application/json", "authorization": "Bearer " + CLIENT_KEY}, timeout=10)
    assert r.status_code == 200, r.text
    seen = json.loads(r.json()["choices"][0]["message"]["content"])
    assert seen["path"] == "/v1/openai/v1/responses"
    assert seen["body"] == raw.decode(), "pass-through must not edit the body"
    assert CLIENT_KEY not in json.dumps(seen)
    assert seen["headers"].get("authorization", "").startswith("slauth ")
