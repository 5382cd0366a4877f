/// Receives the complete lines found by an `SSELineSplitter`.
protocol SSELineSink {
    /// One line without its terminator. The bytes are only valid during the call.
    mutating func line(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8])
}

/// Splits a byte stream, read in pieces cut anywhere, into lines ended by `\n`, `\r\n` or `\r` (the SSE
/// rules).
///
/// Why not a full SSE event decoder: Bedrock's data-only SSE sends one complete event JSON per `data:`
/// line, and the translator wants to act on each line the moment it is complete rather than wait for
/// the blank line (or for a blank line that some gateways never send). A line that lies whole in the
/// current read is handed over in place; only a line cut by a read boundary is copied, into one buffer
/// reused for the whole stream.
struct SSELineSplitter {
    /// A line longer than this is an upstream fault: the splitter stops and sets `overflowed`, which its
    /// owner checks after each `feed`.
    let maxLineBytes: Int
    private var partial: [UInt8] = []
    /// The previous read ended in `\r`: a `\n` at the start of the next one ends nothing.
    private var skipLeadingLF = false
    private(set) var overflowed = false

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// True when bytes of an unfinished line are held.
    var hasPartialLine: Bool { !partial.isEmpty }

    mutating func feed<Sink: SSELineSink>(
        _ bytes: UnsafeRawBufferPointer, sink: inout Sink, into out: inout [UInt8]
    ) {
        if overflowed { return }
        var index = 0
        let count = bytes.count
        if skipLeadingLF, count > 0 {
            skipLeadingLF = false
            if bytes[0] == 0x0A { index = 1 }
        }
        var lineStart = index
        while index < count {
            index = Self.lineEnd(bytes, from: index)
            if index == count { break }
            let byte = bytes[index]
            let span = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<index])
            if partial.isEmpty {
                if span.count > maxLineBytes {
                    overflowed = true
                    return
                }
                sink.line(span, into: &out)
            } else {
                if !appendPartial(span) { return }
                partial.withUnsafeBytes { sink.line($0, into: &out) }
                partial.removeAll(keepingCapacity: true)
            }
            index += 1
            if byte == 0x0D {
                if index < count {
                    if bytes[index] == 0x0A { index += 1 }
                } else {
                    skipLeadingLF = true
                }
            }
            lineStart = index
        }
        if lineStart < count {
            _ = appendPartial(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<count]))
        }
    }

    /// The stream ended: a last line without a terminator is still a line.
    mutating func finish<Sink: SSELineSink>(sink: inout Sink, into out: inout [UInt8]) {
        if overflowed || partial.isEmpty { return }
        partial.withUnsafeBytes { sink.line($0, into: &out) }
        partial.removeAll(keepingCapacity: true)
    }

    /// The index of the first `\n` or `\r` at or after `start`, or `bytes.count`. Eight bytes at a time:
    /// the scan is the per-byte cost of every stream.
    @inline(__always)
    static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return count }
        var i = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while count &- i >= 8 {
            let word = UInt64(littleEndian: (base + i).loadUnaligned(as: UInt64.self))
            let lf = word ^ (ones &* 0x0A)
            let cr = word ^ (ones &* 0x0D)
            // A zero byte in `lf` or `cr` marks a match (exact for the lowest match, which is all we use).
            let hits = ((lf &- ones) & ~lf | (cr &- ones) & ~cr) & highs
            if hits != 0 { return i &+ hits.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < count {
            let c = base.load(fromByteOffset: i, as: UInt8.self)
            if c == 0x0A || c == 0x0D { return i }
            i &+= 1
        }
        return count
    }

    private mutating func appendPartial(_ span: UnsafeRawBufferPointer) -> Bool {
        if partial.count + span.count > maxLineBytes {
            overflowed = true
            partial = []
            return false
        }
        partial.append(contentsOf: span)
        return true
    }
}
