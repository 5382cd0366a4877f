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
            let byte = bytes[index]
            if byte != 0x0A && byte != 0x0D {
                index += 1
                continue
            }
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
