# Fuzzing and sanitizers (issue 5). Included from the Makefile.
#
# `make fuzz`       builds each libFuzzer target into .build-fuzz/ and runs it for FUZZ_SECONDS
#                   (default 30) on a scratch copy of its seed corpus (fuzz/corpus/<target>/, never
#                   written to); fails on the first crash, leak, timeout or broken invariant.
#                   FUZZ_TARGETS="chunked sse" runs a subset.
# `make fuzz-build` only builds the targets.
# `make test-asan`  the whole XCTest suite under AddressSanitizer (.build-asan).
# `make test-tsan`  the whole XCTest suite under ThreadSanitizer (.build-tsan).
#
# The targets are compiled with swiftc directly, without SwiftPM: the pure-Swift sources they test are
# built once per group as a static library module with fuzzer coverage and ASan, then each target links
# against it. The HTTP/1.1 codec (Sources/HTTP1) compiles alone as its module `HTTP1`; its API has `package`
# access, so every module here is built with the package's name.

SWIFTC ?= swiftc
FUZZ_SECONDS ?= 30
FUZZ_DIR := .build-fuzz
FUZZ_FLAGS := -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name mini_proxy
# Crash reports come from ASan/libFuzzer; Swift's own backtracer would wait on the dying process.
FUZZ_ENV := SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1

FUZZ_HTTP_TARGETS := http_request http_response chunked
FUZZ_PROVIDERS_TARGETS := sse json json_edit translator_passthrough translator_anthropic_bedrock \
	translator_openai_bedrock translator_requests request_fast_paths translator_responses_bedrock translator_anthropic_openai
FUZZ_TARGETS ?= $(FUZZ_HTTP_TARGETS) $(FUZZ_PROVIDERS_TARGETS)

FUZZ_HTTP_SOURCES := $(wildcard Sources/HTTP1/*.swift)
FUZZ_PROVIDERS_SOURCES := $(shell find Sources/Providers -name '*.swift' | sort)
FUZZ_SUPPORT := $(wildcard fuzz/support/*.swift)
# Providers imports the CByteSearch system-library shim (a module map over libc's declarations).
FUZZ_PROVIDERS_C := -I Sources/CByteSearch

.PHONY: fuzz fuzz-build test-asan test-tsan

$(FUZZ_DIR)/http/libHTTP1.a: $(FUZZ_HTTP_SOURCES)
	@mkdir -p $(FUZZ_DIR)/http
	$(SWIFTC) $(FUZZ_FLAGS) -module-name HTTP1 -emit-library -static -emit-module \
	  -emit-module-path $(FUZZ_DIR)/http/HTTP1.swiftmodule -o $@ $(FUZZ_HTTP_SOURCES)

$(FUZZ_DIR)/providers/libProviders.a: $(FUZZ_PROVIDERS_SOURCES)
	@mkdir -p $(FUZZ_DIR)/providers
	$(SWIFTC) $(FUZZ_FLAGS) $(FUZZ_PROVIDERS_C) -enable-testing -module-name Providers -emit-library -static -emit-module \
	  -emit-module-path $(FUZZ_DIR)/providers/Providers.swiftmodule -o $@ $(FUZZ_PROVIDERS_SOURCES)

$(addprefix $(FUZZ_DIR)/bin/,$(FUZZ_HTTP_TARGETS)): $(FUZZ_DIR)/bin/%: fuzz/targets/http/%.swift $(FUZZ_SUPPORT) $(wildcard fuzz/http/*.swift) $(FUZZ_DIR)/http/libHTTP1.a
	@mkdir -p $(FUZZ_DIR)/bin
	$(SWIFTC) $(FUZZ_FLAGS) -module-name fuzz_$* -I $(FUZZ_DIR)/http -o $@ \
	  $< $(FUZZ_SUPPORT) $(wildcard fuzz/http/*.swift) $(FUZZ_DIR)/http/libHTTP1.a

$(addprefix $(FUZZ_DIR)/bin/,$(FUZZ_PROVIDERS_TARGETS)): $(FUZZ_DIR)/bin/%: fuzz/targets/providers/%.swift $(FUZZ_SUPPORT) $(wildcard fuzz/providers/*.swift) $(FUZZ_DIR)/providers/libProviders.a
	@mkdir -p $(FUZZ_DIR)/bin
	$(SWIFTC) $(FUZZ_FLAGS) -module-name fuzz_$* -I $(FUZZ_DIR)/providers $(FUZZ_PROVIDERS_C) -o $@ \
	  $< $(FUZZ_SUPPORT) $(wildcard fuzz/providers/*.swift) $(FUZZ_DIR)/providers/libProviders.a

fuzz-build: $(addprefix $(FUZZ_DIR)/bin/,$(FUZZ_TARGETS))

# Each target runs on a scratch corpus seeded from the committed one; new inputs stay in .build-fuzz.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  work=$(FUZZ_DIR)/corpus/$$t; mkdir -p $$work $(FUZZ_DIR)/artifacts; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_ENV) $(FUZZ_DIR)/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	    $$work fuzz/corpus/$$t 2>$(FUZZ_DIR)/$$t.log \
	    || { tail -n 60 $(FUZZ_DIR)/$$t.log; echo "fuzz $$t FAILED (log: $(FUZZ_DIR)/$$t.log)"; exit 1; }; \
	  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+ *DONE' $(FUZZ_DIR)/$$t.log || true; \
	done

# ASan: leak checking stays on, minus the toolchain's own leaks (fuzz/lsan.supp). The idle-TLS memory
# test measures RSS, which ASan's quarantine and redzones inflate tenfold, so it is skipped here (it
# runs in `make test`).
ASAN_SKIP := --skip 'TLSIdleMemoryTests.testIdlePairsStaySmall'

test-asan:
	$(SWIFT) build --build-tests -Xswiftc -sanitize=address --scratch-path .build-asan
	SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
	  $(SWIFT) test --skip-build --disable-swift-testing --scratch-path .build-asan $(ASAN_SKIP)

# TSan over the whole suite: the proxy integration tests run multi-worker servers over loopback.
test-tsan:
	$(SWIFT) build --build-tests -Xswiftc -sanitize=thread --scratch-path .build-tsan
	SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=halt_on_error=1 \
	  $(SWIFT) test --skip-build --disable-swift-testing --scratch-path .build-tsan
