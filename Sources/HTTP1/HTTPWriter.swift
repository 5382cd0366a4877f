/// Append-only builders of HTTP/1.1 wire bytes into a caller-owned `[UInt8]` (reserve capacity
/// once, append many). Nothing here trusts its input: header names must be tokens and values may
/// not carry CR, LF, NUL or other control characters, so no caller can be tricked into writing a
/// second header or a second message (response splitting).
public enum HTTPWriter {
    /// `HTTP/1.1 <status> <reason>\r\n`.
    @inlinable
    public static func appendStatusLine(_ status: Int, into out: inout [UInt8]) {
        // Nearly every answer: one copy (a String's UTF8View appended went the generic way, ~300 instructions).
        if status == 200 {
            appendStatic("HTTP/1.1 200 OK\r\n", into: &out)
            return
        }
        appendStatic("HTTP/1.1 ", into: &out)
        appendDecimal(status, into: &out)
        out.append(HTTPBytes.sp)
        var reason = reasonPhrase(status)
        reason.withUTF8 { appendBytes(UnsafeRawBufferPointer($0), into: &out) }
        appendCRLF(into: &out)
    }

    /// `<method> <target> HTTP/1.1\r\n`. Returns false (and appends nothing) if the method is not a
    /// token or the target has bytes outside visible ASCII.
    @discardableResult
    @inlinable
    public static func appendRequestLine(method: String, target: String, into out: inout [UInt8]) -> Bool {
        appendRequestLine(method: method, targetPrefix: "", target: target, into: &out)
    }

    /// The same with the target in two parts (an upstream's base path and a route's path), so that
    /// no joined String is made per request.
    @discardableResult
    @inlinable
    public static func appendRequestLine(method: String, targetPrefix: String, target: String, into out: inout [UInt8]) -> Bool {
        var m = method
        var a = targetPrefix
        var t = target
        return m.withUTF8 { mu in
            a.withUTF8 { au in
                t.withUTF8 { tu in
                    guard !mu.isEmpty, mu.allSatisfy(HTTPBytes.isToken), au.count + tu.count > 0,
                          isVisibleASCII(au), isVisibleASCII(tu) else { return false }
                    appendBytes(UnsafeRawBufferPointer(mu), into: &out)
                    out.append(HTTPBytes.sp)
                    appendBytes(UnsafeRawBufferPointer(au), into: &out)
                    appendBytes(UnsafeRawBufferPointer(tu), into: &out)
                    appendStatic(" HTTP/1.1\r\n", into: &out)
                    return true
                }
            }
        }
    }

    @inlinable @inline(__always)
    static func isVisibleASCII(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in u where c <= 0x20 || c >= 0x7F { return false }
        return true
    }

    /// `<name>: <value>\r\n`. Returns false (and appends nothing) if the name is not a token or the
    /// value is not a valid field value; callers validate configured headers at start and treat a
    /// refusal here as a bug or hostile input.
    @discardableResult
    @inlinable
    public static func appendHeader(_ name: String, _ value: String, into out: inout [UInt8]) -> Bool {
        guard isValidToken(name), isValidHeaderValue(value) else { return false }
        appendValidatedHeader(name, value, into: &out)
        return true
    }

    /// `<name>: <value>\r\n` for a name and value that `appendHeader` accepted before (the caller keeps
    /// the pair it accepted and compares: a credential header sent with every request).
    @inlinable
    public static func appendValidatedHeader(_ name: String, _ value: String, into out: inout [UInt8]) {
        // Contiguous UTF-8 copies: appending a String's UTF8View element by element is slow.
        var n = name
        var v = value
        n.withUTF8 { appendBytes(UnsafeRawBufferPointer($0), into: &out) }
        out.append(HTTPBytes.colon)
        out.append(HTTPBytes.sp)
        v.withUTF8 { appendBytes(UnsafeRawBufferPointer($0), into: &out) }
        appendCRLF(into: &out)
    }

