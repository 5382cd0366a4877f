/// How a message's body is delimited, decided from its head (RFC 9112 section 6.3).
public enum HTTPBodyFraming: Equatable, Sendable {
    /// No body. A `Content-Length: 0` is reported as `.none` too, so callers need one check for "no body".
    case none
    /// Exactly this many bytes (always > 0).
    case contentLength(Int)
    /// Chunked transfer coding: feed the bytes after the head to a `ChunkedDecoder`.
    case chunked
    /// Responses only: the body runs until the upstream closes the connection (never reusable).
    case untilClose
}

/// What a head parser answers for the bytes it has so far.
package enum HTTPHeadParseResult<Head> {
    /// No complete head yet: append more bytes and call again with the whole unconsumed buffer.
    case incomplete
    /// A head that took `consumed` bytes of the buffer; the rest belongs to the body or the next message.
    case complete(Head, consumed: Int)
    /// The head is invalid; the error is sticky until `reset()`.
    case failure(HTTPParseError)
}

extension HTTPHeadParseResult: Sendable where Head: Sendable {}
