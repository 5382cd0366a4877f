import Glibc
import Providers
import UVNet
import HTTP1

/// One proxied request, from the client's body to the end of the upstream's response.
///
/// The shell of `ExchangeStateMachine`, which holds the states (credentials → connecting → waiting
/// for the response head → reading the body (collected whole, or streamed to the client event by
/// event with backpressure) → done), the tries and the retry step: this class feeds it what happens
/// on the loop and runs the actions it answers with the loop's objects (connection, timers,
/// translator, meter, log). Every failure ends as an error in the client's dialect, or, once a
/// stream started, an error event and a clean end.
final class Exchange: UpstreamConnectionUser, ClientObserver, DeadlineOwner {
    private typealias Machine = ExchangeStateMachine<LoopExchangeEnvironment>

    private let worker: ProxyWorker
    /// The target in use: the route, or one of its fallbacks (`primary.fallbacks`).
    private var route: CompiledRoute
    private var up: UpstreamBox
    /// The route the request matched; its fallbacks are tried in order after it.
    private let primary: CompiledRoute
    private let client: HTTPServerConnection
    private let request: HTTPRequest
    /// The request's path without its query (made when needed: most requests never need it).
    private var path: String { request.head.pathString }
    private let requestId: RequestID
    private let startedAt: UInt64
    private var translator: (any ExchangeTranslator)? {
        didSet { translatorNamesModel = nil }
    }
    /// `translator?.namesUpstreamModel`, asked once per translator and only when an answer is read
    /// for the log or traces (a witness call and a retain of the existential each time it is asked).
    private var translatorNamesModel: Bool?
    /// Set with `clientModel` (no observer: the log lends it `inout` to the translator, in place).
    private var upstreamRequest: UpstreamRequest?
    /// `upstreamRequest?.clientModel`, kept apart: reading it through the optional copied the request.
    private var clientModel: Range<Int>?
    private var method = "POST"
    private var authValue: String?
    /// States, tries, retries, deadlines.
    private var machine: Machine
    private var connection: UpstreamConnection?
    /// The client's `anthropic-beta` values (kept for a retry's new translation).
    private var clientBetas: [String] = []
    /// The body the translator reads: the client's, decoded when it came with a `Content-Encoding`.
    private var clientBody: [UInt8] = []
    /// When the request last went out (for the log's time to first byte).
    private var requestSentAt: UInt64 = 0
    private var retryTimer: Timer?
    /// The first-byte and idle deadlines (`armDeadline`): the exchange's entry in its loop's
    /// `DeadlineQueue`, from the first deadline to `finish`.
    private var deadline = Deadline()
    /// What the connection or the credential said when it failed (for the machine's `answer`).
    private var failure: (stream: StreamError?, credential: APIError?) = (nil, nil)
    /// The upstream's response: head, framing, body pieces, whether the connection may be reused.
    private var response = UpstreamResponseReader()
    /// The index of the response head's first Content-Type field.
    private var responseContentType: Int?
    private var collected: [UInt8] = []
    private var out: [UInt8] = []
    private var totalTimer: Timer?
    private var pingTimer: Timer?
    private var upstreamStatus = 0
    /// Pass-through bodies stream: the client's body goes upstream piece by piece as it arrives.
    private var bodyStreamed = false
    private var bodyChunked = false
    private var bodyComplete = false
    private var bodyBytesSent = 0
    /// Body bytes that arrived before the upstream connection was ready (at most one read: the
    /// client is paused meanwhile).
    private var earlyBody: [UInt8] = []
    /// A streamed body's request head (a loop scratch buffer), held until the body's first piece or its
    /// end so that both leave in one write: the upstream is woken once, not for the head and then again
    /// for the body (for TLS: one flush of records instead of two).
    private var heldHead: [UInt8]?
    private var bytesToClient = 0
    private var logNote: String?
    /// Timestamps for the metrics (inert when they are off).
    private var meter: ExchangeMeter
    /// What the answer said of itself (usage, stop reason), read from the bytes the client got.
    private var facts = AnswerFacts()
    /// Reads the facts of a 2xx stream as it goes to the client (nil: not a stream, or nobody looks).
    private var watcher: StreamWatcher?
    /// `watcher != nil`, kept apart: testing the optional took an outlined tag read per stream event.
    private var watching = false
    /// `loop.now` when the (last try's) response head came, and when the first token went to the client.
    private var headAt: UInt64 = 0
    private var firstTokenAt: UInt64 = 0

    /// The name of the inbound key the client presented (never the key).
    private let keyName: [UInt8]?
    /// The trace context (nil when tracing is off).
    private var trace: ExchangeTrace?

    init(worker: ProxyWorker, route: CompiledRoute, request: HTTPRequest,
         client: HTTPServerConnection, requestId: RequestID, startedAt: UInt64, keyName: [UInt8]? = nil) {
        self.keyName = keyName
        self.worker = worker
        self.route = route
        self.primary = route
        self.up = route.upstreamBox!
        self.request = request
        self.client = client
        self.requestId = requestId
        self.startedAt = startedAt
        meter = ExchangeMeter(metrics: worker.metrics, route: route)
        trace = worker.tracer?.begin(request.head)
        translator = route.action.isPassthrough ? nil
            : Translators.make(ingress: route.config.ingress, egress: route.config.egress, options: route.translation)
        machine = Machine(env: LoopExchangeEnvironment(worker: worker, primary: route), target: Self.target(route),
                          fallbacks: route.fallbacks.count,
                          bodyStreamed: route.action.isPassthrough && request.head.framing != .none,
                          passthrough: route.action.isPassthrough, startedAt: startedAt)
    }

    deinit {
        // `finish` leaves; an exchange dropped without it must not stay in the queue (it holds its owner unretained).
        if deadline.joined { worker.loop.deadlines.leave(&deadline) }
    }

    private static func target(_ route: CompiledRoute) -> Machine.Target {
        Machine.Target(firstByteMs: UInt64(route.timeouts.firstByte), idleMs: UInt64(route.timeouts.idle))
    }

    private var clientStreamStarted: Bool { machine.clientStreamStarted }

