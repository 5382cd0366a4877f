internal import CLibUV
import Glibc

/// One libuv loop, confined to the thread that runs it. Only `execute(_:)` and `stop()` may be
/// called from other threads: they go through a `uv_async_t`.
package final class EventLoop {
    let handle: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let lock = Lock()
    private var jobs: [@Sendable () -> Void] = []
    /// Read memory shared by every stream of this loop. libuv calls the alloc callback right before
    /// the read callback on the same thread, so one buffer per loop is enough; a stream that keeps
    /// bytes copies them out. This keeps idle connections cheap (no per-connection read buffer).
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Plaintext decrypted from TLS, handed to a delegate before the next read.
    let clearBuffer: UnsafeMutableRawBufferPointer
    /// Ciphertext produced by TLS, reused for each write.
    var encryptScratch: [UInt8] = []
    /// Byte buffers reused for building outgoing messages and header blocks (`takeScratch`).
    private var scratchPool: [[UInt8]] = []
    private static let scratchPoolSize = 4
    /// Stopped timers kept for reuse (`takeTimer`/`recycleTimer`): a connect, TLS, linger or ping
    /// timeout then costs no allocation, no handle set-up and no close callback.
    private var spareTimers: [Timer] = []
    static let spareTimerLimit = 1024
    /// The deadlines of this loop's owners (exchanges), on one timer.
    package let deadlines: DeadlineQueue

    /// An empty buffer with the capacity an earlier message left: fill it, write it, `returnScratch`
    /// it. Up to `scratchPoolSize` may be out at once (a header block and the message it goes into);
    /// past that, or when one was not returned, a fresh one is made, so re-entry is safe (just not free).
    package func takeScratch() -> [UInt8] {
        guard var b = scratchPool.popLast() else { return [] }
        b.removeAll(keepingCapacity: true)
        return b
    }

    /// Keeps `b`'s storage for a later message, unless it grew past 64 KiB (a large body).
    package func returnScratch(_ b: [UInt8]) {
        if b.capacity > 0, b.capacity <= 64 * 1024, scratchPool.count < Self.scratchPoolSize { scratchPool.append(b) }
    }

    /// SIGPIPE is ignored process-wide before any loop runs: a write to a peer that closed (a client
    /// that left a stream, an upstream that reset) is then an `EPIPE` error on that one stream, never
    /// a signal that ends the process and every other connection with it. Swift runs this once.
    static let ignoresBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Large request and response buffers (agent requests are 100 KB and more, and the proxy holds a
    /// few copies of one) stay on the heap between requests instead of being mapped and unmapped each
    /// time: about half the proxy's time on a 120 KB request at one connection was the kernel's page
    /// faults. Up to 32 MiB a buffer (glibc's maximum for this setting); the heap keeps up to 64 MiB
    /// free before it gives memory back. An operator's own glibc malloc settings (`MALLOC_MMAP_THRESHOLD_`,
    /// `MALLOC_TRIM_THRESHOLD_`, `GLIBC_TUNABLES=glibc.malloc...`) win. Swift runs this once, before the first loop.
    static let keepsLargeBuffers: Void = {
        if getenv("MALLOC_MMAP_THRESHOLD_") != nil || getenv("MALLOC_TRIM_THRESHOLD_") != nil { return }
        if let t = getenv("GLIBC_TUNABLES"), String(cString: t).contains("glibc.malloc.") { return }
        CLibUV_keep_large_buffers(32 << 20, 64 << 20)
    }()

    /// A stopped one-shot timer: a spare one, or a new one. Hand it back with `recycleTimer` (and drop
    /// every reference to it) instead of closing it.
    package func takeTimer() -> Timer {
        while let t = spareTimers.popLast() {
            if t.takeFromSpares() { return t }
        }
        return Timer(loop: self)
    }

    /// Stops `t`, forgets its action and keeps it for the next `takeTimer` (closes it when enough
    /// are spare). The caller must not use `t` afterwards.
    package func recycleTimer(_ t: Timer) {
        guard !t.spare else {
            assertionFailure("a timer was recycled twice")
            return
        }
        if spareTimers.count < Self.spareTimerLimit, t.makeSpare() {
            spareTimers.append(t)
        } else {
            t.close()
        }
    }

    /// Spare timers kept now (tests).
    var spareTimerCount: Int { spareTimers.count }

    package init() {
        EventLoop.ignoresBrokenPipes
        EventLoop.keepsLargeBuffers
        handle = .allocate(capacity: 1)
        uv_loop_init(handle)
        deadlines = DeadlineQueue(loopHandle: handle)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        clearBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        encryptScratch.reserveCapacity(80 * 1024)
        scratchPool.reserveCapacity(Self.scratchPoolSize)
        wakeup = .allocate(capacity: 1)
        uv_async_init(handle, wakeup, eventLoopWakeupCallback)
        // Lifetime: released in deinit, after the loop has been closed (the async handle lives as long as the loop).
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        deadlines.close()
        for t in spareTimers where t.takeFromSpares() { t.close() }
        spareTimers.removeAll()
        uv_close(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self), nil)
        // Let every handle's close callback run, then free the loop.
        uv_run(handle, UV_RUN_DEFAULT)
        uv_loop_close(handle)
        handle.deallocate()
        wakeup.deallocate()
        readBuffer.deallocate()
        clearBuffer.deallocate()
    }

    /// Runs until `stop()` or until no active handle is left.
    package func run() {
        uv_run(handle, UV_RUN_DEFAULT)
    }

    /// Runs one pass without blocking (tests).
    package func runOnce() {
        uv_run(handle, UV_RUN_NOWAIT)
    }

    /// Milliseconds, the loop's cached clock.
    package var now: UInt64 { uv_now(handle) }

    /// The same clock as a value to keep: reading it retains nothing.
    package var clock: LoopClock { LoopClock(loop: UnsafeMutableRawPointer(handle)) }

    /// Queues `job` to run on this loop's thread. Safe from any thread.
    package func execute(_ job: @escaping @Sendable () -> Void) {
        lock.lock()
        jobs.append(job)
        lock.unlock()
        uv_async_send(wakeup)
    }

    /// How many threads this process may run at once (its CPU affinity mask, so a container's CPU set
    /// counts), at least 1.
    package static var availableParallelism: Int { Int(uv_available_parallelism()) }

    /// Stops `run()` from any thread.
    package func stop() {
        execute { [unowned self] in uv_stop(self.handle) }
    }

    fileprivate func runJobs() {
        lock.lock()
        let pending = jobs
        jobs.removeAll()
        lock.unlock()
        for job in pending { job() }
    }

    /// Lets `run()` return when only the wake-up handle is left.
    package func unrefWakeup() {
        uv_unref(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self))
    }
}

