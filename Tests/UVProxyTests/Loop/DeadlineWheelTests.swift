import XCTest
@testable import UVNet

/// `DeadlineWheel`, the bookkeeping of a loop's `DeadlineQueue`, on a clock moved by hand: owners join,
/// move, clear and leave; a deadline fires once, never before it is due and at most a tick after the
/// alarm for it goes off; the alarm is asked for only when a deadline comes before it; owners that
/// move, leave or join during a sweep are neither lost nor fired twice.
final class DeadlineWheelTests: XCTestCase {
    private static let tick = DeadlineWheel.tickMs

    private final class Owner: DeadlineOwner {
        let name: Int
        var deadline = Deadline()
        /// The times it fired at.
        var fired: [UInt64] = []
        /// Runs inside `deadlinePassed` (moves, leaves, joins during a sweep).
        var onFire: ((Owner) -> Void)?
        unowned let clock: Clock
        init(_ name: Int, _ clock: Clock) {
            self.name = name
            self.clock = clock
        }
        func deadlinePassed() {
            fired.append(clock.now)
            clock.order.append(name)
            onFire?(self)
        }
    }

    /// The queue's part, by hand: a clock, and an alarm that goes off when the clock reaches it.
    private final class Clock {
        let wheel: DeadlineWheel
        var now: UInt64
        var alarmAt: UInt64?
        /// Alarms asked of the timer (what would be `uv_timer_start` calls).
        var alarmsSet = 0
        var sweeps = 0
        var order: [Int] = []

        init(now: UInt64 = 1_000_000) {
            self.now = now
            wheel = DeadlineWheel(now: now, capacity: 2)
        }

        func set(_ o: Owner, in ms: UInt64) {
            if let wake = wheel.set(&o.deadline, owner: o, due: now + ms) {
                XCTAssertGreaterThan(wake, now)
                alarmAt = wake
                alarmsSet += 1
            }
        }

        func set(_ o: Owner, at due: UInt64) {
            if let wake = wheel.set(&o.deadline, owner: o, due: due) {
                alarmAt = wake
                alarmsSet += 1
            }
        }

        /// Moves the clock to `t`, going off at every alarm on the way (at its time, or `lateBy` after it).
        func advance(to t: UInt64, lateBy: UInt64 = 0) {
            while let a = alarmAt, a + lateBy <= t {
                now = max(now, a + lateBy)
                sweep()
            }
            now = max(now, t)
        }

        func sweep() {
            sweeps += 1
            alarmAt = nil
            wheel.beginSweep(now: now)
            while let o = wheel.popDue() { o.deadlinePassed() }
            if let wake = wheel.endSweep() {
                XCTAssertGreaterThan(wake, now, "an alarm for a time already passed")
                alarmAt = wake
                alarmsSet += 1
            }
        }
    }

    func testAJoinedDeadlineFiresOnceNeverBeforeItAndWithinATick() {
        for offset: UInt64 in [0, 1, 31, 32, 33, 1_000, 5_017] {
            let clock = Clock(now: 1_000_000 + offset * 7)
            let o = Owner(1, clock)
            let due = clock.now + 1_000 + offset
            clock.set(o, at: due)
            XCTAssertEqual(clock.wheel.due(o.deadline), due)
            // An alarm going off early (a clock read at any time) must not fire it.
            for t in stride(from: clock.now, to: due, by: 7) {
                clock.now = t
                clock.sweep()
                XCTAssertEqual(o.fired, [], "fired at \(t), before \(due)")
            }
            clock.advance(to: due + 10 * Self.tick)
            XCTAssertEqual(o.fired.count, 1, "offset \(offset)")
            let at = o.fired.first ?? 0
            XCTAssertGreaterThanOrEqual(at, due)
            XCTAssertLessThanOrEqual(at, due + Self.tick, "more than a tick late")
            XCTAssertNil(clock.wheel.due(o.deadline), "still set after it fired")
            XCTAssertTrue(o.deadline.joined, "a fired deadline keeps its entry until leave")
            XCTAssertEqual(clock.wheel.count, 0)
            XCTAssertNil(clock.alarmAt, "an alarm with nothing left")
        }
    }

