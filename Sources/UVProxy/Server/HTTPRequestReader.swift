import HTTP1
/// The reading half of a server connection: turns a client's bytes into request events (a head, body
/// pieces, the end of the body, or a failure with the status to answer). Pure: no socket, no timer,
/// no handler; the connection decides when to call (not while a response is in flight, except for a
/// streamed request body) and what to do with each event. Content-Length and chunked bodies, the
/// limits (head size and field count 431, a Content-Length over the body limit 413: all in the head
/// parser; a chunked body over it 413 as it is decoded), `Expect: 100-continue`. Pipelined requests
/// are simply the bytes after an `.end`.
///
/// Pull form: `next(input)` reads from the start of `input` up to one event and says how many bytes
/// it used; call again with the bytes after those. A head that is still incomplete uses none of them
/// (`.needMore`, consumed 0): keep them and call again with them and more (the head parser resumes
/// where it stopped). Body pieces are spans of `input`, valid until it changes.
struct HTTPRequestReader {
    enum Event {
        /// Nothing more to read from this input (`consumed` says how much of it was used).
        case needMore
        /// A complete head whose body (possibly empty) follows as `.body` pieces and one `.end`.
        /// `sendContinue`: the client asked for `100 Continue` and a body is to come.
        case head(HTTPRequestHead, sendContinue: Bool)
        /// A piece of the body: a span of the input, never empty.
        case body(UnsafeRawBufferPointer)
        /// The request ended; the bytes after it belong to the next request.
        case end
        /// The bytes are not a valid request (head or chunked framing): answer `status` (when nothing
        /// was answered yet) and close. Sticky.
        case failure(status: Int, message: String)
    }

    private enum State {
        case head
        case contentLength(remaining: Int)
        case chunked
        /// The body ended (or there was none): `.end` is next, using no bytes.
        case end
        case failed(status: Int, message: String)
    }

    let limits: HTTPLimits
    private var parser: HTTPRequestParser
    private var chunked: ChunkedDecoder
    private var state = State.head

    init(limits: HTTPLimits) {
        self.limits = limits
        parser = HTTPRequestParser(limits: limits)
        chunked = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes)
    }

    /// Between requests: the next byte would start a head (and no head bytes were held back).
    var isBetweenRequests: Bool { if case .head = state { return true } else { return false } }

    /// Inside a request's body (its head was read, its end was not).
    var isInBody: Bool {
        switch state {
        case .contentLength, .chunked, .end: return true
        case .head, .failed: return false
        }
    }

    /// Reads up to one event from the start of `input`. Inlined into the connection's loop so that the
    /// event is switched on where it is made, not built and copied.
    @inline(__always)
    mutating func next(_ input: UnsafeRawBufferPointer) -> (event: Event, consumed: Int) {
        switch state {
        case .head:
            if input.isEmpty { return (.needMore, 0) }
            switch parser.parse(input) {
            case .incomplete:
                return (.needMore, 0)
            case .failure(let error):
                state = .failed(status: error.status, message: error.message)
                return (.failure(status: error.status, message: error.message), input.count)
            case .complete(let h, let consumed):
                parser.reset()
                return (beginBody(h), consumed)
            }
        case .contentLength(let remaining):
            if input.isEmpty { return (.needMore, 0) }
            let n = min(remaining, input.count)
            state = remaining == n ? .end : .contentLength(remaining: remaining - n)
            return (.body(UnsafeRawBufferPointer(rebasing: input[0..<n])), n)
        case .chunked:
            if input.isEmpty { return (.needMore, 0) }
            switch chunked.next(input) {
            case .body(let span, let consumed):
                return (.body(span), consumed)
            case .needMore:
                return (.needMore, input.count)
            case .done(let consumed):
                state = .head
                return (.end, consumed)
            case .failure:
                let error = chunked.error!
                state = .failed(status: error.status, message: error.message)
                return (.failure(status: error.status, message: error.message), input.count)
            }
        case .end:
            state = .head
            return (.end, 0)
        case .failed(let status, let message):
            return (.failure(status: status, message: message), input.count)
        }
    }

    @inline(__always)
    private mutating func beginBody(_ h: HTTPRequestHead) -> Event {
        switch h.framing {
        case .none, .untilClose:
            state = .end
            return .head(h, sendContinue: false)
        case .contentLength(let n):  // never 0: the parser makes that `.none`
            state = n == 0 ? .end : .contentLength(remaining: n)
            return .head(h, sendContinue: h.expectContinue && n > 0)
        case .chunked:
            chunked = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes)
            state = .chunked
            return .head(h, sendContinue: h.expectContinue)
        }
    }
}