    private var loop: EventLoop { worker.loop }
    /// The dialect the client reads: the route's, or for a pass-through route the one its path suggests.
    private var clientDialect: Dialect { translator != nil ? route.config.ingress : Dialect.guess(path: path) }
    /// Someone reads the answer's facts (the access log, the metrics or the traces).
    private var observed: Bool { worker.log.enabled || worker.metrics != nil || worker.tracer != nil }
    /// The answer's own `model` is wanted: the log and the traces name the upstream model, and only a
    /// translator that does not know it leaves that to the answer (the metrics label the client's).
    private var readsAnswerModel: Bool {
        guard readsAnswerWords else { return false }
        if translatorNamesModel == nil { translatorNamesModel = translator?.namesUpstreamModel == true }
        return !translatorNamesModel!
    }
    /// The log or the traces look: they want the stop reason and the model, the metrics only the tokens.
    private var readsAnswerWords: Bool { worker.log.enabled || worker.tracer != nil }
    private var timeouts: UpstreamTimeouts { route.timeouts }

    // MARK: Start

    func start() {
        client.observer = self
        method = request.head.methodString
        if !primary.fallbacks.isEmpty, !worker.circuits.allows(primary, now: loop.now),
           let first = nextTarget(after: 0) {
            // The route's own circuit is open: start with the first fallback that is not.
            machine.begin(atTarget: first)
            select(target: first)
        }
        if let translator {
            // Only dialects with a beta header have one to read; everyone else skips the lookup.
            if let name = route.config.ingress.betaHeader {
                clientBetas = ClientRequest.betas(fromHeaderValues: request.head.values(name))
            }
            clientBody = request.body
            if let encoding = request.head.value("content-encoding") {
                do throws(ContentDecoding.Failure) {
                    let codings = try ContentDecoding.codings(encoding)
                    if !codings.isEmpty {
                        clientBody = try ContentDecoding.decode(request.body, codings: codings, limit: worker.runtime.config.limits.maxBodyBytes)
                    }
                } catch {
                    finishWithError(Self.decodingError(error))
                    return
                }
            }
            do {
                let made = try translator.upstreamRequest(for: ClientRequest(body: clientBody, anthropicBeta: clientBetas))
                clientModel = made.clientModel
                upstreamRequest = made
            } catch {
                finishWithError(error)
                return
            }
        } else {
            let query = request.head.queryString
            if request.head.framing != .none {
                bodyStreamed = true
                bodyChunked = request.head.framing == .chunked
            }
            clientModel = nil
            upstreamRequest = UpstreamRequest(path: route.config.upstreamPath(forRequestPath: path) + query, body: request.body, stream: false,
                                              contentType: request.head.value("content-type") ?? "", accept: request.head.value("accept") ?? "")
        }
        startPings()
        if timeouts.total > 0 {
            let t = loop.takeTimer()
            totalTimer = t
            t.start(after: UInt64(timeouts.total)) {
                self.fail(APIError(status: 504, type: "timeout_error", message: "upstream request exceeded the total timeout of \(self.timeouts.total) ms", code: "upstream_timeout"))
            }
        }
        run(Machine.Actions(machine.start()))
    }

    /// Keep-alives while a streaming request waits for its first upstream byte.
    private func startPings() {
        guard pingTimer == nil, route.config.keepAliveInterval > 0, upstreamRequest?.stream == true, translator != nil else { return }
        let t = loop.takeTimer()
        pingTimer = t
        let interval = UInt64(route.config.keepAliveInterval)
        // Strong captures here and below (a weak one costs a side-table allocation per request);
        // finish() closes the timers and so ends the cycle.
        t.start(after: interval, repeat: interval) { self.sendKeepAlive() }
    }

    // MARK: Actions

    /// Feeds `event` to the machine and runs what it answers.
    @inline(__always)
    private func handle(_ event: Machine.Event) {
        run(machine.handle(event))
    }

    private func run(_ actions: Machine.Actions) {
        if let a = actions.first { run(a) }
        if let a = actions.second { run(a) }
    }

    private func run(_ action: Machine.Action) {
        switch action {
        case .fetchCredential(let rejected):
            if rejected {
                worker.metrics?.retry(route: meter.route, reason: .auth)
                collected.removeAll()
            }
            fetchCredential(rejected: rejected ? authValue : nil)
        case .connect(let pooled):
            if pooled {
                acquireConnection()
            } else {
                // After a stale pooled connection: a fresh one.
                worker.metrics?.retry(route: meter.route, reason: .staleConnection)
                worker.pool(for: up).open(for: self, timeouts: timeouts)
            }
        case .resend:
            collected.removeAll()
            do {
                let made = try translator!.upstreamRequest(for: ClientRequest(body: clientBody, anthropicBeta: clientBetas))
                clientModel = made.clientModel
                upstreamRequest = made
            } catch {
                fail(error)
                return
            }
            acquireConnection()
        case .fallBack(let index):
            fallBack(to: index)
        case .sendRequest:
            sendRequest()
        case .armDeadline(let ms):
            // On the loop's deadline queue: no timer, no closure and no allocation per exchange, and
            // a deadline that moves later touches no timer.
            if ms == 0 { loop.deadlines.clear(deadline) } else { loop.deadlines.set(&deadline, owner: self, in: ms) }
        case .startRetryTimer(let wait, let kind):
            switch kind {
            case .connect: worker.metrics?.retry(route: meter.route, reason: .connect)
            case .closedBeforeHead: worker.metrics?.retry(route: meter.route, reason: .closedBeforeHead)
            case .status: worker.metrics?.retry(route: meter.route, reason: .status)
            }
            collected = []
            upstreamStatus = 0
            startPings()
            let t = loop.takeTimer()
            retryTimer = t
            t.start(after: wait) {
                self.retryTimer = nil
                self.loop.recycleTimer(t)
                self.handle(.retryTimerFired)
            }
        case .release(let reusable):
            releaseConnection(reusable: reusable)
        case .pauseUpstream:
            connection?.stream.stopReading()
        case .resumeUpstream:
            connection?.stream.startReading()
        case .startStream:
            guard let head = response.head else { return }
            if machine.mode == .translateStream {
                client.startStream(status: head.status, headerBlock: streamHeaders(contentType: translator!.streamContentType, upstream: head))
            } else {
                client.startStream(status: head.status, headerBlock: passthroughHeaders(head))
            }
        case .respond:
            respond()
        case .answer(let fault):
            fail(answer(fault))
        case .abandon:
            abandon()
        }
    }

