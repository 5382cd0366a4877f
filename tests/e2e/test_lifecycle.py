"""Lifecycle and inbound access: SIGTERM lets in-flight streams finish, SIGHUP reloads (and refuses a bad
config), inbound API keys gate every route in its own dialect. Each test runs its own proxy."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest

from conftest import CLAUDE, MODELS, standard_routes, start_proxy, upstream
from helpers import assert_anthropic_error, assert_openai_error, httpx, sse_events, write_config

INBOUND_KEY = "mp-inbound-key-e2e-5f1c2a9b7d3e"


def base_config(mock, certs) -> dict:
    return {"upstreams": {"mock": upstream(mock["url"], ca_file=certs["ca"])},
            "routes": standard_routes("mock"), "models": MODELS}


def test_sigterm_lets_inflight_stream_finish(bin_path, registry, certs, mock):
    p = start_proxy(bin_path, registry, "proxy-sigterm", base_config(mock, certs))
    result = {}

    def read_stream():
        with httpx.stream("POST", p.base + "/openai/v1/chat/completions", timeout=10,
                          json={"model": "gpt-5+chunks=10+delay=100", "messages": [], "stream": True}) as r:
            result["status"] = r.status_code
            result["text"] = r.read().decode()

    t = threading.Thread(target=read_stream)
    t.start()
    time.sleep(0.3)  # the stream is under way
    p.process.popen.send_signal(signal.SIGTERM)
    t.join(timeout=10)
    assert not t.is_alive(), "the stream did not finish"
    assert result.get("status") == 200
    events = sse_events(result["text"])
    assert events[-1]["data"] == "[DONE]", "SIGTERM cut an in-flight stream short"
    content = "".join(json.loads(e["data"])["choices"][0]["delta"].get("content") or ""
                      for e in events[:-1] if json.loads(e["data"]).get("choices"))
    assert content == "".join(f"tok{i} " for i in range(10))
    try:
        code = p.process.popen.wait(timeout=5)
    except Exception:
        pytest.fail("proxy did not exit after SIGTERM once its streams finished")
    assert code == 0, f"exit status {code}:\n{p.process.log_tail()}"


def test_sigterm_stops_accepting(bin_path, registry, certs, mock):
    p = start_proxy(bin_path, registry, "proxy-sigterm-idle", base_config(mock, certs))
    p.process.popen.send_signal(signal.SIGTERM)
    p.process.popen.wait(timeout=5)
    with pytest.raises(httpx.TransportError):
        httpx.get(p.base + "/healthz", timeout=2)


def test_sighup_reloads_and_refuses_bad_config(bin_path, registry, certs, mock):
    config = base_config(mock, certs)
    p = start_proxy(bin_path, registry, "proxy-reload", config)
    assert httpx.get(p.base + "/extra/v1/models", timeout=5).status_code == 404

    # A valid change: a new route with its own models endpoint.
    config = json.loads(json.dumps(config))
    config["listen"] = f"127.0.0.1:{p.port}"
    config["routes"].append({"path": "/extra/v1/chat/completions", "upstream": "mock", "ingress": "openai-chat",
                             "egress": "openai-chat", "upstream_path": "/v1/openai/v1/chat/completions",
                             "models_path": "/extra/v1/models"})
    write_config(p.config_path, config)
    p.process.popen.send_signal(signal.SIGHUP)
    deadline, status = time.monotonic() + 5, 0
    while time.monotonic() < deadline and status != 200:
        status = httpx.get(p.base + "/extra/v1/models", timeout=5).status_code
        time.sleep(0.05)
    assert status == 200, f"SIGHUP did not load the new route:\n{p.process.log_tail()}"
    assert httpx.post(p.base + "/extra/v1/chat/completions", json={"model": "gpt-5", "messages": []},
                      timeout=10).status_code == 200

    # A broken change is refused; the running config keeps serving.
    p.config_path.write_text('{"routes": [{"path": "/x", "upstream": "nope"}]}')
    p.process.popen.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert p.process.alive(), f"a bad reload killed the proxy:\n{p.process.log_tail()}"
    assert httpx.get(p.base + "/extra/v1/models", timeout=5).status_code == 200
    assert "refused" in p.process.log().lower(), "the refused reload should be logged"


@pytest.fixture(scope="module")
def keyed(bin_path, registry, certs, mock):
    config = base_config(mock, certs)
    config["inbound_keys"] = [INBOUND_KEY]
    registry.secrets.append(INBOUND_KEY)
    return start_proxy(bin_path, registry, "proxy-inbound-keys", config)


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"x-api-key": "wrong"}],
                         ids=["missing", "wrong-bearer", "wrong-x-api-key"])
def test_inbound_key_required(keyed, headers):
    r = httpx.post(keyed.base + "/openai/v1/chat/completions", json={"model": "gpt-5", "messages": []},
                   headers=headers, timeout=10)
    assert r.status_code == 401
    assert_openai_error(r.json())
    r = httpx.post(keyed.base + "/bedrock/claude/v1/messages", headers=headers, timeout=10,
                   json={"model": CLAUDE, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401
    assert_anthropic_error(r.json())


def test_inbound_key_accepted_and_not_forwarded(keyed):
    for headers in ({"authorization": "Bearer " + INBOUND_KEY}, {"x-api-key": INBOUND_KEY}):
        r = httpx.post(keyed.base + "/openai/v1/chat/completions", headers=headers, timeout=10,
                       json={"model": "gpt-5+echo", "messages": []})
        assert r.status_code == 200, r.text
        seen = r.json()["choices"][0]["message"]["content"]
        assert INBOUND_KEY not in seen, "the inbound key reached the upstream"
    assert httpx.get(keyed.base + "/healthz", timeout=5).status_code == 200, "health needs no key"
