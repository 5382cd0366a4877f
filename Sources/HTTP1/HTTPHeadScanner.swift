/// The incremental part both head parsers share: finds the end of the head in the unconsumed
/// buffer, validates line endings and control characters as bytes arrive, hands the start line to
/// its owner, and parses header lines into spans.
///
/// Positions are offsets into the caller's buffer, which by contract keeps its unconsumed bytes at
/// the same offsets between calls, so a call only looks at bytes it has not seen (O(new bytes)).
/// Field spans are stored relative to `headStart`, ready to index the head's own copy of the bytes.
struct HTTPHeadScanner: Sendable {
    /// What the owner must do next.
    enum Event {
        case needMore
        /// The start line is complete (buffer offsets, CRLF excluded); validate it and call `scan` again.
        case startLine(Range<Int>)
        /// The blank line that ends the head is complete; the head is `headStart..<end`.
        case end(Int)
        case failure(HTTPParseError)
    }

    /// The next byte to examine.
    private(set) var scanned = 0
    /// Where the current line starts.
    private var lineStart = 0
    /// Where the head starts (after empty lines a request may be preceded by).
    private(set) var headStart = 0
    /// Lines completed so far (0: the start line is not complete yet).
    private var lines = 0
    /// Header fields seen so far, relative to `headStart`.
    var fields: [HTTPHeaderField] = []

    mutating func reset() {
        scanned = 0
        lineStart = 0
        headStart = 0
        lines = 0
        fields = []
    }

    /// Scans from where the last call stopped. `skipLeadingEmptyLines` is RFC 9112 section 2.2's
    /// robustness rule for servers (an extra CRLF after a previous body), never used for responses.
    mutating func scan(_ p: UnsafeRawBufferPointer, limits: HTTPLimits, skipLeadingEmptyLines: Bool) -> Event {
        let n = p.count
        // Bytes past the limit are never examined: a head must end within `maxHeadBytes`.
        let end = Swift.min(n, Swift.max(limits.maxHeadBytes, 0))
        var i = scanned
        while i < end {
            if end &- i >= 8 {
                // Eight bytes at a time; a word holding a control byte jumps straight to it (the
                // first flagged byte is exact; see `controlMask`). Little-endian loads (x86, arm64).
                let mask = HTTPBytes.controlMask(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                if mask == 0 {
                    i &+= 8
                    continue
                }
                i &+= mask.trailingZeroBitCount &>> 3
            }
            let b = p[i]
            if b >= 0x20 && b != 0x7F || b == HTTPBytes.ht {
                i &+= 1
                continue
            }
            if b == HTTPBytes.lf {
                return fail(.bareLF, "bare LF (not preceded by CR) in line \(lines + 1) of the head")
            }
            if b != HTTPBytes.cr {
                if b == 0 { return fail(.nulInHeader, "NUL byte in line \(lines + 1) of the head") }
                return fail(.controlCharacter, "control character \(b) in line \(lines + 1) of the head")
            }
            if i &+ 1 >= end { break }  // a CR whose LF has not arrived (or lies past the limit)
            if p[i &+ 1] != HTTPBytes.lf {
                return fail(.bareCR, "bare CR (not followed by LF) in line \(lines + 1) of the head")
            }
            let line = lineStart..<i
            i &+= 2
            lineStart = i
            if line.isEmpty {
                if lines == 0 {
                    if skipLeadingEmptyLines {
                        headStart = i
                        continue
                    }
                    scanned = i
                    return .startLine(line)
                }
                scanned = i
                return .end(i)
            }
            lines &+= 1
            if lines == 1 {
                scanned = i
                return .startLine(line)
            }
            if let error = parseField(p, line, maxHeaderCount: limits.maxHeaderCount) { return .failure(error) }
        }
        scanned = i
        if n > end {
            return fail(.headTooLarge, "the head is larger than \(limits.maxHeadBytes) bytes")
        }
        return .needMore
    }

    private func fail(_ code: HTTPParseError.Code, _ message: String) -> Event {
        .failure(HTTPParseError(code, message))
    }

    /// Parses `name ":" OWS value OWS` (control characters were already refused by `scan`).
    private mutating func parseField(
        _ p: UnsafeRawBufferPointer, _ line: Range<Int>, maxHeaderCount: Int
    ) -> HTTPParseError? {
        let lineNumber = lines
        let first = p[line.lowerBound]
        if HTTPBytes.isOWS(first) {
            return HTTPParseError(.obsFold, "obsolete line folding (line \(lineNumber) starts with whitespace)")
        }
        var j = line.lowerBound
        // Eight name bytes at a time while they are letters, digits or `-`; from the first other byte
        // on, one at a time (the colon, or a rarer token byte).
        while line.upperBound &- j >= 8 {
            let m = HTTPBytes.commonTokenMask(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: j, as: UInt64.self)))
            if m == 0x8080_8080_8080_8080 {
                j &+= 8
                continue
            }
            j &+= (~m & 0x8080_8080_8080_8080).trailingZeroBitCount &>> 3
            break
        }
        while j < line.upperBound && HTTPBytes.isToken(p[j]) { j &+= 1 }
        if j == line.upperBound {
            return HTTPParseError(.badHeader, "header line \(lineNumber) has no colon")
        }
        if p[j] != HTTPBytes.colon {
            if HTTPBytes.isOWS(p[j]) {
                return HTTPParseError(.badHeader, "whitespace before the colon in header line \(lineNumber)")
            }
            return HTTPParseError(.badHeader, "invalid character in the name of header line \(lineNumber)")
        }
        if j == line.lowerBound {
            return HTTPParseError(.badHeader, "empty header name in line \(lineNumber)")
        }
        if fields.count >= maxHeaderCount {
            return HTTPParseError(.tooManyHeaders, "more than \(maxHeaderCount) header fields")
        }
        var s = j &+ 1
        var e = line.upperBound
        while s < e && HTTPBytes.isOWS(p[s]) { s &+= 1 }
        while e > s && HTTPBytes.isOWS(p[e &- 1]) { e &-= 1 }
        if fields.capacity == 0 { fields.reserveCapacity(16) }
        let base = headStart
        fields.append(HTTPHeaderField(name: (line.lowerBound &- base)..<(j &- base), value: (s &- base)..<(e &- base)))
        return nil
    }
}