    /// The error for `fault`, from what the connection or the credential said (`failure`).
    private func answer(_ fault: Machine.Fault) -> APIError {
        let error = failure.stream
        let apiError = failure.credential
        switch fault {
        case .connect:
            return error.map { Self.connectError($0, upstream: up.config) } ?? .badGateway("cannot connect to upstream \(up.config.name)")
        case .credential:
            return apiError ?? .badGateway("no credential for upstream \(up.config.name)")
        case .closedBeforeHead:
            let why = error.map { ": \($0)" } ?? ""
            return .badGateway("upstream \(up.config.name) closed the connection before sending a response\(why)")
        case .midResponse:
            let why = error.map { "\($0)" } ?? "connection closed"
            return .badGateway("upstream \(up.config.name) failed mid-response (\(why))")
        case .firstByteTimeout(let ms):
            return APIError(status: 504, type: "timeout_error", message: "upstream \(up.config.name) sent no response within \(ms) ms", code: "upstream_timeout")
        case .idleTimeout(let ms):
            return APIError(status: 504, type: "timeout_error", message: "upstream \(up.config.name) sent nothing for \(ms) ms mid-response", code: "upstream_timeout")
        case .illegal:
            return .badGateway("internal error: the exchange met an unexpected event")
        }
    }

    // MARK: Fallbacks

    /// The first target after `index` in the route's chain whose circuit lets a request through.
    private func nextTarget(after index: Int) -> Int? {
        LoopExchangeEnvironment.nextTarget(of: primary, after: index, circuits: &worker.circuits, now: loop.now)
    }

    /// Makes `index` (0: the route, n: its n-th fallback) the target: its upstream, credential,
    /// headers and translation.
    private func select(target index: Int) {
        route = index == 0 ? primary : primary.fallbacks[index - 1]
        up = route.upstreamBox!
        machine.target = Self.target(route)
        if translator != nil {
            translator = Translators.make(ingress: route.config.ingress, egress: route.config.egress, options: route.translation)
        }
    }

    /// Sends the request to the next target at once (no wait: another upstream or model is not the
    /// one that just failed).
    private func fallBack(to index: Int) {
        worker.metrics?.fallback(route: meter.route, upstream: primary.fallbacks[index - 1].config.upstream)
        collected = []
        upstreamStatus = 0
        authValue = nil
        select(target: index)
        if let translator {
            do {
                let made = try translator.upstreamRequest(for: ClientRequest(body: clientBody, anthropicBeta: clientBetas))
                clientModel = made.clientModel
                upstreamRequest = made
            } catch {
                fail(error)
                return
            }
        } else if var req = upstreamRequest {
            req.path = route.config.upstreamPath(forRequestPath: path) + request.head.queryString
            clientModel = req.clientModel
            upstreamRequest = req
        }
        startPings()
        fetchCredential(rejected: nil)
    }

    private func fetchCredential(rejected: String?) {
        guard let credential = route.credential else {
            handle(.credential(ok: true))
            return
        }
        if let v = credential.cachedValue(rejected: rejected) {
            authValue = v
            handle(.credential(ok: true))
            return
        }
        credential.value(on: loop, rejected: rejected, metrics: worker.metrics) { result in
            guard !self.machine.isDone else { return }
            switch result {
            case .success(let v):
                self.authValue = v
                self.handle(.credential(ok: true))
            case .failure(let e):
                self.failure.credential = e
                self.handle(.credential(ok: false))
            }
        }
    }

    private func acquireConnection() {
        if let c = worker.pool(for: up).take() {
            connection = c
            handle(.connected(reused: true))
        } else {
            worker.pool(for: up).open(for: self, timeouts: timeouts)
        }
    }

    func upstreamConnected(_ connection: UpstreamConnection, error: StreamError?) {
        guard case .connecting = machine.state else {
            connection.close()
            return
        }
        if let error {
            connection.close()
            var tls = false
            if case .tls = error { tls = true }
            failure.stream = error
            handle(.connectFailed(tls: tls))
            return
        }
        self.connection = connection
        handle(.connected(reused: false))
    }

    /// Writes the request on the connection the machine got (`connected`).
    private func sendRequest() {
        guard let c = connection else { return }
        c.user = self
        response.begin(isHeadRequest: request.head.isMethod("HEAD"))
        var head = loop.takeScratch()
        if bodyStreamed {
            // The head waits for the body (`heldHead`): usually the rest of the read that brought it.
            if upstreamRequest != nil { buildRequestHead(&upstreamRequest!, into: &head) }
            heldHead = head
        } else {
            if upstreamRequest != nil { write(&upstreamRequest!, head: &head, on: c.stream) }
            loop.returnScratch(head)
        }
        requestSentAt = loop.now
        meter.requestSent()
        if bodyStreamed {
            if !earlyBody.isEmpty {
                let early = earlyBody
                earlyBody = []
                early.withUnsafeBytes { sendBody($0) }
            }
            if bodyComplete { sendBodyEnd() } else { client.resumeRequestBody() }
        }
        c.stream.startReading()
    }

    /// Writes `req` (`upstreamRequest`, lent in place: `upstreamRequest?.withBodyParts { ... }` copied the
    /// whole request, ~300 instructions) with its head built in `head`.
    private func write(_ req: inout UpstreamRequest, head: inout [UInt8], on stream: TCPStream) {
        buildRequestHead(&req, into: &head)
        if req.bodyCount > Self.copiedBodyLimit {
            // One writev of the head and the body where it lies, in the pieces the translator left it in
            // (not copied behind the head; what the kernel does not take at once is copied).
            head.withUnsafeBytes { h in req.withBodyParts { stream.write(h, $0) } }
        } else {
            // A small body is cheaper copied behind the head than gathered.
            req.withBodyParts { for part in $0 { HTTPWriter.appendBytes(part, into: &head) } }
            stream.write(head)
        }
    }

