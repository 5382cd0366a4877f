/// Histogram bucket bounds (seconds, as Prometheus `le` labels) held as nanoseconds for the request path.
struct Buckets: Sendable {
    /// Upper bounds in nanoseconds, ascending; the `+Inf` bucket is implied.
    let bounds: [UInt64]
    /// The `le` label of each bound, as written here (`0.005`, `1`, `2.5`), so PromQL matches them.
    let labels: [String]

    init(_ seconds: [String]) {
        labels = seconds
        bounds = seconds.map { UInt64((Double($0)! * 1e9).rounded()) }
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "bucket bounds must ascend")
    }

    /// Whole requests and time to first byte or token: LLM calls run from milliseconds to minutes.
    static let latency = Buckets([
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60",
        "120", "300",
    ])
    /// The proxy's own time per request: microseconds when all is well.
    static let overhead = Buckets([
        "0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
        "0.05", "0.1", "0.25", "1",
    ])
    /// Gaps between stream events: tokens arrive every few to few hundred milliseconds.
    static let gap = Buckets([
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
        "30",
    ])
    /// Credential commands (`atlas slauth token` takes about a second).
    static let command = Buckets(["0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30"])
}

/// The histograms of one family, one per label id (a route or an upstream), in one flat allocation:
/// per label, a count per bucket (the last is `+Inf`) then the sum in nanoseconds. Counts are per
/// bucket, not cumulative: the renderer accumulates. Loop-confined.
final class HistogramStore {
    let buckets: Buckets
    private let bounds: UnsafeMutablePointer<UInt64>
    private let boundCount: Int
    /// Cells per label: the buckets, `+Inf`, the sum.
    let stride: Int
    private var cells: UnsafeMutablePointer<UInt64>
    private(set) var labelCapacity: Int

    init(_ buckets: Buckets, labels: Int = 4) {
        self.buckets = buckets
        boundCount = buckets.bounds.count
        bounds = .allocate(capacity: boundCount)
        bounds.initialize(from: buckets.bounds, count: boundCount)
        stride = boundCount + 2
        labelCapacity = max(1, labels)
        cells = .allocate(capacity: labelCapacity * stride)
        cells.initialize(repeating: 0, count: labelCapacity * stride)
    }

    deinit {
        bounds.deallocate()
        cells.deallocate()
    }

    /// Makes room for label ids below `labels` (at bind time, so that `observe` never grows).
    func reserve(labels: Int) {
        guard labels > labelCapacity else { return }
        let n = max(labels, labelCapacity * 2)
        let fresh = UnsafeMutablePointer<UInt64>.allocate(capacity: n * stride)
        fresh.initialize(from: cells, count: labelCapacity * stride)
        (fresh + labelCapacity * stride).initialize(repeating: 0, count: (n - labelCapacity) * stride)
        cells.deallocate()
        cells = fresh
        labelCapacity = n
    }

    /// Counts one value of `ns` nanoseconds for `label`.
    @inline(__always)
    func observe(_ label: Int, ns: UInt64) {
        if label >= labelCapacity { reserve(labels: label + 1) }
        var i = 0
        while i < boundCount, ns > bounds[i] { i += 1 }
        let base = cells + label * stride
        base[i] &+= 1
        base[boundCount + 1] &+= ns
    }

    /// The cells of labels below `labels`, copied.
    func snapshot(labels: Int) -> HistogramSnapshot {
        let n = min(labels, labelCapacity)
        return HistogramSnapshot(stride: stride, cells: Array(UnsafeBufferPointer(start: cells, count: n * stride)))
    }
}

/// A copy of a `HistogramStore`'s cells: per label id, bucket counts, `+Inf`, sum in ns.
struct HistogramSnapshot: Sendable, Equatable {
    var stride: Int
    var cells: [UInt64]

    var labelCount: Int { stride == 0 ? 0 : cells.count / stride }

    /// Bucket counts (with `+Inf` last) and the sum of one label, or nil when it has no observation.
    func sample(_ label: Int) -> (counts: ArraySlice<UInt64>, sumNs: UInt64)? {
        let base = label * stride
        let counts = cells[base..<(base + stride - 1)]
        guard counts.contains(where: { $0 != 0 }) else { return nil }
        return (counts, cells[base + stride - 1])
    }
}
