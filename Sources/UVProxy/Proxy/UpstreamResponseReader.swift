import HTTP1
/// The upstream's side of one exchange, as bytes: the response head (which may come over several
/// reads), interim 1xx heads skipped, then the body by its framing (`Content-Length`, chunked, until
/// the upstream closes, or none), and at its end whether the connection may carry another request.
///
/// A value with no I/O: the caller feeds each read with `read(_:)` and acts on what comes back, one
/// event per call, until `.needMore`. Body events are spans of the caller's read buffer (no copy, no
/// allocation, no closure); only a head split over reads is copied, into `headBuffer`.
///
/// Events for one response, in order: `.head` once, `.body` zero or more times, then `.end`; or
/// `.failure` at any point, after which the reader answers `.failure` again until `begin`.
struct UpstreamResponseReader {
    /// What one call of `read` found.
    enum Event {
        /// Every byte given was consumed and the response is not finished.
        case needMore
        /// The final (non-1xx) response head; its body follows.
        case head(HTTPResponseHead)
        /// A run of body bytes: a span of the input, valid until the read buffer is reused.
        case body(UnsafeRawBufferPointer)
        /// The body ended. `reusable`: the upstream may be sent another request on this connection
        /// (as far as the response says: keep-alive, and an end that is not the connection's close).
        case end(reusable: Bool)
        /// The upstream broke HTTP/1.1 (a 502 for the client); sticky until `begin`.
        case failure(Failure)
    }

    /// What one call of `readBody` found: `Event` without the head, so that a stream's reads (one or
    /// two calls per event) pass a value in registers, not a head-sized enum to destroy.
    enum BodyStep {
        case needMore
        case body(UnsafeRawBufferPointer)
        case end(reusable: Bool)
        /// `failureMessage` says why; sticky until `begin`.
        case failure
    }

    /// Why a response cannot be read on.
    struct Failure: Error, Equatable {
        enum Kind: Equatable { case invalidHead, invalidChunked }

        var kind: Kind
        /// Said to the client (in a 502) and logged.
        var message: String
    }

    private enum State { case head, body, ended, failed }

    private var state = State.head
    private var parser = HTTPResponseParser(
        limits: HTTPLimits(maxHeadBytes: 64 * 1024, maxHeaderCount: 200, maxBodyBytes: Int.max))
    /// The start of a head that did not come whole in one read (never holds a complete head).
    private var headBuffer: [UInt8] = []
    private var chunked = ChunkedDecoder(maxBodyBytes: Int.max)
    private var failure: Failure?
    /// The request was HEAD: its response has no body, whatever its fields say.
    private var isHeadRequest = false
    /// The final head, once read (nil before, and after `begin`).
    private(set) var head: HTTPResponseHead?
    /// The head's framing, kept apart from `head`: reading it through the optional head would copy
    /// the whole head (four retains and releases) for every read of a stream.
    private(set) var framing = HTTPBodyFraming.none
    /// Body bytes still to come of a `Content-Length` body.
    private(set) var remaining = 0
    /// The head allows another request on the connection (HTTP/1.1 without `Connection: close`, ...).
    private var keepAlive = false
    /// Some byte of this response arrived (a pooled connection that closes before any did was stale).
    private(set) var receivedBytes = false

    init() {}

    /// Expects a new response (after the request went out on a connection); forgets the last one.
    mutating func begin(isHeadRequest: Bool) {
        self.isHeadRequest = isHeadRequest
        state = .head
        parser.reset()
        headBuffer.removeAll(keepingCapacity: true)
        failure = nil
        head = nil
        framing = .none
        keepAlive = false
        remaining = 0
        receivedBytes = false
    }

    /// The length of a `Content-Length` body, else 0.
    var contentLength: Int {
        if case .contentLength(let n) = framing { return n }
        return 0
    }

    /// True while the response's body is being read (after `.head`, before `.end`).
    var isReadingBody: Bool { state == .body }

    /// With its input used up, the body can only wait for more bytes (`nextBody` would answer
    /// `.needMore`): a stream's read that ends with an event's last byte need not ask again.
    var needsBytes: Bool {
        guard state == .body else { return false }
        switch framing {
        case .chunked, .untilClose: return true
        case .contentLength: return remaining > 0
        case .none: return false
        }
    }

    /// Why the response cannot be read on, once it cannot.
    var failureMessage: String { failure?.message ?? "" }

    /// Reads from `input` up to the next event; `input` is left holding the bytes not yet read. Call
    /// again until `.needMore` (or `.end` / `.failure`); an empty input still yields `.end` for a head
    /// without body. Bytes after the response's end are left in `input` (the caller drops them).
    mutating func read(_ input: inout UnsafeRawBufferPointer) -> Event {
        if input.count > 0 { receivedBytes = true }
        switch state {
        case .head:
            return readHead(&input)
        case .body:
            switch readBody(&input) {
            case .needMore: return .needMore
            case .body(let piece): return .body(piece)
            case .end(let reusable): return .end(reusable: reusable)
            case .failure: return .failure(failure!)
            }
        case .ended:
            return .needMore
        case .failed:
            return .failure(failure!)
        }
    }