    /// Bodies up to this size go out copied behind the request head, larger ones from where they lie.
    static let copiedBodyLimit = 16 << 10

    /// The request line and headers for the upstream (the body follows them in the same write). `req` is
    /// `upstreamRequest`, lent in place: reading it by value copied the whole request (~250 instructions).
    private func buildRequestHead(_ req: inout UpstreamRequest, into b: inout [UInt8]) {
        b.reserveCapacity(384 + route.fixedUpstreamHeaders.count)
        HTTPWriter.appendRequestLine(method: method, targetPrefix: up.config.url.basePath, target: req.path, into: &b)
        route.fixedUpstreamHeaders.withUnsafeBytes { HTTPWriter.appendBytes($0, into: &b) }
        requestId.appendHeader(into: &b)
        if translator == nil {
            // Pass-through: the client's end-to-end headers, minus credentials, hop-by-hop and configured removals.
            let head = request.head
            let dropped = route.droppedClientHeaders
            for i in 0..<head.fields.count where !dropped.contains(head.name(at: i).lowercased()) {
                HTTPWriter.appendField(i, of: head, into: &b)
            }
        } else {
            if !req.contentType.isEmpty { HTTPWriter.appendTrustedHeader("Content-Type", req.contentType, into: &b) }
            if !req.accept.isEmpty { HTTPWriter.appendTrustedHeader("Accept", req.stream ? "text/event-stream" : req.accept, into: &b) }
        }
        if let authValue, let name = up.config.auth?.header {
            if let accepted = worker.acceptedAuthHeader, accepted.value == authValue, accepted.name == name {
                HTTPWriter.appendValidatedHeader(name, authValue, into: &b)
            } else if HTTPWriter.appendHeader(name, authValue, into: &b) {
                worker.acceptedAuthHeader = (name, authValue)
            }
        }
        if trace != nil { trace!.appendHeaders(request.head, into: &b) }
        if bodyStreamed {
            switch request.head.framing {
            case .contentLength(let n): HTTPWriter.appendHeader("Content-Length", n, into: &b)
            default: HTTPWriter.appendHeader("Transfer-Encoding", "chunked", into: &b)
            }
        } else if req.bodyCount > 0 || request.head.isMethod("POST") || request.head.isMethod("PUT") || request.head.isMethod("PATCH") {
            HTTPWriter.appendHeader("Content-Length", req.bodyCount, into: &b)
        }
        HTTPWriter.appendEndOfHead(into: &b)
    }

    static let neverForwarded: Set<String> = [
        "host", "authorization", "x-api-key", "cookie", "connection", "keep-alive", "proxy-connection",
        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect",
        "x-request-id",
        // The proxy sends its own User-Agent (one, not two).
        "user-agent",
    ]

    // MARK: Response

    func upstreamRead(_ c: UpstreamConnection, _ bytes: UnsafeRawBufferPointer) {
        guard c === connection else { return }
        handle(.bytesRead)
        meter.upstreamRead()
        // What this read yields for the client (head, events, last chunk) leaves in one write.
        client.cork()
        readResponse(bytes)
        client.uncork()
        if machine.mode != nil, clientStreamStarted, !machine.isPaused, client.isClientBackedUp {
            handle(.clientBackedUp)
        }
    }

    /// Acts on what one read of the upstream says, event by event, while the exchange reads it.
    private func readResponse(_ bytes: UnsafeRawBufferPointer) {
        var input = bytes
        if !response.isReadingBody, !readHead(&input) { return }
        // The body: one or two steps per stream event, with no head in the values passed.
        while machine.isSending {
            switch response.nextBody(&input) {
            case .needMore:
                return
            case .body(let piece):
                deliver(piece)
                // The usual stream event: one chunk, the whole read.
                if input.isEmpty, response.needsBytes { return }
            case .end(let reusable):
                completeBody(reusable: reusable)
                return
            case .failure:
                fail(.badGateway(response.failureMessage))
                return
            }
        }
    }

    /// Reads up to the response head and acts on it. A body that came whole with its head may be
    /// answered from the read buffer at once (the head itself is passed on, not `response.head`:
    /// reading that optional copied the head once more). True: the body follows in `input`.
    private func readHead(_ input: inout UnsafeRawBufferPointer) -> Bool {
        while machine.isSending {
            switch response.read(&input) {
            case .needMore:
                return false
            case .head(let head):
                beginBody(head)
                guard machine.isSending else { return false }
                switch response.nextBody(&input) {
                case .needMore:
                    return false
                case .body(let piece):
                    if respondInPlace(head: head, body: piece) { return false }
                    deliver(piece)
                    return true
                case .end(let reusable):
                    completeBody(reusable: reusable)
                    return false
                case .failure:
                    fail(.badGateway(response.failureMessage))
                    return false
                }
            case .body(let piece):
                deliver(piece)
                return true
            case .end(let reusable):
                completeBody(reusable: reusable)
                return false
            case .failure(let failure):
                fail(.badGateway(failure.message))
                return false
            }
        }
        return false
    }

    private func beginBody(_ head: HTTPResponseHead) {
        upstreamStatus = head.status
        responseContentType = head.firstIndex(ofLowercased: "content-type")
        let isStream = responseContentType.map {
            head.valueHasPrefix(at: $0, "text/event-stream") || head.valueHasPrefix(at: $0, "application/vnd.amazon.eventstream")
        } ?? false
        meter.responseHead(stream: isStream && (200..<300).contains(head.status))
        headAt = loop.now
        watcher = nil
        watching = isStream && (200..<300).contains(head.status) && observed
        if watching { watcher = StreamWatcher(dialect: clientDialect) }
        let shouldRetry = head.status >= 400 && !bodyStreamed ? head.value("x-should-retry") : nil
        let actions = machine.handle(.head(status: head.status, isStream: isStream, shouldRetry: shouldRetry))
        if !machine.retryCandidate, !primary.fallbacks.isEmpty, head.status < 500 {
            worker.circuits.succeeded(route)
        }
        if machine.mode == .translateStream { stopPings() }
        run(actions)
    }

