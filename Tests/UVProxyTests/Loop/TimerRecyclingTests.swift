import Glibc
import XCTest
@testable import UVProxy
@testable import UVNet

/// `EventLoop.takeTimer`/`recycleTimer`: a recycled timer is stopped and forgets its action (the old
/// owner's deadline never fires), comes back from the next `takeTimer`, and is handed back at most
/// `spareTimerLimit` times over. Real loop, real clock.
final class TimerRecyclingTests: XCTestCase {
    private final class Box { var fired: [String] = [] }

    /// Polls the loop until `done()` holds or `ms` have passed (wall clock), whichever comes first:
    /// a stalled machine makes a test slower, not wrong.
    private func run(_ loop: EventLoop, forMs ms: Int, until done: () -> Bool = { false }) {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        let end = t.tv_sec * 1_000 + t.tv_nsec / 1_000_000 + ms
        // Timers are unreferenced (they never keep a loop running): one that is keeps it alive here.
        let alive = UVNet.Timer(loop: loop)
        alive.keepLoopAlive()
        alive.start(after: UInt64(ms)) {}
        defer {
            alive.close()
            loop.runOnce()
        }
        while !done() {
            loop.runOnce()
            usleep(1_000)
            clock_gettime(CLOCK_MONOTONIC, &t)
            if t.tv_sec * 1_000 + t.tv_nsec / 1_000_000 >= end { break }
        }
    }

    func testARecycledTimerNeverFiresItsOldActionAndIsReused() {
        let loop = EventLoop()
        loop.unrefWakeup()
        let box = Box()
        let first = loop.takeTimer()
        first.start(after: 20) { box.fired.append("old") }
        loop.recycleTimer(first)
        XCTAssertEqual(loop.spareTimerCount, 1)
        run(loop, forMs: 150)  // well past the old deadline, with the timer left in the spares
        XCTAssertEqual(box.fired, [], "the first owner's action ran after it was recycled")
        let second = loop.takeTimer()
        XCTAssertTrue(second === first, "the spare comes back")
        XCTAssertEqual(loop.spareTimerCount, 0)
        second.start(after: 20) { box.fired.append("new") }
        run(loop, forMs: 5_000) { box.fired.count == 1 }
        run(loop, forMs: 60)
        XCTAssertEqual(box.fired, ["new"], "the second owner's action runs once")
        loop.recycleTimer(second)
    }

    func testRecyclingInsideItsOwnActionThenReusing() {
        let loop = EventLoop()
        loop.unrefWakeup()
        let box = Box()
        let t = loop.takeTimer()
        t.start(after: 10) {
            box.fired.append("a")
            loop.recycleTimer(t)
            let again = loop.takeTimer()
            XCTAssertTrue(again === t)
            again.start(after: 10) { box.fired.append("b"); loop.recycleTimer(again) }
        }
        run(loop, forMs: 5_000) { box.fired.count == 2 }
        XCTAssertEqual(box.fired, ["a", "b"])
        XCTAssertEqual(loop.spareTimerCount, 1)
    }

    func testARepeatingTimerStopsRepeatingOnceRecycled() {
        let loop = EventLoop()
        loop.unrefWakeup()
        let box = Box()
        let t = loop.takeTimer()
        t.start(after: 10, repeat: 10) {
            box.fired.append("tick")
            if box.fired.count == 3 { loop.recycleTimer(t) }
        }
        run(loop, forMs: 5_000) { box.fired.count == 3 }
        run(loop, forMs: 80)  // eight more periods: a timer still repeating would tick again
        XCTAssertEqual(box.fired.count, 3)
        // Taken again as a one-shot: it fires once, not every 10 ms.
        let again = loop.takeTimer()
        XCTAssertTrue(again === t)
        again.start(after: 10) { box.fired.append("once") }
        run(loop, forMs: 5_000) { box.fired.count == 4 }
        run(loop, forMs: 80)
        XCTAssertEqual(box.fired.suffix(1), ["once"])
        XCTAssertEqual(box.fired.count, 4)
        loop.recycleTimer(again)
    }

    func testAKeptAliveTimerNoLongerHoldsTheLoopOnceRecycled() {
        let loop = EventLoop()
        loop.unrefWakeup()
        let t = loop.takeTimer()
        t.keepLoopAlive()
        loop.recycleTimer(t)
        // Its next owner arms it without keepLoopAlive: a pending timeout must not hold the loop open.
        let again = loop.takeTimer()
        XCTAssertTrue(again === t)
        again.start(after: 3_000) {}
        let started = loop.now
        loop.run()
        XCTAssertLessThan(loop.now - started, 1_000, "run() waited for a timer that is not kept alive")
        loop.recycleTimer(again)
    }

    func testSparesAreCappedAndTheRestClose() {
        let loop = EventLoop()
        loop.unrefWakeup()
        let n = EventLoop.spareTimerLimit + 10
        let timers = (0..<n).map { _ in loop.takeTimer() }
        XCTAssertEqual(Set(timers.map { ObjectIdentifier($0) }).count, n, "all distinct while none is spare")
        for t in timers { loop.recycleTimer(t) }
        XCTAssertEqual(loop.spareTimerCount, EventLoop.spareTimerLimit)
        loop.runOnce()  // the ten closed ones finish closing
    }
}
