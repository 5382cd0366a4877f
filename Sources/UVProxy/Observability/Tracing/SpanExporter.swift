import Glibc
import UVNet

/// The process's span exporter: one thread that takes the workers' batches from a bounded queue,
/// encodes them as OTLP/HTTP JSON and POSTs them to the collector with bounded timeouts. Workers never
/// wait on it: a batch that does not fit in `max_queue` is dropped and counted, and an export that
/// fails (collector down, slow, or answering an error) drops its spans and counts them. No retries:
/// a collector that is away loses the spans of that time, the requests lose nothing.
final class SpanExporter: @unchecked Sendable {
    let config: TracingConfig
    /// Sends one encoded request body before `deadlineNs` (monotonic); true when the collector took it.
    typealias Transport = @Sendable (_ body: UnsafeRawBufferPointer, _ deadlineNs: UInt64) -> Bool

    private let transport: Transport
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var batches: [SpanBatch] = []
    private var queued = 0
    private var stopping = false
    private var finished = false
    private var running = false
    private var drainDeadlineNs: UInt64 = 0
    private var counts = TraceExportCounts()

    init(config: TracingConfig, transport: Transport? = nil) {
        self.config = config
        self.transport = transport ?? OTLPHTTPClient(config: config).post
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Starts the export thread.
    func start() throws(UVError) {
        lock()
        running = true
        unlock()
        // Lifetime: the thread's closure keeps the exporter alive until the thread ends.
        try DetachedThread.start(name: "mini-proxy-otlp", stackSize: 1 << 20) { [self] in run() }
    }

    /// Queues a worker's batch (any thread; never blocks on the network). What does not fit is dropped.
    func submit(_ batch: SpanBatch) {
        guard !batch.isEmpty else { return }
        lock()
        let room = max(0, config.maxQueue - queued)
        if stopping && finished || room == 0 {
            counts.droppedQueueFull &+= batch.spanCount
        } else if batch.count <= room {
            batches.append(batch)
            queued += batch.count
        } else {
            batches.append(batch.prefix(room))
            queued += room
            counts.droppedQueueFull &+= batch.dropFirst(room).spanCount
        }
        pthread_cond_signal(condition)
        unlock()
    }

    /// Exported and dropped spans so far (a scrape, tests).
    func snapshot() -> TraceExportCounts {
        lock()
        defer { unlock() }
        var c = counts
        c.queued = UInt64(queued)
        return c
    }

    /// Exports what is queued, then stops the thread; returns when that is done or after `waitMs`
    /// (what is left then is dropped and counted). Call after the workers handed over their batches.
    func shutdown(waitMs: UInt64) {
        lock()
        let deadline = monotonicNanoseconds() &+ waitMs &* 1_000_000
        stopping = true
        drainDeadlineNs = deadline
        pthread_cond_broadcast(condition)
        guard running else {
            finished = true
            for b in batches { counts.droppedFailed &+= b.spanCount }
            batches = []
            queued = 0
            unlock()
            return
        }
        while !finished {
            let now = monotonicNanoseconds()
            if now >= deadline { break }
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let wait = deadline - now
            var ns = UInt64(ts.tv_nsec) + wait % 1_000_000_000
            var sec = UInt64(ts.tv_sec) + wait / 1_000_000_000
            if ns >= 1_000_000_000 {
                ns -= 1_000_000_000
                sec += 1
            }
            ts.tv_sec = Int(sec)
            ts.tv_nsec = Int(ns)
            pthread_cond_timedwait(condition, mutex, &ts)
        }
        unlock()
    }

    // MARK: The export thread

    private func run() {
        let encoder = OTLPJSON(serviceName: config.serviceName)
        lock()
        while true {
            while batches.isEmpty && !stopping { pthread_cond_wait(condition, mutex) }
            if batches.isEmpty { break }
            var spans: [SpanBatch] = []
            var exchanges = 0
            while let b = batches.first, spans.isEmpty || exchanges + b.count <= config.batchMaxSpans {
                spans.append(b)
                exchanges += b.count
                batches.removeFirst()
            }
            queued -= exchanges
            let now = monotonicNanoseconds()
            var deadline = now &+ UInt64(config.timeoutMs) &* 1_000_000
            if stopping { deadline = min(deadline, drainDeadlineNs) }
            unlock()
            var ok = false
            if deadline > now {
                ok = encoder.encode(spans, then: { transport($0, deadline) })
            }
            lock()
            let n = spans.reduce(0) { $0 + $1.spanCount }
            if ok {
                counts.exported &+= n
            } else {
                counts.droppedFailed &+= n
                counts.failedExports &+= 1
            }
        }
        finished = true
        pthread_cond_broadcast(condition)
        unlock()
    }

    private func lock() { pthread_mutex_lock(mutex) }
    private func unlock() { pthread_mutex_unlock(mutex) }
}

/// The exporter's counters: OTLP spans (an exchange is one or two), except `failedExports` and `queued`.
struct TraceExportCounts: Sendable, Equatable {
    /// Accepted by the collector (a 2xx answer).
    var exported: UInt64 = 0
    /// Dropped because the queue was full.
    var droppedQueueFull: UInt64 = 0
    /// Dropped because their export failed (collector unreachable, slow, an error status) or shutdown ran out of time.
    var droppedFailed: UInt64 = 0
    /// Export requests that failed.
    var failedExports: UInt64 = 0
    /// Exchanges waiting for the export thread now.
    var queued: UInt64 = 0
}
