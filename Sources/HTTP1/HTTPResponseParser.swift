/// An incremental, strict HTTP/1.1 response head parser for upstream responses. Same contract as
/// `HTTPRequestParser`: call with every unconsumed byte until a head is complete; it resets itself
/// after a complete head; failures are sticky until `reset()`.
///
/// Framing follows RFC 9112 section 6.3: a response to HEAD, any 1xx, 204 and 304 have no body
/// whatever their fields say; then `chunked`; then `Content-Length`; otherwise the body runs until
/// the upstream closes. Unlike the RFC's lenient reading, a response carrying both
/// `Transfer-Encoding` and `Content-Length`, or a coding other than `chunked`, is refused: the
/// proxy answers 502 rather than guess where the body ends.
package struct HTTPResponseParser: Sendable {
    package var limits: HTTPLimits
    private var scanner = HTTPHeadScanner()
    private var status = 0
    private var reason: Range<Int> = 0..<0
    private var minorVersion = 1
    private var failure: HTTPParseError?

    package init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    package mutating func reset() {
        scanner.reset()
        failure = nil
    }

    package mutating func parse(
        _ buffer: UnsafeRawBufferPointer, requestMethodIsHEAD: Bool
    ) -> HTTPHeadParseResult<HTTPResponseHead> {
        if let failure { return .failure(failure) }
        while true {
            switch scanner.scan(buffer, limits: limits, skipLeadingEmptyLines: false) {
            case .needMore:
                return .incomplete
            case .failure(let error):
                return fail(error)
            case .startLine(let line):
                if let error = parseStatusLine(buffer, line) { return fail(error) }
            case .end(let end):
                return finish(buffer, end: end, requestMethodIsHEAD: requestMethodIsHEAD)
            }
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPHeadParseResult<HTTPResponseHead> {
        failure = error
        return .failure(error)
    }

    /// `HTTP-version SP 3DIGIT SP reason-phrase`. A missing SP after the code when the reason is
    /// empty is accepted: common servers send `HTTP/1.1 200` and nothing about it is ambiguous.
    private mutating func parseStatusLine(_ p: UnsafeRawBufferPointer, _ line: Range<Int>) -> HTTPParseError? {
        let s = line.lowerBound
        let e = line.upperBound
        var versionEnd = s
        while versionEnd < e && p[versionEnd] != HTTPBytes.sp { versionEnd &+= 1 }
        switch HTTPVersion.parse(p, s..<versionEnd) {
        case .http1(let minor):
            minorVersion = minor
        case .otherMajor:
            return HTTPParseError(.invalidVersion, "the status line's version is not HTTP/1.x")
        case .invalid:
            return HTTPParseError(.badStatusLine, "the status line does not start with HTTP/1.x and one space")
        }
        let c = versionEnd &+ 1
        guard e - versionEnd >= 4 else {
            return HTTPParseError(.badStatusLine, "the status line has no three-digit status code")
        }
        var code = 0
        for i in c..<(c &+ 3) {
            let d = p[i] &- 48
            if d > 9 { return HTTPParseError(.badStatusLine, "the status code is not three digits") }
            code = code &* 10 &+ Int(d)
        }
        guard code >= 100 && code <= 599 else {
            return HTTPParseError(.badStatusLine, "the status code is outside 100-599")
        }
        var reasonStart = c &+ 3
        if reasonStart < e {
            guard p[reasonStart] == HTTPBytes.sp else {
                return HTTPParseError(.badStatusLine, "the status code is not followed by a space")
            }
            reasonStart &+= 1
        }
        status = code
        let base = scanner.headStart
        reason = (reasonStart &- base)..<(e &- base)
        return nil
    }

    private mutating func finish(
        _ p: UnsafeRawBufferPointer, end: Int, requestMethodIsHEAD: Bool
    ) -> HTTPHeadParseResult<HTTPResponseHead> {
        let start = scanner.headStart
        let headBytes = UnsafeRawBufferPointer(rebasing: p[start..<end])
        let facts: HTTPHeadFacts
        switch HTTPHeadFacts.read(headBytes, scanner.fields, isRequest: false) {
        case .success(let f): facts = f
        case .failure(let error): return fail(error)
        }
        var keepAlive = minorVersion >= 1 ? !facts.connectionClose : (facts.connectionKeepAlive && !facts.connectionClose)
        let framing: HTTPBodyFraming
        if requestMethodIsHEAD || status < 200 || status == 204 || status == 304 {
            framing = .none
            if status == 101 { keepAlive = false }  // the connection now speaks another protocol
        } else if facts.hasTransferEncoding {
            framing = .chunked
        } else if let length = facts.contentLength {
            if length > limits.maxBodyBytes {
                return fail(HTTPParseError(.bodyTooLarge, "Content-Length is larger than the \(limits.maxBodyBytes)-byte body limit"))
            }
            framing = length > 0 ? .contentLength(length) : .none
        } else {
            framing = .untilClose
            keepAlive = false
        }
        let head = HTTPResponseHead(
            bytes: Array(headBytes), status: status, reason: reason, minorVersion: minorVersion,
            fields: scanner.fields, framing: framing, keepAlive: keepAlive)
        scanner.reset()
        return .complete(head, consumed: end)
    }
}
