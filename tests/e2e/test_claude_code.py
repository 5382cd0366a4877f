"""The real Claude Code CLI through the proxy's Bedrock route to the strict mock upstream.

Claude Code (bundled in PyPI's claude-agent-sdk; `make agents-venv` installs the pinned release into
.venv-agents/, or point CLAUDE_BIN at a `claude` binary) runs offline with a scratch HOME and
`ANTHROPIC_BASE_URL=<proxy>/bedrock/claude`. What it sends is in fixtures/claude-code/ (recorded with
`python3 tests/e2e/capture_server.py record-claude-code`): a `role: system` message inside `messages`,
tools with `defer_loading`, betas Bedrock has never heard of, adaptive thinking with `display`,
`context_management`, `output_config`. The bundled mock refuses all of that the way Bedrock does
(400 `invalid beta flag`, `extraneous key`, `expected user or assistant`), so a run only succeeds when
the proxy shapes the request for Bedrock, or heals after a 400.

Every CLI run has a 120 s deadline; its process group is killed (by PID) if it overruns.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from capture_server import REPO, TOOL_PROMPT, claude_env, find_claude_bin
from conftest import start_proxy, upstream
from helpers import ACCESS, HOST, CLIRun, Process, Proxy, free_port, run_cli

VENV = REPO / ".venv-agents"
pytestmark = pytest.mark.skipif(
    not os.environ.get("CLAUDE_BIN") and not VENV.exists(),
    reason="Claude Code CLI not installed: run `make agents-venv` (claude-agent-sdk into .venv-agents/) "
           "or set CLAUDE_BIN to a claude binary",
)

RUN_TIMEOUT = 120
# The mock's text: its fixed reply (MockBodies.reply), or, on streams, its token chunks (`tok0 tok1 ...`).
MOCK_TEXTS = ("Hello from the mini-proxy mock upstream.", "tok0 tok1 tok2 ")
ROUTE = "/bedrock/claude/v1/messages"
MODELS_ROUTE = "/bedrock/claude/v1/models"

# Every beta Claude Code 2.1.327 sends across the cases in fixtures/claude-code/ (per model it sends a
# subset). The healing test's mock accepts all of them but MISSING_BETA, which every model's request
# carries and which the proxy's Bedrock profile lets through: the mock's 400 `invalid beta flag`
# (naming nothing) is then the proxy's to heal. The CLI alone would not recover: after that 400 it
# retries without thinking-token-count and advanced-tool-use only, and gives up.
CLAUDE_CODE_BETAS = [
    "claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
    "per-turn-control-2026-07-01", "mid-conversation-tool-changes-2026-07-01",
    "thinking-token-count-2026-05-13", "advanced-tool-use-2025-11-20", "effort-2025-11-24",
    "thinking-display-updates-2026-08-18", "context-1m-2025-08-07",
]
MISSING_BETA = "interleaved-thinking-2025-05-14"

Run = CLIRun


@pytest.fixture(scope="module")
def claude_bin() -> str:
    path = find_claude_bin()
    if path is None:
        pytest.fail(f"Claude Code CLI not found (CLAUDE_BIN={os.environ.get('CLAUDE_BIN')!r}, {VENV} "
                    "without claude_agent_sdk/_bundled/claude): run `make agents-venv`", pytrace=False)
    return path


def claude_proxy_config(up: dict, **route: object) -> dict:
    """The demo's Claude route (config/demo.yaml), with nothing Claude-Code-specific configured."""
    return {
        "upstreams": {"mock": up},
        "routes": [{"path": ROUTE, "upstream": "mock", "ingress": "anthropic-messages", "egress": "bedrock-anthropic",
                    "upstream_path": "/v1/bedrock/model/{model}/{action}", "cors": True,
                    "models_path": MODELS_ROUTE, **route}],
        "models": [
            {"id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "owned_by": "anthropic",
             "created": 1759104000, "dialects": ["bedrock-anthropic"]},
            {"id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "owned_by": "anthropic",
             "created": 1760486400, "dialects": ["bedrock-anthropic"]},
        ],
        "log_level": "debug",
        "access_log": True,
    }


