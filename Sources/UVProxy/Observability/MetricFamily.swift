/// Every family the proxy exports, in the order it renders them.
enum MetricFamily: String, CaseIterable, Sendable {
    case requests = "mini_proxy_requests_total"
    case duration = "mini_proxy_request_duration_seconds"
    case ttfb = "mini_proxy_upstream_ttfb_seconds"
    case overhead = "mini_proxy_overhead_seconds"
    case ttft = "mini_proxy_stream_ttft_seconds"
    case eventGap = "mini_proxy_stream_event_gap_seconds"
    case tokens = "mini_proxy_tokens_total"
    case activeConnections = "mini_proxy_active_connections"
    case activeStreams = "mini_proxy_active_streams"
    case upstreamConnections = "mini_proxy_upstream_connections"
    case upstreamOpened = "mini_proxy_upstream_connections_opened_total"
    case upstreamFailed = "mini_proxy_upstream_connections_failed_total"
    case credentialRuns = "mini_proxy_credential_command_runs_total"
    case credentialFailures = "mini_proxy_credential_command_failures_total"
    case credentialDuration = "mini_proxy_credential_command_duration_seconds"
    case retries = "mini_proxy_retries_total"
    case fallbacks = "mini_proxy_fallbacks_total"
    case healed = "mini_proxy_healed_total"
    case traceSpansExported = "mini_proxy_trace_spans_exported_total"
    case traceSpansDropped = "mini_proxy_trace_spans_dropped_total"
    case missingWorkers = "mini_proxy_scrape_missing_workers"
    case buildInfo = "mini_proxy_build_info"

    enum Kind: String { case counter, gauge, histogram }

    var kind: Kind {
        switch self {
        case .duration, .ttfb, .overhead, .ttft, .eventGap, .credentialDuration: .histogram
        case .activeConnections, .activeStreams, .upstreamConnections, .missingWorkers, .buildInfo: .gauge
        default: .counter
        }
    }

    var buckets: Buckets? {
        switch self {
        case .duration, .ttfb, .ttft: .latency
        case .overhead: .overhead
        case .eventGap: .gap
        case .credentialDuration: .command
        default: nil
        }
    }

    var help: String {
        switch self {
        case .requests: "Requests answered, by route, model and status (proxied, and answered by the proxy itself)."
        case .duration: "Proxied requests: time from dispatch to the end of the response."
        case .ttfb: "Time from sending the request upstream to the upstream's response head."
        case .overhead:
            "Proxy overhead: request duration minus the time from the first byte sent upstream to the last byte read from it."
        case .ttft: "Streamed responses: time from dispatch to the first stream bytes sent to the client."
        case .eventGap: "Streamed responses: time between upstream reads that produced stream bytes for the client."
        case .tokens:
            "Tokens the upstream reported, by route, model and kind (input, output, cache_read, cache_creation, reasoning)."
        case .activeConnections: "Open client connections."
        case .activeStreams: "Streamed responses in progress."
        case .upstreamConnections: "Upstream pool connections, idle (parked) or busy (carrying a request)."
        case .upstreamOpened: "Upstream connections opened (connected, TLS included)."
        case .upstreamFailed: "Upstream connections that failed (resolve, connect, TLS, timeouts)."
        case .credentialRuns: "Credential command runs."
        case .credentialFailures: "Credential command runs that gave no token."
        case .credentialDuration: "Credential command run time."
        case .retries: "Upstream retries, by route and reason."
        case .fallbacks: "Requests served by a fallback upstream."
        case .healed: "Requests retried without something the upstream refused, by what was removed."
        case .traceSpansExported: "Spans the OTLP collector accepted (tracing on)."
        case .traceSpansDropped:
            "Spans dropped, by reason: queue_full (the export queue was full) or export_failed (the collector was unreachable, slow or refused them)."
        case .missingWorkers: "Workers that did not answer this scrape in time: their counts are missing from it."
        case .buildInfo: "The running mini-proxy version."
        }
    }
}