    /// A 2xx body that the translator passes through unchanged and that came whole with its head
    /// (the usual completion) is answered straight from the read buffer, its header block built in a
    /// scratch buffer: no collected copy, no `ClientResponse`, no String for the content type. The
    /// bytes are those `completeBody` would send (ExchangeInPlaceResponseTests compares the two).
    private func respondInPlace(head: HTTPResponseHead, body: UnsafeRawBufferPointer) -> Bool {
        guard machine.mode == .collect, !clientStreamStarted, let translator, translator.passesSuccessBodyThrough,
              (200..<300).contains(upstreamStatus), response.contentLength == body.count
        else { return false }
        let n = body.count
        let contentType = responseContentType
        // `completeBody` reads the value as a String, which turns non-ASCII bytes into U+FFFD.
        if let i = contentType, !head.valueIsASCII(at: i) { return false }
        // The whole body is this piece: the response's end, read now, says whether the connection is reusable.
        var rest = UnsafeRawBufferPointer(start: nil, count: 0)
        guard case .end(let reusable) = response.read(&rest) else { return false }
        releaseConnection(reusable: reusable)
        var block = loop.takeScratch()
        if let i = contentType {
            head.bytes.withUnsafeBytes { p in
                HTTPWriter.appendTrustedHeader("Content-Type", bytes: UnsafeRawBufferPointer(rebasing: p[head.fields[i].value]), into: &block)
            }
        } else {
            HTTPWriter.appendTrustedHeader("Content-Type", "application/json", into: &block)
        }
        requestIdAndCORSHeaders(into: &block)
        appendForwardedUpstreamHeaders(head, into: &block)
        bytesToClient = n
        if observed { readAnswer(body) }
        worker.inPlaceResponses &+= 1
        block.withUnsafeBytes { client.respond(status: head.status, headerBlock: $0, body: body) }
        loop.returnScratch(block)
        finish(status: head.status)
        return true
    }

    private func deliver(_ piece: UnsafeRawBufferPointer) {
        guard let mode = machine.mode, piece.count > 0 else { return }
        if mode != .collect { meter.streamBytes(worker.metrics) }
        switch mode {
        case .collect:
            if collected.count + piece.count > Self.maxCollectedBytes {
                fail(.badGateway("upstream response is larger than \(Self.maxCollectedBytes) bytes"))
                return
            }
            if collected.capacity == 0, case .contentLength = response.framing {
                // One allocation for a body of known size (up to 1 MiB ahead; more grows as it
                // comes), made here rather than with the head: `respondInPlace` needs none.
                collected.reserveCapacity(min(response.remaining + piece.count, 1 << 20))
            }
            collected.append(contentsOf: piece)
        case .translateStream:
            if translator!.passStreamChunk(piece) {
                bytesToClient += piece.count
                client.streamWrite(piece)
                watch(piece)
                return
            }
            out.removeAll(keepingCapacity: true)
            translator!.streamChunk(piece, into: &out)
            if !out.isEmpty {
                bytesToClient += out.count
                client.streamWrite(out)
                if watching { out.withUnsafeBytes { watch($0) } }
            }
        case .rawStream:
            bytesToClient += piece.count
            client.streamWrite(piece)
            if watching {
                watch(piece)
            } else if piece.count == bytesToClient, piece.count == response.contentLength, observed,
                      (200..<300).contains(upstreamStatus), let i = responseContentType,
                      response.head?.valueHasPrefix(at: i, "application/json") == true {
                // A pass-through JSON answer that came whole in one read: its usage, read in place.
                readAnswer(piece)
            }
        }
    }

    /// Stream bytes that went to the client: the watcher reads them; the first token's time is noted.
    @inline(__always)
    private func watch(_ bytes: UnsafeRawBufferPointer) {
        guard watching else { return }
        watcher!.feed(bytes)
        if firstTokenAt == 0, watcher!.facts.firstToken { firstTokenAt = loop.now }
    }

    static let maxCollectedBytes = 64 << 20

    /// The facts of a whole 2xx JSON answer to the client, read into `facts` in place (a returned
    /// `AnswerFacts` was copied into it and the old one destroyed: ~100 instructions an answer).
    private func readAnswer(_ body: UnsafeRawBufferPointer) {
        AnswerReader.json(body, dialect: clientDialect, model: readsAnswerModel, stop: readsAnswerWords, into: &facts)
    }

    /// The response ended; `reusable`: its framing and head let the connection carry another request.
    private func completeBody(reusable: Bool) {
        guard machine.mode != nil, let head = response.head else { return }
        // A request body still streaming to the upstream leaves the connection mid-message.
        let reusable = reusable && (!bodyStreamed || bodyComplete)
        // A collected response sent nothing to the client yet (keep-alive pings at most): a retry is safe.
        if head.status == 400, machine.mayLearnFromRejection, let translator,
           let retry = translator.learnFromRejection(status: head.status, body: collected) {
            worker.metrics?.retry(route: meter.route, reason: .rejection)
            if let learned = retry.learned {
                // Counted once, when it is learned (a per-request adjustment or a repeat is not healing).
                worker.metrics?.healed(upstream: up.config.name, kind: HealedKind(learned: learned))
                Log.info("upstream \(up.config.name) refused \(learned) for \(retry.model); removed from its requests from now on")
            }
            handle(.rejectionLearned(reusable: reusable))
            return
        }
        let candidate = machine.retryCandidate
        handle(.ended(reusable: reusable, retryAfter: candidate ? head.value("retry-after") : nil,
                      shouldRetry: candidate ? head.value("x-should-retry") : nil))
    }

