"""Prometheus metrics through the release binary: `/metrics` parsed by the official client library's
parser (`prometheus_client.parser`), counts that add up over two workers, the admin listener, the switch,
and a real Prometheus (Debian's `prometheus` package) scraping the proxy every second, whose query API
returns the expected sums. Each test runs its own proxy; every process is stopped by PID."""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import MODELS, command_auth, standard_routes, start_proxy, upstream
from helpers import HOST, Process, free_port, httpx

CHAT = "/openai/v1/chat/completions"
MESSAGES = "/bedrock/claude/v1/messages"

FAMILIES = {
    # family name as the parser reports it (counters without `_total`) → type
    "mini_proxy_requests": "counter",
    "mini_proxy_request_duration_seconds": "histogram",
    "mini_proxy_upstream_ttfb_seconds": "histogram",
    "mini_proxy_overhead_seconds": "histogram",
    "mini_proxy_stream_ttft_seconds": "histogram",
    "mini_proxy_stream_event_gap_seconds": "histogram",
    "mini_proxy_tokens": "counter",
    "mini_proxy_active_connections": "gauge",
    "mini_proxy_active_streams": "gauge",
    "mini_proxy_upstream_connections": "gauge",
    "mini_proxy_upstream_connections_opened": "counter",
    "mini_proxy_upstream_connections_failed": "counter",
    "mini_proxy_credential_command_runs": "counter",
    "mini_proxy_credential_command_failures": "counter",
    "mini_proxy_credential_command_duration_seconds": "histogram",
    "mini_proxy_retries": "counter",
    "mini_proxy_fallbacks": "counter",
    "mini_proxy_healed": "counter",
    "mini_proxy_scrape_missing_workers": "gauge",
    "mini_proxy_build_info": "gauge",
}


def config(mock, certs, **extra) -> dict:
    c = {"upstreams": {"mock": upstream(mock["url"], ca_file=certs["ca"])}, "routes": standard_routes("mock"),
         "models": MODELS, "workers": 2}
    c.update(extra)
    return c


def parse(text: str) -> dict:
    """Family name → family, through the official parser (which raises on malformed text)."""
    return {f.name: f for f in text_string_to_metric_families(text)}


def scrape(url: str) -> dict:
    r = httpx.get(url, timeout=5)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(r.text)


def value(families: dict, family: str, sample: str, **labels) -> float | None:
    for s in families[family].samples:
        if s.name == sample and s.labels == labels:
            return s.value
    return None


def drive(base: str) -> dict[tuple[str, str, str], int]:
    """A mix of requests, each on a new connection (so both workers take some). Returns the expected
    request counts by (route, model, status)."""
    expected: dict[tuple[str, str, str], int] = {}

    def count(route, model, status, n=1):
        expected[(route, model, status)] = expected.get((route, model, status), 0) + n

    msg = [{"role": "user", "content": "hi"}]
    for _ in range(12):
        r = httpx.post(base + CHAT, json={"model": "gpt-5", "messages": msg}, timeout=10)
        assert r.status_code == 200, r.text
        count(CHAT, "gpt-5", "200")
    for _ in range(6):
        with httpx.stream("POST", base + CHAT, json={"model": "gpt-5", "messages": msg, "stream": True}, timeout=10) as r:
            assert r.status_code == 200
            assert "data: [DONE]" in r.read().decode()
        count(CHAT, "gpt-5", "200")
    for _ in range(4):
        # A model the config does not list: counted as `other`, whatever the client sent.
        r = httpx.post(base + CHAT, json={"messages": msg, "model": "gpt-4o-mini-unlisted"}, timeout=10)
        assert r.status_code == 200, r.text
        count(CHAT, "other", "200")
    for stream in (False, True, True):
        r = httpx.post(base + MESSAGES, json={"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": msg,
                                             "stream": stream}, timeout=10)
        assert r.status_code == 200, r.text
        count(MESSAGES, "claude-sonnet-4-5", "200")
    r = httpx.post(base + CHAT, json={"model": "gpt-5"}, timeout=10)  # no messages: refused by the translator
    assert r.status_code == 400
    count(CHAT, "other", "400")  # refused before a translator noted the model
    for _ in range(3):
        assert httpx.get(base + "/no/such/route", timeout=5).status_code == 404
        count("none", "other", "404")
    return expected


