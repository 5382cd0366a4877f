internal import CLibUV
import Glibc

/// Watches signals on a loop of its own (the calling thread's): `run()` calls `onSignal` for each one
/// that arrives, and returns once `onSignal` answered `false` (stop watching).
package final class SignalWatcher {
    private let loop = EventLoop()
    private var handles: [UnsafeMutablePointer<uv_signal_t>] = []
    private let onSignal: (Int32) -> Bool

    package init(_ signals: [Int32], _ onSignal: @escaping (Int32) -> Bool) {
        self.onSignal = onSignal
        for sig in signals {
            let h = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
            uv_signal_init(loop.handle, h)
            // Lifetime: unretained; the handles are closed in run(), which the watcher outlives.
            h.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            uv_signal_start(h, signalWatcherCallback, sig)
            handles.append(h)
        }
    }

    /// Runs until `onSignal` said stop.
    package func run() {
        loop.unrefWakeup()
        loop.run()
        for h in handles { uv_close(asHandle(h), nil) }
        loop.runOnce()
        for h in handles { h.deallocate() }
    }

    fileprivate func received(_ sig: Int32) {
        if !onSignal(sig) {
            for h in handles { uv_signal_stop(h) }
            uv_stop(loop.handle)
        }
    }
}

private func signalWatcherCallback(_ h: UnsafeMutablePointer<uv_signal_t>?, _ sig: Int32) {
    guard let h, let data = h.pointee.data else { return }
    Unmanaged<SignalWatcher>.fromOpaque(data).takeUnretainedValue().received(sig)
}
