internal import CLibUV
import Glibc

/// Runs an action once before the loop next waits for I/O: a libuv idle handle started on demand and
/// stopped when it fired. An active idle handle makes the next poll return at once, so work asked for
/// from a timer callback (which runs before the poll) is done without waiting for the next event, and
/// work that many callbacks of one iteration produce (log lines) is done once, in the next idle phase.
/// Loop-confined; `close()` when done.
package final class IterationEndHook {
    private let handle: UnsafeMutablePointer<uv_idle_t>
    private let action: () -> Void
    private var armed = false
    private var closed = false

    package init(loop: EventLoop, action: @escaping () -> Void) {
        self.action = action
        handle = mallocStruct(uv_idle_t.self)
        uv_idle_init(loop.handle, handle)
        // Lifetime: balanced in iterationEndHookCloseCallback.
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        // A pending hook must not keep a loop that is otherwise done running.
        uv_unref(asHandle(handle))
    }

    deinit { free(handle) }

    /// Asks for the action at the end of this iteration (once, however often it is asked).
    @inline(__always) package func arm() {
        guard !armed, !closed else { return }
        armed = true
        uv_idle_start(handle, iterationEndHookCallback)
    }

    fileprivate func fire() {
        armed = false
        uv_idle_stop(handle)
        action()
    }

    package func close() {
        guard !closed else { return }
        closed = true
        uv_close(asHandle(handle), iterationEndHookCloseCallback)
    }
}

private func iterationEndHookCallback(_ h: UnsafeMutablePointer<uv_idle_t>?) {
    guard let data = h?.pointee.data else { return }
    // The handle keeps the hook (the retain taken in init): no retain for the call.
    Unmanaged<IterationEndHook>.fromOpaque(data)._withUnsafeGuaranteedRef { $0.fire() }
}

private func iterationEndHookCloseCallback(_ h: UnsafeMutablePointer<uv_handle_t>?) {
    guard let data = h?.pointee.data else { return }
    // Lifetime: the retain taken in init.
    Unmanaged<IterationEndHook>.fromOpaque(data).release()
}
