# Real agent CLIs for the e2e suite (tests/e2e/test_claude_code.py). Included from the Makefile.
#
# `make agents-venv`  creates .venv-agents/ (gitignored) and installs the pinned claude-agent-sdk into it,
#                     whose wheel bundles the Claude Code CLI (claude_agent_sdk/_bundled/claude). Only
#                     when missing: a stamp file per version makes the second run print nothing.
#
# $(CLAUDE_BIN) is the bundled CLI's path (empty until the venv exists); pass it to the suite as
# CLAUDE_BIN=$(CLAUDE_BIN). The test skips only when neither CLAUDE_BIN nor the venv is there.

PYTHON ?= python3
AGENTS_VENV := .venv-agents
CLAUDE_AGENT_SDK_VERSION ?= 0.2.184
AGENTS_STAMP := $(AGENTS_VENV)/.stamp-claude-agent-sdk-$(CLAUDE_AGENT_SDK_VERSION)

# Evaluated when used, so it sees a venv created earlier in the same make run; CLAUDE_BIN from the
# environment or the command line wins.
CLAUDE_BIN ?= $(shell [ -x $(AGENTS_VENV)/bin/python ] && $(AGENTS_VENV)/bin/python -c \
	'import claude_agent_sdk, pathlib; p = pathlib.Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"; print(p if p.is_file() else "")' \
	2>/dev/null)

.PHONY: agents-venv

agents-venv: $(AGENTS_STAMP)
	@:

$(AGENTS_STAMP):
	@[ -x $(AGENTS_VENV)/bin/python ] || $(PYTHON) -m venv $(AGENTS_VENV)
	@$(AGENTS_VENV)/bin/python -m pip install -q --disable-pip-version-check \
		"claude-agent-sdk==$(CLAUDE_AGENT_SDK_VERSION)"
	@rm -f $(AGENTS_VENV)/.stamp-claude-agent-sdk-*
	@touch $@