    /// `<name>: <value>\r\n` for a constant name and a value the caller has already validated (a
    /// request id checked when it was made, a content type from code or from a parsed head). The
    /// hot path writes several of these per request; re-validating them cost ~800 instructions each.
    @inlinable
    public static func appendTrustedHeader(_ name: StaticString, _ value: String, into out: inout [UInt8]) {
        appendStatic(name, into: &out)
        out.append(HTTPBytes.colon)
        out.append(HTTPBytes.sp)
        var v = value
        v.withUTF8 { appendBytes(UnsafeRawBufferPointer($0), into: &out) }
        appendCRLF(into: &out)
    }

    /// The same with a value as bytes the caller has already validated (a field value copied from a
    /// parsed head, whose parser refused control characters).
    @inlinable
    public static func appendTrustedHeader(_ name: StaticString, bytes value: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        appendStatic(name, into: &out)
        out.append(HTTPBytes.colon)
        out.append(HTTPBytes.sp)
        appendBytes(value, into: &out)
        appendCRLF(into: &out)
    }

    /// `<name>: <decimal>\r\n` without building a String (for Content-Length).
    @inlinable
    public static func appendHeader(_ name: StaticString, _ value: Int, into out: inout [UInt8]) {
        appendStatic(name, into: &out)
        out.append(HTTPBytes.colon)
        out.append(HTTPBytes.sp)
        appendDecimal(value, into: &out)
        appendCRLF(into: &out)
    }

    /// Copies one field of a parsed head (name and value as received; the parser already validated them).
    @inlinable
    public static func appendField(_ i: Int, of head: some HTTPHead, into out: inout [UInt8]) {
        let field = head.fields[i]
        head.bytes.withUnsafeBytes { p in
            appendField(name: UnsafeRawBufferPointer(rebasing: p[field.name]),
                        value: UnsafeRawBufferPointer(rebasing: p[field.value]), into: &out)
        }
    }

