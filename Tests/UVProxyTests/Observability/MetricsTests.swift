import Foundation
import XCTest

@testable import UVProxy
@testable import UVNet
@testable import HTTP1

/// The metrics registry without sockets: bucket math, counter tables, labels, summing workers'
/// snapshots by label values, the text format, the scrape's message passing, the config keys.
final class MetricsTests: XCTestCase {
    static let yaml = """
        listen: 127.0.0.1:0
        upstreams: { mock: { url: "http://127.0.0.1:9" } }
        routes:
          - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/chat }
          - { path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic,
              model_aliases: { sonnet: us.anthropic.claude-sonnet-4-5-v1:0 } }
          - { path: /google/*, upstream: mock, ingress: passthrough, egress: passthrough, upstream_path: /g/ }
        models:
          - { id: gpt-5 }
          - { id: claude-sonnet-4-5 }
        """

    func runtime(_ yaml: String = MetricsTests.yaml) throws -> ProxyRuntime {
        try ProxyRuntime(config: ConfigLoader.parse(yaml: yaml, environment: [:]))
    }

    // MARK: Histograms

    func testBucketBoundsAreInclusiveUpperLimits() {
        let h = HistogramStore(Buckets(["0.001", "0.01", "1"]))
        for ns: UInt64 in [
            0, 1_000_000, 1_000_001, 10_000_000, 999_999_999, 1_000_000_000, 1_000_000_001, 90_000_000_000,
        ] {
            h.observe(0, ns: ns)
        }
        let s = try! XCTUnwrap(h.snapshot(labels: 1).sample(0))
        // le=0.001: 0 and exactly 1 ms; le=0.01: just above 1 ms and exactly 10 ms; le=1: up to exactly 1 s; +Inf: the rest.
        XCTAssertEqual(Array(s.counts), [2, 2, 2, 2])
        XCTAssertEqual(
            s.sumNs,
            0 + 1_000_000 + 1_000_001 + 10_000_000 + 999_999_999 + 1_000_000_000 + 1_000_000_001 + 90_000_000_000)
    }

    func testHistogramTextIsCumulativeWithSumAndCount() {
        var out = ""
        PrometheusText.appendHistogram(
            "x_seconds", labels: #"route="/a""#, buckets: Buckets(["0.005", "0.5", "2.5"]),
            counts: [1, 0, 2, 3], sumNs: 7_250_000_000, to: &out)
        XCTAssertEqual(
            out,
            """
            x_seconds_bucket{route="/a",le="0.005"} 1
            x_seconds_bucket{route="/a",le="0.5"} 1
            x_seconds_bucket{route="/a",le="2.5"} 3
            x_seconds_bucket{route="/a",le="+Inf"} 6
            x_seconds_sum{route="/a"} 7.25
            x_seconds_count{route="/a"} 6

            """)
    }

    func testHistogramGrowsForLabelsSeenAfterBind() {
        let h = HistogramStore(.latency, labels: 1)
        h.observe(0, ns: 5)
        h.observe(9, ns: 2_000_000_000)
        XCTAssertGreaterThanOrEqual(h.labelCapacity, 10)
        let s = h.snapshot(labels: 10)
        XCTAssertEqual(s.labelCount, 10)
        XCTAssertEqual(s.sample(0)?.counts.first, 1)
        XCTAssertNil(s.sample(5))
        XCTAssertEqual(s.sample(9)?.sumNs, 2_000_000_000)
    }

    func testEveryShippedBucketListAscends() {
        for b in [Buckets.latency, .overhead, .gap, .command] {
            XCTAssertEqual(b.bounds, b.bounds.sorted())
            XCTAssertEqual(Set(b.bounds).count, b.bounds.count)
        }
        XCTAssertEqual(Buckets.overhead.bounds.first, 10_000)  // 10 µs
    }

