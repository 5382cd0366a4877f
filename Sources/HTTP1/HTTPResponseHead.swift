/// A parsed response head: bytes copied once, spans into them.
package struct HTTPResponseHead: HTTPHead, Sendable {
    package var bytes: [UInt8]
    package var status: Int
    /// The reason phrase (may be empty).
    package var reason: Range<Int>
    /// The `x` of `HTTP/1.x`.
    package var minorVersion: Int
    package var fields: [HTTPHeaderField]
    package var framing: HTTPBodyFraming
    /// Whether the connection may carry another request after this response's body.
    package var keepAlive: Bool

    package var reasonString: String { String(decoding: bytes[reason], as: UTF8.self) }
    /// 1xx other than 101: an interim response the caller skips before the final one.
    package var isInterim: Bool { status >= 100 && status < 200 && status != 101 }
}
