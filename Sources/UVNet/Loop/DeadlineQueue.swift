internal import CLibUV

/// The deadlines of one loop's owners on one libuv timer (`EventLoop.deadlines`): the exchanges'
/// first-byte and idle deadlines. Joining, moving, clearing and leaving are O(1) and allocate nothing
/// (`DeadlineWheel`); the timer is started only when a deadline comes before the time it is set for,
/// so an owner that moves its deadline later on every request costs no timer-heap operation. A
/// deadline fires at or after it is due, never before: at most a tick (32 ms) plus the loop's delay
/// late, which is nothing for deadlines of seconds. Loop-confined.
package final class DeadlineQueue {
    /// The loop's own handle, for its clock: the queue is part of its loop (`EventLoop.deadlines`).
    private let loopHandle: UnsafeMutablePointer<uv_loop_t>
    private let wheel: DeadlineWheel
    private let timer: Timer

    init(loopHandle: UnsafeMutablePointer<uv_loop_t>) {
        self.loopHandle = loopHandle
        wheel = DeadlineWheel(now: uv_now(loopHandle))
        timer = Timer(loopHandle: loopHandle)  // not a spare: it lives as long as the loop
        // Lifetime: the loop owns the queue and closes the timer before it goes (`close`).
        timer.setAction { [unowned(unsafe) self] in self.alarmWentOff() }
    }

    /// Sets `d`'s deadline `ms` from now (joining at the first call, moving it at later ones); when
    /// it passes, `owner.deadlinePassed()` runs on the loop. The owner must `leave` before it goes.
    package func set(_ d: inout Deadline, owner: any DeadlineOwner, in ms: UInt64) {
        let now = uv_now(loopHandle)
        if let wake = wheel.set(&d, owner: owner, due: now &+ ms) { timer.restart(after: wake &- now) }
    }

    /// Clears `d`'s deadline; the owner keeps its entry for a later `set`.
    package func clear(_ d: Deadline) { wheel.clear(d) }

    /// Clears `d`'s deadline and hands its entry back (the owner's end).
    package func leave(_ d: inout Deadline) { wheel.leave(&d) }

    /// Deadlines set now (tests).
    package var count: Int { wheel.count }

    private func alarmWentOff() {
        let now = uv_now(loopHandle)
        wheel.beginSweep(now: now)
        while let owner = wheel.popDue() { owner.deadlinePassed() }
        if let wake = wheel.endSweep() { timer.restart(after: wake > now ? wake - now : 0) }
    }

    func close() { timer.close() }
}