extension EventLoop: @unchecked Sendable {}

/// A loop's cached clock (`EventLoop.now`) as a plain value. The exchange's state machine reads the time
/// on every upstream read; through a loop reference held unowned each read retained and released the loop.
package struct LoopClock {
    private let loop: UnsafeMutableRawPointer
    fileprivate init(loop: UnsafeMutableRawPointer) { self.loop = loop }
    /// Milliseconds, valid while the loop lives.
    package var now: UInt64 { uv_now(loop.assumingMemoryBound(to: uv_loop_t.self)) }
}

private func eventLoopWakeupCallback(_ async: UnsafeMutablePointer<uv_async_t>?) {
    guard let async, let data = async.pointee.data else { return }
    Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue().runJobs()
}

/// Heap memory for one C struct (a libuv handle or request), from `malloc`; give it back with `free`.
/// `UnsafeMutablePointer.allocate` always takes Swift's aligned path (`posix_memalign`), several times
/// the cost of `malloc`, which already aligns to 16 bytes: these are allocated per connection.
@inline(__always)
func mallocStruct<T>(_: T.Type) -> UnsafeMutablePointer<T> {
    assert(MemoryLayout<T>.alignment <= 16)
    guard let p = malloc(MemoryLayout<T>.stride) else { fatalError("out of memory") }
    return p.bindMemory(to: T.self, capacity: 1)
}

/// A handle pointer seen as `uv_handle_t*`.
@inline(__always)
func asHandle<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: uv_handle_t.self)
}

/// A handle pointer seen as `uv_stream_t*`.
@inline(__always)
func asStream<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_stream_t> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: uv_stream_t.self)
}
