import CLibUV

/// Settings every server connection of a listener shares.
struct ServerSettings {
    var limits: HTTPLimits
    var headTimeoutMs: UInt64 = 30_000
    var bodyTimeoutMs: UInt64 = 60_000
    var keepAliveTimeoutMs: UInt64 = 75_000
    /// Bytes of pipelined requests held while a response is in flight before reads pause.
    var maxPipelinedBytes = 64 * 1024
}

/// One client connection: parses requests incrementally (keep-alive, pipelining, Content-Length and
/// chunked bodies, `Expect: 100-continue`), hands each complete request to the handler, and writes
/// responses in order, whole or streamed with chunked framing. Loop-confined.
final class HTTPServerConnection: TCPStreamDelegate {
    private enum State {
        case head
        case contentLength(remaining: Int)
        case chunked
        case waitingResponse
        case streaming
        case closed
    }

    let stream: TCPStream
    private let settings: ServerSettings
    private unowned let handler: any HTTPRequestHandler
    private var parser: HTTPRequestParser
    private var chunked: ChunkedDecoder
    private var state = State.head
    /// Unparsed input: empty unless a read ended inside a head or pipelined requests wait.
    private var pending: [UInt8] = []
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var processing = false
    private var closeAfterResponse = false
    private var streamIsChunked = true
    /// A streamed response's framed bytes not yet handed to the socket: filled while corked, so
    /// that what one upstream read produces (head, events, last chunk) leaves in one write.
    private var streamOut: [UInt8] = []
    private var corked = false
    /// Head, body, keep-alive and exchange deadlines; a spare of the loop's, handed back on close.
    private var timer: Timer?
    /// The exchange in flight, told about backpressure and disconnects. Held strongly: the
    /// connection owns its exchange until the response is finished (the cycle ends there).
    var observer: (any ClientObserver)?
    /// Called once when the connection is closed (the server counts connections).
    var onClose: (() -> Void)?
    /// When set, the connection finishes its current response and closes (graceful shutdown).
    var draining = false { didSet { if draining, case .head = state, pending.isEmpty { close() } } }
    /// Requests served on this connection (for access logs and tests).
    private(set) var requestCount = 0

    init(stream: TCPStream, settings: ServerSettings, handler: any HTTPRequestHandler) {
        self.stream = stream
        self.settings = settings
        self.handler = handler
        parser = HTTPRequestParser(limits: settings.limits)
        chunked = ChunkedDecoder(maxBodyBytes: settings.limits.maxBodyBytes)
        let t = stream.loop.takeTimer()
        timer = t
        stream.delegate = self
        t.setAction { [unowned self] in self.timerFired() }
        armTimer(settings.headTimeoutMs, .head)
        stream.startReading()
    }

    var isClosed: Bool { if case .closed = state { return true } else { return false } }

    /// True while the client's write queue is above the high watermark: stop feeding it.
    var isClientBackedUp: Bool { stream.isAboveHighWatermark }

    // MARK: Reading requests

