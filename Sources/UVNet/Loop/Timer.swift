internal import CLibUV
import Glibc

/// A one-shot or repeating libuv timer. Loop-confined. `close()` must be called when done; the
/// handle memory is freed after its close callback.
package final class Timer {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var action: (() -> Void)?
    private var closed = false
    /// True while it waits in its loop's spare list (`EventLoop.recycleTimer`).
    private(set) var spare = false
    private var keepsLoopAlive = false

    package convenience init(loop: EventLoop) {
        self.init(loopHandle: loop.handle)
    }

    init(loopHandle: UnsafeMutablePointer<uv_loop_t>) {
        handle = mallocStruct(uv_timer_t.self)
        uv_timer_init(loopHandle, handle)
        // Lifetime: balanced in timerCloseCallback.
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_unref(asHandle(handle))
    }

    deinit { free(handle) }

    /// Fires `action` after `timeout` ms (and every `repeat` ms if non-zero). Restarting replaces the previous schedule.
    package func start(after timeout: UInt64, repeat interval: UInt64 = 0, _ action: @escaping () -> Void) {
        assert(!spare, "a recycled timer was started by its former owner")
        guard !closed else { return }
        self.action = action
        uv_timer_start(handle, timerFireCallback, timeout, interval)
    }

    /// Sets the action once, for timers re-armed often (per request): `restart` then allocates nothing.
    package func setAction(_ action: @escaping () -> Void) {
        assert(!spare, "a recycled timer was given an action by its former owner")
        self.action = action
        persistent = true
    }

    /// Re-arms a timer whose action was set with `setAction`.
    package func restart(after timeout: UInt64) {
        assert(!spare, "a recycled timer was restarted by its former owner")
        guard !closed else { return }
        deadlineMode = false
        deadline = nil
        armedDue = nil
        uv_timer_start(handle, timerFireCallback, timeout, 0)
    }

    /// Disarms without forgetting a persistent action.
    package func pause() {
        guard !closed else { return }
        uv_timer_stop(handle)
        deadline = nil
        armedDue = nil
    }

    private var persistent = false

    // MARK: Deadlines (lazy re-arming)

    /// True once `arm(in:)` is used: a firing without a deadline is then stale, not a `restart`.
    private var deadlineMode = false
    /// The loop time (ms) at which the persistent action is due, when one is set with `arm(in:)`.
    private var deadline: UInt64?
    /// The loop time at which the libuv timer is currently set to fire, if it is.
    private var armedDue: UInt64?

    /// Sets the persistent action's deadline `ms` from now, replacing any earlier one. The libuv timer
    /// is touched only when the new deadline comes before the time it is already set for: a timer
    /// that fires early re-arms itself for the rest. So a connection that moves its deadline on every
    /// request (head, first byte, idle, keep-alive) costs no timer-heap operation per request.
    package func arm(in ms: UInt64) {
        assert(!spare, "a recycled timer was armed by its former owner")
        guard !closed else { return }
        let now = uv_now(handle.pointee.loop)
        let due = now &+ ms
        deadline = due
        deadlineMode = true
        if let armedDue, armedDue <= due { return }
        armedDue = due
        uv_timer_start(handle, timerFireCallback, ms, 0)
    }

    /// Clears the deadline; the libuv timer, if set, fires once more and finds nothing due.
    package func disarm() {
        deadline = nil
    }

    /// Keeps the loop alive while this timer is pending (timers are unref'd by default so that an
    /// armed timeout never keeps a finished loop running).
    package func keepLoopAlive() {
        keepsLoopAlive = true
        uv_ref(asHandle(handle))
    }

    /// Resets to a fresh stopped timer for the spare list; false when it cannot be reused.
    func makeSpare() -> Bool {
        guard !closed, !spare else { return false }
        uv_timer_stop(handle)
        action = nil
        persistent = false
        deadlineMode = false
        deadline = nil
        armedDue = nil
        if keepsLoopAlive {
            keepsLoopAlive = false
            uv_unref(asHandle(handle))
        }
        spare = true
        return true
    }

    /// Leaves the spare list; false for one closed meanwhile.
    func takeFromSpares() -> Bool {
        spare = false
        return !closed
    }

    package func stop() {
        guard !closed else { return }
        uv_timer_stop(handle)
        action = nil
    }

    package func close() {
        guard !closed else { return }
        // A former owner closing a recycled timer is a bug; `takeTimer` skips a closed spare.
        assert(!spare, "a recycled timer was closed by its former owner")
        closed = true
        action = nil
        uv_close(asHandle(handle), timerCloseCallback)
    }

    fileprivate func fire() {
        if persistent {
            armedDue = nil
            guard let due = deadline else {
                // Plain `restart(after:)` use, or a deadline cleared since: fire only for the former.
                if !deadlineMode { action?() }
                return
            }
            let now = uv_now(handle.pointee.loop)
            if now < due {
                armedDue = due
                uv_timer_start(handle, timerFireCallback, due - now, 0)
                return
            }
            deadline = nil
            action?()
            return
        }
        if uv_timer_get_repeat(handle) == 0 {
            let a = action
            action = nil
            a?()
        } else {
            action?()
        }
    }
}

private func timerFireCallback(_ t: UnsafeMutablePointer<uv_timer_t>?) {
    guard let t, let data = t.pointee.data else { return }
    Unmanaged<Timer>.fromOpaque(data).takeUnretainedValue().fire()
}

private func timerCloseCallback(_ h: UnsafeMutablePointer<uv_handle_t>?) {
    guard let h, let data = h.pointee.data else { return }
    // Lifetime: releases the retain taken in init.
    Unmanaged<Timer>.fromOpaque(data).release()
}
