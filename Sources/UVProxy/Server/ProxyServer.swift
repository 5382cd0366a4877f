import Glibc
import Providers
import UVNet
import HTTP1

/// Runs the proxy: N workers, each a thread with its own loop, `SO_REUSEPORT` listener and upstream
/// pools, sharing only the immutable runtime (config, TLS contexts, credential cache).
/// SIGTERM/SIGINT drain gracefully; SIGHUP reloads the config (validated first).
package final class ProxyServer: @unchecked Sendable {
    private let configPath: String?
    private(set) var runtime: ProxyRuntime
    private let listen: HostPort
    private let workerCount: Int
    private var workers: [WorkerThread] = []
    private let lock = Lock()
    private var stopped = false
    private let log: AccessLog
    /// Every worker's metrics, for a scrape on any of them (nil when metrics are off).
    private let metricsHub: MetricsHub?
    /// The OTLP span exporter (nil when tracing is off).
    private let spanExporter: SpanExporter?

    package init(config: ProxyConfig, configPath: String? = nil, listen: HostPort? = nil, workers: Int? = nil) throws {
        self.configPath = configPath
        runtime = try ProxyRuntime(config: config)
        self.listen = listen ?? config.listen
        workerCount = max(1, workers ?? config.workers)
        log = AccessLog(enabled: config.accessLog, format: AccessLog.Format(rawValue: config.accessLogFormat) ?? .text, path: config.accessLogPath)
        metricsHub = config.metrics.enabled ? MetricsHub() : nil
        spanExporter = config.tracing.enabled ? SpanExporter(config: config.tracing) : nil
        metricsHub?.spanExporter = spanExporter
    }

    /// The port of the metrics admin listener (`metrics.listen`), 0 without one.
    package private(set) var metricsPort: Int = 0

    /// The port actually bound (useful with port 0).
    package private(set) var port: Int = 0

    /// Starts every worker and returns once all listen.
    package func start() throws {
        let first = try WorkerThread(index: 0, server: self, host: listen.host, port: listen.port,
                                     reusePort: workerCount > 1, runtime: runtime, log: log)
        port = first.port
        workers = [first]
        for i in 1..<workerCount {
            workers.append(try WorkerThread(index: i, server: self, host: listen.host, port: port, reusePort: true,
                                            runtime: runtime, log: log))
        }
        if let hub = metricsHub {
            let m = runtime.config.metrics
            for w in workers {
                hub.add(loop: w.loop, snapshot: w.metricsSnapshot)
                if m.listen == nil { w.serveMetrics(hub: hub, path: m.path) }
            }
            if let admin = m.listen { metricsPort = try first.listenForMetrics(admin, hub: hub, path: m.path) }
        }
        if let spanExporter {
            try spanExporter.start()
            for w in workers { w.trace(to: spanExporter) }
        }
        for w in workers { try w.start() }
    }

    /// Starts, installs signal handlers, and blocks until stopped.
    package func run() throws {
        try start()
        for w in runtime.config.warnings { Log.warning(w) }
        if listen != runtime.config.listen, !listen.isLoopback, runtime.config.inboundKeys.isEmpty {
            // The config's own listen address was checked at load; an override from the command line is checked here.
            Log.warning("--listen \(listen): reachable from other machines and no inbound keys are configured")
        }
        Log.info("listening on \(listen.host):\(port) with \(workerCount) worker(s)")
        if let admin = runtime.config.metrics.listen, metricsHub != nil {
            Log.info("metrics on \(admin.host):\(metricsPort)\(runtime.config.metrics.path)")
        }
        // SIGTERM and SIGINT stop; SIGHUP reloads and SIGUSR1 reopens the access log, and watching goes on.
        let signals = SignalWatcher([SIGTERM, SIGINT, SIGHUP, SIGUSR1]) { [weak self] sig in
            self?.handleSignal(sig)
            return sig == SIGHUP || sig == SIGUSR1
        }
        signals.run()
        for w in workers { w.join() }
        finishTracing()
    }

    /// Exports the spans the workers handed over at their end (bounded by `tracing.timeout_ms`).
    private func finishTracing() {
        guard let spanExporter else { return }
        spanExporter.shutdown(waitMs: UInt64(spanExporter.config.timeoutMs))
    }

    /// The exporter's counters (tests).
    func traceExportCounts() -> TraceExportCounts? { spanExporter?.snapshot() }

    private func handleSignal(_ sig: Int32) {
        switch sig {
        case SIGHUP:
            reload()
        case SIGUSR1:
            log.reopen()
        default:
            Log.info("stopping: finishing in-flight requests (up to \(runtime.config.limits.shutdownGrace) ms)")
            stop(graceMs: UInt64(runtime.config.limits.shutdownGrace))
        }
    }

    /// Drains every worker, then stops its loop; after `graceMs` closes whatever is left. Any thread.
    package func stop(graceMs: UInt64 = 0) {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        if already { return }
        for w in workers { w.drain(graceMs: graceMs) }
    }

    /// Blocks until every worker thread ended.
    package func wait() {
        for w in workers { w.join() }
        finishTracing()
    }

    /// Responses answered straight from the read buffer, over all workers (tests).
    func inPlaceResponseCount() -> Int { workers.reduce(0) { $0 + $1.inPlaceResponses() } }

    /// Each worker's metrics, read on its loop (tests).
    func workerMetricsSnapshots() -> [MetricsSnapshot] { workers.map { $0.metricsSnapshotWaiting() } }

    /// Re-reads the config file; a bad one is refused and the old one keeps serving.
    package func reload() {
        guard let configPath else { return }
        do {
            var config = try ConfigLoader.load(path: configPath)
            if config.listen != runtime.config.listen || config.workers != runtime.config.workers {
                Log.warning("reload: listen and workers changes need a restart; they are ignored")
            }
            if config.metrics != runtime.config.metrics {
                Log.warning("reload: metrics changes need a restart; they are ignored")
            }
            if config.tracing != runtime.config.tracing {
                Log.warning("reload: tracing changes need a restart; they are ignored")
                config.tracing = runtime.config.tracing
            }
            let fresh = try ProxyRuntime(config: config, healing: runtime.healing)
            runtime = fresh
            for w in workers { w.replace(runtime: fresh) }
            Log.info("reloaded \(configPath)")
        } catch {
            Log.error("reload refused, keeping the running config: \(error)")
        }
    }
}

