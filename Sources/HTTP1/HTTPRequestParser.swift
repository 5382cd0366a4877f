/// An incremental, strict HTTP/1.1 request head parser (RFC 9112), in the style of picohttpparser:
/// the caller owns the buffer and the parser returns spans, and in the style of llhttp: strict by
/// default, sticky errors that say what and where.
///
/// Usage: append received bytes to the connection's buffer and call `parse` with every unconsumed
/// byte. `.incomplete` means call again with more; `.complete(head, consumed)` means the head took
/// the first `consumed` bytes (the body, or a pipelined request, follows); `.failure` means answer
/// `error.status` and close. The parser resets itself after a complete head, so the next call
/// starts a new request; `reset()` does the same explicitly (and clears a failure).
package struct HTTPRequestParser: Sendable {
    package var limits: HTTPLimits
    private var scanner = HTTPHeadScanner()
    private var method: Range<Int> = 0..<0
    private var target: Range<Int> = 0..<0
    private var minorVersion = 1
    private var failure: HTTPParseError?

    package init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    package mutating func reset() {
        scanner.reset()
        failure = nil
    }

    package mutating func parse(_ buffer: UnsafeRawBufferPointer) -> HTTPHeadParseResult<HTTPRequestHead> {
        if let failure { return .failure(failure) }
        while true {
            switch scanner.scan(buffer, limits: limits, skipLeadingEmptyLines: true) {
            case .needMore:
                return .incomplete
            case .failure(let error):
                return fail(error)
            case .startLine(let line):
                if let error = parseRequestLine(buffer, line) { return fail(error) }
            case .end(let end):
                return finish(buffer, end: end)
            }
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPHeadParseResult<HTTPRequestHead> {
        failure = error
        return .failure(error)
    }

    /// `method SP request-target SP HTTP-version`; spans are stored relative to the head's start.
    private mutating func parseRequestLine(_ p: UnsafeRawBufferPointer, _ line: Range<Int>) -> HTTPParseError? {
        let e = line.upperBound
        var i = line.lowerBound
        while i < e && HTTPBytes.isToken(p[i]) { i &+= 1 }
        if i == line.lowerBound || i == e || p[i] != HTTPBytes.sp {
            return HTTPParseError(.badRequestLine, "the request line does not start with a method token and one space")
        }
        let methodEnd = i
        i &+= 1
        let targetStart = i
        // Visible ASCII only: no spaces, controls or raw non-ASCII bytes in the target.
        while i < e && p[i] > 0x20 && p[i] < 0x7F { i &+= 1 }
        if i == targetStart || i == e || p[i] != HTTPBytes.sp {
            return HTTPParseError(.badRequestLine, "the request target is empty, contains an invalid byte, or is not followed by one space")
        }
        let targetEnd = i
        i &+= 1
        switch HTTPVersion.parse(p, i..<e) {
        case .http1(let minor):
            minorVersion = minor
        case .otherMajor:
            return HTTPParseError(.invalidVersion, "only HTTP/1.x is supported")
        case .invalid:
            return HTTPParseError(.badRequestLine, "the request line does not end with HTTP/1.x")
        }
        let base = scanner.headStart
        method = (line.lowerBound &- base)..<(methodEnd &- base)
        target = (targetStart &- base)..<(targetEnd &- base)
        return nil
    }

    private mutating func finish(_ p: UnsafeRawBufferPointer, end: Int) -> HTTPHeadParseResult<HTTPRequestHead> {
        let start = scanner.headStart
        let headBytes = UnsafeRawBufferPointer(rebasing: p[start..<end])
        let facts: HTTPHeadFacts
        switch HTTPHeadFacts.read(headBytes, scanner.fields, isRequest: true) {
        case .success(let f): facts = f
        case .failure(let error): return fail(error)
        }
        if facts.hasTransferEncoding && minorVersion == 0 {
            return fail(HTTPParseError(.badTransferEncoding, "an HTTP/1.0 request cannot use Transfer-Encoding"))
        }
        if facts.hostCount > 1 {
            return fail(HTTPParseError(.duplicateHost, "more than one Host field"))
        }
        if facts.hostCount == 0 && minorVersion >= 1 {
            return fail(HTTPParseError(.missingHost, "an HTTP/1.1 request needs a Host field"))
        }
        var framing = HTTPBodyFraming.none
        if facts.hasTransferEncoding {
            framing = .chunked
        } else if let length = facts.contentLength, length > 0 {
            if length > limits.maxBodyBytes {
                return fail(HTTPParseError(.bodyTooLarge, "Content-Length is larger than the \(limits.maxBodyBytes)-byte body limit"))
            }
            framing = .contentLength(length)
        }
        let keepAlive = minorVersion >= 1 ? !facts.connectionClose : (facts.connectionKeepAlive && !facts.connectionClose)
        let head = HTTPRequestHead(
            bytes: Array(headBytes), method: method, target: target, minorVersion: minorVersion,
            fields: scanner.fields, framing: framing, keepAlive: keepAlive,
            expectContinue: facts.expectContinue && minorVersion >= 1)
        scanner.reset()
        return .complete(head, consumed: end)
    }
}