    /// Answers with the response read (`respond`): the collected one, or the stream's end.
    private func respond() {
        guard let mode = machine.mode, let head = response.head else { return }
        switch mode {
        case .collect:
            guard let translator else {
                // A pass-through response held back for a retry that did not happen: sent as it came.
                bytesToClient = collected.count
                client.respond(status: head.status, headerBlock: passthroughHeaders(head), body: collected)
                finish(status: head.status)
                return
            }
            let retryAfter = head.status >= 400 ? head.value("retry-after") : nil
            let response = translator.clientResponse(status: head.status, contentType: head.value("content-type"),
                                                     body: collected, retryAfter: retryAfter)
            if observed, (200..<300).contains(response.status) {
                response.body.withUnsafeBytes { readAnswer($0) }
            }
            if clientStreamStarted {
                // Keep-alive pings already started a 200 stream: the upstream's error becomes an error event.
                out.removeAll(keepingCapacity: true)
                translator.streamFail(APIError.fromClientResponse(response), into: &out)
                client.streamWrite(out)
                client.endStream()
            } else {
                var block = loop.takeScratch()
                baseHeaders(contentType: response.contentType, into: &block)
                for h in response.headers { HTTPWriter.appendHeader(h.name, h.value, into: &block) }
                appendForwardedUpstreamHeaders(head, into: &block)
                bytesToClient = response.body.count
                client.respond(status: response.status, headerBlock: block, body: response.body)
                loop.returnScratch(block)
            }
            finish(status: response.status)
        case .translateStream:
            out.removeAll(keepingCapacity: true)
            translator!.streamEnd(into: &out)
            if !out.isEmpty { client.streamWrite(out) }
            client.endStream()
            finish(status: head.status)
        case .rawStream:
            client.endStream()
            finish(status: head.status)
        }
    }

    func upstreamEnded(_ c: UpstreamConnection, error: StreamError?) {
        guard c === connection else { return }
        if machine.mode != nil, error == nil, response.upstreamClosed() {
            completeBody(reusable: false)
            return
        }
        failure.stream = error
        handle(.closed(beforeAnyByte: !response.receivedBytes && bodyBytesSent == 0))
    }

    // MARK: Client side

    func clientWritable() {
        guard machine.isPaused else { return }
        handle(.clientWritable)
    }

    func clientBody(_ bytes: UnsafeRawBufferPointer) {
        guard !machine.isDone else { return }
        guard let c = connection, machine.isSending else {
            // Not connected yet: keep this piece and pause the client until the upstream is ready.
            earlyBody.append(contentsOf: bytes)
            client.pauseRequestBody()
            return
        }
        sendBody(bytes)
        if c.stream.isAboveHighWatermark { client.pauseRequestBody() }
    }

    func clientBodyEnd() {
        bodyComplete = true
        if connection != nil, machine.isSending { sendBodyEnd() }
    }

    func upstreamWritable(_ c: UpstreamConnection) {
        guard c === connection, bodyStreamed, !bodyComplete else { return }
        client.resumeRequestBody()
    }

    private func sendBody(_ bytes: UnsafeRawBufferPointer) {
        guard let c = connection, bytes.count > 0 else { return }
        bodyBytesSent += bytes.count
        if bodyChunked {
            var framed = [UInt8]()
            framed.reserveCapacity(bytes.count + 16)
            HTTPWriter.appendChunk(bytes, into: &framed)
            framed.withUnsafeBytes { sendUpstream($0, on: c) }
        } else {
            sendUpstream(bytes, on: c)
        }
    }