    func testMovingLaterAsksNoAlarmAndFiresOnlyAtTheLaterDeadline() {
        let clock = Clock()
        let o = Owner(1, clock)
        let start = clock.now
        clock.set(o, in: 1_000)
        XCTAssertEqual(clock.alarmsSet, 1)
        for step: UInt64 in 1...50 {
            clock.set(o, in: 1_000 + step * 100)  // every request moves its deadline later
        }
        XCTAssertEqual(clock.alarmsSet, 1, "a deadline moved later set the alarm")
        clock.advance(to: start + 5_999)
        XCTAssertEqual(o.fired, [], "fired before the moved deadline")
        clock.advance(to: start + 7_000)
        XCTAssertEqual(o.fired.count, 1)
        XCTAssertGreaterThanOrEqual(o.fired[0], start + 6_000)
        XCTAssertLessThanOrEqual(o.fired[0], start + 6_000 + Self.tick)
    }

    func testMovingEarlierSetsAnEarlierAlarm() {
        let clock = Clock()
        let o = Owner(1, clock)
        let start = clock.now
        clock.set(o, in: 10_000)
        let first = clock.alarmAt
        clock.set(o, in: 200)
        XCTAssertEqual(clock.alarmsSet, 2)
        XCTAssertLessThan(clock.alarmAt!, first!)
        clock.advance(to: start + 20_000)
        XCTAssertEqual(o.fired.count, 1)
        XCTAssertGreaterThanOrEqual(o.fired[0], start + 200)
        XCTAssertLessThanOrEqual(o.fired[0], start + 200 + Self.tick)
        // A second owner later than the alarm asks for none.
        let p = Owner(2, clock)
        clock.set(p, in: 5_000)
        let alarms = clock.alarmsSet
        let q = Owner(3, clock)
        clock.set(q, in: 6_000)
        XCTAssertEqual(clock.alarmsSet, alarms)
    }

    func testClearedAndLeftDeadlinesNeverFireAndEntriesAreReused() {
        let clock = Clock()
        let start = clock.now
        let a = Owner(1, clock), b = Owner(2, clock), c = Owner(3, clock)
        clock.set(a, in: 100)
        clock.set(b, in: 100)
        clock.set(c, in: 100)
        clock.wheel.clear(a.deadline)
        XCTAssertTrue(a.deadline.joined)
        clock.wheel.leave(&b.deadline)
        XCTAssertFalse(b.deadline.joined)
        clock.wheel.leave(&b.deadline)  // twice: nothing
        XCTAssertEqual(clock.wheel.count, 1)
        // A newcomer takes b's entry: b's old deadline must not come back with it.
        let d = Owner(4, clock)
        clock.set(d, in: 500)
        clock.advance(to: start + 1_000)
        XCTAssertEqual(a.fired, [])
        XCTAssertEqual(b.fired, [])
        XCTAssertEqual(c.fired.count, 1)
        XCTAssertEqual(d.fired.count, 1)
        XCTAssertGreaterThanOrEqual(d.fired[0], start + 500)
        // A cleared one may be set again.
        clock.set(a, in: 50)
        clock.advance(to: start + 2_000)
        XCTAssertEqual(a.fired.count, 1)
        XCTAssertGreaterThanOrEqual(a.fired[0], start + 1_050)
    }

    func testOwnersFireInTheOrderOfTheirTicks() {
        let clock = Clock()
        let start = clock.now
        // Dues 5 ms apart, joined in a scrambled order.
        let dues: [UInt64] = (0..<200).map { UInt64(($0 * 73) % 200) * 5 + 40 }
        let owners = dues.indices.map { Owner($0, clock) }
        for (o, due) in zip(owners, dues) { clock.set(o, at: start + due) }
        clock.advance(to: start + 2_000)
        XCTAssertEqual(clock.order.count, 200)
        var lastTick: UInt64 = 0
        for name in clock.order {
            let tick = (start + dues[name]) / Self.tick
            XCTAssertGreaterThanOrEqual(tick, lastTick, "owner \(name) fired after a later tick's")
            lastTick = tick
            let at = owners[name].fired[0]
            XCTAssertGreaterThanOrEqual(at, start + dues[name])
            XCTAssertLessThanOrEqual(at, start + dues[name] + Self.tick)
        }
    }

