import Providers

/// One exchange's timestamps for the metrics, in monotonic nanoseconds. With metrics off `startNs`
/// is 0 and every method returns at its first test: no clock is read.
///
/// Upstream time runs from the first byte sent upstream to the last one read (retries, their
/// back-off and reconnects inside it); the proxy's overhead is the rest of the request's duration:
/// reading and routing the request, credentials, connecting, translating, writing the answer.
struct ExchangeMeter {
    /// When the exchange began; 0 when metrics are off.
    let startNs: UInt64
    /// The route's label id (`WorkerMetrics.routeLabel`).
    let route: Int
    private var firstSentNs: UInt64 = 0
    private var sentNs: UInt64 = 0
    /// The start of the upstream read being handled (or the last one).
    private var readNs: UInt64 = 0
    /// Time to the response head of the latest try; 0 before a head came.
    private var ttfbNs: UInt64 = 0
    private var gotHead = false
    private var isStream = false
    /// When stream bytes last went to the client; 0 before the first.
    private var lastEventNs: UInt64 = 0

    init(metrics: WorkerMetrics?, route: CompiledRoute) {
        if let metrics {
            startNs = monotonicNanoseconds()
            self.route = metrics.routeLabel(route)
        } else {
            startNs = 0
            self.route = 0
        }
    }

    /// The request (head and body, or head first for a streamed body) was handed to an upstream connection.
    @inline(__always)
    mutating func requestSent() {
        guard startNs != 0 else { return }
        sentNs = monotonicNanoseconds()
        if firstSentNs == 0 { firstSentNs = sentNs }
    }

    /// Bytes came from the upstream (called once per read, before they are handled).
    @inline(__always)
    mutating func upstreamRead() {
        guard startNs != 0 else { return }
        readNs = monotonicNanoseconds()
    }

    /// The upstream's response head was parsed (in the current read); `stream` for an event stream.
    @inline(__always)
    mutating func responseHead(stream: Bool) {
        guard startNs != 0 else { return }
        ttfbNs = readNs > sentNs ? readNs - sentNs : 0
        gotHead = true
        isStream = stream
    }

    /// Stream bytes of the current read go to the client: the first one's time is the TTFT, then
    /// each read's distance from the previous one is an event gap.
    @inline(__always)
    mutating func streamBytes(_ metrics: WorkerMetrics?) {
        guard isStream, readNs != lastEventNs, let metrics else { return }
        if lastEventNs == 0 {
            metrics.streamStarted(route: route, ttftNs: readNs > startNs ? readNs - startNs : 0)
        } else {
            metrics.streamEvent(route: route, gapNs: readNs - lastEventNs)
        }
        lastEventNs = readNs
    }

    /// The exchange ended with `status`. `model` is the client's `model` value in `body` (as the
    /// translator found it), nil when unknown.
    func finish(status: Int, model: Range<Int>?, body: [UInt8], usage: TokenUsage, metrics: WorkerMetrics?) {
        guard startNs != 0, let metrics else { return }
        let end = monotonicNanoseconds()
        let total = end > startNs ? end - startNs : 0
        let upstream: UInt64? = gotHead ? (readNs > firstSentNs ? readNs - firstSentNs : 0) : nil
        let modelLabel = metrics.modelLabel(model, in: body)
        metrics.exchangeFinished(
            route: route, model: modelLabel, status: status,
            totalNs: total, ttfbNs: gotHead ? ttfbNs : nil, upstreamNs: upstream)
        if !usage.isEmpty {
            if let v = usage.input { metrics.tokens(route: route, model: modelLabel, kind: .input, count: v) }
            if let v = usage.output { metrics.tokens(route: route, model: modelLabel, kind: .output, count: v) }
            if let v = usage.cacheRead { metrics.tokens(route: route, model: modelLabel, kind: .cacheRead, count: v) }
            if let v = usage.cacheCreation { metrics.tokens(route: route, model: modelLabel, kind: .cacheCreation, count: v) }
            if let v = usage.reasoning { metrics.tokens(route: route, model: modelLabel, kind: .reasoning, count: v) }
        }
        if lastEventNs != 0 { metrics.streamEnded() }
    }
}
