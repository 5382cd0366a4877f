/// `tracing`: OpenTelemetry spans exported over OTLP/HTTP (JSON). Off by default.
package struct TracingConfig: Sendable, Equatable {
    /// `enabled`, default false. Off: no clock read, no header looked at, `traceparent` passes through
    /// pass-through routes untouched as before.
    package var enabled = false
    /// `endpoint`: where spans are POSTed, `http://HOST[:PORT]/PATH` (default
    /// `http://127.0.0.1:4318/v1/traces`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`).
    package var endpoint = UpstreamURL(scheme: "http", host: "127.0.0.1", port: 4318, basePath: "/v1/traces")
    /// `service_name`: the resource's `service.name` (default `mini-proxy`, or `OTEL_SERVICE_NAME`).
    package var serviceName = "mini-proxy"
    /// `sample_ratio`: the share of new traces recorded, 0...1 (default 1). A client's `traceparent`
    /// decides for its own trace (its sampled flag).
    package var sampleRatio = 1.0
    /// `headers`: sent with every export (a collector's key); values never logged.
    package var headers: [(name: String, value: String)] = []
    /// `batch.max_spans`: exchanges (one or two spans each) per export request and per worker hand-off (default 512).
    package var batchMaxSpans = 512
    /// `batch.interval_ms`: the longest a finished span waits in its worker before export (default 1000).
    package var batchIntervalMs = 1000
    /// `max_queue`: exchanges waiting for the exporter, over all workers; more are dropped and counted.
    package var maxQueue = 2048
    /// `timeout_ms`: one export request's deadline (connect, send, answer); default 5000.
    package var timeoutMs = 5000

    package init() {}

    package static func == (a: TracingConfig, b: TracingConfig) -> Bool {
        a.enabled == b.enabled && a.endpoint.description == b.endpoint.description && a.serviceName == b.serviceName
            && a.sampleRatio == b.sampleRatio && a.headers.map(\.name) == b.headers.map(\.name)
            && a.headers.map(\.value) == b.headers.map(\.value) && a.batchMaxSpans == b.batchMaxSpans
            && a.batchIntervalMs == b.batchIntervalMs && a.maxQueue == b.maxQueue && a.timeoutMs == b.timeoutMs
    }
}