    /// `read` once the head is in (`isReadingBody`, or after): the next body event of `input`. Unlike
    /// `read`, a piece that ends a chunk leaves `input` after the chunk's closing CRLF when it is there.
    @inline(__always)
    mutating func nextBody(_ input: inout UnsafeRawBufferPointer) -> BodyStep {
        switch state {
        case .body:
            if input.count > 0 { receivedBytes = true }
            return readBody(&input, takingChunkEnd: true)
        case .failed:
            return .failure
        case .head:
            assertionFailure("nextBody before the response head")
            return .needMore
        case .ended:
            return .needMore
        }
    }

    /// The upstream closed the connection cleanly. True: that ended an until-close body, the response
    /// is complete (and the connection, closed, is not reusable). False: the response was cut short.
    mutating func upstreamClosed() -> Bool {
        guard state == .body, case .untilClose = framing else { return false }
        state = .ended
        return true
    }

    private mutating func readHead(_ input: inout UnsafeRawBufferPointer) -> Event {
        while true {
            let buffered = headBuffer.count
            let result: HTTPHeadParseResult<HTTPResponseHead>
            if buffered == 0 {
                result = parser.parse(input, requestMethodIsHEAD: isHeadRequest)
            } else {
                headBuffer.append(contentsOf: input)
                result = headBuffer.withUnsafeBytes { parser.parse($0, requestMethodIsHEAD: isHeadRequest) }
            }
            switch result {
            case .incomplete:
                if buffered == 0 { headBuffer.append(contentsOf: input) }
                input = UnsafeRawBufferPointer(rebasing: input[input.count...])
                return .needMore
            case .failure(let e):
                return fail(.invalidHead, "upstream sent an invalid response head: \(e.message)")
            case .complete(let head, let consumed):
                parser.reset()
                // The buffer never holds a complete head, so a head completed in it ends in this
                // read's bytes: what follows it is a suffix of `input`.
                input = UnsafeRawBufferPointer(rebasing: input[(consumed &- buffered)...])
                headBuffer.removeAll(keepingCapacity: true)
                if head.status >= 100, head.status < 200 {
                    // An interim response (100 Continue): skip it and parse the real head.
                    if input.isEmpty { return .needMore }
                    continue
                }
                self.head = head
                framing = head.framing
                keepAlive = head.keepAlive
                switch head.framing {
                case .contentLength(let n): remaining = n
                case .chunked: chunked = ChunkedDecoder(maxBodyBytes: Int.max)
                default: break
                }
                state = .body
                return .head(head)
            }
        }
    }

    /// `takingChunkEnd`: `nextBody`'s callers take a chunk's closing CRLF with its data (`read` leaves
    /// `input` right after each body piece).
    @inline(__always)
    private mutating func readBody(_ input: inout UnsafeRawBufferPointer, takingChunkEnd: Bool = false) -> BodyStep {
        switch framing {
        case .contentLength:
            if remaining == 0 { return end() }
            let n = min(remaining, input.count)
            if n == 0 { return .needMore }
            remaining &-= n
            let piece = UnsafeRawBufferPointer(rebasing: input[0..<n])
            input = UnsafeRawBufferPointer(rebasing: input[n...])
            return .body(piece)
        case .chunked:
            if input.isEmpty { return .needMore }
            switch chunked.next(input, takingChunkEnd: takingChunkEnd) {
            case .body(let piece, let consumed):
                input = UnsafeRawBufferPointer(rebasing: input[consumed...])
                return .body(piece)
            case .needMore:
                input = UnsafeRawBufferPointer(rebasing: input[input.count...])
                return .needMore
            case .done(let consumed):
                input = UnsafeRawBufferPointer(rebasing: input[consumed...])
                return end()
            case .failure:
                _ = fail(.invalidChunked, "upstream sent invalid chunked framing: \(chunked.error?.message ?? "")")
                return .failure
            }
        case .untilClose:
            if input.isEmpty { return .needMore }
            let piece = input
            input = UnsafeRawBufferPointer(rebasing: input[input.count...])
            return .body(piece)
        case .none:
            return end()
        }
    }

    private mutating func end() -> BodyStep {
        state = .ended
        return .end(reusable: keepAlive && framing != .untilClose)
    }

    private mutating func fail(_ kind: Failure.Kind, _ message: String) -> Event {
        let f = Failure(kind: kind, message: message)
        failure = f
        state = .failed
        return .failure(f)
    }
}
