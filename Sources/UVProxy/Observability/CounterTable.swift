// One worker's counters: plain integers a single loop writes, no atomics, no locks. A scrape copies
// them out on the owning loop (`WorkerMetrics.snapshot`); nothing else reads them.

/// Counters keyed by a packed label key (`LabelKey`), in an open-addressing table: an increment is a
/// multiply, a mask and a compare or two, with no hashing of strings and no allocation once the
/// (bounded) set of label combinations has been seen. Loop-confined.
final class CounterTable {
    /// Slot keys with the top bit set (0 marks an empty slot), and their counts.
    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 16) {
        var n = 8
        while n < capacity * 2 { n <<= 1 }
        keys = .allocate(capacity: n)
        keys.initialize(repeating: 0, count: n)
        values = .allocate(capacity: n)
        values.initialize(repeating: 0, count: n)
        mask = n - 1
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    private static let used: UInt64 = 1 << 63

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// Adds `n` to the counter of `key` (keys below 2^63).
    @inline(__always)
    func add(_ key: UInt64, _ n: UInt64 = 1) {
        let k = key | Self.used
        var i = Self.slot(k, mask)
        while true {
            let s = keys[i]
            if s == k {
                values[i] &+= n
                return
            }
            if s == 0 { break }
            i = (i + 1) & mask
        }
        insert(k, at: i, n)
    }

    private func insert(_ k: UInt64, at slot: Int, _ n: UInt64) {
        if (count + 1) * 2 > mask + 1 {
            grow()
            add(k & ~Self.used, n)
            return
        }
        keys[slot] = k
        values[slot] = n
        count += 1
    }

    private func grow() {
        let oldKeys = keys
        let oldValues = values
        let oldSize = mask + 1
        let size = oldSize * 2
        keys = .allocate(capacity: size)
        keys.initialize(repeating: 0, count: size)
        values = .allocate(capacity: size)
        values.initialize(repeating: 0, count: size)
        mask = size - 1
        for i in 0..<oldSize where oldKeys[i] != 0 {
            var j = Self.slot(oldKeys[i], mask)
            while keys[j] != 0 { j = (j + 1) & mask }
            keys[j] = oldKeys[i]
            values[j] = oldValues[i]
        }
        oldKeys.deallocate()
        oldValues.deallocate()
    }

    /// The value of `key` (0 when never added; tests).
    func value(_ key: UInt64) -> UInt64 {
        let k = key | Self.used
        var i = Self.slot(k, mask)
        while keys[i] != 0 {
            if keys[i] == k { return values[i] }
            i = (i + 1) & mask
        }
        return 0
    }

    /// Every (key, value), in no particular order.
    func entries() -> [CounterEntry] {
        var out: [CounterEntry] = []
        out.reserveCapacity(count)
        for i in 0...mask where keys[i] != 0 { out.append(CounterEntry(key: keys[i] & ~Self.used, value: values[i])) }
        return out
    }
}

struct CounterEntry: Sendable, Equatable {
    var key: UInt64
    var value: UInt64
}

/// Up to three small label ids packed into a counter key (21 bits each).
enum LabelKey {
    @inline(__always)
    static func pack(_ a: Int, _ b: Int = 0, _ c: Int = 0) -> UInt64 {
        UInt64(truncatingIfNeeded: a) << 42 | UInt64(truncatingIfNeeded: b) << 21 | UInt64(truncatingIfNeeded: c)
    }

    static func unpack(_ key: UInt64) -> (Int, Int, Int) {
        let m: UInt64 = (1 << 21) - 1
        return (Int(key >> 42 & m), Int(key >> 21 & m), Int(key & m))
    }
}
