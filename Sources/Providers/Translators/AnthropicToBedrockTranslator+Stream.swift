/// The stream half: upstream SSE (data-only or with `event:` lines) → standard Anthropic SSE.
extension AnthropicToBedrockTranslator {
    public var streamContentType: String { "text/event-stream" }

    public func streamChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard !finished else { return }
        var start = 0
        if decoderPastStart, !decoderAfterCR, decoder.isIdle {
            start = wholeEvents(bytes, into: &out)
            if finished || start == bytes.count { return }
        }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
        do throws(SSEDecoderError) {
            try decoder.feed(rest) { event in handle(event, into: &out) }
        } catch {
            fail(APIError.badGateway("upstream stream event too large: \(error.message)"), into: &out)
        }
        if rest.count >= 4 { decoderPastStart = true }
        if let last = rest.last { decoderAfterCR = last == 0x0D }
    }

    /// Handles the plain events at the start of `bytes` in place, as the idle decoder would: LF-ended
    /// `event:` lines, one `data:` line and a blank line. Returns how many bytes it took; the rest
    /// (anything else: CR line ends, comments, several data lines, a cut event, an event near the size
    /// limit) goes to the decoder, which is at the same event boundary.
    private func wholeEvents(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        var taken = 0
        while taken < n && !finished {
            var i = taken
            var data: Range<Int>?
            var held = 0
            // The one `event: <name>` line before a `data: ` line, if that is the event's shape.
            var name: Range<Int>?
            var lines = 0
            while true {
                let e = SSELineSplitter.lineEnd(bytes, from: i)
                guard e < n, p[e] == 0x0A else { return taken }
                if e == i {
                    guard let data, held <= decoder.maxEventBytes else { return taken }
                    // `event: <name>\ndata: <data>\n\n` is what the client gets when the JSON's type is
                    // that name: then the upstream's bytes are the output.
                    let same = lines == 2 && name != nil && data.lowerBound == taken + (name?.count ?? 0) + 14
                    handle(
                        data: UnsafeRawBufferPointer(rebasing: bytes[data]), into: &out,
                        verbatim: same ? UnsafeRawBufferPointer(rebasing: bytes[taken...e]) : nil,
                        upstreamName: same ? name : nil, in: bytes)
                    taken = e + 1
                    break
                }
                guard data == nil else { return taken }
                held += e - i
                lines += 1
                if e - i >= 5, p[i] == 0x64, p[i + 1] == 0x61, p[i + 2] == 0x74, p[i + 3] == 0x61, p[i + 4] == 0x3A {
                    var v = i + 5
                    if v < e, p[v] == 0x20 { v += 1 }
                    data = v..<e
                } else if e - i >= 6 && p[i] == 0x65 && p[i + 1] == 0x76 && p[i + 2] == 0x65 && p[i + 3] == 0x6E
                    && p[i + 4] == 0x74 && p[i + 5] == 0x3A
                {
                    if e - i >= 7, p[i + 6] == 0x20 { name = (i + 7)..<e }
                } else {
                    return taken
                }
                i = e + 1
            }
        }
        return taken
    }

    public func streamEnd(into out: inout [UInt8]) {
        guard !finished else { return }
        decoder.finish { event in handle(event, into: &out) }
        guard !finished else { return }
        if !sawMessageStop {
            fail(APIError.badGateway("upstream stream ended before message_stop"), into: &out)
        }
        finished = true
    }

    public func streamFail(_ error: APIError, into out: inout [UInt8]) {
        fail(error, into: &out)
    }

    public func keepAlive(into out: inout [UInt8]) {
        out.append(contentsOf: "event: ping\ndata: {\"type\": \"ping\"}\n\n".utf8)
    }

    private func fail(_ error: APIError, into out: inout [UInt8]) {
        guard !finished else { return }
        finished = true
        error.writeAnthropicStreamError(into: &out)
    }

    /// One upstream event → one client event. The upstream's `event:` name is ignored: the JSON `type` is
    /// the truth (AI-Gateway sends none).
    private func handle(_ event: SSEEvent, into out: inout [UInt8]) {
        guard !finished else { return }
        event.data.withUnsafeBytes { handle(data: $0, into: &out) }
    }

    /// `verbatim`: the upstream event's own bytes, `event: <upstreamName>\ndata: <data>\n\n`, written as
    /// they are when the JSON's type is `upstreamName` (offsets in `source`).
    private func handle(
        data: UnsafeRawBufferPointer, into out: inout [UInt8], verbatim: UnsafeRawBufferPointer? = nil,
        upstreamName: Range<Int>? = nil, in source: UnsafeRawBufferPointer? = nil
    ) {
        guard !finished else { return }
        do {
            // One validating scan that notes only the two members this needs: no key strings, no list.
            var fields = StreamEventFields(bytes: data)
            guard JSONObjectScanner.fastScanMembers(data, into: &fields) != nil else {
                return fail(APIError.badGateway("upstream sent an invalid stream event"), into: &out)
            }
            guard let type = fields.type, type.kind == .string, type.valueRange.count > 2 else {
                // A Bedrock exception (`{"message":...}`) or something else without a type.
                let parsed = UpstreamErrorBody.parse(status: 502, body: Array(data))
                let message = parsed.message == "upstream returned HTTP 502"
                    ? "upstream sent a stream event without a type" : parsed.message
                return fail(APIError(status: 500, type: "api_error", message: message), into: &out)
            }
            let name = UnsafeRawBufferPointer(
                rebasing: data[(type.valueRange.lowerBound + 1)..<(type.valueRange.upperBound - 1)])
            // Event names are plain identifiers; an escaped one cannot be written safely on an event: line.
            for c in name where c == 0x5C {
                return fail(APIError.badGateway("upstream sent an invalid stream event type"), into: &out)
            }
            if fields.hasMetrics, let scan = try? JSONObjectScanner.scan(data) {
                var edit = JSONEdit()
                edit.remove(Self.metricsKey)
                var stripped: [UInt8] = []
                edit.apply(to: data, scan: scan, into: &stripped)
                stripped.withUnsafeBytes { SSEEncoder.event(name: name, data: $0, into: &out) }
            } else if let verbatim, let upstreamName, let source, let v = verbatim.baseAddress,
                Self.equals(name, UnsafeRawBufferPointer(rebasing: source[upstreamName]))
            {
                out.append(contentsOf: UnsafeBufferPointer(start: v.assumingMemoryBound(to: UInt8.self), count: verbatim.count))
            } else {
                Self.writeEvent(name: name, data: data, into: &out)
            }
            if Self.equals(name, "message_stop") {
                sawMessageStop = true
            } else if Self.equals(name, "error") {
                finished = true
            }
        }
    }

    /// `SSEEncoder.event(name:data:into:)`, written in three copies when the data is one line.
    private static func writeEvent(name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard SSELineSplitter.lineEnd(data, from: 0) == data.count, let n = name.baseAddress, let d = data.baseAddress
        else { return SSEEncoder.event(name: name, data: data, into: &out) }
        append("event: ", to: &out)
        out.append(contentsOf: UnsafeBufferPointer(start: n.assumingMemoryBound(to: UInt8.self), count: name.count))
        append("\ndata: ", to: &out)
        out.append(contentsOf: UnsafeBufferPointer(start: d.assumingMemoryBound(to: UInt8.self), count: data.count))
        append("\n\n", to: &out)
    }

    @inline(__always) private static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard bytes.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for i in 0..<bytes.count where bytes[i] != p[i] { return false }
        return true
    }
}

/// The members of an upstream stream event that the translation reads: the first `type`, and whether
/// Bedrock's metrics member is present (then, and only then, the event is scanned again to edit it).
private struct StreamEventFields: JSONMemberVisitor {
    let bytes: UnsafeRawBufferPointer
    var type: JSONMemberSpan?
    var hasMetrics = false

    mutating func member(_ m: JSONMemberSpan) {
        if type == nil, m.keyIs("type", in: bytes) {
            type = m
        } else if m.keyIs("amazon-bedrock-invocationMetrics", in: bytes) {
            hasMetrics = true
        }
    }
}
