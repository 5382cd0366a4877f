import UVNet
/// Every worker's metrics, reachable from any worker's loop for a scrape. A scrape on one loop takes
/// its own snapshot directly and asks each other worker for one on that worker's loop
/// (`EventLoop.execute`); each answer comes back the same way. The scraping loop never blocks: it
/// answers when the last worker replied, or when `timeoutMs` passed (the missing workers are then
/// counted in `mini_proxy_scrape_missing_workers`). The request path takes no lock.
final class MetricsHub: @unchecked Sendable {
    /// A worker's loop and the function that snapshots its metrics; the function runs on that loop only.
    struct Member: @unchecked Sendable {
        let loop: EventLoop
        let snapshot: () -> MetricsSnapshot
    }

    /// Set once, before any worker's loop runs; read-only afterwards.
    private(set) var members: [Member] = []
    let timeoutMs: UInt64
    /// The span exporter whose counters a scrape reports (set before the loops start; nil: tracing off).
    var spanExporter: SpanExporter?

    init(timeoutMs: UInt64 = 2_000) {
        self.timeoutMs = timeoutMs
    }

    /// Adds a worker (before the loops start).
    func add(loop: EventLoop, snapshot: @escaping () -> MetricsSnapshot) {
        members.append(Member(loop: loop, snapshot: snapshot))
    }

    /// Collects every worker's snapshot and calls `done` with the summed report, on `loop` (which
    /// must be a member's loop, or one that runs while the scrape is pending).
    func scrape(on loop: EventLoop, _ done: @escaping (MetricsReport) -> Void) {
        let exporter = spanExporter
        let gather = ScrapeGather(count: members.count) { report in
            var report = report
            report.tracing = exporter?.snapshot()
            done(report)
        }
        for (i, m) in members.enumerated() where m.loop === loop {
            gather.received(i, m.snapshot())
        }
        guard !gather.finished else { return }
        let box = LoopConfined(gather)
        for (i, m) in members.enumerated() where m.loop !== loop {
            m.loop.execute {
                let s = m.snapshot()
                loop.execute { box.value.received(i, s) }
            }
        }
        gather.armTimeout(on: loop, ms: timeoutMs)
    }
}

/// A value handed to closures that other threads carry back to the one loop that owns it.
private struct LoopConfined<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// One scrape in progress on the scraping loop: the snapshots received so far.
private final class ScrapeGather {
    private var snapshots: [MetricsSnapshot?]
    private var pending: Int
    private var timer: (loop: EventLoop, timer: Timer)?
    private var done: ((MetricsReport) -> Void)?
    var finished: Bool { done == nil }

    init(count: Int, done: @escaping (MetricsReport) -> Void) {
        snapshots = Array(repeating: nil, count: count)
        pending = count
        self.done = done
        if count == 0 { finish() }
    }

    func received(_ i: Int, _ s: MetricsSnapshot) {
        guard !finished, snapshots[i] == nil else { return }
        snapshots[i] = s
        pending -= 1
        if pending == 0 { finish() }
    }

    func armTimeout(on loop: EventLoop, ms: UInt64) {
        guard !finished else { return }
        let t = loop.takeTimer()
        timer = (loop, t)
        // Lifetime: the timer's action holds this gather until it fires or the scrape finishes.
        t.start(after: ms) { self.finish() }
    }

    private func finish() {
        guard let done else { return }
        self.done = nil
        if let (loop, t) = timer {
            timer = nil
            loop.recycleTimer(t)
        }
        var report = MetricsReport()
        for s in snapshots {
            if let s { report.add(s) } else { report.missingWorkers += 1 }
        }
        snapshots = []
        done(report)
    }
}
