/// A parsed request head. The bytes are copied once out of the read buffer; everything else is spans
/// into them, so the head costs two allocations (bytes and fields) whatever its size.
public struct HTTPRequestHead: HTTPHead, Sendable {
    public var bytes: [UInt8]
    public var method: Range<Int>
    /// The request target as sent (origin form: path and query).
    public var target: Range<Int>
    /// The `x` of `HTTP/1.x`.
    public var minorVersion: Int
    public var fields: [HTTPHeaderField]
    public var framing: HTTPBodyFraming
    /// HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 closes it unless `keep-alive`.
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 says to ignore it on 1.0).
    public var expectContinue: Bool

    @inlinable public var methodString: String { String(decoding: bytes[method], as: UTF8.self) }
    @inlinable public var targetString: String { String(decoding: bytes[target], as: UTF8.self) }

    /// True if the method is exactly `name` (methods are case-sensitive). No allocation.
    @inlinable public func isMethod(_ name: StaticString) -> Bool {
        guard method.count == name.utf8CodeUnitCount else { return false }
        return bytes.withUnsafeBytes { p in
            memcmpEqual(p, method, UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }
    }

    /// The target's path (before `?`), as bytes. No allocation beyond the slice.
    @inlinable public var pathBytes: ArraySlice<UInt8> {
        let t = bytes[target]
        if let q = t.firstIndex(of: UInt8(ascii: "?")) { return bytes[target.lowerBound..<q] }
        return t
    }
}

@inlinable @inline(__always)
public func memcmpEqual(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ other: UnsafeRawBufferPointer) -> Bool {
    guard range.count == other.count else { return false }
    var i = 0
    var j = range.lowerBound
    while i < other.count {
        if p[j] != other[i] { return false }
        i &+= 1
        j &+= 1
    }
    return true
}
