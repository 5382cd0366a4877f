/// A parsed response head: bytes copied once, spans into them.
public struct HTTPResponseHead: HTTPHead, Sendable {
    public var bytes: [UInt8]
    public var status: Int
    /// The reason phrase (may be empty).
    public var reason: Range<Int>
    /// The `x` of `HTTP/1.x`.
    public var minorVersion: Int
    public var fields: [HTTPHeaderField]
    public var framing: HTTPBodyFraming
    /// Whether the connection may carry another request after this response's body.
    public var keepAlive: Bool

    @inlinable public var reasonString: String { String(decoding: bytes[reason], as: UTF8.self) }
    /// 1xx other than 101: an interim response the caller skips before the final one.
    @inlinable public var isInterim: Bool { status >= 100 && status < 200 && status != 101 }
}