    func streamRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
        if pending.isEmpty {
            let used = process(bytes)
            if used < bytes.count, !isClosed { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[used...])) }
        } else {
            pending.append(contentsOf: bytes)
            processPending()
        }
        if case .waitingResponse = state, pending.count > settings.maxPipelinedBytes { stream.stopReading() }
        if case .streaming = state, pending.count > settings.maxPipelinedBytes { stream.stopReading() }
    }

    private func processPending() {
        guard !processing, !pending.isEmpty else { return }
        let used = pending.withUnsafeBytes { process($0) }
        if isClosed { return }
        pending.removeFirst(used)
    }

    /// Consumes as much of `buf` as the current state allows and returns how much it used.
    private func process(_ buf: UnsafeRawBufferPointer) -> Int {
        processing = true
        defer { processing = false }
        var offset = 0
        while offset < buf.count {
            switch state {
            case .head:
                switch parser.parse(UnsafeRawBufferPointer(rebasing: buf[offset...])) {
                case .incomplete:
                    return offset
                case .failure(let error):
                    fail(status: error.status, message: error.message, target: nil)
                    return buf.count
                case .complete(let h, let consumed):
                    offset += consumed
                    parser.reset()
                    if !beginBody(h) { return buf.count }
                }
            case .contentLength(let remaining):
                let n = min(remaining, buf.count - offset)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[offset..<(offset + n)]))
                offset += n
                if remaining - n == 0 { dispatch() } else { state = .contentLength(remaining: remaining - n) }
            case .chunked:
                let input = UnsafeRawBufferPointer(rebasing: buf[offset...])
                switch chunked.decode(input, body: { body.append(contentsOf: $0) }) {
                case .needMore(let consumed):
                    offset += consumed
                case .done(let consumed):
                    offset += consumed
                    dispatch()
                case .failure(let error):
                    fail(status: error.status, message: error.message, target: head?.targetString)
                    return buf.count
                }
            case .waitingResponse, .streaming:
                guard bodyFeed != nil else { return offset }  // pipelined bytes wait for the response
                offset += feedBody(UnsafeRawBufferPointer(rebasing: buf[offset...]))
                if isClosed || pausedBody { return buf.count == offset ? offset : offset }
            case .closed:
                return offset
            }
        }
        // A complete head with no body bytes needed arrives with an empty remainder.
        return offset
    }

    /// Starts reading the body the head announces. Returns false when the connection was failed.
    private func beginBody(_ h: HTTPRequestHead) -> Bool {
        head = h
        body = []
        requestCount += 1
        armTimer(settings.bodyTimeoutMs, .body)
        if h.framing != .none, handler.streamsRequestBody(h) { return beginStreamedBody(h) }
        switch h.framing {
        case .none, .untilClose:
            dispatch()
        case .contentLength(let n):
            if n > settings.limits.maxBodyBytes {
                fail(status: 413, message: "request body of \(n) bytes is larger than the limit of \(settings.limits.maxBodyBytes) bytes", target: h.targetString)
                return false
            }
            if h.expectContinue, n > 0 { stream.write(Self.continueLine) }
            body.reserveCapacity(n)
            if n == 0 { dispatch() } else { state = .contentLength(remaining: n) }
        case .chunked:
            if h.expectContinue { stream.write(Self.continueLine) }
            chunked = ChunkedDecoder(maxBodyBytes: settings.limits.maxBodyBytes)
            state = .chunked
        }
        return !isClosed
    }

    private static let continueLine: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    // MARK: Streamed request bodies (pass-through)

    private enum BodyFeed { case contentLength(remaining: Int), chunked }
    /// Set while a dispatched request's body is still arriving and goes to the observer piece by piece.
    private var bodyFeed: BodyFeed?
    private var pausedBody = false

    /// Dispatches at head time; the body follows through `ClientObserver.clientBody`.
    private func beginStreamedBody(_ h: HTTPRequestHead) -> Bool {
        switch h.framing {
        case .contentLength(let n):
            if n > settings.limits.maxBodyBytes {
                fail(status: 413, message: "request body of \(n) bytes is larger than the limit of \(settings.limits.maxBodyBytes) bytes", target: h.targetString)
                return false
            }
            bodyFeed = .contentLength(remaining: n)
        default:
            chunked = ChunkedDecoder(maxBodyBytes: settings.limits.maxBodyBytes)
            bodyFeed = .chunked
        }
        if h.expectContinue { stream.write(Self.continueLine) }
        dispatch()
        return !isClosed
    }

    /// Hands body bytes to the exchange; returns how many were used.
    private func feedBody(_ input: UnsafeRawBufferPointer) -> Int {
        guard let feed = bodyFeed, let observer else { return input.count }
        switch feed {
        case .contentLength(let remaining):
            let n = min(remaining, input.count)
            observer.clientBody(UnsafeRawBufferPointer(rebasing: input[0..<n]))
            if remaining == n {
                bodyFeed = nil
                observer.clientBodyEnd()
            } else {
                bodyFeed = .contentLength(remaining: remaining - n)
            }
            return n
        case .chunked:
            switch chunked.decode(input, body: { observer.clientBody($0) }) {
            case .needMore(let consumed):
                return consumed
            case .done(let consumed):
                bodyFeed = nil
                observer.clientBodyEnd()
                return consumed
            case .failure(let error):
                // The response may already be under way: the framing is broken, so the connection ends.
                Log.warning("client body: \(error.message)")
                close()
                return input.count
            }
        }
    }

    /// Backpressure from the upstream: stop reading the client's body until `resumeRequestBody`.
    func pauseRequestBody() {
        guard bodyFeed != nil, !pausedBody else { return }
        pausedBody = true
        stream.stopReading()
    }

    func resumeRequestBody() {
        guard pausedBody else { return }
        pausedBody = false
        stream.startReading()
        if !processing, !pending.isEmpty, bodyFeed != nil { processPending() }
    }

    private func dispatch() {
        guard let h = head else { return }
        state = .waitingResponse
        timer?.disarm()
        if !h.keepAlive { closeAfterResponse = true }
        let request = HTTPRequest(head: h, body: body)
        body = []
        handler.handle(request, on: self)
    }

    // MARK: Writing responses

    private enum ResponseFraming { case contentLength(Int), chunked, untilClose }

    /// The status line, the handler's header lines, framing and connection management.
    private func appendHead(status: Int, headerBlock: UnsafeRawBufferPointer, framing: ResponseFraming, into out: inout [UInt8]) {
        HTTPWriter.appendStatusLine(status, into: &out)
        out.append(contentsOf: headerBlock)
        switch framing {
        case .contentLength(let n): HTTPWriter.appendHeader("Content-Length", n, into: &out)
        case .chunked: out.append(contentsOf: Self.chunkedLine)
        case .untilClose: break
        }
        if closeAfterResponse || draining { out.append(contentsOf: Self.closeLine) }
        HTTPWriter.appendEndOfHead(into: &out)
    }

    private static let chunkedLine: [UInt8] = Array("Transfer-Encoding: chunked\r\n".utf8)
    private static let closeLine: [UInt8] = Array("Connection: close\r\n".utf8)

    /// Header lines (`Name: value\r\n`) from name/value pairs, each validated by the writer.
    static func headerBlock(_ headers: [(name: String, value: String)]) -> [UInt8] {
        var block = [UInt8]()
        block.reserveCapacity(headers.count * 40)
        for h in headers { HTTPWriter.appendHeader(h.name, h.value, into: &block) }
        return block
    }

    /// Writes a whole response and moves on to the next request.
    func respond(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        respond(status: status, headerBlock: Self.headerBlock(headers), body: body)
    }

    /// Writes a whole response (head and body in one write) and moves on to the next request.
    func respond(status: Int, headerBlock: [UInt8], body: [UInt8]) {
        headerBlock.withUnsafeBytes { h in body.withUnsafeBytes { respond(status: status, headerBlock: h, body: $0) } }
    }

    /// The same from borrowed bytes (a body still in the loop's read buffer, a block in a scratch buffer).
    func respond(status: Int, headerBlock: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) {
        guard case .waitingResponse = state else { return }
        var out = stream.loop.takeScratch()
        out.reserveCapacity(128 + headerBlock.count + body.count)
        let isHead = head.map { $0.isMethod("HEAD") } ?? false
        let framing: ResponseFraming = status == 204 || status == 304 ? .untilClose : .contentLength(body.count)
        appendHead(status: status, headerBlock: headerBlock, framing: framing, into: &out)
        if !isHead { out.append(contentsOf: body) }
        stream.write(out)  // copies what the kernel does not take at once
        stream.loop.returnScratch(out)
        finishResponse()
    }

    /// Sends the head of a streamed response (chunked for HTTP/1.1 clients, close-delimited for 1.0).
    func startStream(status: Int, headers: [(name: String, value: String)]) {
        startStream(status: status, headerBlock: Self.headerBlock(headers))
    }

    func startStream(status: Int, headerBlock: [UInt8]) {
        guard case .waitingResponse = state else { return }
        state = .streaming
        streamIsChunked = (head?.minorVersion ?? 1) >= 1
        if !streamIsChunked { closeAfterResponse = true }
        streamOut.reserveCapacity(64 + headerBlock.count)
        headerBlock.withUnsafeBytes {
            appendHead(status: status, headerBlock: $0, framing: streamIsChunked ? .chunked : .untilClose, into: &streamOut)
        }
        if !corked { flushStreamOut() }
    }

    /// Writes bytes of a streamed response (one chunk), at once unless corked.
    func streamWrite(_ bytes: UnsafeRawBufferPointer) {
        guard case .streaming = state, bytes.count > 0 else { return }
        if streamIsChunked {
            HTTPWriter.appendChunk(bytes, into: &streamOut)
        } else if corked || !streamOut.isEmpty {
            streamOut.append(contentsOf: bytes)
        } else {
            stream.write(bytes)
            return
        }
        if !corked { flushStreamOut() }
    }

    func streamWrite(_ bytes: [UInt8]) { bytes.withUnsafeBytes { streamWrite($0) } }

    /// Ends a streamed response cleanly (the last chunk leaves with whatever is corked).
    func endStream() {
        guard case .streaming = state else { return }
        if streamIsChunked { HTTPWriter.appendLastChunk(into: &streamOut) }
        flushStreamOut()
        streamOut = []  // a finished stream keeps no buffer: idle connections stay small
        finishResponse()
    }

    /// Holds streamed writes until `uncork()`: the exchange corks around each upstream read so that
    /// the events it yields reach the client in one write (one syscall, one segment) instead of one
    /// write per upstream chunk. Nothing waits longer than the read callback that produced it.
    func cork() { corked = true }

    func uncork() {
        corked = false
        flushStreamOut()
    }

    private func flushStreamOut() {
        guard !streamOut.isEmpty else { return }
        stream.write(streamOut)  // the stream copies what the kernel does not take at once
        streamOut.removeAll(keepingCapacity: true)
    }

    /// Writes bytes as they are, outside HTTP framing (the mock upstream's broken responses).
    func writeRaw(_ bytes: [UInt8]) {
        flushStreamOut()
        state = .streaming
        stream.write(bytes)
    }

    /// Aborts a streamed response that cannot be ended cleanly: the client sees a truncated body.
    func abortStream() {
        close()
    }

    private func finishResponse() {
        observer = nil
        head = nil
        // A response that ends before its streamed request body did leaves unread body bytes behind.
        if bodyFeed != nil { closeAfterResponse = true; bodyFeed = nil }
        if closeAfterResponse || draining {
            state = .closed
            dropTimer()
            stream.closeAfterFlush()
            fireOnClose()
            return
        }
        state = .head
        armTimer(settings.keepAliveTimeoutMs, .keepAlive)
        stream.startReading()
        if !processing, !pending.isEmpty {
            armTimer(settings.headTimeoutMs, .head)
            processPending()
        }
    }

    /// Answers an error the connection found itself and closes (the framing can no longer be trusted).
    private func fail(status: Int, message: String, target: String?) {
        handler.requestEndedOnConnection(head, status: status, note: message)
        closeAfterResponse = true
        let (contentType, body) = handler.errorResponse(status: status, message: message, target: target)
        state = .waitingResponse
        respond(status: status, headers: [("Content-Type", contentType)], body: body)
        pending = []
    }

    // MARK: Events

    func streamEnded(_ stream: TCPStream, error: StreamError?) {
        close()
    }

    func streamWritable(_ stream: TCPStream) {
        observer?.clientWritable()
    }

    /// What the connection's one timer currently guards.
    private enum TimerPurpose { case head, body, keepAlive, exchange }
    private var timerPurpose = TimerPurpose.head
    private var timerMs: UInt64 = 0

    private func armTimer(_ ms: UInt64, _ purpose: TimerPurpose) {
        timerPurpose = purpose
        timerMs = ms
        if ms == 0 { timer?.disarm() } else { timer?.arm(in: ms) }
    }

    /// Lets the exchange in flight use this connection's timer for its own deadlines (first byte,
    /// idle): one timer per connection, re-armed without allocating.
    func armExchangeTimer(_ ms: UInt64) {
        armTimer(ms, .exchange)
    }

    private func timerFired() {
        switch (timerPurpose, state) {
        case (.exchange, .waitingResponse), (.exchange, .streaming):
            observer?.exchangeTimerFired()
        case (.keepAlive, .head) where pending.isEmpty && parserIdle, (.head, .head) where pending.isEmpty && parserIdle:
            close()  // idle keep-alive (or a silent client): close quietly
        case (_, .head), (_, .contentLength), (_, .chunked):
            let what = timerPurpose == .body ? "request body" : "request head"
            fail(status: 408, message: "\(what) not received within \(timerMs) ms", target: head?.targetString)
        default:
            break
        }
    }

    /// No byte of a next request has arrived.
    private var parserIdle: Bool { head == nil }

    /// `byServer`: the server closes it (the end of a shutdown's grace period), not the client.
    func close(byServer: Bool = false) {
        if case .closed = state, stream.isClosed { return }
        switch state {
        case .contentLength, .chunked:
            // The request's body was still arriving: no exchange exists to log it.
            if byServer {
                handler.requestEndedOnConnection(head, status: 503, note: "closed at shutdown before the request body arrived")
            } else {
                handler.requestEndedOnConnection(head, status: 499, note: "client disconnected mid-request-body")
            }
        default:
            break
        }
        state = .closed
        dropTimer()
        streamOut = []
        let o = observer
        observer = nil
        stream.close()
        o?.clientGone()
        fireOnClose()
    }

    private func dropTimer() {
        if let t = timer {
            timer = nil
            stream.loop.recycleTimer(t)
        }
    }

    private func fireOnClose() {
        let f = onClose
        onClose = nil
        f?()
    }
}