@pytest.fixture(scope="module")
def cc_proxy(bin_path, registry, certs, mock) -> Proxy:
    """The proxy in front of the session's TLS mock (strict, like Bedrock)."""
    up = upstream(mock["url"], ca_file=certs["ca"], first_byte="20s", idle="20s")
    return start_proxy(bin_path, registry, "proxy-claude-code", claude_proxy_config(up))


@pytest.fixture(scope="module")
def healing_proxy(bin_path, registry, certs, workdir) -> Proxy:
    """A proxy in front of a mock whose --rules accept every beta Claude Code sends but MISSING_BETA."""
    rules = workdir / "mock-rules-claude-code.json"
    rules.write_text(json.dumps({"betas": [b for b in CLAUDE_CODE_BETAS if b != MISSING_BETA]}))
    port = free_port()
    proc = Process("mock-claude-code-rules",
                   [bin_path, "mock", "--listen", f"{HOST}:{port}", "--tls-cert", str(certs["cert"]),
                    "--tls-key", str(certs["key"]), "--rules", str(rules)],
                   workdir / "mock-claude-code-rules.log")
    registry.processes.append(proc)
    proc.start()
    proc.wait_port(port)
    up = upstream(f"https://localhost:{port}", ca_file=certs["ca"], first_byte="20s", idle="20s")
    return start_proxy(bin_path, registry, "proxy-claude-code-heal", claude_proxy_config(up))


@pytest.fixture(scope="module")
def any_betas_proxy(bin_path, registry, certs, mock) -> Proxy:
    """The route with `profile: {betas: any}`: every beta Claude Code sends goes to the strict mock."""
    up = upstream(mock["url"], ca_file=certs["ca"], first_byte="20s", idle="20s")
    return start_proxy(bin_path, registry, "proxy-claude-code-any-betas",
                       claude_proxy_config(up, profile={"betas": "any"}))


