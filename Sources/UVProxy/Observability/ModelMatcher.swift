import Glibc

/// The model label of a request: a model id from the config's `models:` list or a key of a route's
/// `model_aliases`, matched on the bytes of the client's `model` value; anything else is `other`, so
/// the label's values are bounded by the config whatever clients send.
///
/// Names are kept back to back in one allocation, grouped by length: a lookup compares the few names
/// of the same length (usually one or none), with no hashing and no String. Immutable once made.
final class ModelMatcher {
    /// Every name's bytes, in order of length.
    private let storage: UnsafeMutablePointer<UInt8>
    /// (offset into `storage`, label id) per name, in order of length.
    private let entries: UnsafeMutablePointer<(offset: Int, id: Int)>
    /// `entries[first[n]..<first[n + 1]]` are the names of n bytes, for n up to `longest`.
    private let first: UnsafeMutablePointer<Int>
    private let longest: Int
    static let maxLength = 255

    convenience init() { self.init([]) }

    init(_ names: [(name: String, id: Int)]) {
        var unique: [(bytes: [UInt8], id: Int)] = []
        for (name, id) in names {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= Self.maxLength, !unique.contains(where: { $0.bytes == bytes }) else {
                continue
            }
            unique.append((bytes, id))
        }
        unique.sort { $0.bytes.count < $1.bytes.count }
        longest = unique.last?.bytes.count ?? 0
        storage = .allocate(capacity: max(1, unique.reduce(0) { $0 + $1.bytes.count }))
        entries = .allocate(capacity: max(1, unique.count))
        first = .allocate(capacity: longest + 2)
        var next = 0
        var offset = 0
        for n in 0...longest {
            first[n] = next
            while next < unique.count, unique[next].bytes.count == n {
                (entries + next).initialize(to: (offset, unique[next].id))
                (storage + offset).initialize(from: unique[next].bytes, count: n)
                offset += n
                next += 1
            }
        }
        first[longest + 1] = next
    }

    deinit {
        storage.deallocate()
        entries.deallocate()
        first.deallocate()
    }

    /// The label id for `value`, a JSON string as written (quotes included), or `other` (0).
    @inline(__always)
    func id(jsonString value: UnsafeRawBufferPointer) -> Int {
        guard value.count >= 2, let base = value.baseAddress else { return WorkerMetrics.otherModel }
        return id(UnsafeRawBufferPointer(start: base + 1, count: value.count - 2))
    }

    /// The label id for the model name `name`, or `other` (0).
    func id(_ name: UnsafeRawBufferPointer) -> Int {
        let n = name.count
        guard n > 0, n <= longest, let base = name.baseAddress else { return WorkerMetrics.otherModel }
        var i = first[n]
        let end = first[n + 1]
        while i < end {
            if Self.same(UnsafeRawPointer(storage + entries[i].offset), base, n) { return entries[i].id }
            i += 1
        }
        return WorkerMetrics.otherModel
    }

    /// `a[0..<n]` equals `b[0..<n]`: model names of 8 bytes or more compared as words (the first, the
    /// last, overlapping, and those between), most mismatches at the first; 4 to 7 bytes as two
    /// overlapping 4-byte words; shorter ones byte by byte.
    /// Not `memcmp`: a call costs more than the compare for names this short.
    @inline(__always)
    static func same(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        guard n >= 8 else {
            if n >= 4 {
                let last = n &- 4
                return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                    && a.loadUnaligned(fromByteOffset: last, as: UInt32.self) == b.loadUnaligned(fromByteOffset: last, as: UInt32.self)
            }
            var i = 0
            while i < n {
                if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
                i &+= 1
            }
            return true
        }
        let last = n &- 8
        if a.loadUnaligned(as: UInt64.self) != b.loadUnaligned(as: UInt64.self)
            || a.loadUnaligned(fromByteOffset: last, as: UInt64.self) != b.loadUnaligned(fromByteOffset: last, as: UInt64.self) {
            return false
        }
        var i = 8
        while i < n &- 8 {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i &+= 8
        }
        return true
    }
}
