/// The framing-relevant facts of a complete head (`Content-Length`, `Transfer-Encoding`,
/// `Connection`, `Host`, `Expect`), read in one pass over the fields with no allocation.
///
/// This is where the request smuggling defences live: conflicting lengths, a length together with
/// a transfer coding, and transfer codings other than a single final `chunked` are all refused.
struct HTTPHeadFacts {
    /// The agreed `Content-Length`, if any field carried one.
    var contentLength: Int?
    var hasTransferEncoding = false
    var connectionClose = false
    var connectionKeepAlive = false
    var hostCount = 0
    var expectContinue = false
    // Transfer-Encoding, accumulated over every field in order.
    private var codings = 0
    private var chunkedCount = 0
    private var lastIsChunked = false
    private var otherCoding = false

    /// Reads the facts; `p` is the head's bytes and `fields` index it.
    static func read(_ p: UnsafeRawBufferPointer, _ fields: [HTTPHeaderField], isRequest: Bool) -> Result<HTTPHeadFacts, HTTPParseError> {
        var facts = HTTPHeadFacts()
        for field in fields {
            let name = field.name
            switch name.count {
            case 4 where HTTPBytes.equalsIgnoringCase(p, name, raw("host")):
                facts.hostCount &+= 1
            case 6 where HTTPBytes.equalsIgnoringCase(p, name, raw("expect")):
                if HTTPBytes.equalsIgnoringCase(p, field.value, raw("100-continue")) { facts.expectContinue = true }
            case 10 where HTTPBytes.equalsIgnoringCase(p, name, raw("connection")):
                HTTPBytes.forEachListElement(p, field.value) { element in
                    if HTTPBytes.equalsIgnoringCase(p, element, raw("close")) { facts.connectionClose = true }
                    if HTTPBytes.equalsIgnoringCase(p, element, raw("keep-alive")) { facts.connectionKeepAlive = true }
                    return true
                }
            case 14 where HTTPBytes.equalsIgnoringCase(p, name, raw("content-length")):
                if let error = facts.readContentLength(p, field.value) { return .failure(error) }
            case 17 where HTTPBytes.equalsIgnoringCase(p, name, raw("transfer-encoding")):
                if let error = facts.readTransferEncoding(p, field.value) { return .failure(error) }
            default:
                break
            }
        }
        if facts.hasTransferEncoding {
            if facts.contentLength != nil {
                return .failure(HTTPParseError(.contentLengthWithTransferEncoding, "both Transfer-Encoding and Content-Length are present"))
            }
            if facts.codings == 0 {
                return .failure(HTTPParseError(.badTransferEncoding, "Transfer-Encoding lists no coding"))
            }
            if !facts.lastIsChunked {
                return .failure(HTTPParseError(.badTransferEncoding, "the final transfer coding is not chunked"))
            }
            if facts.chunkedCount > 1 {
                return .failure(HTTPParseError(.badTransferEncoding, "chunked is applied more than once"))
            }
            if facts.otherCoding {
                return .failure(HTTPParseError(.unsupportedTransferEncoding, "transfer codings other than chunked are not supported"))
            }
        }
        return .success(facts)
    }

    /// `1*DIGIT`, or a list of identical ones (what an intermediary that merged fields produces).
    private mutating func readContentLength(_ p: UnsafeRawBufferPointer, _ value: Range<Int>) -> HTTPParseError? {
        var error: HTTPParseError?
        HTTPBytes.forEachListElement(p, value) { element in
            if element.isEmpty {
                error = HTTPParseError(.badContentLength, "Content-Length has an empty value")
                return false
            }
            var n = 0
            for i in element {
                let d = p[i] &- 48
                if d > 9 {
                    error = HTTPParseError(.badContentLength, "Content-Length is not a decimal number")
                    return false
                }
                if n > (Int.max - 9) / 10 {
                    error = HTTPParseError(.badContentLength, "Content-Length overflows")
                    return false
                }
                n = n &* 10 &+ Int(d)
            }
            if let previous = contentLength, previous != n {
                error = HTTPParseError(.conflictingLength, "Content-Length values disagree")
                return false
            }
            contentLength = n
            return true
        }
        return error
    }

    /// A list of transfer codings; only a bare token is accepted (no parameters).
    private mutating func readTransferEncoding(_ p: UnsafeRawBufferPointer, _ value: Range<Int>) -> HTTPParseError? {
        hasTransferEncoding = true
        var error: HTTPParseError?
        HTTPBytes.forEachListElement(p, value) { element in
            if element.isEmpty { return true }  // RFC 9110 5.6.1: empty list elements are ignored
            for i in element where !HTTPBytes.isToken(p[i]) {
                error = HTTPParseError(.badTransferEncoding, "Transfer-Encoding has a malformed coding")
                return false
            }
            codings &+= 1
            lastIsChunked = HTTPBytes.equalsIgnoringCase(p, element, raw("chunked"))
            if lastIsChunked { chunkedCount &+= 1 } else { otherCoding = true }
            return true
        }
        return error
    }

    @inline(__always)
    private static func raw(_ s: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
    }

    @inline(__always)
    private func raw(_ s: StaticString) -> UnsafeRawBufferPointer { Self.raw(s) }
}
