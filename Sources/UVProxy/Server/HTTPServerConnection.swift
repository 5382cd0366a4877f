import UVNet
import HTTP1

/// Settings every server connection of a listener shares.
package struct ServerSettings {
    var limits: HTTPLimits
    var headTimeoutMs: UInt64 = 30_000
    var bodyTimeoutMs: UInt64 = 60_000
    var keepAliveTimeoutMs: UInt64 = 75_000
    /// Bytes of pipelined requests held while a response is in flight before reads pause.
    var maxPipelinedBytes = 64 * 1024

    package init(limits: HTTPLimits, headTimeoutMs: UInt64 = 30_000, bodyTimeoutMs: UInt64 = 60_000,
                 keepAliveTimeoutMs: UInt64 = 75_000, maxPipelinedBytes: Int = 64 * 1024) {
        self.limits = limits
        self.headTimeoutMs = headTimeoutMs
        self.bodyTimeoutMs = bodyTimeoutMs
        self.keepAliveTimeoutMs = keepAliveTimeoutMs
        self.maxPipelinedBytes = maxPipelinedBytes
    }
}

/// One client connection: owns the TCP stream, an `HTTPRequestReader` (bytes to request events: heads,
/// body pieces, ends, failures) and an `HTTPResponseWriter` (response framing, cork, backpressure,
/// keep-alive), and sequences them: one request at a time goes to the handler, whole or with its
/// body streamed, while pipelined bytes wait; timeouts for heads, bodies and idle keep-alive; the
/// errors it answers itself. Loop-confined.
package final class HTTPServerConnection: TCPStreamDelegate {
    private enum State {
        case head
        /// Collecting a request's body before dispatch.
        case body
        case waitingResponse
        case streaming
        case closed
    }

    package let stream: TCPStream
    private let settings: ServerSettings
    private unowned let handler: any HTTPRequestHandler
    private var reader: HTTPRequestReader
    private var writer: HTTPResponseWriter<TCPStream>
    private var state = State.head
    /// Unparsed input: empty unless a read ended inside a head or pipelined requests wait.
    private var pending: [UInt8] = []
    private var head: HTTPRequestHead?
    /// The request body being collected. With a Content-Length it has that count from the start (its
    /// bytes not initialized) and `bodyFilled` says how much arrived: reads go straight into it
    /// (`streamReadTarget`); otherwise (chunked) pieces are appended.
    private var body: [UInt8] = []
    private var bodyFilled = 0
    private var bodySized = false
    /// A read into the body (`streamReadTarget`) just brought its last byte: libuv, its buffer full, would
    /// read again at once and find nothing (EAGAIN). The next ask answers "not now" instead.
    private var bodyEndedByRead = false
    private var processing = false
    /// Head, body and keep-alive deadlines (an exchange keeps its own); a spare of the loop's, handed back on close.
    private var timer: Timer?
    /// The exchange in flight, told about backpressure and disconnects. Held strongly: the
    /// connection owns its exchange until the response is finished (the cycle ends there).
    package var observer: (any ClientObserver)?
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
        reader = HTTPRequestReader(limits: settings.limits)
        writer = HTTPResponseWriter(stream: stream)
        let t = stream.loop.takeTimer()
        timer = t
        stream.delegate = self
        stream.offersReadTargets = true
        t.setAction { [unowned self] in self.timerFired() }
        armTimer(settings.headTimeoutMs, .head)
        stream.startReading()
    }

    package var isClosed: Bool { if case .closed = state { return true } else { return false } }

    /// True while the client's write queue is above the high watermark: stop feeding it.
    package var isClientBackedUp: Bool { writer.isBackedUp }

    // MARK: Reading requests

    package func streamRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
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

    /// Takes the reader's events from `buf` for as long as the connection wants them (not while a
    /// response is in flight, except a streamed request body's) and returns how much of it was used.
    private func process(_ buf: UnsafeRawBufferPointer) -> Int {
        processing = true
        defer { processing = false }
        var offset = 0
        while true {
            switch state {
            case .head, .body:
                break
            case .waitingResponse, .streaming:
                // Pipelined bytes wait for the response; a streamed body waits while paused.
                guard streamingBody, !pausedBody else { return offset }
            case .closed:
                return offset
            }
            let (event, used) = reader.next(UnsafeRawBufferPointer(rebasing: buf[offset...]))
            offset += used
            switch consume event {
            case .needMore:
                return offset
            case .head(let h, let sendContinue):
                beginRequest(h, sendContinue: sendContinue)
            case .body(let piece):
                if streamingBody {
                    observer?.clientBody(piece)
                } else if bodySized {
                    place(piece)
                } else {
                    body.append(contentsOf: piece)
                }
            case .end:
                if streamingBody {
                    streamingBody = false
                    observer?.clientBodyEnd()
                } else {
                    dispatch()
                }
            case .failure(let status, let message):
                if streamingBody {
                    // The response may already be under way: the framing is broken, so the connection ends.
                    Log.warning("client body: \(message)")
                    close()
                } else {
                    fail(status: status, message: message, target: head?.targetString)
                }
                return buf.count
            }
        }
    }

    /// Bodies up to this size are appended as they come: most arrive whole with their head (one read
    /// of the loop's buffer), so reading into them would save nothing, and sizing an array without
    /// filling it costs a generic metadata lookup (~300 instructions).
    static let sizedBodyMinimum = 32 << 10

    /// A piece of a sized body at `bodyFilled`: copied there, unless it was read there.
    private func place(_ piece: UnsafeRawBufferPointer) {
        let n = piece.count
        guard n > 0, let src = piece.baseAddress else { return }
        precondition(n <= body.count - bodyFilled, "a body piece beyond the Content-Length")
        let inPlace = body.withUnsafeMutableBytes { dst in
            let at = dst.baseAddress! + bodyFilled
            if UnsafeRawPointer(at) == src { return true }
            at.copyMemory(from: src, byteCount: n)
            return false
        }
        bodyFilled += n
        bodyEndedByRead = inPlace && bodyFilled == body.count
    }

    /// While a sized body is collected and no bytes wait in `pending`: the rest of the body, for the
    /// next read to fill. At most the bytes still due, so a read never takes the next request's bytes.
    package func streamReadTarget(_ stream: TCPStream) -> UnsafeMutableRawBufferPointer? {
        if bodyEndedByRead {
            bodyEndedByRead = false
            return UnsafeMutableRawBufferPointer(start: nil, count: 0)
        }
        guard case .body = state, bodySized, !streamingBody, pending.isEmpty, bodyFilled < body.count else { return nil }
        return body.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[bodyFilled...]) }
    }

    /// A complete head: dispatches at once when the handler streams this request's body, else
    /// collects the body first.
    private func beginRequest(_ h: HTTPRequestHead, sendContinue: Bool) {
        head = h
        body = []
        bodyFilled = 0
        bodySized = false
        bodyEndedByRead = false
        requestCount += 1
        armTimer(settings.bodyTimeoutMs, .body)
        if sendContinue { writer.writeContinue() }
        if h.framing != .none, handler.streamsRequestBody(h) {
            streamingBody = true
            dispatch()
            return
        }
        if case .contentLength(let n) = h.framing, n > 0 {
            if n > Self.sizedBodyMinimum {
                // Sized up front (bytes are filled before they are read; a body cut short is never dispatched).
                body = [UInt8](unsafeUninitializedCapacity: n) { _, count in count = n }
                bodySized = true
            } else {
                body.reserveCapacity(n)
            }
        }
        state = .body
    }

    // MARK: Streamed request bodies (pass-through)

    /// Set while a dispatched request's body is still arriving and goes to the observer piece by piece.
    private var streamingBody = false
    private var pausedBody = false

    /// Backpressure from the upstream: stop reading the client's body until `resumeRequestBody`.
    func pauseRequestBody() {
        guard streamingBody, !pausedBody else { return }
        pausedBody = true
        stream.stopReading()
    }

    func resumeRequestBody() {
        guard pausedBody else { return }
        pausedBody = false
        stream.startReading()
        if !processing, !pending.isEmpty, streamingBody { processPending() }
    }

    private func dispatch() {
        // `head!` in place, not `guard let h = head`: binding it copied the head once more (~150 instructions).
        guard head != nil else { return }
        state = .waitingResponse
        timer?.disarm()
        if !head!.keepAlive { writer.closeAfterResponse = true }
        assert(!bodySized || bodyFilled == body.count)
        let request = HTTPRequest(head: head!, body: body)
        body = []
        bodySized = false
        handler.handle(request, on: self)
    }

    // MARK: Writing responses (through the writer)

    /// Header lines (`Name: value\r\n`) from name/value pairs, each validated by the writer.
    static func headerBlock(_ headers: [(name: String, value: String)]) -> [UInt8] {
        HTTPResponseWriter.headerBlock(headers)
    }

    /// Writes a whole response and moves on to the next request.
    package func respond(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        respond(status: status, headerBlock: Self.headerBlock(headers), body: body)
    }

    /// Writes a whole response (head and body in one write) and moves on to the next request.
    func respond(status: Int, headerBlock: [UInt8], body: [UInt8]) {
        headerBlock.withUnsafeBytes { h in body.withUnsafeBytes { respond(status: status, headerBlock: h, body: $0) } }
    }

    /// The same from borrowed bytes (a body still in the loop's read buffer, a block in a scratch buffer).
    func respond(status: Int, headerBlock: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) {
        guard case .waitingResponse = state else { return }
        let isHead = head?.isMethod("HEAD") ?? false  // not `head.map`, which copied the head
        writer.writeWhole(status: status, headerBlock: headerBlock, body: body, isHeadRequest: isHead, draining: draining)
        finishResponse()
    }

    /// Sends the head of a streamed response (chunked for HTTP/1.1 clients, close-delimited for 1.0).
    package func startStream(status: Int, headers: [(name: String, value: String)]) {
        startStream(status: status, headerBlock: Self.headerBlock(headers))
    }

    func startStream(status: Int, headerBlock: [UInt8]) {
        guard case .waitingResponse = state else { return }
        state = .streaming
        writer.startStream(status: status, headerBlock: headerBlock, chunked: (head?.minorVersion ?? 1) >= 1, draining: draining)
    }

    /// Writes bytes of a streamed response (one chunk), at once unless corked.
    func streamWrite(_ bytes: UnsafeRawBufferPointer) {
        guard case .streaming = state, bytes.count > 0 else { return }
        writer.streamWrite(bytes)
    }

    package func streamWrite(_ bytes: [UInt8]) { bytes.withUnsafeBytes { streamWrite($0) } }

    /// Ends a streamed response cleanly (the last chunk leaves with whatever is corked).
    package func endStream() {
        guard case .streaming = state else { return }
        writer.endStream()
        finishResponse()
    }

    /// Holds streamed writes until `uncork()`: the exchange corks around each upstream read so that
    /// the events it yields reach the client in one write (one syscall, one segment) instead of one
    /// write per upstream chunk. Nothing waits longer than the read callback that produced it.
    func cork() { writer.cork() }

    func uncork() { writer.uncork() }

    /// Writes bytes as they are, outside HTTP framing (the mock upstream's broken responses).
    package func writeRaw(_ bytes: [UInt8]) {
        state = .streaming
        writer.writeRaw(bytes)
    }

    /// Aborts a streamed response that cannot be ended cleanly: the client sees a truncated body.
    func abortStream() {
        close()
    }

    /// After a response: closes the connection, or reads the next request (pipelined bytes first).
    private func finishResponse() {
        observer = nil
        head = nil
        // A response that ends before its streamed request body did leaves unread body bytes behind.
        if streamingBody { writer.closeAfterResponse = true; streamingBody = false }
        if !writer.keepsAlive(draining: draining) {
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
        writer.closeAfterResponse = true
        let (contentType, body) = handler.errorResponse(status: status, message: message, target: target)
        state = .waitingResponse
        respond(status: status, headers: [("Content-Type", contentType)], body: body)
        pending = []
    }

    // MARK: Events

    package func streamEnded(_ stream: TCPStream, error: StreamError?) {
        close()
    }

    package func streamWritable(_ stream: TCPStream) {
        observer?.clientWritable()
    }

    /// What the connection's one timer currently guards.
    private enum TimerPurpose { case head, body, keepAlive }
    private var timerPurpose = TimerPurpose.head
    private var timerMs: UInt64 = 0

    private func armTimer(_ ms: UInt64, _ purpose: TimerPurpose) {
        timerPurpose = purpose
        timerMs = ms
        if ms == 0 { timer?.disarm() } else { timer?.arm(in: ms) }
    }

    private func timerFired() {
        switch (timerPurpose, state) {
        case (.keepAlive, .head) where pending.isEmpty && parserIdle, (.head, .head) where pending.isEmpty && parserIdle:
            close()  // idle keep-alive (or a silent client): close quietly
        case (_, .head), (_, .body):
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
        if case .body = state {
            // The request's body was still arriving: no exchange exists to log it.
            if byServer {
                handler.requestEndedOnConnection(head, status: 503, note: "closed at shutdown before the request body arrived")
            } else {
                handler.requestEndedOnConnection(head, status: 499, note: "client disconnected mid-request-body")
            }
        }
        state = .closed
        dropTimer()
        writer.discard()
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