    /// Deadlines more than a lap away wait in their slot: the alarm goes off once a lap without firing them.
    func testDeadlinesLapsAwayFireOnlyWhenDue() {
        let clock = Clock()
        let start = clock.now
        let lap = Self.tick * UInt64(DeadlineWheel.slotCount)
        let far = Owner(1, clock), near = Owner(2, clock)
        clock.set(far, in: 3 * lap + 77)
        clock.set(near, in: lap - 5)  // shares a slot with no one; another lap's slot before `far`'s
        clock.advance(to: start + 3 * lap + 76)
        XCTAssertEqual(far.fired, [], "a deadline laps away fired early")
        XCTAssertEqual(near.fired.count, 1)
        XCTAssertLessThanOrEqual(clock.sweeps, 6, "more alarms than one a lap")
        clock.advance(to: start + 4 * lap)
        XCTAssertEqual(far.fired.count, 1)
        XCTAssertGreaterThanOrEqual(far.fired[0], start + 3 * lap + 77)
        XCTAssertLessThanOrEqual(far.fired[0], start + 3 * lap + 77 + Self.tick)
    }

    /// An alarm that goes off late (a busy loop) or a clock that jumped past several laps: everything
    /// due fires at once, nothing early, nothing lost.
    func testALateAlarmFiresEverythingDue() {
        let clock = Clock()
        let start = clock.now
        let lap = Self.tick * UInt64(DeadlineWheel.slotCount)
        let owners = (0..<50).map { Owner($0, clock) }
        for (i, o) in owners.enumerated() { clock.set(o, in: UInt64(i) * 2_000 + 10) }  // to ~3 laps
        clock.advance(to: start + 60_000, lateBy: 45_000)
        for (i, o) in owners.enumerated() {
            let due = start + UInt64(i) * 2_000 + 10
            if due <= clock.now - 45_000 {
                // Due before the last alarm that went off: fired once, not before.
                XCTAssertLessThanOrEqual(o.fired.count, 1)
            }
            for at in o.fired { XCTAssertGreaterThanOrEqual(at, due) }
        }
        clock.advance(to: start + 5 * lap, lateBy: 45_000)
        clock.advance(to: start + 10 * lap)
        for (i, o) in owners.enumerated() {
            XCTAssertEqual(o.fired.count, 1, "owner \(i)")
            XCTAssertGreaterThanOrEqual(o.fired.first ?? 0, start + UInt64(i) * 2_000 + 10)
        }
        // The wheel idle for long, then one more: from now, not a lap of stale slots late.
        clock.now += 50 * lap
        let late = Owner(99, clock)
        clock.set(late, in: 100)
        clock.advance(to: clock.now + 1_000)
        XCTAssertEqual(late.fired.count, 1)
    }

    func testOwnersLeavingMovingAndJoiningDuringASweep() {
        let clock = Clock()
        let start = clock.now
        let first = Owner(1, clock), second = Owner(2, clock), third = Owner(3, clock)
        let fourth = Owner(4, clock), fifth = Owner(5, clock), sixth = Owner(6, clock)
        // All due in one tick; whichever fires first acts on the others.
        for o in [first, second, third, fourth, fifth] { clock.set(o, at: start + 100) }
        var actedOn: [Int] = []
        let act: (Owner) -> Void = { me in
            guard actedOn.isEmpty else { return }
            let all: [Owner] = [first, second, third, fourth, fifth]
            let others = all.filter { $0 !== me && $0.fired.isEmpty }
            actedOn = others.map(\.name)
            clock.wheel.leave(&others[0].deadline)            // leaves (maybe the next the sweep looks at)
            clock.wheel.clear(others[1].deadline)             // cleared
            clock.set(others[2], in: 3_000)                   // moved later
            clock.set(me, in: 0)                              // itself again, due at once
            clock.set(sixth, at: start + 50)                  // a newcomer already due
            clock.set(others[3], in: 10)                      // moved a little later
        }
        for o in [first, second, third, fourth, fifth] { o.onFire = act }
        clock.advance(to: start + 1_000)
        XCTAssertEqual(actedOn.count, 4)
        let byName = [1: first, 2: second, 3: third, 4: fourth, 5: fifth]
        let actor = [first, second, third, fourth, fifth].first { !actedOn.contains($0.name) }!
        XCTAssertEqual(actor.fired.count, 2, "the owner that set itself again during its own firing")
        XCTAssertGreaterThan(actor.fired[1], actor.fired[0])
        XCTAssertEqual(byName[actedOn[0]]!.fired, [], "left during the sweep, fired anyway")
        XCTAssertEqual(byName[actedOn[1]]!.fired, [], "cleared during the sweep, fired anyway")
        XCTAssertEqual(byName[actedOn[2]]!.fired, [], "moved later during the sweep, fired at the old time")
        XCTAssertEqual(byName[actedOn[3]]!.fired.count, 1)
        XCTAssertGreaterThanOrEqual(byName[actedOn[3]]!.fired[0], actor.fired[0] + 10)
        XCTAssertEqual(sixth.fired.count, 1, "a newcomer already due was lost")
        clock.advance(to: start + 5_000)
        XCTAssertEqual(byName[actedOn[2]]!.fired.count, 1)
        XCTAssertGreaterThanOrEqual(byName[actedOn[2]]!.fired[0], actor.fired[0] + 3_000)
        XCTAssertEqual(clock.wheel.count, 0)
    }

