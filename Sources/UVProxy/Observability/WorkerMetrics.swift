import Glibc

/// One worker's metrics: counters, gauges and histograms that only this worker's loop writes, as
/// plain integers (no atomics, no locks on the request path). A scrape on any worker collects every
/// worker's `snapshot()` by message passing (`MetricsHub`), sums them and renders the text format.
///
/// Labels are bounded by the config: `route` is a route's configured path (`none` for requests no
/// route took), `model` a model id from `models:` or a route's alias key (`other` otherwise), `status`
/// the 3-digit code, `upstream` an upstream's name. Loop-confined.
final class WorkerMetrics {
    /// Label ids 0: `route="none"`, `model="other"`.
    static let noRoute = 0
    static let otherModel = 0

    let routes = LabelSet(["none"])
    let models = LabelSet(["other"])
    let upstreams = LabelSet()
    /// Route label ids by `CompiledRoute.index` of the runtime bound last.
    private var routeLabels: [Int] = []
    private(set) var modelMatcher = ModelMatcher()

    // Counters.
    let requestCounts = CounterTable(capacity: 32)  // route, model, status
    let tokenCounts = CounterTable()  // route, model, kind
    let retryCounts = CounterTable()  // route, reason
    let fallbackCounts = CounterTable()  // route, upstream
    let healedCounts = CounterTable()  // upstream, kind
    let upstreamOpened = CounterTable()  // upstream
    let upstreamFailed = CounterTable()  // upstream
    let credentialRuns = CounterTable()  // upstream
    let credentialFailures = CounterTable()  // upstream

    // Histograms, by route label (credential runs by upstream label).
    let duration = HistogramStore(.latency)
    let ttfb = HistogramStore(.latency)
    let overhead = HistogramStore(.overhead)
    let ttft = HistogramStore(.latency)
    let eventGap = HistogramStore(.gap)
    let credentialDuration = HistogramStore(.command)

    // Gauges kept here (connections and pools are read from their owners at snapshot time).
    private(set) var activeStreams = 0

    init() {}

    /// Labels for a (re)loaded runtime: its routes' paths and the models it knows.
    func bind(_ runtime: ProxyRuntime) {
        routeLabels = runtime.routes.map { routes.id(Self.routeLabel($0.config)) }
        var names: [(String, Int)] = []
        for m in runtime.config.models { names.append((m.id, models.id(m.id))) }
        for r in runtime.config.routes {
            for alias in r.modelAliases.keys.sorted() { names.append((alias, models.id(alias))) }
        }
        modelMatcher = ModelMatcher(names.map { (name: $0.0, id: $0.1) })
        for h in [duration, ttfb, overhead, ttft, eventGap] { h.reserve(labels: routes.names.count) }
    }

    /// A route's label: its path as configured (`/google/*` for a prefix route).
    static func routeLabel(_ r: RouteConfig) -> String { r.isPrefix ? r.path + "*" : r.path }

    /// The label id of a route of the runtime bound last.
    @inline(__always)
    func routeLabel(_ route: CompiledRoute) -> Int {
        route.index < routeLabels.count ? routeLabels[route.index] : Self.noRoute
    }