def test_scrape_parses_and_counts_add_up(bin_path, registry, certs, mock):
    p = start_proxy(bin_path, registry, "proxy-metrics", config(mock, certs))
    expected = drive(p.base)
    for _ in range(4):  # several scrapes, each on a new connection: either worker may answer
        fams = scrape(p.base + "/metrics")
        for name, kind in FAMILIES.items():
            assert name in fams, f"{name} missing"
            assert fams[name].type == kind, (name, fams[name].type)
        got = {(s.labels["route"], s.labels["model"], s.labels["status"]): s.value
               for s in fams["mini_proxy_requests"].samples}
        for key, n in expected.items():
            assert got.get(key) == n, (key, got.get(key), n)
        # Labels stay within what the config names.
        routes = {r["path"] for r in standard_routes("mock")} | {"none", "/openai/v1/models", "/bedrock/claude/v1/models",
                                                                  "/provider/bedrock/format/openai/v1/models", "/raw/*"}
        for route, model, status in got:
            assert route in routes, route
            assert model in {"gpt-5", "claude-sonnet-4-5", "other"}, model
            assert len(status) == 3 and status.isdigit(), status
        # Histograms: cumulative buckets, +Inf equal to _count, one sample per proxied request.
        for name in ("mini_proxy_request_duration_seconds", "mini_proxy_upstream_ttfb_seconds", "mini_proxy_overhead_seconds",
                     "mini_proxy_stream_ttft_seconds", "mini_proxy_stream_event_gap_seconds"):
            by_route: dict[str, list] = {}
            for s in fams[name].samples:
                by_route.setdefault(s.labels["route"], []).append(s)
            for route, samples in by_route.items():
                buckets = [s for s in samples if s.name.endswith("_bucket")]
                counts = [s.value for s in buckets]
                assert counts == sorted(counts), (name, route, counts)
                assert buckets[-1].labels["le"] == "+Inf"
                total = next(s.value for s in samples if s.name.endswith("_count"))
                assert buckets[-1].value == total
                assert next(s.value for s in samples if s.name.endswith("_sum")) > 0
        chat_requests = sum(n for (route, _, _), n in expected.items() if route == CHAT)
        assert value(fams, "mini_proxy_request_duration_seconds", "mini_proxy_request_duration_seconds_count",
                     route=CHAT) == chat_requests
        # The 400 never reached the upstream: no TTFB and no overhead sample for it.
        assert value(fams, "mini_proxy_upstream_ttfb_seconds", "mini_proxy_upstream_ttfb_seconds_count", route=CHAT) == chat_requests - 1
        assert value(fams, "mini_proxy_overhead_seconds", "mini_proxy_overhead_seconds_count", route=CHAT) == chat_requests - 1
        assert value(fams, "mini_proxy_stream_ttft_seconds", "mini_proxy_stream_ttft_seconds_count", route=CHAT) == 6
        assert value(fams, "mini_proxy_stream_ttft_seconds", "mini_proxy_stream_ttft_seconds_count", route=MESSAGES) == 2
        # Usage read from the answers: every route that answered 2xx counted input and output tokens.
        tokens = {(x.labels["route"], x.labels["kind"]): x.value for x in fams["mini_proxy_tokens"].samples}
        assert {kind for _, kind in tokens} <= {"input", "output", "cache_read", "cache_creation", "reasoning"}, tokens
        for route in (CHAT, MESSAGES):
            assert tokens.get((route, "input"), 0) > 0 and tokens.get((route, "output"), 0) > 0, (route, tokens)
        assert value(fams, "mini_proxy_active_streams", "mini_proxy_active_streams") == 0
        assert value(fams, "mini_proxy_scrape_missing_workers", "mini_proxy_scrape_missing_workers") == 0
        assert value(fams, "mini_proxy_upstream_connections", "mini_proxy_upstream_connections", upstream="mock", state="busy") == 0
        assert value(fams, "mini_proxy_upstream_connections_opened", "mini_proxy_upstream_connections_opened_total",
                     upstream="mock") >= 2
        assert value(fams, "mini_proxy_credential_command_runs", "mini_proxy_credential_command_runs_total", upstream="mock") is None