    /// Thousands of owners joining, moving, clearing and leaving at random over several laps, against a
    /// plain list of what each should do: every one set fires exactly once, within a tick after its
    /// due time, and none fires early or after it left.
    func testManyOwnersAtRandomAgainstAModel() {
        var rng = SplitMix(seed: 0x5eed)
        let clock = Clock()
        let owners = (0..<3_000).map { Owner($0, clock) }
        var expected: [UInt64?] = Array(repeating: nil, count: owners.count)  // due, while set
        var firedCount = Array(repeating: 0, count: owners.count)
        for o in owners {
            o.onFire = { me in
                XCTAssertNotNil(expected[me.name], "owner \(me.name) fired with no deadline set")
                if let due = expected[me.name] {
                    XCTAssertGreaterThanOrEqual(clock.now, due, "owner \(me.name) fired early")
                }
                expected[me.name] = nil
                firedCount[me.name] += 1
                // Some re-arm from inside the sweep, as an exchange's idle deadline does.
                if me.name % 7 == 0, rng.next() % 2 == 0 {
                    let ms = rng.next() % 5_000
                    clock.set(me, in: ms)
                    expected[me.name] = clock.now + ms
                }
            }
        }
        var fired = 0
        for _ in 0..<40_000 {
            let o = owners[Int(rng.next() % UInt64(owners.count))]
            switch rng.next() % 10 {
            case 0..<6:
                let ms = rng.next() % 70_000  // to two laps
                clock.set(o, in: ms)
                expected[o.name] = clock.now + ms
            case 6:
                clock.wheel.clear(o.deadline)
                expected[o.name] = nil
            case 7:
                clock.wheel.leave(&o.deadline)
                expected[o.name] = nil
            default:
                let before = firedCount.reduce(0, +)
                clock.advance(to: clock.now + rng.next() % 400, lateBy: rng.next() % 3)
                fired += firedCount.reduce(0, +) - before
            }
            // Whatever is due more than a tick (plus lateness) ago has fired.
            if let alarm = clock.alarmAt {
                XCTAssertGreaterThan(alarm, clock.now - 3, "an alarm left in the past")
            }
        }
        XCTAssertEqual(clock.wheel.count, expected.compactMap { $0 }.count)
        clock.advance(to: clock.now + 200_000)
        XCTAssertEqual(expected.compactMap { $0 }, [], "deadlines lost")
        XCTAssertEqual(clock.wheel.count, 0)
        XCTAssertGreaterThan(fired, 1_000)
    }

    /// Every deadline that is due before the alarm fires: the alarm is never later than the
    /// earliest deadline's tick.
    func testTheAlarmIsNeverLaterThanTheEarliestDeadlinesTick() {
        var rng = SplitMix(seed: 42)
        let clock = Clock()
        let owners = (0..<300).map { Owner($0, clock) }
        for _ in 0..<5_000 {
            let o = owners[Int(rng.next() % 300)]
            clock.set(o, in: rng.next() % 40_000)
            if rng.next() % 5 == 0 { clock.advance(to: clock.now + rng.next() % 2_000) }
            let earliest = owners.compactMap { clock.wheel.due($0.deadline) }.min()
            if let earliest {
                let alarm = clock.alarmAt ?? .max
                XCTAssertLessThanOrEqual(alarm, (max(earliest, clock.now) / Self.tick + 1) * Self.tick,
                                         "the alarm is set after the earliest deadline's tick")
            }
        }
    }
}

/// A small seeded generator: the same sequence on every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
