import Glibc
import XCTest
@testable import UVProxy
@testable import UVNet

/// `Timer.arm(in:)` moves a deadline without touching libuv's timer heap unless the deadline comes
/// earlier: the action must still run exactly once, never before the latest deadline, and never after
/// `disarm()`. Real loop, real clock.
final class TimerDeadlineTests: XCTestCase {
    private final class Recorder {
        var firedAt: [UInt64] = []
    }

    /// Runs `setup` on a fresh loop, lets it run for `ms`, and returns when the action fired (ms after start).
    private func runLoop(forMs ms: UInt64, _ setup: (EventLoop, UVNet.Timer) -> Void) -> [UInt64] {
        let loop = EventLoop()
        loop.unrefWakeup()
        let recorder = Recorder()
        let start = loop.now
        let timer = UVNet.Timer(loop: loop)
        timer.setAction { recorder.firedAt.append(loop.now - start) }
        setup(loop, timer)
        let end = UVNet.Timer(loop: loop)
        end.keepLoopAlive()
        end.start(after: ms) {
            timer.close()
            end.close()
        }
        loop.run()
        return recorder.firedAt
    }

    func testMovingTheDeadlineLaterFiresOnceAtTheLaterDeadline() {
        let fired = runLoop(forMs: 400) { _, t in
            t.arm(in: 40)
            t.arm(in: 150)  // later: libuv still fires at 40, the timer re-arms for the rest
        }
        XCTAssertEqual(fired.count, 1, "\(fired)")
        XCTAssertGreaterThanOrEqual(fired.first ?? 0, 150)
        XCTAssertLessThan(fired.first ?? .max, 300)
    }

    func testMovingTheDeadlineEarlierFiresAtTheEarlierDeadline() {
        let fired = runLoop(forMs: 400) { _, t in
            t.arm(in: 250)
            t.arm(in: 30)
        }
        XCTAssertEqual(fired.count, 1, "\(fired)")
        XCTAssertGreaterThanOrEqual(fired.first ?? 0, 30)
        XCTAssertLessThan(fired.first ?? .max, 200)
    }

    func testDisarmCancelsAndPauseToo() {
        XCTAssertEqual(runLoop(forMs: 200) { _, t in t.arm(in: 30); t.disarm() }, [])
        XCTAssertEqual(runLoop(forMs: 200) { _, t in t.arm(in: 30); t.pause() }, [])
    }

    func testArmAgainAfterFiringAndAfterDisarm() {
        let fired = runLoop(forMs: 400) { loop, t in
            t.arm(in: 20)
            let again = UVNet.Timer(loop: loop)
            again.start(after: 60) {
                t.disarm()
                t.arm(in: 50)  // the stale libuv schedule is gone; this one must fire
                again.close()
            }
        }
        XCTAssertEqual(fired.count, 2, "\(fired)")
        XCTAssertGreaterThanOrEqual(fired.count == 2 ? fired[1] : 0, 110)
    }

    func testRestartStillFiresWithoutADeadline() {
        let fired = runLoop(forMs: 200) { _, t in t.restart(after: 20) }
        XCTAssertEqual(fired.count, 1)
    }
}