/// One worker: a thread running one loop with its server and proxy.
final class WorkerThread: @unchecked Sendable {
    let loop = EventLoop()
    private var server: HTTPServer!
    private let proxy: ProxyWorker
    /// The metrics admin listener (`metrics.listen`), on the first worker only.
    private var metricsServer: HTTPServer?
    private let finished = Latch()
    let port: Int

    private let log: AccessLogBuffer

    init(index: Int, server owner: ProxyServer, host: String, port: Int, reusePort: Bool, runtime: ProxyRuntime, log sink: AccessLog) throws {
        log = AccessLogBuffer(sink: sink, loop: loop)
        proxy = ProxyWorker(loop: loop, runtime: runtime, log: log, workerIndex: index)
        let limits = runtime.config.limits
        let settings = ServerSettings(
            limits: HTTPLimits(maxHeadBytes: limits.maxHeadBytes, maxHeaderCount: limits.maxHeaderCount, maxBodyBytes: limits.maxBodyBytes),
            headTimeoutMs: UInt64(limits.headTimeout), bodyTimeoutMs: UInt64(limits.bodyTimeout),
            keepAliveTimeoutMs: UInt64(limits.keepAliveTimeout))
        let workers = max(1, runtime.config.workers)
        server = try HTTPServer(loop: loop, host: host, port: port, reusePort: reusePort, settings: settings,
                                maxConnections: max(1, limits.maxConnections / workers), handler: proxy)
        self.port = server.port
    }

    /// Records this worker's exchanges as spans for `exporter` (before `start`).
    func trace(to exporter: SpanExporter) {
        proxy.tracer = WorkerTracer(loop: loop, exporter: exporter)
    }

    /// Answers `GET <path>` on this worker's listener from every worker's metrics (before `start`).
    func serveMetrics(hub: MetricsHub, path: String) {
        proxy.metricsEndpoint = MetricsEndpoint(loop: loop, hub: hub, path: path)
    }

    /// Opens the metrics admin listener on this worker's loop (before `start`); returns its port.
    func listenForMetrics(_ address: HostPort, hub: MetricsHub, path: String) throws(UVError) -> Int {
        let settings = ServerSettings(limits: HTTPLimits(maxHeadBytes: 16 * 1024, maxHeaderCount: 100, maxBodyBytes: 0),
                                      headTimeoutMs: 10_000, bodyTimeoutMs: 10_000, keepAliveTimeoutMs: 75_000)
        let endpoint = MetricsEndpoint(loop: loop, hub: hub, path: path)
        let s = try HTTPServer(loop: loop, host: address.host, port: address.port, reusePort: false, settings: settings,
                               maxConnections: 64, handler: endpoint)
        metricsServer = s
        return s.port
    }

    /// This worker's metrics with the gauges its server and pools hold; runs on this worker's loop.
    func metricsSnapshot() -> MetricsSnapshot {
        proxy.metrics?.snapshot(activeConnections: server.connectionCount, pools: proxy.poolGauges()) ?? MetricsSnapshot()
    }

    func start() throws(UVError) {
        // Lifetime: the thread's closure keeps this worker alive until its loop has ended.
        try DetachedThread.start(name: "mini-proxy-worker", stackSize: 1 << 20) { [self] in
            loop.unrefWakeup()
            loop.run()
            proxy.closePools()
            loop.runOnce()
            // Lines of the last iterations are written before the thread ends (SIGTERM drains here).
            log.close()
            // So are spans: handed to the exporter, which the server drains after every worker ended.
            proxy.tracer?.close()
            loop.runOnce()
            finished.open()
        }
    }

    func join() {
        finished.wait()
    }

    func replace(runtime: ProxyRuntime) {
        loop.execute { [self] in proxy.replace(runtime: runtime) }
    }

    /// The worker's count of responses answered from the read buffer, read on its loop (tests).
    func inPlaceResponses() -> Int {
        final class Box: @unchecked Sendable { var value = 0 }
        let box = Box()
        let done = Latch()
        loop.execute { [self] in
            box.value = proxy.inPlaceResponses
            done.open()
        }
        done.wait()
        return box.value
    }

    /// `metricsSnapshot()` from another thread, waiting for the loop (tests).
    func metricsSnapshotWaiting() -> MetricsSnapshot {
        final class Box: @unchecked Sendable { var value = MetricsSnapshot() }
        let box = Box()
        let done = Latch()
        loop.execute { [self] in
            box.value = metricsSnapshot()
            done.open()
        }
        done.wait()
        return box.value
    }

    func drain(graceMs: UInt64) {
        loop.execute { [self] in
            metricsServer?.drain {}
            let deadline = Timer(loop: loop)
            deadline.keepLoopAlive()
            server.drain {
                deadline.close()
                self.proxy.closePools()
            }
            deadline.start(after: graceMs) { [self] in
                deadline.close()
                metricsServer?.closeAll()
                server.closeAll()
                proxy.closePools()
            }
        }
    }
}
