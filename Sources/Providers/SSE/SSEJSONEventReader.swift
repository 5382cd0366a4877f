/// The stream state of a translator whose upstream sends one JSON value per SSE event (Anthropic's and
/// OpenAI's streams): fed the lines an `SSELineSplitter` finds, it acts on each `data:` value the moment
/// it is a whole JSON value.
///
/// The line rules are the same for every such stream and live in `line(_:into:)` below: a UTF-8 byte order
/// mark before the first line is skipped; comments, `event:`, `id:` and `retry:` lines mean nothing (the
/// JSON's own `type` says what an event is); a `data:` value that is not a whole JSON value on its own is
/// kept and joined with the next `data:` lines (`\n` between them, as SSE joins one event's data), and
/// the blank line that ends the event with it still not valid JSON is an upstream fault, as is joined
/// data longer than `maxEventBytes`.
protocol SSEJSONEventReader: SSELineSink {
    /// Where `line` keeps its state between lines.
    var dataLines: SSEDataLines { get set }
    /// A final event is out: every line is ignored.
    var isOver: Bool { get }
    /// Handles `value` when it is one whole JSON value (or a marker the stream knows, such as `[DONE]`);
    /// false, with nothing done, when it is not valid JSON. The bytes are only valid during the call.
    mutating func event(_ value: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool
    /// The upstream ended.
    mutating func end(into out: inout [UInt8])
    /// The stream fails with `error`, in the client's dialect; nothing is written after it.
    mutating func fail(_ error: APIError, into out: inout [UInt8])
}

/// What `SSEJSONEventReader.line` remembers between lines.
struct SSEDataLines {
    /// The most bytes of one event's joined `data:` lines.
    let maxEventBytes: Int
    /// A `data:` value that was not a whole JSON value on its own, and the lines joined to it since.
    var pending: [UInt8] = []
    var sawFirstLine = false

    init(maxEventBytes: Int) {
        self.maxEventBytes = maxEventBytes
    }
}

extension SSEJSONEventReader {
    mutating func line(_ line: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        if isOver { return }
        var bytes = line
        if !dataLines.sawFirstLine {
            // SSE allows a UTF-8 byte order mark before the first line.
            dataLines.sawFirstLine = true
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = UnsafeRawBufferPointer(rebasing: bytes[3...]) }
        }
        if bytes.isEmpty {
            // End of an SSE event: data still pending never became valid JSON.
            if !dataLines.pending.isEmpty {
                dataLines.pending.removeAll(keepingCapacity: true)
                fail(.upstreamProtocol("upstream sent an event that is not valid JSON"), into: &out)
            }
            return
        }
        guard Self.hasDataField(bytes) else { return }  // comments, `event:`, `id:`, `retry:`
        var valueStart = 5
        if bytes.count > 5, bytes[5] == UInt8(ascii: " ") { valueStart = 6 }
        let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart...])
        if dataLines.pending.isEmpty {
            if event(value, into: &out) || value.isEmpty { return }
            dataLines.pending.append(contentsOf: value)
            return
        }
        let maxEventBytes = dataLines.maxEventBytes
        if dataLines.pending.count + value.count + 1 > maxEventBytes {
            dataLines.pending.removeAll()
            fail(.upstreamProtocol("upstream sent an event larger than \(maxEventBytes) bytes"), into: &out)
            return
        }
        dataLines.pending.append(0x0A)
        dataLines.pending.append(contentsOf: value)
        // Moved out while handled, so the event's bytes are not borrowed from `self`.
        var data: [UInt8] = []
        swap(&data, &dataLines.pending)
        let handled = data.withUnsafeBytes { event($0, into: &out) }
        if handled { data.removeAll(keepingCapacity: true) }
        swap(&data, &dataLines.pending)
    }

    /// For `end`: the upstream ended inside an event whose data never became valid JSON. Fails the stream
    /// and returns true then; false (nothing done) otherwise.
    mutating func failOnUnfinishedData(into out: inout [UInt8]) -> Bool {
        if dataLines.pending.isEmpty { return false }
        dataLines.pending.removeAll()
        fail(.upstreamProtocol("upstream sent an event that is not valid JSON"), into: &out)
        return true
    }

    @inline(__always)
    static func hasDataField(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 5 && bytes[0] == UInt8(ascii: "d") && bytes[1] == UInt8(ascii: "a")
            && bytes[2] == UInt8(ascii: "t") && bytes[3] == UInt8(ascii: "a") && bytes[4] == UInt8(ascii: ":")
    }
}
