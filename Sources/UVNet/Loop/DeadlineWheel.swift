/// Something that keeps a deadline in its loop's `DeadlineQueue` (an exchange's first-byte and idle
/// deadlines).
package protocol DeadlineOwner: AnyObject {
    /// The deadline passed: called at or after it, never before, at most about a tick
    /// (`DeadlineWheel.tickMs`) plus the loop's own delay after it. The entry stays the owner's: it may
    /// set it again, or leave.
    func deadlinePassed()
}

/// An owner's entry in a `DeadlineWheel`: taken at its first deadline, kept while the owner moves or
/// clears it, handed back with `leave`. The owner keeps this value and passes it back; it does not copy it.
/// `public @inlinable` only so that the owner's module makes and tests it in place (one per exchange).
public struct Deadline {
    @usableFromInline var index: Int32
    @inlinable public init() { index = -1 }
    /// The owner holds an entry (it joined and has not left).
    @inlinable public var joined: Bool { index >= 0 }
}

/// Deadlines of many owners on one clock, the bookkeeping of a loop's `DeadlineQueue`: a hashed timing
/// wheel of `slotCount` slots, `tickMs` wide each, whose entries are linked in place in one table (no
/// allocation once the table has grown to the most owners at once). Setting, moving and clearing a
/// deadline is O(1); nothing here touches libuv.
///
/// A deadline lies in the tick `due / tickMs`, linked in that tick's slot. A sweep (`beginSweep`,
/// `popDue` until nil, `endSweep`) visits the slots of the ticks that are over since the last one and
/// hands out the owners whose deadline is at or before `now`, never one whose deadline is later: a
/// deadline is found at most one tick after it is due, never early, never lost. A deadline more than a
/// lap (`slotCount` ticks) away waits in its slot and is looked at once per lap.
///
/// One alarm (the queue's libuv timer) stands for the whole wheel: `set` answers a time only when a
/// deadline comes before the alarm, so deadlines that move later (every request moves its own) never
/// touch the timer. No clock here: callers pass `now` (the queue its loop's, tests their own).
package final class DeadlineWheel {
    /// 32 ms ticks: upstream deadlines are seconds long.
    package static let tickShift: UInt64 = 5
    package static var tickMs: UInt64 { 1 << tickShift }
    /// A lap of 1,024 ticks (32.8 s).
    package static let slotCount = 1024
    private static let slotMask = UInt64(slotCount - 1)

    private struct Entry {
        var due: UInt64 = 0
        /// Neighbours in its slot (-1: none); `next` also links the free entries.
        var prev: Int32 = -1
        var next: Int32 = -1
        /// The slot it is linked in; -1 while in none (not set, cleared, fired, or free).
        var slot: Int32 = -1
        unowned(unsafe) var owner: (any DeadlineOwner)?
    }

    private var entries: UnsafeMutablePointer<Entry>
    private var capacity: Int32
    /// Entries below this index have been handed out at least once.
    private var used: Int32 = 0
    /// The first free entry (-1: none).
    private var free: Int32 = -1
    /// The first entry of each slot (-1: empty).
    private let heads: UnsafeMutablePointer<Int32>
    /// Deadlines set (linked in a slot).
    package private(set) var count = 0
    /// Every tick below this one has been swept.
    private var nextTick: UInt64
    /// Inside a sweep, walking the slot of `nextTick` at `cursor`.
    private var sweeping = false
    private var inSlot = false
    private var cursor: Int32 = -1
    private var sweepNow: UInt64 = 0
    /// When the alarm goes off (ms), if it is set.
    package private(set) var alarm: UInt64?

    package init(now: UInt64, capacity: Int = 64) {
        self.capacity = Int32(max(capacity, 1))
        entries = .allocate(capacity: Int(self.capacity))
        heads = .allocate(capacity: Self.slotCount)
        heads.initialize(repeating: -1, count: Self.slotCount)
        nextTick = now >> Self.tickShift
    }

    deinit {
        entries.deallocate()
        heads.deallocate()
    }

    // MARK: Owners

    /// Sets `d`'s deadline to `due` (ms on the caller's clock), joining on the first call and moving it
    /// on later ones. Returns when the alarm must go off if that is earlier than it is set for (the
    /// caller sets it), else nil. A deadline already passed goes in the first tick not swept yet.
    @inline(__always)
    package func set(_ d: inout Deadline, owner: any DeadlineOwner, due: UInt64) -> UInt64? {
        var i = d.index
        if i < 0 {
            i = take()
            d.index = i
            entries[Int(i)].owner = owner
        } else {
            assert(entries[Int(i)].owner === owner, "a deadline set by an owner that does not hold it")
            if entries[Int(i)].slot >= 0 { unlink(i) }
        }
        // Never into a tick already swept (it would wait a lap), nor the one a sweep is walking.
        let first = inSlot ? nextTick &+ 1 : nextTick
        var tick = due >> Self.tickShift
        if tick < first { tick = first }
        link(i, due: due, tick: tick)
        if sweeping { return nil }  // `endSweep` sets the alarm
        let wake = (tick &+ 1) << Self.tickShift
        if let alarm, alarm <= wake { return nil }
        alarm = wake
        return wake
    }

    /// Clears `d`'s deadline; the owner keeps its entry. The alarm is left as it is (it goes off, finds
    /// nothing due, and is set for what is left).
    @inline(__always)
    package func clear(_ d: Deadline) {
        let i = d.index
        if i >= 0, entries[Int(i)].slot >= 0 { unlink(i) }
    }

    /// Clears `d`'s deadline and hands its entry back.
    @inline(__always)
    package func leave(_ d: inout Deadline) {
        let i = d.index
        guard i >= 0 else { return }
        if entries[Int(i)].slot >= 0 { unlink(i) }
        entries[Int(i)].owner = nil
        entries[Int(i)].next = free
        free = i
        d.index = -1
    }

    /// `d`'s deadline, when it is set (tests).
    package func due(_ d: Deadline) -> UInt64? {
        let i = d.index
        return i >= 0 && entries[Int(i)].slot >= 0 ? entries[Int(i)].due : nil
    }

    // MARK: Sweeping

    /// The alarm went off at `now`: starts handing out what is due (`popDue`).
    package func beginSweep(now: UInt64) {
        assert(!sweeping, "a sweep inside a sweep")
        alarm = nil
        sweeping = true
        sweepNow = now
        let end = now >> Self.tickShift
        // More than a lap behind (the wheel sat idle, or the alarm went off late): each slot once is enough.
        if end > nextTick, end - nextTick > UInt64(Self.slotCount) { nextTick = end - UInt64(Self.slotCount) }
    }

    /// The next owner whose deadline is at or before the sweep's `now`, its deadline cleared; nil when
    /// none is left. Between two calls owners may set, move, clear and leave any deadline.
    package func popDue() -> (any DeadlineOwner)? {
        let end = sweepNow >> Self.tickShift  // ticks below are over
        while nextTick < end {
            if !inSlot {
                cursor = heads[Int(nextTick & Self.slotMask)]
                inSlot = true
            }
            while cursor >= 0 {
                let i = cursor
                cursor = entries[Int(i)].next
                if entries[Int(i)].due <= sweepNow {
                    unlink(i)
                    return entries[Int(i)].owner
                }
                // A deadline a lap or more ahead: it stays.
            }
            inSlot = false
            nextTick &+= 1
        }
        return nil
    }

    /// Ends the sweep: when the alarm must go off next (the end of the first tick with a deadline), nil
    /// when no deadline is left.
    package func endSweep() -> UInt64? {
        assert(sweeping && !inSlot, "endSweep before popDue answered nil")
        sweeping = false
        guard count > 0, let ahead = firstOccupied(from: nextTick) else { return nil }
        let wake = (nextTick &+ ahead &+ 1) << Self.tickShift
        alarm = wake
        return wake
    }

    // MARK: Table and slots

    @inline(__always)
    private func take() -> Int32 {
        if free >= 0 {
            let i = free
            free = entries[Int(i)].next
            entries[Int(i)].next = -1
            return i
        }
        if used == capacity { grow() }
        let i = used
        used += 1
        (entries + Int(i)).initialize(to: Entry())
        return i
    }

    @inline(never)
    private func grow() {
        let bigger = capacity * 2
        let moved = UnsafeMutablePointer<Entry>.allocate(capacity: Int(bigger))
        moved.moveInitialize(from: entries, count: Int(used))
        entries.deallocate()
        entries = moved
        capacity = bigger
    }

    @inline(__always)
    private func link(_ i: Int32, due: UInt64, tick: UInt64) {
        let s = Int(tick & Self.slotMask)
        let h = heads[s]
        entries[Int(i)].due = due
        entries[Int(i)].slot = Int32(s)
        entries[Int(i)].prev = -1
        entries[Int(i)].next = h
        if h >= 0 { entries[Int(h)].prev = i }
        heads[s] = i
        count += 1
    }

    @inline(__always)
    private func unlink(_ i: Int32) {
        let e = entries[Int(i)]
        if cursor == i, inSlot { cursor = e.next }
        if e.prev >= 0 {
            entries[Int(e.prev)].next = e.next
        } else {
            heads[Int(e.slot)] = e.next
        }
        if e.next >= 0 { entries[Int(e.next)].prev = e.prev }
        entries[Int(i)].slot = -1
        count -= 1
    }

    /// How many ticks after `tick` the first non-empty slot comes (0 for `tick`'s own), nil when all
    /// are empty. A walk of up to a lap of slot heads, once per alarm: no bookkeeping per deadline.
    private func firstOccupied(from tick: UInt64) -> UInt64? {
        let start = Int(tick & Self.slotMask)
        for ahead in 0..<Self.slotCount {
            var s = start + ahead
            if s >= Self.slotCount { s -= Self.slotCount }
            if heads[s] >= 0 { return UInt64(ahead) }
        }
        return nil
    }
}