def run_claude(claude_bin: str, proxy: Proxy, tmp_path: Path, *args: str, env: dict[str, str] | None = None,
               base_path: str = "/bedrock/claude") -> Run:
    """`claude <args>` with a scratch HOME (also its working directory) against the proxy's route at
    `base_path` (ANTHROPIC_BASE_URL), offline."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    argv = [claude_bin, *args]
    return Run(argv, *run_cli(argv, home, claude_env(home, proxy.base + base_path, env), proxy.process.log_path,
                              RUN_TIMEOUT))


def from_mock(text: str) -> bool:
    return any(t in text for t in MOCK_TEXTS)


def assert_clean(run: Run, posts: int = 1) -> None:
    """Exit 0; each Messages request answered 200 without any 4xx, to the CLI or from the upstream."""
    assert run.returncode == 0, "claude failed" + run.explain()
    lines = run.access(ROUTE)
    assert len(lines) >= posts, f"expected {posts}+ POST {ROUTE} in the access log" + run.explain()
    assert all(status == 200 for status, _ in lines), "a Messages request was not 200" + run.explain()
    fours = [line for line in run.log.splitlines()
             if (m := ACCESS.match(line)) and (m.group(3).startswith("4") or re.search(r"upstream=\S*/4\d\d\b", line))]
    assert not fours, f"4xx in the access log: {fours}" + run.explain()


# MARK: plain prompts, one per model Claude Code picks


@pytest.mark.parametrize("model", [None, "sonnet", "haiku", "claude-opus-4-6"],
                         ids=["default", "sonnet", "haiku", "claude-opus-4-6"])
def test_print_mode(claude_bin, cc_proxy, tmp_path, model):
    args = ["-p", "say hi"] + (["--model", model] if model else [])
    run = run_claude(claude_bin, cc_proxy, tmp_path, *args)
    assert_clean(run)
    assert from_mock(run.stdout), "the mock's reply is not in the output" + run.explain()
    # The access log ties the line to Claude Code's session and says what the profile cut (names only).
    _, line = run.access(ROUTE)[-1]
    assert re.search(r'session="[0-9a-f-]{36}"', line), line
    assert 'removed="' in line and "thinking key display" in line, line
    if model in (None, "sonnet", "haiku"):  # the 5-5 models send a role:system message
        assert "role system (folded into the user turn)" in line, line


def test_stream_json(claude_bin, cc_proxy, tmp_path):
    run = run_claude(claude_bin, cc_proxy, tmp_path, "-p", "say hi", "--output-format", "stream-json", "--verbose")
    assert_clean(run)
    events = []
    for line in run.stdout.splitlines():
        if line.strip():
            try:
                events.append(json.loads(line))
            except ValueError:
                pytest.fail(f"not a JSON line: {line[:300]!r}" + run.explain(), pytrace=False)
    assert events and events[0].get("type") == "system", run.explain()
    results = [e for e in events if e.get("type") == "result"]
    assert len(results) == 1, "expected one result event" + run.explain()
    result = results[0]
    assert result.get("subtype") == "success" and not result.get("is_error"), run.explain()
    assert from_mock(result.get("result", "")), run.explain()


# MARK: a tool round trip (tool_use from the mock, Bash runs locally, tool_result back through the proxy)


def test_tool_round_trip(claude_bin, cc_proxy, tmp_path):
    # --allowedTools works as root without IS_SANDBOX (--dangerously-skip-permissions refuses root unless
    # IS_SANDBOX=1). `echo` alone would be auto-approved as read-only; the flag keeps the test independent
    # of that heuristic.
    run = run_claude(claude_bin, cc_proxy, tmp_path, "-p", TOOL_PROMPT, "--allowedTools", "Bash")
    assert_clean(run, posts=2)
    assert "tool result:" in run.stdout and "mock-tool-ok-42" in run.stdout, \
        "the tool did not run, or its result did not come back through the proxy" + run.explain()


# MARK: model discovery (GET /v1/models through the proxy)


def test_gateway_model_discovery(claude_bin, cc_proxy, tmp_path):
    run = run_claude(claude_bin, cc_proxy, tmp_path, "-p", "say hi",
                     env={"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"})
    assert_clean(run)
    assert from_mock(run.stdout), run.explain()
    models = run.access(MODELS_ROUTE, method="GET")
    assert models, f"no GET {MODELS_ROUTE} in the access log" + run.explain()
    assert all(status == 200 for status, _ in models), run.explain()


# MARK: self-healing (an upstream that refuses one beta the proxy lets through)


def test_heals_refused_beta(claude_bin, healing_proxy, tmp_path):
    run = run_claude(claude_bin, healing_proxy, tmp_path, "-p", "say hi")
    assert run.returncode == 0, "claude failed against a mock refusing " + MISSING_BETA + run.explain()
    assert from_mock(run.stdout), run.explain()
    lines = run.access(ROUTE)
    assert lines and all(status == 200 for status, _ in lines), "the CLI saw an error" + run.explain()
    said = [line for line in run.log.splitlines()
            if MISSING_BETA in line and re.search(r"(?i)remov|drop|strip|heal|learn|without", line)]
    assert said, f"the proxy log does not say it removed {MISSING_BETA}" + run.explain()
    # Remembered: the next session's requests are right the first time (no upstream 400, nothing learned).
    again = run_claude(claude_bin, healing_proxy, tmp_path, "-p", "say hi")
    assert_clean(again)
    assert "refused" not in again.log, "the proxy learned the same thing twice" + again.explain()


def test_unknown_betas_pass_then_heal_to_the_known_good_list(claude_bin, any_betas_proxy, tmp_path):
    """`betas: any` lets Claude Code's newest betas through; the strict mock refuses them (`invalid beta
    flag`, naming none) and the proxy retries with only the betas known to work on Bedrock."""
    run = run_claude(claude_bin, any_betas_proxy, tmp_path, "-p", "say hi")
    assert_clean(run)
    assert from_mock(run.stdout), run.explain()
    said = [line for line in run.log.splitlines() if "refused betas outside the known-good list" in line]
    assert said and "per-turn-control-2026-07-01" in said[0], "no healing line naming the new beta" + run.explain()
