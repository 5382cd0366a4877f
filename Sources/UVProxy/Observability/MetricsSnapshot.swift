/// One worker's metrics at one moment: label names and copied counts, safe to hand to another loop.
struct MetricsSnapshot: Sendable, Equatable {
    var routes: [String] = []
    var models: [String] = []
    var upstreams: [String] = []
    var requests: [CounterEntry] = []
    var tokens: [CounterEntry] = []
    var retries: [CounterEntry] = []
    var fallbacks: [CounterEntry] = []
    var healed: [CounterEntry] = []
    var upstreamOpened: [CounterEntry] = []
    var upstreamFailed: [CounterEntry] = []
    var credentialRuns: [CounterEntry] = []
    var credentialFailures: [CounterEntry] = []
    var duration = HistogramSnapshot(stride: 0, cells: [])
    var ttfb = HistogramSnapshot(stride: 0, cells: [])
    var overhead = HistogramSnapshot(stride: 0, cells: [])
    var ttft = HistogramSnapshot(stride: 0, cells: [])
    var eventGap = HistogramSnapshot(stride: 0, cells: [])
    var credentialDuration = HistogramSnapshot(stride: 0, cells: [])
    var activeConnections = 0
    var activeStreams = 0
    var pools: [PoolGauge] = []
}