    /// The model label id of a client's `model` value (a JSON string as written) inside `body`.
    func modelLabel(_ range: Range<Int>?, in body: [UInt8]) -> Int {
        guard let range, range.lowerBound >= 0, range.upperBound <= body.count else { return Self.otherModel }
        return body.withUnsafeBytes { modelMatcher.id(jsonString: UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    // MARK: Request path

    /// A proxied exchange ended. `upstreamNs` is the time from the first byte sent upstream to the
    /// last one read, nil when no response head came (then neither TTFB nor overhead is observed).
    @inline(__always)
    func exchangeFinished(route: Int, model: Int, status: Int, totalNs: UInt64, ttfbNs: UInt64?, upstreamNs: UInt64?) {
        requestCounts.add(LabelKey.pack(route, model, status))
        duration.observe(route, ns: totalNs)
        if let ttfbNs { ttfb.observe(route, ns: ttfbNs) }
        if let upstreamNs { overhead.observe(route, ns: totalNs > upstreamNs ? totalNs - upstreamNs : 0) }
    }

    /// A request answered by the proxy itself (health, models, preflight, a local error). `route` is
    /// nil when no route took it.
    func localAnswer(route: CompiledRoute?, status: Int) {
        requestCounts.add(LabelKey.pack(route.map { routeLabel($0) } ?? Self.noRoute, Self.otherModel, status))
    }

    /// The first bytes of a stream reached the client, `ns` after the request began.
    func streamStarted(route: Int, ttftNs ns: UInt64) {
        activeStreams += 1
        ttft.observe(route, ns: ns)
    }

    /// More stream bytes reached the client, `ns` after the previous ones.
    @inline(__always)
    func streamEvent(route: Int, gapNs ns: UInt64) {
        eventGap.observe(route, ns: ns)
    }

    func streamEnded() { activeStreams -= 1 }

    /// Tokens a response reported (fed by the exchange once translators report usage).
    /// `route` from `routeLabel(_:)` (or `ExchangeMeter.route`), `model` from `modelLabel(_:in:)`.
    func tokens(route: Int, model: Int, kind: TokenKind, count: Int) {
        guard count > 0 else { return }
        tokenCounts.add(LabelKey.pack(route, model, kind.rawValue), UInt64(count))
    }

    /// The upstream was tried again for a request of `route`.
    func retry(route: Int, reason: RetryReason) {
        retryCounts.add(LabelKey.pack(route, reason.rawValue))
    }

    /// A request of `route` was served by the fallback `upstream`.
    func fallback(route: Int, upstream: String) {
        fallbackCounts.add(LabelKey.pack(route, upstreams.id(upstream)))
    }

    /// The request was retried without something `upstream` refused.
    func healed(upstream: String, kind: HealedKind) {
        healedCounts.add(LabelKey.pack(upstreams.id(upstream), kind.rawValue))
    }

    // MARK: Pools and credentials (per connection or per command run, not per request)

    func upstreamConnectionOpened(_ upstream: String) { upstreamOpened.add(LabelKey.pack(upstreams.id(upstream))) }

    func upstreamConnectionFailed(_ upstream: String) { upstreamFailed.add(LabelKey.pack(upstreams.id(upstream))) }

    /// A credential command ran for `upstream` and took `ns`; `ok` false when it gave no token.
    func credentialCommand(upstream: String, ns: UInt64, ok: Bool) {
        let id = upstreams.id(upstream)
        credentialRuns.add(LabelKey.pack(id))
        if !ok { credentialFailures.add(LabelKey.pack(id)) }
        credentialDuration.observe(id, ns: ns)
    }

    // MARK: Scrape

    /// Everything, copied (on this worker's loop), with the gauges its owners hold.
    func snapshot(activeConnections: Int = 0, pools: [PoolGauge] = []) -> MetricsSnapshot {
        MetricsSnapshot(
            routes: routes.names, models: models.names, upstreams: upstreams.names,
            requests: requestCounts.entries(), tokens: tokenCounts.entries(), retries: retryCounts.entries(),
            fallbacks: fallbackCounts.entries(), healed: healedCounts.entries(),
            upstreamOpened: upstreamOpened.entries(),
            upstreamFailed: upstreamFailed.entries(), credentialRuns: credentialRuns.entries(),
            credentialFailures: credentialFailures.entries(),
            duration: duration.snapshot(labels: routes.names.count), ttfb: ttfb.snapshot(labels: routes.names.count),
            overhead: overhead.snapshot(labels: routes.names.count), ttft: ttft.snapshot(labels: routes.names.count),
            eventGap: eventGap.snapshot(labels: routes.names.count),
            credentialDuration: credentialDuration.snapshot(labels: upstreams.names.count),
            activeConnections: activeConnections, activeStreams: activeStreams, pools: pools)
    }
}

/// One upstream pool's connections at snapshot time.
struct PoolGauge: Sendable, Equatable {
    var upstream: String
    var idle: Int
    var busy: Int
}

/// A nanosecond monotonic clock reading: `clock_gettime(CLOCK_MONOTONIC)`, through the vDSO (about
/// 35 ns here), called directly rather than through `uv_hrtime`'s wrapper.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(truncatingIfNeeded: ts.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: ts.tv_nsec)
}
