/// The stream half every SSE → SSE translator shares: the upstream's bytes, read in pieces cut anywhere,
/// split into lines (`SSELineSplitter`; a line longer than `maxEventBytes` fails the stream) and handed
/// to the pair's stream state.
///
/// The state is made on the first call by the translator's `start` closure, so it reads what the
/// request mapping learned (and the clock) once. Each call moves it out of the stored property, so it is
/// mutated as a local (no exclusivity checks per line, no copy-on-write of its buffers), and puts it back
/// afterwards.
struct SSEStreamTranslation<Reader: SSEJSONEventReader> {
    private var splitter: SSELineSplitter
    private var reader: Reader?

    init(maxEventBytes: Int) {
        splitter = SSELineSplitter(maxLineBytes: maxEventBytes)
    }

    /// `ExchangeTranslator.streamChunk`.
    @inline(__always)
    mutating func chunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8], start: () -> Reader) {
        var state = reader.take() ?? start()
        defer { reader = state }
        splitter.feed(bytes, sink: &state, into: &out)
        if splitter.overflowed {
            state.fail(
                .upstreamProtocol("upstream sent an event larger than \(splitter.maxLineBytes) bytes"), into: &out)
        }
    }

    /// `ExchangeTranslator.streamEnd`: a last line without a terminator is still a line.
    mutating func end(into out: inout [UInt8], start: () -> Reader) {
        var state = reader.take() ?? start()
        defer { reader = state }
        splitter.finish(sink: &state, into: &out)
        state.end(into: &out)
    }

    /// `ExchangeTranslator.streamFail`.
    mutating func fail(_ error: APIError, into out: inout [UInt8], start: () -> Reader) {
        var state = reader.take() ?? start()
        defer { reader = state }
        state.fail(error, into: &out)
    }
}
