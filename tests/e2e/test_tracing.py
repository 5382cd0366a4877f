"""OpenTelemetry traces through the release binary: a tiny OTLP/HTTP receiver on 127.0.0.1 decodes each
export with the official `opentelemetry-proto` package (`ExportTraceServiceRequest` through
`google.protobuf.json_format.Parse`, which rejects unknown keys and wrong types), and the TLS mock
upstream echoes the headers it received (`+echo` on the model, or any pass-through path), so each test
checks both ends of the trace: the span the proxy exported and the `traceparent` the upstream saw.

OTLP/JSON writes trace and span ids as hex, where protobuf's own JSON mapping uses base64: the receiver
checks the hex form and converts it before `Parse`, as the collector does. Each test runs its own proxy;
every process is stopped by PID."""

from __future__ import annotations

import base64
import copy
import json
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from conftest import CLAUDE, MODELS, standard_routes, start_proxy, upstream
from helpers import HOST, dead_port, httpx, sse_events

MESSAGES = "/bedrock/claude/v1/messages"
CHAT = "/openai/v1/chat/completions"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
SECRET = "query-secret-value"


class Collector:
    """An OTLP/HTTP JSON receiver: every export decoded with opentelemetry-proto, its spans kept."""

    def __init__(self, status: int = 200):
        self.status = status
        self.lock = threading.Lock()
        self.requests: list[ExportTraceServiceRequest] = []
        self.raw: list[dict] = []
        self.errors: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    outer.receive(self.path, self.headers, body)
                except Exception as e:  # recorded, asserted on by the test
                    with outer.lock:
                        outer.errors.append(repr(e))
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}/v1/traces"

    def receive(self, path: str, headers, body: bytes) -> None:
        assert path == "/v1/traces", path
        assert headers.get("Content-Type") == "application/json", headers.get("Content-Type")
        doc = json.loads(body)
        # OTLP/JSON: ids are lowercase hex; protobuf's JSON mapping wants base64 for bytes fields.
        converted = copy.deepcopy(doc)
        for rs in converted["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    assert HEX32.match(span["traceId"]), span["traceId"]
                    assert HEX16.match(span["spanId"]), span["spanId"]
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in span:
                            if key == "parentSpanId":
                                assert HEX16.match(span[key]), span[key]
                            span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
        req = json_format.Parse(json.dumps(converted), ExportTraceServiceRequest())
        with self.lock:
            self.requests.append(req)
            self.raw.append(doc)

    def spans(self) -> list[Span]:
        with self.lock:
            return [s for r in self.requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]

    def wait_spans(self, predicate, count: int = 1, timeout: float = 10.0) -> list[Span]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [s for s in self.spans() if predicate(s)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} matching spans, have {len(self.spans())}: {self.spans()}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    c = Collector()
    yield c
    c.stop()
    assert not c.errors, c.errors


def traced_proxy(bin_path, registry, certs, mock, name: str, endpoint: str, **tracing) -> object:
    t = {"enabled": True, "endpoint": endpoint, "service_name": "mini-proxy-e2e", "batch": {"interval_ms": 100},
         "timeout_ms": 2000}
    t.update(tracing)
    config = {"upstreams": {"mock": upstream(mock["url"], ca_file=certs["ca"])}, "routes": standard_routes("mock"),
              "models": MODELS, "workers": 2, "tracing": t}
    return start_proxy(bin_path, registry, name, config)


def attrs(span: Span) -> dict:
    out = {}
    for kv in span.attributes:
        v = kv.value
        kind = v.WhichOneof("value")
        out[kv.key] = [x.string_value for x in v.array_value.values] if kind == "array_value" else getattr(v, kind)
    return out


def hexid(b: bytes) -> str:
    return b.hex()


def echoed_headers(answer_text: str) -> dict:
    return json.loads(answer_text)["headers"]


def test_span_continues_the_clients_trace_and_the_upstream_gets_it(bin_path, registry, certs, mock, collector):
    proxy = traced_proxy(bin_path, registry, certs, mock, "proxy-trace-main", collector.endpoint)
    r = httpx.post(proxy.base + MESSAGES + f"?key={SECRET}", timeout=10,
                   headers={"traceparent": TRACEPARENT, "tracestate": "congo=t61rcWkgMzE", "x-api-key": "client-secret"},
                   json={"model": CLAUDE + "+echo", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    seen = echoed_headers(r.json()["content"][0]["text"])

    server = collector.wait_spans(lambda s: s.kind == Span.SPAN_KIND_SERVER and hexid(s.trace_id) == TRACE_ID)[0]
    client = collector.wait_spans(lambda s: s.kind == Span.SPAN_KIND_CLIENT and hexid(s.trace_id) == TRACE_ID)[0]
    assert hexid(server.parent_span_id) == PARENT_ID
    assert server.trace_state == "congo=t61rcWkgMzE"
    assert hexid(client.parent_span_id) == hexid(server.span_id)
    # The upstream saw the same trace, with the CLIENT span as its parent, and the client's tracestate.
    assert seen["traceparent"] == f"00-{TRACE_ID}-{hexid(client.span_id)}-01"
    assert seen["tracestate"] == "congo=t61rcWkgMzE"

    a = attrs(server)
    assert server.name == f"chat {CLAUDE}+echo"
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "aws.bedrock"
    assert a["gen_ai.request.model"] == CLAUDE + "+echo"
    assert a["gen_ai.response.model"] == CLAUDE + "+echo"
    assert a["http.request.method"] == "POST"
    assert a["http.response.status_code"] == 200
    assert a["url.path"] == MESSAGES
    assert a["server.address"] == "localhost" and a["server.port"] == mock["port"]
    assert a["mini_proxy.route"] == MESSAGES
    assert a["mini_proxy.retries"] == 0
    # Usage and stop reason, read from the answer the client got (the mock reports 12 input tokens).
    assert a["gen_ai.usage.input_tokens"] == 12 and a["gen_ai.usage.output_tokens"] > 0, a
    assert list(a["gen_ai.response.finish_reasons"]) == ["end_turn"], a
    assert "error.type" not in a
    assert server.status.code == Status.STATUS_CODE_UNSET
    assert server.start_time_unix_nano <= client.start_time_unix_nano <= client.end_time_unix_nano <= server.end_time_unix_nano
    assert abs(server.start_time_unix_nano / 1e9 - time.time()) < 60
    ca = attrs(client)
    assert client.name == f"chat {CLAUDE}+echo"
    assert ca["http.response.status_code"] == 200
    assert ca["url.full"] == f"https://localhost:{mock['port']}/v1/bedrock/model/{CLAUDE}%2Becho/invoke"

    resource = collector.requests[0].resource_spans[0].resource
    assert {kv.key: kv.value.string_value for kv in resource.attributes}["service.name"] == "mini-proxy-e2e"
    # Never a credential, a body or a query value.
    everything = json.dumps(collector.raw)
    for secret in (SECRET, "client-secret", '"hi"'):
        assert secret not in everything


def test_new_trace_openai_route_and_stream(bin_path, registry, certs, mock, collector):
    proxy = traced_proxy(bin_path, registry, certs, mock, "proxy-trace-new", collector.endpoint)
    r = httpx.post(proxy.base + CHAT, timeout=10, headers={"traceparent": "00-zz-bad-01"},
                   json={"model": "gpt-5+echo", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    seen = echoed_headers(r.json()["choices"][0]["message"]["content"])
    m = re.match(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$", seen["traceparent"])
    assert m, seen["traceparent"]
    trace_id = m.group(1)
    assert trace_id != TRACE_ID
    server = collector.wait_spans(lambda s: s.kind == Span.SPAN_KIND_SERVER and hexid(s.trace_id) == trace_id)[0]
    assert server.parent_span_id == b"", "an invalid traceparent starts a new trace"
    a = attrs(server)
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-5+echo"
    assert server.name == "chat gpt-5+echo"

    # A stream: one span when it ended, with the client's trace.
    with httpx.stream("POST", proxy.base + MESSAGES, timeout=10, headers={"traceparent": TRACEPARENT},
                      json={"model": CLAUDE + "+chunks=4", "max_tokens": 16, "stream": True,
                            "messages": [{"role": "user", "content": "hi"}]}) as s:
        assert s.status_code == 200
        events = sse_events(s.read().decode())
    assert events and events[-1]["event"] == "message_stop"
    spans = collector.wait_spans(lambda s: s.kind == Span.SPAN_KIND_SERVER and hexid(s.trace_id) == TRACE_ID)
    assert len(spans) == 1
    assert attrs(spans[0])["http.response.status_code"] == 200
    assert attrs(spans[0])["gen_ai.usage.input_tokens"] == 12, attrs(spans[0])
    assert hexid(spans[0].parent_span_id) == PARENT_ID


def test_passthrough_unsampled_and_failure(bin_path, registry, certs, mock, collector):
    proxy = traced_proxy(bin_path, registry, certs, mock, "proxy-trace-misc", collector.endpoint)
    # Pass-through: the client's traceparent is replaced by one naming the proxy's span, same trace.
    r = httpx.post(proxy.base + f"/raw/thing?token={SECRET}", timeout=10, headers={"traceparent": TRACEPARENT},
                   content=b"{}")
    assert r.status_code == 200, r.text
    seen = r.json()["headers"]
    assert seen["traceparent"].startswith(f"00-{TRACE_ID}-") and PARENT_ID not in seen["traceparent"]
    server = collector.wait_spans(lambda s: s.kind == Span.SPAN_KIND_SERVER and hexid(s.trace_id) == TRACE_ID)[0]
    assert server.name == "POST /raw/*"
    a = attrs(server)
    assert a["url.path"] == "/raw/thing" and "gen_ai.operation.name" not in a

    # Unsampled parent: context passed on with flag 00, nothing exported.
    other = "0af7651916cd43dd8448eb211c80319c"
    r = httpx.post(proxy.base + CHAT, timeout=10, headers={"traceparent": f"00-{other}-b7ad6b7169203331-00"},
                   json={"model": "gpt-5+echo", "messages": [{"role": "user", "content": "hi"}]})
    seen = echoed_headers(r.json()["choices"][0]["message"]["content"])
    assert seen["traceparent"].startswith(f"00-{other}-") and seen["traceparent"].endswith("-00")

    # A failed exchange: status ERROR and error.type.
    r = httpx.post(proxy.base + CHAT, timeout=10, headers={"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"},
                   json={"model": "gpt-5+status=503+should-retry=false", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 503, r.text
    failed = collector.wait_spans(lambda s: s.kind == Span.SPAN_KIND_SERVER and hexid(s.trace_id) == "1" * 32)[0]
    assert failed.status.code == Status.STATUS_CODE_ERROR
    assert attrs(failed)["error.type"] == "503"
    time.sleep(0.5)
    assert not [s for s in collector.spans() if hexid(s.trace_id) == other], "unsampled traces are not exported"

    # Pass-through and the 503: a SERVER and a CLIENT span each (the counter lags the receiver a little).
    deadline = time.monotonic() + 5
    exported = 0
    while exported < 4 and time.monotonic() < deadline:
        metrics = httpx.get(proxy.base + "/metrics", timeout=5).text
        exported = int(re.search(r"^mini_proxy_trace_spans_exported_total (\d+)$", metrics, re.M).group(1))
        time.sleep(0.05)
    assert exported == 4, metrics


def test_collector_down_never_fails_requests(bin_path, registry, certs, mock):
    proxy = traced_proxy(bin_path, registry, certs, mock, "proxy-trace-down", f"http://{HOST}:{dead_port()}/v1/traces")
    for i in range(20):
        r = httpx.post(proxy.base + CHAT, timeout=10, headers={"traceparent": TRACEPARENT},
                       json={"model": "gpt-5", "messages": [{"role": "user", "content": f"hi {i}"}]})
        assert r.status_code == 200, r.text
        with httpx.stream("POST", proxy.base + MESSAGES, timeout=10,
                          json={"model": CLAUDE, "max_tokens": 16, "stream": True,
                                "messages": [{"role": "user", "content": "hi"}]}) as s:
            assert s.status_code == 200
            assert sse_events(s.read().decode())[-1]["event"] == "message_stop"
    deadline = time.monotonic() + 10
    dropped = 0
    while time.monotonic() < deadline and dropped < 80:
        text = httpx.get(proxy.base + "/metrics", timeout=5).text
        m = re.search(r'^mini_proxy_trace_spans_dropped_total\{reason="export_failed"\} (\d+)$', text, re.M)
        dropped = int(m.group(1)) if m else 0
        time.sleep(0.1)
    assert dropped == 80, text  # 40 exchanges, a SERVER and a CLIENT span each
    started = time.monotonic()
    proxy.process.popen.send_signal(signal.SIGTERM)
    assert proxy.process.popen.wait(timeout=10) == 0
    assert time.monotonic() - started < 5


def test_sigterm_flushes_queued_spans(bin_path, registry, certs, mock, collector):
    # Spans would wait a minute in their worker: SIGTERM must hand them over and export them.
    proxy = traced_proxy(bin_path, registry, certs, mock, "proxy-trace-drain", collector.endpoint,
                         batch={"interval_ms": 60000, "max_spans": 512})
    for _ in range(5):
        r = httpx.post(proxy.base + CHAT, timeout=10, headers={"traceparent": TRACEPARENT},
                       json={"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 200
    time.sleep(0.3)
    assert not collector.spans()
    proxy.process.popen.send_signal(signal.SIGTERM)
    assert proxy.process.popen.wait(timeout=10) == 0
    spans = [s for s in collector.spans() if s.kind == Span.SPAN_KIND_SERVER]
    assert len(spans) == 5