    /// Writes `bytes` upstream, behind the held request head when there is one (one write for both).
    private func sendUpstream(_ bytes: UnsafeRawBufferPointer, on c: UpstreamConnection) {
        guard let head = heldHead else {
            c.stream.write(bytes)
            return
        }
        heldHead = nil
        head.withUnsafeBytes { h in
            withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: 1) { parts in
                parts[0] = bytes
                c.stream.write(h, UnsafeBufferPointer(parts))
            }
        }
        loop.returnScratch(head)
    }

    private func sendBodyEnd() {
        guard let c = connection else { return }
        if bodyChunked {
            var last = [UInt8]()
            HTTPWriter.appendLastChunk(into: &last)
            last.withUnsafeBytes { sendUpstream($0, on: c) }
        } else if let head = heldHead {
            // An empty body (`Content-Length: 0`): the head alone.
            heldHead = nil
            c.stream.write(head)
            loop.returnScratch(head)
        }
    }

    func clientGone() {
        handle(.clientGone)
    }

    private func abandon() {
        if let w = watcher, w.facts.ended {
            // The client had the whole answer (its dialect's last event) and closed before the
            // connection's framing ended, as Codex does after `response.completed`: not a 499.
            logNote = "client closed after the end of the stream"
            finish(status: upstreamStatus)
            return
        }
        logNote = "client disconnected"
        finish(status: 499)
    }

    private func sendKeepAlive() {
        guard machine.mayPing, let translator else { return }
        if !clientStreamStarted {
            _ = machine.handle(.streamStarted)
            client.startStream(status: 200, headerBlock: streamHeaders(contentType: translator.streamContentType, upstream: nil))
        }
        out.removeAll(keepingCapacity: true)
        translator.keepAlive(into: &out)
        client.streamWrite(out)
    }

    // MARK: Headers

    /// Content-Type, X-Request-Id and the route's CORS lines.
    private func baseHeaders(contentType: String, into b: inout [UInt8]) {
        HTTPWriter.appendTrustedHeader("Content-Type", contentType, into: &b)
        requestIdAndCORSHeaders(into: &b)
    }

    private func requestIdAndCORSHeaders(into b: inout [UInt8]) {
        requestId.appendHeader(into: &b)
        route.corsHeaderBlock.withUnsafeBytes { HTTPWriter.appendBytes($0, into: &b) }
        appendTargetHeader(into: &b)
    }

    /// `x-mini-proxy-upstream: <upstream>[/<model>]` on routes with fallbacks: which target answered.
    private func appendTargetHeader(into b: inout [UInt8]) {
        if !primary.fallbacks.isEmpty { HTTPWriter.appendHeader("x-mini-proxy-upstream", route.targetName, into: &b) }
    }

    private func streamHeaders(contentType: String, upstream head: HTTPResponseHead?) -> [UInt8] {
        var b = [UInt8]()
        b.reserveCapacity(256)
        baseHeaders(contentType: contentType, into: &b)
        Self.streamLines.withUnsafeBytes { HTTPWriter.appendBytes($0, into: &b) }
        if let head { appendForwardedUpstreamHeaders(head, into: &b) }
        return b
    }

    private static let streamLines: [UInt8] = Array("Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n".utf8)

    /// The response headers a client may act on (`ForwardedResponseHeaders`: rate limits, request ids,
    /// retry advice), copied as received, and rate limits also under the client's own names when its
    /// dialect calls them otherwise (`RateLimitHeaders`). On the head's bytes: no String per field (the
    /// names lowercased and the values read as Strings cost ~13,000 instructions per response).
    private func appendForwardedUpstreamHeaders(_ head: HTTPResponseHead, into b: inout [UInt8]) {
        let upstream = route.config.egress
        let client = route.config.ingress
        let translates = translator != nil && RateLimitHeaders.translates(upstream: upstream, client: client)
        var now = 0
        head.bytes.withUnsafeBytes { p in
            for field in head.fields {
                let name = UnsafeRawBufferPointer(rebasing: p[field.name])
                guard ForwardedResponseHeaders.isForwarded(name) else { continue }
                let value = UnsafeRawBufferPointer(rebasing: p[field.value])
                HTTPWriter.appendField(name: name, value: value, into: &b)
                if translates {
                    if now == 0 { now = time(nil) }
                    RateLimitHeaders.appendCounterpart(name: name, value: value, upstream: upstream, client: client,
                                                       now: now, into: &b)
                }
            }
        }
    }

    private func passthroughHeaders(_ head: HTTPResponseHead) -> [UInt8] {
        var b = [UInt8]()
        b.reserveCapacity(head.bytes.count + 128)
        requestId.appendHeader(into: &b)
        route.corsHeaderBlock.withUnsafeBytes { HTTPWriter.appendBytes($0, into: &b) }
        appendTargetHeader(into: &b)
        for i in 0..<head.fields.count where !Self.hopByHopResponse.contains(head.name(at: i).lowercased()) {
            HTTPWriter.appendField(i, of: head, into: &b)
        }
        return b
    }

    static let hopByHopResponse: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade",
        "proxy-connection", "x-request-id",
    ]

    // MARK: Timers

    /// The first-byte or idle deadline armed with `armDeadline` passed: the machine re-arms it (bytes
    /// kept coming, or the client is the slow side) or answers 504.
    func deadlinePassed() {
        handle(.deadline)
    }

    private func stopPings() {
        if let t = pingTimer {
            pingTimer = nil
            loop.recycleTimer(t)
        }
    }

    // MARK: Ending

    private func releaseConnection(reusable: Bool) {
        guard let c = connection else { return }
        connection = nil
        if reusable && !machine.isPaused {
            // Back to the pool that opened it: after a reload that pool is retired and closes it (the
            // worker's current pools belong to the new config).
            c.pool.park(c)
        } else {
            c.close()
        }
    }

    /// Ends the exchange with an error: an error response, or an error event once a stream started.
    private func fail(_ error: APIError) {
        guard !machine.isDone else { return }
        releaseConnection(reusable: false)
        logNote = error.message
        if clientStreamStarted {
            if let translator {
                out.removeAll(keepingCapacity: true)
                translator.streamFail(error, into: &out)
                client.streamWrite(out)
                client.endStream()
            } else {
                // Raw pass-through cannot inject an error into an arbitrary body: cut it so the client sees truncation.
                client.abortStream()
            }
            finish(status: upstreamStatus == 0 ? error.status : upstreamStatus)
        } else {
            finishWithError(error)
        }
    }

    private func finishWithError(_ error: APIError) {
        var block = [UInt8]()
        baseHeaders(contentType: "application/json", into: &block)
        if let ra = error.retryAfter { HTTPWriter.appendHeader("Retry-After", ra, into: &block) }
        logNote = logNote ?? error.message
        let body = error.body(for: route.errorDialect)
        bytesToClient = body.count
        client.respond(status: error.status, headerBlock: block, body: body)
        finish(status: error.status)
    }

    private func finish(status: Int) {
        guard !machine.isDone else { return }
        _ = machine.handle(.finished(status: status))
        if logNote == nil, let why = machine.gaveUpWhy { logNote = why }
        let retriesTaken = machine.attempt.retries
        let targetIndex = machine.attempt.targetIndex
        if let t = totalTimer {
            totalTimer = nil
            loop.recycleTimer(t)
        }
        if let t = retryTimer {
            retryTimer = nil
            loop.recycleTimer(t)
        }
        loop.deadlines.leave(&deadline)
        stopPings()
        if client.observer === self { client.observer = nil }
        if let w = watcher { facts = w.facts }
        meter.finish(status: status, model: clientModel, body: clientBody, usage: facts.usage, metrics: worker.metrics)
        guard worker.tracer != nil || worker.log.enabled else { return }
        if let trace, let tracer = worker.tracer {
            // The id asked of the upstream (the translator knows it; a pass-through's answer names it).
            let upstreamModel = upstreamRequest.flatMap { translator?.upstreamModel(of: $0) } ?? facts.model
            tracer.end(trace, route: route, method: method, head: request.head, status: status, upstreamStatus: upstreamStatus,
                       retries: retriesTaken, model: clientModel, body: clientBody,
                       upstreamPath: upstreamRequest?.path, note: logNote,
                       usage: TraceUsage(inputTokens: facts.usage.input, outputTokens: facts.usage.output,
                                         finishReason: facts.stopReason, responseModel: upstreamModel))
        }
        guard worker.log.enabled else { return }
        logLine(status: status, retries: retriesTaken, targetIndex: targetIndex)
    }

    /// The exchange's access-log line. A function of its own: inlined into `finish`, its many small
    /// writes outgrew the optimizer's budget there and left calls to `count` and `min` in the line.
    @inline(never)
    private func logLine(status: Int, retries retriesTaken: Int, targetIndex: Int) {
        // The worker (which this exchange keeps) keeps its log: used without a retain.
        Unmanaged.passUnretained(worker.log)._withUnsafeGuaranteedRef {
            logLine(status: status, retries: retriesTaken, targetIndex: targetIndex, log: $0)
        }
    }

    @inline(__always)
    private func logLine(status: Int, retries retriesTaken: Int, targetIndex: Int, log: AccessLogBuffer) {
        let head = request.head
        let duration = log.now - startedAt
        let fields = route.logFields.spans
        let translator = self.translator  // one retain for the two questions below
        log.line { w in
            head.bytes.withUnsafeBytes { b in
                w.begin(requestId: requestId, method: UnsafeRawBufferPointer(rebasing: b[head.method]),
                        path: UnsafeRawBufferPointer(rebasing: b[head.pathRange]), status: status, durationMs: duration)
            }
            w.upstream(fields, status: upstreamStatus)
            if bytesToClient > 0 { w.int(.bytes, bytesToClient) }
            w.route(fields)
            if let r = clientModel, r.count >= 2, r.upperBound <= clientBody.count {
                clientBody.withUnsafeBytes { w.string(.model, UnsafeRawBufferPointer(rebasing: $0[(r.lowerBound + 1)..<(r.upperBound - 1)])) }
            }
            // The same id, from the translator's bytes (a Bedrock path's segment: no String).
            var named = false
            if let translator, upstreamRequest != nil {
                named = translator.withUpstreamModel(of: &upstreamRequest!) { w.string(.upstreamModel, $0) }
            }
            if !named, let m = facts.model { w.string(.upstreamModel, m) }
            if headAt != 0 { w.int(.ttfbMs, Int(headAt &- requestSentAt)) }
            if firstTokenAt != 0 { w.int(.ttftMs, Int(firstTokenAt &- startedAt)) }
            w.usage(facts.usage)
            if let v = facts.stopReason { w.string(.stop, v) }
            if let k = keyName { k.withUnsafeBytes { w.string(.key, $0) } }
            if retriesTaken > 0 { w.int(.retries, retriesTaken) }
            if targetIndex > 0 { w.int(.fallback, targetIndex) }
            if let logNote { w.string(.note, logNote) }
            // Ids a client sends to tie log lines to its own (Claude Code's session, a client request id),
            // and what the upstream profile removed from the request (names only, never values).
            // One pass over the field names, by length first (most requests carry neither).
            var session: Int?
            var clientRequestId: Int?
            for i in head.fields.indices {
                switch head.fields[i].name.count {
                case 24 where session == nil && head.nameEquals(i, lowercased: Self.sessionHeader): session = i
                case 19 where clientRequestId == nil && head.nameEquals(i, lowercased: Self.clientRequestIdHeader): clientRequestId = i
                default: break
                }
            }
            if let session { w.header("session", head, session) }
            if let clientRequestId { w.header("client_request_id", head, clientRequestId) }
            if let removed = translator?.removedForUpstream, !removed.isEmpty {
                w.string("removed", removed.joined(separator: ", "))
            }
        }
    }

    /// How soon after the request a close before the response head counts as quick (retryable).
    static var quickCloseMs: UInt64 { Machine.quickCloseMs }

    private static let sessionHeader = ClientIdentityHeaders.session  // 24 bytes
    private static let clientRequestIdHeader = ClientIdentityHeaders.clientRequestId  // 19 bytes

    static func decodingError(_ error: ContentDecoding.Failure) -> APIError {
        switch error {
        case .unsupported(let name):
            return APIError(status: 415, type: "invalid_request_error",
                            message: "Content-Encoding '\(name)' is not supported (gzip, deflate, br and zstd are)")
        case .tooLarge(let limit):
            return APIError(status: 413, type: "request_too_large",
                            message: "the request body is larger than the limit of \(limit) bytes once decoded")
        case .corrupt(let why):
            return .invalidRequest("the request body does not decode as its Content-Encoding says: \(why)")
        }
    }

    static func connectError(_ error: StreamError, upstream: UpstreamConfig) -> APIError {
        let target = "\(upstream.url.host):\(upstream.url.port)"
        switch error {
        case .timeout(let what):
            return APIError(status: 504, type: "timeout_error", message: "\(what) to upstream \(upstream.name) (\(target)) timed out", code: "upstream_timeout")
        case .tls(let e):
            return .badGateway("TLS with upstream \(upstream.name) (\(target)) failed: \(e)")
        case .uv(let e):
            return .badGateway("cannot connect to upstream \(upstream.name) (\(target)): \(e)")
        }
    }
}

