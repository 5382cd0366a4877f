"""The credential command: run once for concurrent requests, cached, refreshed after a 401, failures
explained without the token, timeouts enforced, and no token in any log line.

Runs against its own proxy so the run counters belong to this module alone.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import command_auth, start_proxy, upstream
from helpers import assert_anthropic_error, assert_openai_error, httpx, processes_with_arg


@pytest.fixture(scope="module")
def states(workdir, registry):
    d = {name: workdir / f"tokens-{name}" for name in ("single", "reject", "fail", "hang")}
    registry.token_dirs.extend(d.values())
    return d


@pytest.fixture(scope="module")
def hang_script(workdir, token_script):
    # A copy with a unique name, so the test can look for a leftover process by its command line.
    p = workdir / "token_hang_e2e_marker.py"
    p.write_text(token_script.read_text())
    return p


@pytest.fixture(scope="module")
def cproxy(bin_path, registry, certs, mock, token_script, hang_script, states):
    ups = {
        # The command takes 1 s, so 20 concurrent requests all wait on the same run.
        "single": upstream(mock["url"], ca_file=certs["ca"],
                           auth=command_auth(token_script, states["single"], "good", 1.0)),
        "reject": upstream(mock["url"], ca_file=certs["ca"], auth=command_auth(token_script, states["reject"],
                                                                               "reject-first")),
        "fail": upstream(mock["url"], ca_file=certs["ca"], auth=command_auth(token_script, states["fail"], "fail")),
        "hang": upstream(mock["url"], ca_file=certs["ca"],
                         auth=command_auth(hang_script, states["hang"], "hang", command_timeout="700ms")),
    }
    routes = [{"path": f"/{n}/v1/chat/completions", "upstream": n, "ingress": "openai-chat", "egress": "openai-chat",
               "upstream_path": "/v1/openai/v1/chat/completions"} for n in ups]
    routes.append({"path": "/failclaude/v1/messages", "upstream": "fail", "ingress": "anthropic-messages",
                   "egress": "bedrock-anthropic"})
    return start_proxy(bin_path, registry, "proxy-credentials",
                       {"upstreams": ups, "routes": routes, "log_level": "debug", "access_log": True})


def runs(state) -> int:
    f = state / "runs"
    return len(f.read_text().splitlines()) if f.exists() else 0


def tokens(state) -> list[str]:
    f = state / "tokens"
    return f.read_text().split() if f.exists() else []


def chat(proxy, name, model="gpt-5", timeout=15):
    return httpx.post(f"{proxy.base}/{name}/v1/chat/completions", timeout=timeout,
                      json={"model": model, "messages": [{"role": "user", "content": "hi"}]})


def test_concurrent_requests_share_one_command_run(cproxy, states):
    assert runs(states["single"]) == 0, "the command must not run before a request needs it"
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: chat(cproxy, "single"), range(20)))
    assert [r.status_code for r in results] == [200] * 20, [r.text[:200] for r in results if r.status_code != 200]
    assert runs(states["single"]) == 1, "single flight: 20 waiting requests, one command run"
    # Cached: later requests don't run it again.
    for _ in range(3):
        assert chat(cproxy, "single").status_code == 200
    assert runs(states["single"]) == 1
    seen = json.loads(chat(cproxy, "single", "gpt-5+echo").json()["choices"][0]["message"]["content"])
    assert seen["headers"]["authorization"] == "slauth " + tokens(states["single"])[0]


def test_rejected_token_is_refreshed_and_retried(cproxy, states):
    r = chat(cproxy, "reject", "gpt-5+echo")
    assert r.status_code == 200, f"client should not see the upstream 401: {r.status_code} {r.text[:300]}"
    assert runs(states["reject"]) == 2, "one run, a 401, one refresh"
    first, second = tokens(states["reject"])
    assert first.startswith("rejected-")
    seen = json.loads(r.json()["choices"][0]["message"]["content"])
    assert seen["headers"]["authorization"] == "slauth " + second
    # The good token is cached now.
    assert chat(cproxy, "reject").status_code == 200
    assert runs(states["reject"]) == 2


def test_failing_command_is_502_with_exit_status(cproxy, states):
    r = chat(cproxy, "fail")
    assert r.status_code == 502, r.text
    err = assert_openai_error(r.json())
    msg = err["message"]
    assert "status 3" in msg or "exit 3" in msg or "code 3" in msg, f"exit status not reported: {msg!r}"
    assert "not logged in" in msg, f"the command's stderr line helps the user: {msg!r}"
    assert runs(states["fail"]) >= 1
    r2 = httpx.post(f"{cproxy.base}/failclaude/v1/messages", timeout=15,
                    json={"model": "claude-3-7-sonnet-20250219", "max_tokens": 5,
                          "messages": [{"role": "user", "content": "hi"}]})
    assert r2.status_code == 502
    assert_anthropic_error(r2.json())


def test_hanging_command_times_out(cproxy, states, hang_script):
    t0 = time.monotonic()
    r = chat(cproxy, "hang", timeout=15)
    elapsed = time.monotonic() - t0
    assert r.status_code in (502, 503, 504), r.text
    err = assert_openai_error(r.json())
    assert "timed out" in err["message"].lower() or "timeout" in err["message"].lower(), err
    assert elapsed < 5, f"command_timeout is 700 ms, the request took {elapsed:.1f} s"
    # The timed-out command must be killed, not left running.
    deadline = time.monotonic() + 3
    while processes_with_arg(hang_script.name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_with_arg(hang_script.name), "the timed-out credential command is still running"


def test_zz_no_token_in_logs(cproxy, states, proxy, main_token_state):
    """After the module: stop this proxy (flushing its log) and grep it for every token printed."""
    all_tokens = [t for s in states.values() for t in tokens(s)] + tokens(main_token_state)
    assert all_tokens, "the commands printed no tokens; nothing was tested"
    cproxy.process.stop()
    for p in (cproxy, proxy):
        text = p.process.log()
        assert text, f"{p.process.name} wrote no log at all (access_log is on)"
        for t in all_tokens:
            assert t not in text, f"token leaked into {p.process.log_path}"
            assert t.split(".")[-1] not in text, f"token signature leaked into {p.process.log_path}"
