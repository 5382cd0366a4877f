/// Snapshots of every worker summed by label values, rendered in the Prometheus text exposition
/// format 0.0.4. A cold path: strings and dictionaries are fine here.
struct MetricsReport {
    /// Family → label text (`route="/x",status="200"`) → value.
    private(set) var values: [MetricFamily: [String: UInt64]] = [:]
    private(set) var histograms: [MetricFamily: [String: HistogramSum]] = [:]
    var missingWorkers = 0
    /// The span exporter's counters (nil: tracing off, and the trace families are left out).
    var tracing: TraceExportCounts?

    struct HistogramSum: Equatable {
        /// Per bucket (not cumulative), `+Inf` last.
        var counts: [UInt64]
        var sumNs: UInt64
    }

    init() {}

    mutating func add(_ s: MetricsSnapshot) {
        func name(_ names: [String], _ id: Int) -> String? { id < names.count ? names[id] : nil }
        for e in s.requests {
            let (r, m, status) = LabelKey.unpack(e.key)
            guard let route = name(s.routes, r), let model = name(s.models, m) else { continue }
            count(.requests, [("route", route), ("model", model), ("status", String(status))], e.value)
        }
        for e in s.tokens {
            let (r, m, k) = LabelKey.unpack(e.key)
            guard let route = name(s.routes, r), let model = name(s.models, m), let kind = TokenKind(rawValue: k) else {
                continue
            }
            count(.tokens, [("route", route), ("model", model), ("kind", kind.label)], e.value)
        }
        for e in s.retries {
            let (r, k, _) = LabelKey.unpack(e.key)
            guard let route = name(s.routes, r), let reason = RetryReason(rawValue: k) else { continue }
            count(.retries, [("route", route), ("reason", reason.label)], e.value)
        }
        for e in s.fallbacks {
            let (r, u, _) = LabelKey.unpack(e.key)
            guard let route = name(s.routes, r), let upstream = name(s.upstreams, u) else { continue }
            count(.fallbacks, [("route", route), ("upstream", upstream)], e.value)
        }
        for e in s.healed {
            let (u, k, _) = LabelKey.unpack(e.key)
            guard let upstream = name(s.upstreams, u), let kind = HealedKind(rawValue: k) else { continue }
            count(.healed, [("upstream", upstream), ("kind", kind.label)], e.value)
        }
        for (family, entries) in [
            (MetricFamily.upstreamOpened, s.upstreamOpened), (.upstreamFailed, s.upstreamFailed),
            (.credentialRuns, s.credentialRuns), (.credentialFailures, s.credentialFailures),
        ] {
            for e in entries {
                guard let upstream = name(s.upstreams, LabelKey.unpack(e.key).0) else { continue }
                count(family, [("upstream", upstream)], e.value)
            }
        }
        for (family, h) in [
            (MetricFamily.duration, s.duration), (.ttfb, s.ttfb), (.overhead, s.overhead),
            (.ttft, s.ttft), (.eventGap, s.eventGap),
        ] {
            observe(family, h, names: s.routes, label: "route")
        }
        observe(.credentialDuration, s.credentialDuration, names: s.upstreams, label: "upstream")
        count(.activeConnections, [], UInt64(max(0, s.activeConnections)))
        count(.activeStreams, [], UInt64(max(0, s.activeStreams)))
        for p in s.pools {
            count(.upstreamConnections, [("upstream", p.upstream), ("state", "idle")], UInt64(max(0, p.idle)))
            count(.upstreamConnections, [("upstream", p.upstream), ("state", "busy")], UInt64(max(0, p.busy)))
        }
    }

    private mutating func count(_ family: MetricFamily, _ labels: [(String, String)], _ value: UInt64) {
        values[family, default: [:]][PrometheusText.labels(labels), default: 0] &+= value
    }

    private mutating func observe(_ family: MetricFamily, _ h: HistogramSnapshot, names: [String], label: String) {
        for id in 0..<h.labelCount {
            guard id < names.count, let sample = h.sample(id) else { continue }
            let key = PrometheusText.labels([(label, names[id])])
            var sum =
                histograms[family]?[key]
                ?? HistogramSum(counts: Array(repeating: 0, count: sample.counts.count), sumNs: 0)
            guard sum.counts.count == sample.counts.count else { continue }
            for (i, c) in sample.counts.enumerated() { sum.counts[i] &+= c }
            sum.sumNs &+= sample.sumNs
            histograms[family, default: [:]][key] = sum
        }
    }

    /// The exposition text: every family with its `# HELP` and `# TYPE`, samples sorted by labels.
    func render() -> String {
        var out = ""
        out.reserveCapacity(8192)
        for family in MetricFamily.allCases {
            if family == .traceSpansExported || family == .traceSpansDropped, tracing == nil { continue }
            let name = family.rawValue
            out += "# HELP \(name) \(PrometheusText.escapeHelp(family.help))\n# TYPE \(name) \(family.kind.rawValue)\n"
            switch family {
            case .missingWorkers:
                out += "\(name) \(missingWorkers)\n"
            case .traceSpansExported:
                out += "\(name) \(tracing?.exported ?? 0)\n"
            case .traceSpansDropped:
                out += "\(name){reason=\"export_failed\"} \(tracing?.droppedFailed ?? 0)\n"
                out += "\(name){reason=\"queue_full\"} \(tracing?.droppedQueueFull ?? 0)\n"
            case .buildInfo:
                out += "\(name){\(PrometheusText.labels([("version", MiniProxyVersion.string)]))} 1\n"
            case .activeConnections, .activeStreams:
                out += "\(name) \(values[family]?[""] ?? 0)\n"
            default:
                if let buckets = family.buckets {
                    for (labels, h) in (histograms[family] ?? [:]).sorted(by: { $0.key < $1.key }) {
                        PrometheusText.appendHistogram(
                            name, labels: labels, buckets: buckets, counts: h.counts, sumNs: h.sumNs, to: &out)
                    }
                } else {
                    for (labels, v) in (values[family] ?? [:]).sorted(by: { $0.key < $1.key }) {
                        out += labels.isEmpty ? "\(name) \(v)\n" : "\(name){\(labels)} \(v)\n"
                    }
                }
            }
        }
        return out
    }
}
