/// One Server-Sent Event.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field's value; empty when the event had none (the SSE default type, "message").
    public var event: [UInt8]
    /// The `data:` lines joined with `\n`.
    public var data: [UInt8]

    public init(event: [UInt8] = [], data: [UInt8]) {
        self.event = event
        self.data = data
    }

    /// True when the event's name is exactly `name`.
    public func eventIs(_ name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        guard event.count == n else { return false }
        let p = name.utf8Start
        for i in 0..<n where event[i] != p[i] { return false }
        return true
    }

    public var eventName: String? { event.isEmpty ? nil : String(decoding: event, as: UTF8.self) }
}

public struct SSEDecoderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// An incremental SSE decoder (the WHATWG "event stream interpretation"): feed bytes split anywhere,
/// get whole events through a non-escaping callback.
///
/// - Line ends: LF, CRLF and CR (a CRLF split across two feeds counts once).
/// - A leading UTF-8 BOM is skipped; `:` comment lines, `id` and `retry` are ignored, as are unknown fields.
/// - `data` lines are joined with `\n`; an event is dispatched on an empty line if it had a data line.
/// - `maxEventBytes` bounds the bytes held for one event (its data plus a partial line): past it, `feed`
///   throws, and the decoder stays failed (errors are sticky).
///
/// Complete lines inside a fed buffer are read in place; only a line cut by the end of a feed is copied.
public struct SSEDecoder: Sendable {
    public let maxEventBytes: Int

    private var partialLine: [UInt8] = []
    private var data: [UInt8] = []
    private var event: [UInt8] = []
    private var hasData = false
    /// The previous feed ended with CR: a leading LF in the next feed belongs to it.
    private var skipLF = false
    /// Bytes of the BOM matched so far at the stream start; -1 once past the start.
    private var bomMatched = 0
    private var failed: SSEDecoderError?

    public init(maxEventBytes: Int = 1 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// True when no partial line or event is held (the stream is on an event boundary).
    public var isIdle: Bool { partialLine.isEmpty && !hasData && event.isEmpty }

    public mutating func feed(_ bytes: [UInt8], _ onEvent: (SSEEvent) -> Void) throws(SSEDecoderError) {
        let r: SSEDecoderError? = bytes.withUnsafeBytes { b in
            do throws(SSEDecoderError) { try feed(b, onEvent) } catch { return error }
            return nil
        }
        if let r { throw r }
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (SSEEvent) -> Void) throws(SSEDecoderError) {
        if let failed { throw failed }
        var i = 0
        let n = bytes.count
        if bomMatched >= 0 {
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            while i < n, bomMatched < 3, bytes[i] == bom[bomMatched] {
                bomMatched += 1
                i += 1
            }
            if bomMatched == 3 {
                bomMatched = -1
            } else if i < n {
                // Not a BOM after all: the bytes matched so far are content.
                partialLine.append(contentsOf: bom[0..<bomMatched])
                bomMatched = -1
            } else {
                return
            }
        }
        if skipLF, i < n {
            if bytes[i] == 0x0A { i += 1 }
            skipLF = false
        }
        var lineStart = i
        while i < n {
            let c = bytes[i]
            guard c == 0x0A || c == 0x0D else {
                i += 1
                continue
            }
            // Every line counts against the limit, whatever its field and wherever reads cut it: the
            // same check as for a held partial line, so the outcome never depends on read boundaries.
            if partialLine.count + (i - lineStart) + data.count + event.count > maxEventBytes { return try fail() }
            if partialLine.isEmpty {
                processLine(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<i]), onEvent)
            } else {
                partialLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<i]))
                processPartialLine(onEvent)
            }
            if data.count + event.count > maxEventBytes { return try fail() }
            i += 1
            if c == 0x0D {
                if i < n {
                    if bytes[i] == 0x0A { i += 1 }
                } else {
                    skipLF = true
                }
            }
            lineStart = i
        }
        if lineStart < n {
            partialLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<n]))
        }
        if partialLine.count + data.count + event.count > maxEventBytes { try fail() }
    }

    /// The stream ended: dispatches a last event whose blank line never came (lenient: Bedrock-style
    /// upstreams may end on the final `data:` line). Resets the decoder.
    public mutating func finish(_ onEvent: (SSEEvent) -> Void) {
        guard failed == nil else { return }
        if !partialLine.isEmpty { processPartialLine(onEvent) }
        dispatch(onEvent)
        skipLF = false
    }

    /// Processes the held line, keeping its buffer's capacity for the next one.
    private mutating func processPartialLine(_ onEvent: (SSEEvent) -> Void) {
        var line: [UInt8] = []
        swap(&line, &partialLine)
        line.withUnsafeBytes { processLine($0, onEvent) }
        line.removeAll(keepingCapacity: true)
        partialLine = line
    }

    private mutating func fail() throws(SSEDecoderError) {
        let e = SSEDecoderError(message: "SSE event larger than \(maxEventBytes) bytes")
        failed = e
        partialLine = []
        data = []
        event = []
        throw e
    }

    private mutating func dispatch(_ onEvent: (SSEEvent) -> Void) {
        if hasData {
            hasData = false
            // The event shares the buffers for the call only; once it returns they are unique again, so
            // clearing them keeps their capacity and the next event allocates nothing.
            onEvent(SSEEvent(event: event, data: data))
            data.removeAll(keepingCapacity: true)
        }
        event.removeAll(keepingCapacity: true)
    }

    private mutating func processLine(_ line: UnsafeRawBufferPointer, _ onEvent: (SSEEvent) -> Void) {
        let n = line.count
        if n == 0 { return dispatch(onEvent) }
        if line[0] == 0x3A { return }  // comment
        var colon = 0
        while colon < n, line[colon] != 0x3A { colon += 1 }
        var valueStart = colon < n ? colon + 1 : n
        if valueStart < n, line[valueStart] == 0x20 { valueStart += 1 }
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart..<n])
        if Self.fieldIs(line, colon, "data") {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if Self.fieldIs(line, colon, "event") {
            event.removeAll(keepingCapacity: true)
            event.append(contentsOf: value)
        }
        // id, retry and unknown fields are ignored.
    }

    @inline(__always) private static func fieldIs(_ line: UnsafeRawBufferPointer, _ length: Int, _ name: StaticString) -> Bool {
        guard length == name.utf8CodeUnitCount else { return false }
        let p = name.utf8Start
        for k in 0..<length where line[k] != p[k] { return false }
        return true
    }
}
