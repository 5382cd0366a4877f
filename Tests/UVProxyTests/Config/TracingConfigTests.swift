import XCTest

@testable import UVProxy

/// `tracing:` in the config and the OpenTelemetry environment under it.
final class TracingConfigTests: XCTestCase {
    func testOffByDefault() throws {
        let c = try XCTUnwrap(parse(ConfigFixtures.minimal()))
        XCTAssertFalse(c.tracing.enabled)
        XCTAssertTrue(ConfigLoader.describe(c).contains("tracing: off"))
    }

    func testFullBlock() throws {
        let c = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: """
            tracing:
              enabled: true
              endpoint: http://127.0.0.1:4318/v1/traces
              service_name: gateway
              sample_ratio: 0.25
              headers: { x-honeycomb-team: "${KEY}" }
              batch: { max_spans: 100, interval_ms: 500 }
              max_queue: 1000
              timeout_ms: 2000
            """), env: ["KEY": "k1"]))
        let t = c.tracing
        XCTAssertTrue(t.enabled)
        XCTAssertEqual(t.endpoint.description, "http://127.0.0.1:4318/v1/traces")
        XCTAssertEqual(t.serviceName, "gateway")
        XCTAssertEqual(t.sampleRatio, 0.25)
        XCTAssertEqual(t.headers.map(\.name), ["x-honeycomb-team"])
        XCTAssertEqual(t.headers.map(\.value), ["k1"])
        XCTAssertEqual(t.batchMaxSpans, 100)
        XCTAssertEqual(t.batchIntervalMs, 500)
        XCTAssertEqual(t.maxQueue, 1000)
        XCTAssertEqual(t.timeoutMs, 2000)
        XCTAssertTrue(c.warnings.isEmpty, "\(c.warnings)")
        let d = ConfigLoader.describe(c)
        XCTAssertTrue(d.contains("tracing: OTLP/HTTP JSON to http://127.0.0.1:4318/v1/traces as gateway"), d)
        XCTAssertFalse(d.contains("k1"), "header values are never shown")
    }

    func testScalarAndEnvironment() throws {
        let env = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318/", "OTEL_SERVICE_NAME": "svc",
                   "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5",
                   "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b,bad header=x"]
        let c = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: "tracing: true"), env: env))
        XCTAssertTrue(c.tracing.enabled)
        XCTAssertEqual(c.tracing.endpoint.description, "http://localhost:4318/v1/traces")
        XCTAssertEqual(c.tracing.serviceName, "svc")
        XCTAssertEqual(c.tracing.sampleRatio, 0.5)
        XCTAssertEqual(c.tracing.headers.map(\.name), ["api-key"])
        XCTAssertEqual(c.tracing.headers.map(\.value), ["a b"])
        let specific = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: "tracing: {}"), env: [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9999/t", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:1",
        ]))
        XCTAssertTrue(specific.tracing.enabled, "a block without `enabled` turns tracing on")
        XCTAssertEqual(specific.tracing.endpoint.description, "http://127.0.0.1:9999/t")
        let off = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: "tracing: false"), env: env))
        XCTAssertFalse(off.tracing.enabled, "the environment alone never turns tracing on")
    }

    func testErrors() {
        assertConfigError(ConfigFixtures.minimal(extra: "tracing: { endpoint: https://collector:4318/v1/traces }"),
                          "tracing.endpoint: https is not supported for traces yet: export to a local collector over "
                            + "http:// (e.g. http://127.0.0.1:4318/v1/traces) and let it forward over TLS")
        assertConfigError(ConfigFixtures.minimal(extra: "tracing: { sample_ratio: 1.5 }"),
                          "tracing.sample_ratio: expected a ratio from 0 to 1 (1: every new trace), got '1.5'")
        assertConfigError(ConfigFixtures.minimal(extra: "tracing: { batch: { max_spans: 0 } }"),
                          "tracing.batch.max_spans: 0 is out of range 1...8192")
        assertConfigError(ConfigFixtures.minimal(extra: "tracing: { max_queue: 10, batch: { max_spans: 20 } }"),
                          "tracing.max_queue: 10 is smaller than batch.max_spans (20)")
        assertConfigError(ConfigFixtures.minimal(extra: "tracing: { headers: { Content-Type: text/plain } }"),
                          "tracing.headers.Content-Type: Content-Type is written by the exporter and cannot be configured")
        assertConfigError(ConfigFixtures.minimal(extra: "tracing: { endpont: http://127.0.0.1:4318 }"),
                          "tracing.endpont: unknown key (expected one of: enabled, endpoint, service_name, sample_ratio, headers, "
                            + "batch, max_queue, timeout_ms)")
    }

    func testRemoteEndpointWarns() throws {
        let c = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: "tracing: { endpoint: http://collector.internal:4318/v1/traces }")))
        XCTAssertEqual(c.warnings.count, 1)
        XCTAssertTrue(c.warnings[0].hasPrefix("tracing.endpoint: http://collector.internal:4318/v1/traces is not a loopback"))
    }
}
