import CLibUV
import Providers

/// Runs the proxy: N workers, each a thread with its own loop, `SO_REUSEPORT` listener and upstream
/// pools, sharing only the immutable runtime (config, TLS contexts, credential cache).
/// SIGTERM/SIGINT drain gracefully; SIGHUP reloads the config (validated first).
public final class ProxyServer: @unchecked Sendable {
    private let configPath: String?
    private(set) var runtime: ProxyRuntime
    private let listen: HostPort
    private let workerCount: Int
    private var workers: [WorkerThread] = []
    private let lock = Lock()
    private var stopped = false
    private let log: AccessLog

    public init(config: ProxyConfig, configPath: String? = nil, listen: HostPort? = nil, workers: Int? = nil) throws {
        self.configPath = configPath
        runtime = try ProxyRuntime(config: config)
        self.listen = listen ?? config.listen
        workerCount = max(1, workers ?? config.workers)
        log = AccessLog(enabled: config.accessLog, format: AccessLog.Format(rawValue: config.accessLogFormat) ?? .text, path: config.accessLogPath)
    }

    /// The port actually bound (useful with port 0).
    public private(set) var port: Int = 0

    /// Starts every worker and returns once all listen.
    public func start() throws {
        let first = try WorkerThread(index: 0, server: self, host: listen.host, port: listen.port,
                                     reusePort: workerCount > 1, runtime: runtime, log: log)
        port = first.port
        workers = [first]
        for i in 1..<workerCount {
            workers.append(try WorkerThread(index: i, server: self, host: listen.host, port: port, reusePort: true,
                                            runtime: runtime, log: log))
        }
        for w in workers { try w.start() }
    }

    /// Starts, installs signal handlers, and blocks until stopped.
    public func run() throws {
        try start()
        for w in runtime.config.warnings { Log.warning(w) }
        if listen != runtime.config.listen, !listen.isLoopback, runtime.config.inboundKeys.isEmpty {
            // The config's own listen address was checked at load; an override from the command line is checked here.
            Log.warning("--listen \(listen): reachable from other machines and no inbound keys are configured")
        }
        Log.info("listening on \(listen.host):\(port) with \(workerCount) worker(s)")
        let signals = SignalWatcher { [weak self] sig in self?.handleSignal(sig) }
        signals.run()
        for w in workers { w.join() }
    }

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
    public func stop(graceMs: UInt64 = 0) {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        if already { return }
        for w in workers { w.drain(graceMs: graceMs) }
    }

    /// Blocks until every worker thread ended.
    public func wait() { for w in workers { w.join() } }

    /// Responses answered straight from the read buffer, over all workers (tests).
    func inPlaceResponseCount() -> Int { workers.reduce(0) { $0 + $1.inPlaceResponses() } }

    /// Re-reads the config file; a bad one is refused and the old one keeps serving.
    public func reload() {
        guard let configPath else { return }
        do {
            let config = try ConfigLoader.load(path: configPath)
            let fresh = try ProxyRuntime(config: config, healing: runtime.healing)
            if config.listen != runtime.config.listen || config.workers != runtime.config.workers {
                Log.warning("reload: listen and workers changes need a restart; they are ignored")
            }
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

    func start() throws(UVError) {
        // Lifetime: the thread's closure keeps this worker alive until its loop has ended.
        try DetachedThread.start(name: "mini-proxy-worker", stackSize: 1 << 20) { [self] in
            loop.unrefWakeup()
            loop.run()
            proxy.closePools()
            loop.runOnce()
            // Lines of the last iterations are written before the thread ends (SIGTERM drains here).
            log.close()
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

    func drain(graceMs: UInt64) {
        loop.execute { [self] in
            let deadline = Timer(loop: loop)
            deadline.keepLoopAlive()
            server.drain {
                deadline.close()
                self.proxy.closePools()
            }
            deadline.start(after: graceMs) { [self] in
                deadline.close()
                server.closeAll()
                proxy.closePools()
            }
        }
    }
}

/// Watches SIGTERM, SIGINT, SIGHUP (reload) and SIGUSR1 (reopen the access log) on a loop of its own (the main thread's).
final class SignalWatcher {
    private let loop = EventLoop()
    private var handles: [UnsafeMutablePointer<uv_signal_t>] = []
    private let onSignal: (Int32) -> Void
    private var stopping = false

    init(_ onSignal: @escaping (Int32) -> Void) {
        self.onSignal = onSignal
        for sig in [SIGTERM, SIGINT, SIGHUP, SIGUSR1] {
            let h = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
            uv_signal_init(loop.handle, h)
            h.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            uv_signal_start(h, signalWatcherCallback, sig)
            handles.append(h)
        }
    }

    /// Runs until a stop signal arrived (SIGHUP keeps it running).
    func run() {
        loop.unrefWakeup()
        loop.run()
        for h in handles { uv_close(asHandle(h), nil) }
        loop.runOnce()
        for h in handles { h.deallocate() }
    }

    fileprivate func received(_ sig: Int32) {
        onSignal(sig)
        if sig != SIGHUP, sig != SIGUSR1 {
            for h in handles { uv_signal_stop(h) }
            uv_stop(loop.handle)
        }
    }
}

private func signalWatcherCallback(_ h: UnsafeMutablePointer<uv_signal_t>?, _ sig: Int32) {
    guard let h, let data = h.pointee.data else { return }
    Unmanaged<SignalWatcher>.fromOpaque(data).takeUnretainedValue().received(sig)
}
