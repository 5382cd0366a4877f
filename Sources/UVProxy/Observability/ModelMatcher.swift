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
            if memcmp(storage + entries[i].offset, base, n) == 0 { return entries[i].id }
            i += 1
        }
        return WorkerMetrics.otherModel
    }
}