extension RouteAction {
    var isPassthrough: Bool { if case .passthrough = self { return true } else { return false } }
}

extension APIError {
    /// The error a complete client response describes (for turning it into a stream error event).
    static func fromClientResponse(_ r: ClientResponse) -> APIError {
        var message = "upstream error \(r.status)"
        if case .object(let o)? = try? JSONParser.parse(r.body) {
            if case .object(let e)? = o["error"], case .string(let m)? = e["message"] { message = m }
            else if case .string(let m)? = o["message"] { message = m }
        }
        let retry = r.headers.first { $0.name.lowercased() == "retry-after" }?.value
        return APIError(status: r.status, type: r.status == 429 ? "rate_limit_error" : "api_error", message: message, retryAfter: retry)
    }
}

/// The machine's environment on the loop: its clock, `time()`, random jitter, the route's circuit
/// breakers and its targets' retry policies and credentials.
struct LoopExchangeEnvironment: ExchangeEnvironment {
    unowned(unsafe) let worker: ProxyWorker
    unowned(unsafe) let primary: CompiledRoute
    let clock: LoopClock

    init(worker: ProxyWorker, primary: CompiledRoute) {
        self.worker = worker
        self.primary = primary
        clock = worker.loop.clock
    }

    var now: UInt64 { clock.now }
    var wallNow: Int { time(nil) }
    func jitter() -> Double { Double.random(in: 0...1) }

    private func route(_ index: Int) -> CompiledRoute { index == 0 ? primary : primary.fallbacks[index - 1] }
    func policy(target index: Int) -> RetryPolicy { route(index).config.retries }
    func credentialCanRefresh(target index: Int) -> Bool { route(index).credential?.canRefresh == true }

    func failed(target index: Int) -> Int? {
        let now = worker.loop.now
        worker.circuits.failed(route(index), now: now)
        return Self.nextTarget(of: primary, after: index, circuits: &worker.circuits, now: now)
    }

    /// The first target after `index` in the route's chain whose circuit lets a request through.
    static func nextTarget(of primary: CompiledRoute, after index: Int, circuits: inout CircuitBreakers, now: UInt64) -> Int? {
        var i = index + 1
        while i <= primary.fallbacks.count {
            if circuits.allows(primary.fallbacks[i - 1], now: now) { return i }
            i += 1
        }
        return nil
    }
}