def test_admin_listener_and_switch(bin_path, registry, certs, mock):
    admin = free_port()
    p = start_proxy(bin_path, registry, "proxy-metrics-admin",
                    config(mock, certs, metrics={"listen": f"{HOST}:{admin}", "path": "/admin/metrics"}))
    r = httpx.post(p.base + CHAT, json={"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}, timeout=10)
    assert r.status_code == 200
    assert httpx.get(p.base + "/admin/metrics", timeout=5).status_code == 404
    fams = scrape(f"http://{HOST}:{admin}/admin/metrics")
    assert value(fams, "mini_proxy_requests", "mini_proxy_requests_total", route=CHAT, model="gpt-5", status="200") == 1
    assert "metrics on 127.0.0.1:" in p.process.log()

    off = start_proxy(bin_path, registry, "proxy-metrics-off", config(mock, certs, metrics=False))
    assert httpx.get(off.base + "/metrics", timeout=5).status_code == 404


def test_credential_command_runs_are_counted(bin_path, registry, certs, mock, token_script, workdir):
    state = workdir / "tokens-metrics"
    registry.token_dirs.append(state)
    c = config(mock, certs)
    c["upstreams"]["mock"] = upstream(mock["url"], ca_file=certs["ca"], auth=command_auth(token_script, state))
    p = start_proxy(bin_path, registry, "proxy-metrics-credentials", c)
    for _ in range(3):
        r = httpx.post(p.base + CHAT, json={"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}, timeout=10)
        assert r.status_code == 200
    fams = scrape(p.base + "/metrics")
    runs = value(fams, "mini_proxy_credential_command_runs", "mini_proxy_credential_command_runs_total", upstream="mock")
    assert runs == (state / "runs").read_text().count("run") == 1, "one run, its token cached"
    assert value(fams, "mini_proxy_credential_command_failures", "mini_proxy_credential_command_failures_total",
                 upstream="mock") is None
    assert value(fams, "mini_proxy_credential_command_duration_seconds",
                 "mini_proxy_credential_command_duration_seconds_count", upstream="mock") == 1
    assert value(fams, "mini_proxy_credential_command_duration_seconds",
                 "mini_proxy_credential_command_duration_seconds_sum", upstream="mock") > 0


# MARK: a real Prometheus


def prometheus_bin() -> str | None:
    return shutil.which("prometheus") or (shutil.which("/usr/bin/prometheus"))


def prom_query(prom: str, query: str) -> list:
    r = httpx.get(prom + "/api/v1/query?query=" + urllib.parse.quote(query), timeout=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def wait_for(what: str, check, timeout: float, log: Process) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last is True:
                return
        except Exception as e:  # not up yet
            last = repr(e)
        time.sleep(0.25)
    raise AssertionError(f"{what} within {timeout}s (last: {last}):\n{log.log_tail()}")


@pytest.mark.skipif(prometheus_bin() is None,
                    reason="Debian's prometheus package is not installed (`make deps` installs it: apt-get install prometheus)")
def test_real_prometheus_scrapes_the_proxy(bin_path, registry, certs, mock, workdir):
    p = start_proxy(bin_path, registry, "proxy-metrics-prom", config(mock, certs))
    port = free_port()
    d = workdir / "prometheus"
    (d / "data").mkdir(parents=True)
    (d / "prometheus.yml").write_text(json.dumps({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "mini-proxy", "metrics_path": "/metrics",
                            "static_configs": [{"targets": [f"{HOST}:{p.port}"]}]}],
    }))
    prom = Process("prometheus", [prometheus_bin(), f"--config.file={d / 'prometheus.yml'}",
                                  f"--storage.tsdb.path={d / 'data'}", f"--web.listen-address={HOST}:{port}",
                                  "--storage.tsdb.retention.time=1h", "--log.level=warn"],
                   workdir / "prometheus.log")
    registry.processes.append(prom)
    prom.start()
    base = f"http://{HOST}:{port}"
    wait_for("prometheus ready", lambda: httpx.get(base + "/-/ready", timeout=1).status_code == 200, 30, prom)
    # A first scrape before the traffic, so that rate() sees the increase.
    wait_for("a first scrape", lambda: [r["value"][1] for r in prom_query(base, 'up{job="mini-proxy"}')] == ["1"], 30, prom)

    def sums_match(expected):
        series = prom_query(base, "mini_proxy_requests_total")
        got = {}
        for s in series:
            m = s["metric"]
            key = (m["route"], m["model"], m["status"])
            got[key] = got.get(key, 0) + float(s["value"][1])
        ok = all(got.get(k) == n for k, n in expected.items())
        return True if ok else got

    # Two rounds of traffic: the second one raises series that exist already, so rate() sees it.
    expected = drive(p.base)
    wait_for("Prometheus to see every request", lambda: sums_match(expected), 30, prom)
    for k, n in drive(p.base).items():
        expected[k] = expected.get(k, 0) + n
    wait_for("Prometheus to see the second round", lambda: sums_match(expected), 30, prom)
    total = prom_query(base, f'sum(mini_proxy_requests_total{{route="{CHAT}",model="gpt-5",status="200"}})')
    assert float(total[0]["value"][1]) == expected[(CHAT, "gpt-5", "200")]
    # Grafana's usual panels work on these series: a latency quantile from the histogram buckets.
    q = prom_query(base, f'histogram_quantile(0.9, sum by (le) (rate(mini_proxy_request_duration_seconds_bucket{{route="{CHAT}"}}[1m])))')
    assert q and 0 < float(q[0]["value"][1]) < 10, q
    prom.stop()