    func testSecondsAreWrittenAsPrometheusFloats() {
        XCTAssertEqual(PrometheusText.seconds(0), "0")
        XCTAssertEqual(PrometheusText.seconds(2_000_000_000), "2")
        XCTAssertEqual(PrometheusText.seconds(1_500_000_000), "1.5")
        XCTAssertEqual(Double(PrometheusText.seconds(12_345)), 0.000012345)
    }

    // MARK: Counters and labels

    func testCounterTableKeepsEveryKeyThroughGrowth() {
        let t = CounterTable(capacity: 2)
        for i in 0..<2000 { t.add(LabelKey.pack(i % 50, i % 7, 200 + i % 5), UInt64(1 + i % 3)) }
        var expected: [UInt64: UInt64] = [:]
        for i in 0..<2000 { expected[LabelKey.pack(i % 50, i % 7, 200 + i % 5), default: 0] += UInt64(1 + i % 3) }
        XCTAssertEqual(t.count, expected.count)
        for (k, v) in expected { XCTAssertEqual(t.value(k), v) }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: t.entries().map { ($0.key, $0.value) }), expected)
        t.add(0)  // the all-zero key is a key like any other
        XCTAssertEqual(t.value(0), 1)
    }

    func testLabelKeysRoundTrip() {
        let (a, b, c) = LabelKey.unpack(LabelKey.pack(17, 0, 599))
        XCTAssertEqual([a, b, c], [17, 0, 599])
        let (x, y, z) = LabelKey.unpack(LabelKey.pack((1 << 21) - 1, (1 << 21) - 1, (1 << 21) - 1))
        XCTAssertEqual([x, y, z], [(1 << 21) - 1, (1 << 21) - 1, (1 << 21) - 1])
    }

    func testLabelValuesAreEscaped() {
        XCTAssertEqual(PrometheusText.escapeLabelValue(#"a\b"c"# + "\nd"), #"a\\b\"c\nd"#)
        XCTAssertEqual(PrometheusText.escapeLabelValue("/v1/models é"), "/v1/models é")
        XCTAssertEqual(PrometheusText.labels([("route", "/x\"y"), ("model", "m")]), #"route="/x\"y",model="m""#)
        XCTAssertEqual(PrometheusText.escapeHelp("a\\b\nc"), #"a\\b\nc"#)
    }

    func testModelsMatchConfiguredIdsAndAliasesOnly() throws {
        let m = WorkerMetrics()
        m.bind(try runtime())
        func label(_ json: String) -> String {
            let body = Array(#"{"x":1,"model":\#(json)}"#.utf8)
            let range = (body.count - 1 - json.utf8.count)..<(body.count - 1)
            return m.models.names[m.modelLabel(range, in: body)]
        }
        XCTAssertEqual(label(#""gpt-5""#), "gpt-5")
        XCTAssertEqual(label(#""claude-sonnet-4-5""#), "claude-sonnet-4-5")
        XCTAssertEqual(label(#""sonnet""#), "sonnet")
        XCTAssertEqual(label(#""gpt-4""#), "other")
        XCTAssertEqual(label(#""gpt-5x""#), "other")
        XCTAssertEqual(label(#""""#), "other")
        XCTAssertEqual(label(#""gpt\u002d5""#), "other")  // escaped: not compared decoded
        XCTAssertEqual(m.modelLabel(nil, in: []), WorkerMetrics.otherModel)
        XCTAssertEqual(m.modelLabel(0..<99, in: [1, 2]), WorkerMetrics.otherModel)
    }

    /// The matcher's word compare: names of every length from 1 to 40 (several of each length) are
    /// found, and a name that differs from one of them in any single byte, or is a byte shorter or
    /// longer, is `other`.
    func testModelMatcherComparesEveryByteOfEveryLength() {
        var names: [(name: String, id: Int)] = []
        for n in 1...40 {
            for variant in 0..<3 {
                names.append((String((0..<n).map { Character(UnicodeScalar(UInt8(0x61 + ($0 + variant) % 26))) }), names.count + 1))
            }
        }
        let matcher = ModelMatcher(names)
        func id(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBytes { matcher.id($0) } }
        for (name, expected) in names {
            let bytes = Array(name.utf8)
            XCTAssertEqual(id(bytes), expected, name)
            XCTAssertEqual(bytes.withUnsafeBytes { b in
                Array(#"""#.utf8 + Array(b) + #"""#.utf8).withUnsafeBytes { matcher.id(jsonString: $0) }
            }, expected, name)
            for at in bytes.indices {
                var other = bytes
                other[at] = 0x41
                XCTAssertEqual(id(other), WorkerMetrics.otherModel, "\(name) at \(at)")
            }
            XCTAssertEqual(id(bytes + [0x61]), names.first { $0.name == name + "a" }?.id ?? WorkerMetrics.otherModel, name)
            XCTAssertEqual(id(Array(bytes.dropLast())), names.first { $0.name == String(name.dropLast()) }?.id ?? WorkerMetrics.otherModel, name)
        }
        XCTAssertEqual(id([]), WorkerMetrics.otherModel)
        XCTAssertEqual(id([UInt8](repeating: 0x61, count: 300)), WorkerMetrics.otherModel)
    }

    /// The endpoint answers its path alone or with a query, and no other target: a longer or shorter
    /// path, one that differs in any byte, another case; a configured path with a `?` matches nothing.
    func testMetricsEndpointMatchesItsPathWithOrWithoutAQuery() throws {
        let loop = EventLoop()
        func matches(_ path: String, _ target: String) throws -> Bool {
            var parser = HTTPRequestParser(limits: HTTPLimits())
            let bytes = Array("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            guard case .complete(let head, _) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
                XCTFail(target)
                return false
            }
            return MetricsEndpoint(loop: loop, hub: MetricsHub(), path: path).matches(head)
        }
        for target in ["/metrics", "/metrics?", "/metrics?name[]=x", "/metrics?a=/metrics"] {
            XCTAssertTrue(try matches("/metrics", target), target)
        }
        for target in ["/metric", "/metricsx", "/metrics/", "/Metrics", "/openai/v1/chat/completions", "/", "/x?/metrics", "*"] {
            XCTAssertFalse(try matches("/metrics", target), target)
        }
        let long = "/admin/observability/prometheus/metrics"
        XCTAssertTrue(try matches(long, long))
        XCTAssertTrue(try matches(long, long + "?x"))
        for at in long.utf8.indices.dropFirst() {
            var b = Array(long.utf8)
            b[long.utf8.distance(from: long.utf8.startIndex, to: at)] = 0x5F
            XCTAssertFalse(try matches(long, String(decoding: b, as: UTF8.self)), "\(at)")
        }
        XCTAssertFalse(try matches("/m?x", "/m?x"))
        XCTAssertFalse(try matches("/m?x", "/m"))
    }

    func testRoutesAreLabelledByConfiguredPath() throws {
        let rt = try runtime()
        let m = WorkerMetrics()
        m.bind(rt)
        let labels = rt.routes.map { m.routes.names[m.routeLabel($0)] }
        XCTAssertEqual(
            Array(labels.prefix(3)), ["/openai/v1/chat/completions", "/bedrock/claude/v1/messages", "/google/*"])
        XCTAssertEqual(m.routes.names[WorkerMetrics.noRoute], "none")
        // A reload keeps ids: the same path keeps its label id, new ones are added.
        let before = m.routeLabel(rt.routes[1])
        m.bind(try runtime(Self.yaml.replacingOccurrences(of: "/google/*", with: "/vertex/*")))
        XCTAssertEqual(m.routes.id("/bedrock/claude/v1/messages"), before)
        XCTAssertTrue(m.routes.names.contains("/google/*") && m.routes.names.contains("/vertex/*"))
    }

    func testHealedKindsFromWhatWasLearned() {
        XCTAssertEqual(HealedKind(learned: "field context_management"), .field)
        XCTAssertEqual(HealedKind(learned: "tool key defer_loading"), .toolKey)
        XCTAssertEqual(HealedKind(learned: "message key output_config"), .messageKey)
        XCTAssertEqual(HealedKind(learned: "thinking key display"), .thinkingKey)
        XCTAssertEqual(HealedKind(learned: "role system inside messages (folded into the user turn)"), .systemRole)
        XCTAssertEqual(HealedKind(learned: "every beta (sent: a,b)"), .beta)
        XCTAssertEqual(HealedKind(learned: "betas outside the known-good list (sent: x)"), .beta)
        XCTAssertEqual(HealedKind(learned: nil), .known)
    }

    // MARK: Summing workers

    /// Two workers whose label ids differ (one saw other names first) sum by label values.
    func testReportSumsWorkersByLabelValuesNotIds() throws {
        let rt = try runtime()
        let a = WorkerMetrics()
        let b = WorkerMetrics()
        _ = b.routes.id("/seen-before-bind")
        _ = b.models.id("model-from-an-old-config")
        _ = b.upstreams.id("zeta")
        a.bind(rt)
        b.bind(rt)
        XCTAssertNotEqual(a.routeLabel(rt.routes[0]), b.routeLabel(rt.routes[0]))
        for (w, n) in [(a, 3), (b, 4)] {
            let chat = w.routeLabel(rt.routes[0])
            let gpt5 = w.models.id("gpt-5")
            for _ in 0..<n {
                w.exchangeFinished(
                    route: chat, model: gpt5, status: 200, totalNs: 3_000_000, ttfbNs: 1_000_000, upstreamNs: 2_500_000)
            }
            w.exchangeFinished(
                route: chat, model: WorkerMetrics.otherModel, status: 502, totalNs: 40_000, ttfbNs: nil, upstreamNs: nil
            )
            w.localAnswer(route: nil, status: 404)
            w.tokens(route: chat, model: gpt5, kind: .output, count: 10 * n)
            w.tokens(route: chat, model: gpt5, kind: .cacheRead, count: 0)  // nothing to count
            w.retry(route: chat, reason: .status)
            w.healed(upstream: "mock", kind: .beta)
            w.upstreamConnectionOpened("mock")
            w.credentialCommand(upstream: "mock", ns: 800_000_000, ok: n == 3)
            w.streamStarted(route: chat, ttftNs: 50_000_000)
            w.streamEvent(route: chat, gapNs: 20_000_000)
        }
        b.streamEnded()
        var report = MetricsReport()
        report.add(a.snapshot(activeConnections: 2, pools: [PoolGauge(upstream: "mock", idle: 1, busy: 2)]))
        report.add(b.snapshot(activeConnections: 3, pools: [PoolGauge(upstream: "mock", idle: 4, busy: 0)]))
        let chat = #"route="/openai/v1/chat/completions""#
        XCTAssertEqual(report.values[.requests]?[chat + #",model="gpt-5",status="200""#], 7)
        XCTAssertEqual(report.values[.requests]?[chat + #",model="other",status="502""#], 2)
        XCTAssertEqual(report.values[.requests]?[#"route="none",model="other",status="404""#], 2)
        XCTAssertEqual(report.values[.requests]?.count, 3)
        XCTAssertEqual(report.values[.tokens]?[chat + #",model="gpt-5",kind="output""#], 70)
        XCTAssertEqual(report.values[.tokens]?.count, 1)
        XCTAssertEqual(report.values[.retries]?[chat + #",reason="status""#], 2)
        XCTAssertEqual(report.values[.healed]?[#"upstream="mock",kind="beta""#], 2)
        XCTAssertEqual(report.values[.upstreamOpened]?[#"upstream="mock""#], 2)
        XCTAssertEqual(report.values[.credentialRuns]?[#"upstream="mock""#], 2)
        XCTAssertEqual(report.values[.credentialFailures]?[#"upstream="mock""#], 1)
        XCTAssertEqual(report.values[.activeConnections]?[""], 5)
        XCTAssertEqual(report.values[.activeStreams]?[""], 1)
        XCTAssertEqual(report.values[.upstreamConnections]?[#"upstream="mock",state="idle""#], 5)
        XCTAssertEqual(report.values[.upstreamConnections]?[#"upstream="mock",state="busy""#], 2)
        let duration = try XCTUnwrap(report.histograms[.duration]?[chat])
        XCTAssertEqual(duration.counts.reduce(0, +), 9)
        XCTAssertEqual(duration.sumNs, 7 * 3_000_000 + 2 * 40_000)
        XCTAssertEqual(report.histograms[.ttfb]?[chat]?.counts.reduce(0, +), 7)
        // Overhead: total minus upstream time, only where a response came.
        XCTAssertEqual(report.histograms[.overhead]?[chat]?.sumNs, 7 * 500_000)
        XCTAssertEqual(report.histograms[.ttft]?[chat]?.counts.reduce(0, +), 2)
        XCTAssertEqual(report.histograms[.eventGap]?[chat]?.sumNs, 40_000_000)
        XCTAssertEqual(report.histograms[.credentialDuration]?[#"upstream="mock""#]?.counts.reduce(0, +), 2)
    }

    /// The rendered text: each family once with HELP and TYPE before its samples, `+Inf` equal to
    /// `_count`, families nobody fed (tokens) present without samples, no duplicate series.
    func testRenderedTextIsWellFormed() throws {
        let rt = try runtime()
        let w = WorkerMetrics()
        w.bind(rt)
        let route = w.routeLabel(rt.routes[1])
        w.exchangeFinished(
            route: route, model: w.models.id("sonnet"), status: 200, totalNs: 1_234_567, ttfbNs: 1_000_000,
            upstreamNs: 1_100_000)
        w.localAnswer(route: rt.routes[2], status: 405)
        var report = MetricsReport()
        report.add(w.snapshot())
        report.missingWorkers = 1
        XCTAssertFalse(report.render().contains("mini_proxy_trace_"), "no trace families with tracing off")
        report.tracing = TraceExportCounts(exported: 3, droppedQueueFull: 1, droppedFailed: 2)
        let text = report.render()
        XCTAssertTrue(text.contains("mini_proxy_trace_spans_exported_total 3\n"))
        XCTAssertTrue(text.contains("mini_proxy_trace_spans_dropped_total{reason=\"export_failed\"} 2\n"))
        XCTAssertTrue(text.contains("mini_proxy_trace_spans_dropped_total{reason=\"queue_full\"} 1\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.last, "", "the text ends with a line feed")
        var typed: [String: String] = [:]
        var series = Set<String>()
        for line in lines.dropLast() {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                XCTAssertNil(typed[String(parts[2])], "family \(parts[2]) twice")
                typed[String(parts[2])] = String(parts[3])
                continue
            }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = typed.keys.first {
                name == $0 || name == $0 + "_bucket" || name == $0 + "_sum" || name == $0 + "_count"
            }
            XCTAssertNotNil(family, "sample \(line) before its TYPE")
            let seriesKey = String(line[..<line.lastIndex(of: " ")!])
            XCTAssertTrue(series.insert(seriesKey).inserted, "duplicate series \(seriesKey)")
            XCTAssertNotNil(Double(line[line.index(after: line.lastIndex(of: " ")!)...]), line.description)
        }
        XCTAssertEqual(Set(typed.keys), Set(MetricFamily.allCases.map(\.rawValue)))
        XCTAssertEqual(typed["mini_proxy_requests_total"], "counter")
        XCTAssertEqual(typed["mini_proxy_overhead_seconds"], "histogram")
        XCTAssertEqual(typed["mini_proxy_active_streams"], "gauge")
        XCTAssertFalse(
            text.contains("mini_proxy_tokens_total{"), "tokens have no samples until translators report usage")
        XCTAssertTrue(
            text.contains(
                #"mini_proxy_requests_total{route="/bedrock/claude/v1/messages",model="sonnet",status="200"} 1"#))
        XCTAssertTrue(text.contains(#"mini_proxy_requests_total{route="/google/*",model="other",status="405"} 1"#))
        XCTAssertTrue(
            text.contains(
                #"mini_proxy_request_duration_seconds_bucket{route="/bedrock/claude/v1/messages",le="0.001"} 0"#))
        XCTAssertTrue(
            text.contains(
                #"mini_proxy_request_duration_seconds_bucket{route="/bedrock/claude/v1/messages",le="0.0025"} 1"#))
        XCTAssertTrue(
            text.contains(
                #"mini_proxy_request_duration_seconds_bucket{route="/bedrock/claude/v1/messages",le="+Inf"} 1"#))
        XCTAssertTrue(
            text.contains(#"mini_proxy_request_duration_seconds_sum{route="/bedrock/claude/v1/messages"} 0.001234567"#))
        XCTAssertTrue(
            text.contains(#"mini_proxy_overhead_seconds_bucket{route="/bedrock/claude/v1/messages",le="0.00025"} 1"#))
        XCTAssertTrue(text.contains("mini_proxy_scrape_missing_workers 1\n"))
        XCTAssertTrue(text.contains(#"mini_proxy_build_info{version="\#(MiniProxyVersion.string)"} 1"#))
    }

    // MARK: The scrape across loops

    /// A scrape on loop A asks loop B (its own thread) for B's snapshot and answers on A when it came.
    func testHubGathersOtherLoopsByMessagePassing() throws {
        let a = EventLoop()
        let b = EventLoop()
        let bStopped = Latch()
        let bThread = MetricsTestBox<pthread_t>(0)
        let bStarted = Latch()
        try DetachedThread.start(name: "metrics-test") {
            bThread.value = pthread_self()
            bStarted.open()
            b.run()
            bStopped.open()
        }
        defer {
            b.stop()
            bStopped.wait()
        }
        bStarted.wait()
        let hub = MetricsHub(timeoutMs: 5_000)
        let snapshotThreads = MetricsTestBox<[String]>([])
        hub.add(loop: a) {
            MetricsSnapshot(requests: [CounterEntry(key: LabelKey.pack(0, 0, 200), value: 2)], activeConnections: 1)
        }
        hub.add(loop: b) {
            snapshotThreads.value.append(pthread_equal(pthread_self(), bThread.value) != 0 ? "b" : "not b")
            return MetricsSnapshot(
                routes: ["none"], models: ["other"],
                requests: [CounterEntry(key: LabelKey.pack(0, 0, 200), value: 5)], activeConnections: 3)
        }
        var report: MetricsReport?
        hub.scrape(on: a) { report = $0 }
        XCTAssertNil(report, "the scraping loop does not wait in scrape()")
        let deadline = Date().addingTimeInterval(5)
        while report == nil, Date() < deadline {
            a.runOnce()
            usleep(1000)
        }
        let r = try XCTUnwrap(report)
        XCTAssertEqual(r.missingWorkers, 0)
        XCTAssertEqual(r.values[.activeConnections]?[""], 4)
        // A's snapshot names no route: its counter has no label names and is left out; B's counts.
        XCTAssertEqual(r.values[.requests]?[#"route="none",model="other",status="200""#], 5)
        XCTAssertEqual(snapshotThreads.value, ["b"])
    }

    /// A worker that does not answer (its loop is busy or gone) does not hold the scrape forever.
    func testHubAnswersWithoutAWorkerAfterTheTimeout() throws {
        let a = EventLoop()
        let silent = EventLoop()  // never runs
        let hub = MetricsHub(timeoutMs: 50)
        hub.add(loop: a) { MetricsSnapshot(activeConnections: 1) }
        hub.add(loop: silent) { MetricsSnapshot(activeConnections: 100) }
        var report: MetricsReport?
        let started = Date()
        hub.scrape(on: a) { report = $0 }
        while report == nil, Date().timeIntervalSince(started) < 5 {
            a.runOnce()
            usleep(1000)
        }
        let r = try XCTUnwrap(report)
        XCTAssertEqual(r.missingWorkers, 1)
        XCTAssertEqual(r.values[.activeConnections]?[""], 1)
        XCTAssertTrue(r.render().contains("mini_proxy_scrape_missing_workers 1\n"))
    }

    // MARK: Config

    func parse(_ metrics: String) throws -> ProxyConfig {
        try ConfigLoader.parse(yaml: Self.yaml + "\n" + metrics, environment: ["ADMIN": "127.0.0.1:9464"])
    }

    func testMetricsConfigDefaultsAndShapes() throws {
        XCTAssertEqual(try ConfigLoader.parse(yaml: Self.yaml, environment: [:]).metrics, MetricsConfig())
        XCTAssertEqual(try parse("metrics: false").metrics.enabled, false)
        XCTAssertEqual(try parse("metrics: true").metrics, MetricsConfig())
        let m = try parse("metrics: { enabled: true, path: /internal/metrics, listen: \"${ADMIN}\" }").metrics
        XCTAssertEqual(
            m, MetricsConfig(enabled: true, path: "/internal/metrics", listen: HostPort(host: "127.0.0.1", port: 9464)))
        XCTAssertTrue(
            ConfigLoader.describe(try parse("metrics: {listen: 127.0.0.1:9464}"))
                .contains("metrics: GET /metrics on 127.0.0.1:9464 (admin listener)"))
        XCTAssertTrue(ConfigLoader.describe(try parse("metrics: false")).contains("metrics: off"))
    }

    func testMetricsConfigErrorsNameTheKey() {
        func error(_ metrics: String) -> String {
            do {
                _ = try parse(metrics)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(
            error("metrics: {path: metrics}").hasPrefix("metrics.path: 'metrics' must start with '/'"),
            error("metrics: {path: metrics}"))
        XCTAssertTrue(error("metrics: {port: 9}").hasPrefix("metrics.port: unknown key"))
        XCTAssertTrue(error("metrics: {enabled: yes}").hasPrefix("metrics.enabled: expected true or false"))
        XCTAssertTrue(error("metrics: {listen: nowhere}").hasPrefix("metrics.listen:"))
        XCTAssertTrue(error("metrics: []").hasPrefix("metrics: expected a mapping"))
    }

    func testMetricsConfigWarnings() throws {
        let shadowing = try ConfigLoader.parse(
            yaml: Self.yaml + "\nmetrics: {path: /bedrock/claude/v1/messages}", environment: [:])
        XCTAssertTrue(
            shadowing.warnings.contains {
                $0 == "metrics.path: /bedrock/claude/v1/messages is answered before routes[1] sees it"
            },
            "\(shadowing.warnings)")
        let underPrefix = try ConfigLoader.parse(
            yaml: Self.yaml + "\nmetrics: {path: /google/metrics}", environment: [:])
        XCTAssertFalse(underPrefix.warnings.contains { $0.hasPrefix("metrics.path") }, "a prefix route is not named")
        let moved = try ConfigLoader.parse(
            yaml: Self.yaml + "\nmetrics: {path: /bedrock/claude/v1/messages, listen: 0.0.0.0:9464}", environment: [:])
        XCTAssertFalse(moved.warnings.contains { $0.hasPrefix("metrics.path") })
        XCTAssertTrue(
            moved.warnings.contains { $0.hasPrefix("metrics.listen: 0.0.0.0:9464 is reachable from other machines") })
    }
}

/// A mutable value shared with a closure another thread runs (the test reads it after a join).
final class MetricsTestBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