    /// `<name>: <value>\r\n` in one capacity check and one append, for a name and value taken from a
    /// parsed head (which validated them). Five appends per field cost ~250 instructions.
    @inlinable @inline(__always)
    public static func appendField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = name.count
        let v = value.count
        let total = n &+ v &+ 4
        let needed = out.count &+ total
        if out.capacity < needed { out.reserveCapacity(Swift.max(needed, out.capacity &* 2)) }
        out.append(addingCapacity: total) { (o: inout OutputSpan<UInt8>) in
            o.withUnsafeMutableBufferPointer { buf, initialized in
                let d = UnsafeMutableRawPointer(buf.baseAddress! + initialized)
                if n > 0 { d.copyMemory(from: name.baseAddress!, byteCount: n) }
                d.storeBytes(of: HTTPBytes.colon, toByteOffset: n, as: UInt8.self)
                d.storeBytes(of: HTTPBytes.sp, toByteOffset: n &+ 1, as: UInt8.self)
                if v > 0 { (d + (n &+ 2)).copyMemory(from: value.baseAddress!, byteCount: v) }
                d.storeBytes(of: HTTPBytes.cr, toByteOffset: n &+ v &+ 2, as: UInt8.self)
                d.storeBytes(of: HTTPBytes.lf, toByteOffset: n &+ v &+ 3, as: UInt8.self)
                initialized &+= total
            }
        }
    }

    /// The blank line that ends a head.
    @inlinable
    public static func appendEndOfHead(into out: inout [UInt8]) {
        appendCRLF(into: &out)
    }

    /// One chunk: `<hex size>\r\n<bytes>\r\n`. An empty buffer appends nothing: a zero-size chunk
    /// would end the body.
    @inlinable
    public static func appendChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard bytes.count > 0 else { return }
        // `<hex>\r\n` built on the stack and appended at once: this runs for every streamed event.
        var line: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 16 hex digits + CRLF fit in 24 bytes
        let n = bytes.count
        var digits = 1
        while digits < 16, n >> (digits &* 4) != 0 { digits &+= 1 }
        withUnsafeMutableBytes(of: &line) { l in
            for i in 0..<digits {
                let d = UInt8(truncatingIfNeeded: (n >> ((digits &- 1 &- i) &* 4)) & 0xF)
                l[i] = d < 10 ? 48 &+ d : 87 &+ d
            }
            l[digits] = HTTPBytes.cr
            l[digits &+ 1] = HTTPBytes.lf
            appendBytes(UnsafeRawBufferPointer(rebasing: l[0..<(digits &+ 2)]), into: &out)
        }
        appendBytes(bytes, into: &out)
        appendCRLF(into: &out)
    }

    /// The last chunk with no trailers: `0\r\n\r\n`.
    @inlinable
    public static func appendLastChunk(into out: inout [UInt8]) {
        out.append(contentsOf: "0\r\n\r\n".utf8)
    }

    /// True if `s` is a non-empty token (RFC 9110 section 5.6.2): what a method or field name must be.
    @inlinable
    public static func isValidToken(_ s: String) -> Bool {
        var s = s
        // A loop over contiguous UTF-8: this runs for every header written on the hot path.
        return s.withUTF8 { u in
            guard !u.isEmpty else { return false }
            for c in u where !HTTPBytes.isToken(c) { return false }
            return true
        }
    }

    /// True if `s` can be sent as a field value: no CR, LF, NUL or other control character except HT,
    /// and no leading or trailing whitespace (which a recipient would strip).
    @inlinable
    public static func isValidHeaderValue(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { u in
            if let first = u.first, HTTPBytes.isOWS(first) { return false }
            if let last = u.last, HTTPBytes.isOWS(last) { return false }
            for c in u where HTTPBytes.isForbiddenControl(c) { return false }
            return true
        }
    }

    /// The standard reason phrase (RFC 9110 section 15), or an empty-safe generic one.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default:
            switch status / 100 {
            case 1: "Informational"
            case 2: "Success"
            case 3: "Redirection"
            case 4: "Client Error"
            default: "Server Error"
            }
        }
    }

    @inlinable @inline(__always)
    public static func appendCRLF(into out: inout [UInt8]) {
        out.append(HTTPBytes.cr)
        out.append(HTTPBytes.lf)
    }

    /// A constant's bytes in one copy (for short separators two byte appends are cheaper).
    @inlinable @inline(__always)
    public static func appendStatic(_ s: StaticString, into out: inout [UInt8]) {
        appendBytes(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount), into: &out)
    }

    /// `p`'s bytes at the end of `out`: one capacity check and one copy. `Array.append(contentsOf:)`
    /// goes through the generic Sequence path (~80 instructions per call, and the writer calls it ~20
    /// times per request). Capacity grows geometrically, as appends do.
    @inlinable @inline(__always)
    public static func appendBytes(_ p: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = p.count
        guard n > 0, let src = p.baseAddress else { return }
        let needed = out.count &+ n
        if out.capacity < needed { out.reserveCapacity(Swift.max(needed, out.capacity &* 2)) }
        out.append(addingCapacity: n) { (o: inout OutputSpan<UInt8>) in
            o.withUnsafeMutableBufferPointer { buf, initialized in
                UnsafeMutableRawPointer(buf.baseAddress! + initialized).copyMemory(from: src, byteCount: n)
                initialized &+= n
            }
        }
    }

    /// Decimal digits of `value` (negative values are written as 0: lengths and statuses only).
    @inlinable
    public static func appendDecimal(_ value: Int, into out: inout [UInt8]) {
        var v = Swift.max(value, 0)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for Int.max's 19 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[23 &- count] = UInt8(truncatingIfNeeded: 48 &+ v % 10)
                v /= 10
                count &+= 1
            } while v > 0
            appendBytes(UnsafeRawBufferPointer(rebasing: d[(24 &- count)...]), into: &out)
        }
    }
}
