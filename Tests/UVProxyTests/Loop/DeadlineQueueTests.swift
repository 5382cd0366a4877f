import Glibc
import XCTest
@testable import UVNet

/// `EventLoop.deadlines` on a real loop and clock: owners fire once, not before their (moved)
/// deadline, never after leaving, and the one timer keeps going off for what is left.
final class DeadlineQueueTests: XCTestCase {
    private final class Owner: DeadlineOwner {
        var deadline = Deadline()
        var firedAt: [UInt64] = []
        let loop: EventLoop
        let start: UInt64
        var onFire: ((Owner) -> Void)?
        init(_ loop: EventLoop, start: UInt64) {
            self.loop = loop
            self.start = start
        }
        func deadlinePassed() {
            firedAt.append(loop.now - start)
            onFire?(self)
        }
    }

    /// Runs the loop for `ms` after `setup` joined its owners.
    private func run(forMs ms: UInt64, _ setup: (EventLoop, UInt64) -> Void) {
        let loop = EventLoop()
        loop.unrefWakeup()
        setup(loop, loop.now)
        let end = UVNet.Timer(loop: loop)
        end.keepLoopAlive()
        end.start(after: ms) { end.close() }
        loop.run()
    }

    func testOwnersFireOnceAtOrAfterTheirMovedDeadlines() {
        var owners: [Owner] = []
        run(forMs: 600) { loop, start in
            let moved = Owner(loop, start: start), early = Owner(loop, start: start), left = Owner(loop, start: start)
            let cleared = Owner(loop, start: start), again = Owner(loop, start: start)
            loop.deadlines.set(&moved.deadline, owner: moved, in: 40)
            loop.deadlines.set(&moved.deadline, owner: moved, in: 250)  // later: the timer is not touched
            loop.deadlines.set(&early.deadline, owner: early, in: 400)
            loop.deadlines.set(&early.deadline, owner: early, in: 60)  // earlier: the timer is set earlier
            loop.deadlines.set(&left.deadline, owner: left, in: 30)
            loop.deadlines.leave(&left.deadline)
            loop.deadlines.set(&cleared.deadline, owner: cleared, in: 30)
            loop.deadlines.clear(cleared.deadline)
            loop.deadlines.set(&again.deadline, owner: again, in: 20)
            again.onFire = { me in
                if me.firedAt.count == 1 { loop.deadlines.set(&me.deadline, owner: me, in: 100) }
            }
            owners = [moved, early, left, cleared, again]
        }
        let (moved, early, left, cleared, again) = (owners[0], owners[1], owners[2], owners[3], owners[4])
        XCTAssertEqual(moved.firedAt.count, 1, "\(moved.firedAt)")
        XCTAssertGreaterThanOrEqual(moved.firedAt.first ?? 0, 250)
        XCTAssertEqual(early.firedAt.count, 1, "\(early.firedAt)")
        XCTAssertGreaterThanOrEqual(early.firedAt.first ?? 0, 60)
        XCTAssertLessThan(early.firedAt.first ?? .max, 350, "the earlier deadline waited for the later alarm")
        XCTAssertEqual(left.firedAt, [])
        XCTAssertEqual(cleared.firedAt, [])
        XCTAssertEqual(again.firedAt.count, 2, "\(again.firedAt)")
        if again.firedAt.count == 2 {
            XCTAssertGreaterThanOrEqual(again.firedAt[0], 20)
            XCTAssertGreaterThanOrEqual(again.firedAt[1], again.firedAt[0] + 100)
        }
        for o in owners { o.loop.deadlines.leave(&o.deadline) }
    }
}
