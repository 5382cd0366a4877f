internal import CLibUV
import Glibc

/// What a stream tells its owner. All calls happen on the stream's loop.
package protocol TCPStreamDelegate: AnyObject {
    /// Plaintext bytes (decrypted when the stream speaks TLS). Valid only during the call.
    func streamRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer)
    /// The peer closed (`nil`) or the stream failed. The delegate decides when to `close()`.
    func streamEnded(_ stream: TCPStream, error: StreamError?)
    /// Pending write bytes fell below the low watermark after having passed the high one.
    func streamWritable(_ stream: TCPStream)
    /// A client TLS handshake finished (or the plain TCP connection was made), `error` says why not.
    func streamConnected(_ stream: TCPStream, error: StreamError?)
    /// Asked right before each read of a plain TCP stream (a TLS stream reads ciphertext into the loop's
    /// buffer): memory the read may fill instead of the loop's shared buffer, nil for that buffer. The
    /// bytes then come to `streamRead` where they already are: a request body collected for translation
    /// is read straight into its own storage, not copied there from the shared buffer. Used at once
    /// (libuv reads right after asking), so it only has to be valid during the call and the read. An
    /// empty buffer: no read now (libuv, whose last read filled its buffer, would read again at once and
    /// find nothing); the next readiness of the socket reads as usual.
    func streamReadTarget(_ stream: TCPStream) -> UnsafeMutableRawBufferPointer?
}

extension TCPStreamDelegate {
    package func streamWritable(_ stream: TCPStream) {}
    package func streamConnected(_ stream: TCPStream, error: StreamError?) {}
    package func streamReadTarget(_ stream: TCPStream) -> UnsafeMutableRawBufferPointer? { nil }
}

/// Why a stream failed: a libuv error or a TLS error (with its verification reason).
package enum StreamError: Error, CustomStringConvertible {
    case uv(UVError)
    case tls(TLSError)
    case timeout(String)

    package var description: String {
        switch self {
        case .uv(let e): return e.description
        case .tls(let e): return e.description
        case .timeout(let what): return "\(what) timed out"
        }
    }
}

/// A TCP connection with an optional TLS session over memory BIOs, write-queue accounting for
/// backpressure, and `uv_try_write` first. Loop-confined.
///
/// Reads go into the loop's shared buffer; writes that cannot complete at once are copied into one
/// heap block per `uv_write_t` (only when the peer is slow).
package final class TCPStream {
    package let loop: EventLoop
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    package var delegate: (any TCPStreamDelegate)?
    /// The delegate may give reads a place of its own (`streamReadTarget`). Off, every read goes to the
    /// loop's buffer without asking: an upstream stream's reads (one per event) skip the call.
    package var offersReadTargets = false
    package private(set) var tls: TLSSession?
    /// Bytes handed to libuv and not yet written to the socket.
    private(set) var pendingWriteBytes = 0
    var highWatermark = 64 * 1024
    var lowWatermark = 16 * 1024
    private var aboveHigh = false
    package private(set) var isClosed = false
    private(set) var wantsRead = false
    private var uvReading = false
    private var failed = false
    private var deliveringClear = false
    /// The pending connect, TLS-handshake or lingering-close timeout (one at a time).
    private var connectTimer: Timer?

    package init(loop: EventLoop) {
        self.loop = loop
        handle = mallocStruct(uv_tcp_t.self)
        uv_tcp_init(loop.handle, handle)
        // Lifetime: balanced in tcpStreamCloseCallback.
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    deinit { free(handle) }

    package var isAboveHighWatermark: Bool { pendingWriteBytes >= highWatermark }

    func setNoDelay() { uv_tcp_nodelay(handle, 1) }

    /// Takes the connection that `server` (a listening stream) has waiting; false when there is none.
    func accept(from server: UnsafeMutablePointer<uv_stream_t>) -> Bool {
        uv_accept(server, asStream(handle)) == 0
    }

    // MARK: Connecting (upstream side)

    /// Connects to `address`; with `tls`, runs the client handshake before `streamConnected`.
    package func connect(to address: SocketAddress, tls: TLSSession?, timeoutMs: UInt64, tlsTimeoutMs: UInt64) {
        self.tls = tls
        let req = mallocStruct(uv_connect_t.self)
        // Lifetime: the request holds the stream until its callback.
        req.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = address.withSockAddr { uv_tcp_connect(req, handle, $0, tcpConnectCallback) }
        if rc < 0 {
            Unmanaged<TCPStream>.fromOpaque(req.pointee.data).release()
            free(req)
            let error = StreamError.uv(UVError(rc))
            // Report on the next tick so callers never re-enter themselves.
            let t = Timer(loop: loop)
            t.start(after: 0) { [self] in
                t.close()
                delegate?.streamConnected(self, error: error)
            }
            return
        }
        // Reading starts now, with the connect still in flight: libuv then registers the socket for
        // both directions at once and narrows it to reads when the connect completes, where starting
        // after the connect costs an extra epoll_ctl (a failed ADD, then a MOD) on every new connection.
        // No byte can arrive before the connect completes, and none is asked of the server before the
        // owner writes its request.
        startReading()
        if timeoutMs > 0 {
            armTimeout(timeoutMs) { [self] in
                dropTimeout()
                guard !isClosed else { return }
                failed = true
                stopReading()  // reading started with the connect: nothing is read from a failed one
                delegate?.streamConnected(self, error: .timeout("connect"))
            }
        }
        pendingTLSTimeout = tlsTimeoutMs
    }

    private var pendingTLSTimeout: UInt64 = 0

    /// Arms the stream's one timeout (connect, then TLS handshake, or the lingering close) with a
    /// timer from the loop's spares. The action holds the stream until the timer is dropped.
    private func armTimeout(_ ms: UInt64, _ action: @escaping () -> Void) {
        let t = connectTimer ?? loop.takeTimer()
        connectTimer = t
        t.start(after: ms, action)
    }

    /// Drops the timeout, if any, back to the loop's spares.
    private func dropTimeout() {
        if let t = connectTimer {
            connectTimer = nil
            loop.recycleTimer(t)
        }
    }

    fileprivate func didConnect(status: Int32) {
        dropTimeout()
        if isClosed || failed { return }
        if status < 0 {
            failed = true
            stopReading()
            delegate?.streamConnected(self, error: .uv(UVError(status)))
            return
        }
        setNoDelay()
        guard let tls else {
            delegate?.streamConnected(self, error: nil)
            return
        }
        if pendingTLSTimeout > 0 {
            armTimeout(pendingTLSTimeout) { [self] in
                dropTimeout()
                guard !isClosed, !(self.tls?.isHandshakeComplete ?? true) else { return }
                failed = true
                delegate?.streamConnected(self, error: .timeout("TLS handshake"))
            }
        }
        startReading()
        driveHandshake(tls)
    }

    /// Advances a TLS handshake and reports its end. Returns true when application data may flow.
    @discardableResult
    private func driveHandshake(_ tls: TLSSession) -> Bool {
        switch tls.advanceHandshake() {
        case .complete:
            flushEncrypted(tls)
            dropTimeout()
            delegate?.streamConnected(self, error: nil)
            return true
        case .needsData:
            flushEncrypted(tls)
            return false
        case .failed(let error):
            flushEncrypted(tls)
            dropTimeout()
            failed = true
            delegate?.streamConnected(self, error: .tls(error))
            return false
        }
    }

    /// Server side: speak TLS on an accepted connection.
    package func acceptTLS(_ session: TLSSession) { tls = session }

    // MARK: Reading

    package func startReading() {
        guard !isClosed else { return }
        wantsRead = true
        if let tls, tls.isHandshakeComplete, !deliveringClear {
            // Plaintext may already sit decrypted inside the TLS session from before the pause.
            deliverClear(tls)
            guard wantsRead, !isClosed else { return }
        }
        if !uvReading {
            uvReading = true
            uv_read_start(asStream(handle), tcpStreamAllocCallback, tcpStreamReadCallback)
        }
    }

    package func stopReading() {
        wantsRead = false
        if uvReading {
            uvReading = false
            uv_read_stop(asStream(handle))
        }
    }

    fileprivate func didRead(_ nread: Int, _ buf: UnsafePointer<uv_buf_t>?) {
        if lingering {
            if nread < 0 { close() }
            return
        }
        // The delegate's empty read target (`streamReadTarget`): no read this time, nothing ended.
        if nread == Int(UV_ENOBUFS.rawValue), tls == nil { return }
        if nread < 0 {
            stopReading()
            let code = Int32(nread)
            if let tls, code == UVError.eof.code, !tls.isHandshakeComplete {
                failed = true
                delegate?.streamConnected(self, error: .tls(TLSError(kind: .unexpectedEOF, message: "connection closed during TLS handshake")))
                return
            }
            if let tls, code == UVError.eof.code {
                // Decrypted bytes that arrived before the EOF still go out; then close_notify decides
                // between a clean end and a truncation.
                tls.notifyEOF()
                wantsRead = true
                deliverClear(tls)
                wantsRead = false
                return
            }
            delegate?.streamEnded(self, error: code == UVError.eof.code ? nil : .uv(UVError(code)))
            return
        }
        guard nread > 0, let base = buf?.pointee.base else { return }
        let bytes = UnsafeRawBufferPointer(start: base, count: nread)
        guard let tls else {
            delegate?.streamRead(self, bytes)
            return
        }
        tls.feedEncrypted(bytes)
        if !tls.isHandshakeComplete {
            if !driveHandshake(tls) { return }
        }
        deliverClear(tls)
    }

    /// Decrypts and hands plaintext to the delegate while it still wants to read.
    private func deliverClear(_ tls: TLSSession) {
        deliveringClear = true
        defer { deliveringClear = false }
        while wantsRead, !isClosed {
            switch tls.readClear(into: loop.clearBuffer) {
            case .bytes(let n):
                flushEncrypted(tls)
                delegate?.streamRead(self, UnsafeRawBufferPointer(rebasing: loop.clearBuffer[0..<n]))
            case .wantRead:
                flushEncrypted(tls)
                return
            case .closed:
                flushEncrypted(tls)
                stopReading()
                delegate?.streamEnded(self, error: nil)
                return
            case .failed(let error):
                stopReading()
                delegate?.streamEnded(self, error: .tls(error))
                return
            }
        }
    }

    // MARK: Writing

    package func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Writes plaintext (encrypting it first when the stream speaks TLS).
    package func write(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, !failed, bytes.count > 0 else { return }
        guard let tls else {
            rawWrite(bytes)
            return
        }
        do {
            try tls.writeClear(bytes)
        } catch {
            failed = true
            delegate?.streamEnded(self, error: .tls(error))
            return
        }
        flushEncrypted(tls)
    }

    /// Writes `head` then the `body` parts as one write (a `writev` of them all, or all encrypted then
    /// sent at once): a request head built in a scratch buffer and a body held elsewhere, maybe in
    /// pieces, go out without copying the body behind the head first (~120 KB per Claude Code request).
    /// What the kernel does not take at once is copied, as `write` copies it.
    package func write(_ head: UnsafeRawBufferPointer, _ body: UnsafeBufferPointer<UnsafeRawBufferPointer>) {
        guard !isClosed, !failed else { return }
        guard let tls else {
            rawWrite(head, body)
            return
        }
        do {
            try tls.writeClear(head)
            for part in body { try tls.writeClear(part) }
        } catch {
            failed = true
            delegate?.streamEnded(self, error: .tls(error))
            return
        }
        flushEncrypted(tls)
    }

    private func flushEncrypted(_ tls: TLSSession) {
        guard tls.hasPendingEncrypted else { return }
        loop.encryptScratch.removeAll(keepingCapacity: true)
        _ = tls.drainEncrypted(into: &loop.encryptScratch)
        loop.encryptScratch.withUnsafeBytes { rawWrite($0) }
    }

    private func rawWrite(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, let base = bytes.baseAddress else { return }
        var offset = 0
        if pendingWriteBytes == 0 {
            var buf = uv_buf_t(base: UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self)), len: bytes.count)
            let rc = uv_try_write(asStream(handle), &buf, 1)
            if rc == Int32(bytes.count) { return }
            if rc >= 0 {
                offset = Int(rc)
            } else if rc != Int32(UV_EAGAIN.rawValue) {
                failWrite(rc)
                return
            }
        }
        queueWrite(UnsafeRawBufferPointer(start: base + offset, count: bytes.count - offset))
    }

    /// `rawWrite` of a head and body parts: one `uv_try_write` of them all (empty ones left out), the
    /// rest copied into one queued block.
    private func rawWrite(_ head: UnsafeRawBufferPointer, _ body: UnsafeBufferPointer<UnsafeRawBufferPointer>) {
        guard !isClosed else { return }
        var total = head.count
        for part in body { total += part.count }
        guard total > 0 else { return }
        withUnsafeTemporaryAllocation(of: uv_buf_t.self, capacity: body.count + 1) { bufs in
            var count = 0
            for k in -1..<body.count {
                let part = k < 0 ? head : body[k]
                guard let base = part.baseAddress, part.count > 0 else { continue }
                bufs[count] = uv_buf_t(base: UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self)), len: part.count)
                count += 1
            }
            var taken = 0
            if pendingWriteBytes == 0 {
                let rc = uv_try_write(asStream(handle), bufs.baseAddress, UInt32(count))
                if rc == Int32(total) { return }
                if rc >= 0 {
                    taken = Int(rc)
                } else if rc != Int32(UV_EAGAIN.rawValue) {
                    failWrite(rc)
                    return
                }
            }
            queueWrite(UnsafeBufferPointer(rebasing: bufs[0..<count]), skipping: taken, total: total)
        }
    }

    /// Queues a copy of what `bufs` hold past their first `skipping` bytes in one block with its `uv_write_t`.
    private func queueWrite(_ bufs: UnsafeBufferPointer<uv_buf_t>, skipping: Int, total: Int) {
        let remaining = total - skipping
        guard remaining > 0 else { return }
        let reqSize = MemoryLayout<uv_write_t>.stride
        guard let block = malloc(reqSize + remaining) else { fatalError("out of memory") }
        var at = block + reqSize
        var skip = skipping
        for buf in bufs {
            guard let base = buf.base else { continue }
            let n = Int(buf.len)
            if skip >= n {
                skip -= n
                continue
            }
            at.copyMemory(from: base + skip, byteCount: n - skip)
            at += n - skip
            skip = 0
        }
        submit(block, remaining)
    }

    /// Queues a copy of `bytes` in one block with its `uv_write_t`.
    private func queueWrite(_ bytes: UnsafeRawBufferPointer) {
        let remaining = bytes.count
        guard remaining > 0, let base = bytes.baseAddress else { return }
        // One block: the uv_write_t followed by the bytes it writes.
        let reqSize = MemoryLayout<uv_write_t>.stride
        guard let block = malloc(reqSize + remaining) else { fatalError("out of memory") }
        (block + reqSize).copyMemory(from: base, byteCount: remaining)
        submit(block, remaining)
    }

    /// Writes the `remaining` bytes after the `uv_write_t` at the start of `block` (freed when written).
    private func submit(_ block: UnsafeMutableRawPointer, _ remaining: Int) {
        let reqSize = MemoryLayout<uv_write_t>.stride
        let req = block.bindMemory(to: uv_write_t.self, capacity: 1)
        let data = block + reqSize
        req.pointee.data = UnsafeMutableRawPointer(bitPattern: remaining)
        var buf = uv_buf_t(base: data.assumingMemoryBound(to: CChar.self), len: remaining)
        let rc = uv_write(req, asStream(handle), &buf, 1, tcpStreamWriteCallback)
        if rc < 0 {
            free(block)
            failWrite(rc)
            return
        }
        pendingWriteBytes += remaining
        if pendingWriteBytes >= highWatermark { aboveHigh = true }
    }

    private func failWrite(_ rc: Int32) {
        guard !failed else { return }
        failed = true
        // Report on the next tick: writes happen inside other callbacks.
        let t = Timer(loop: loop)
        t.start(after: 0) { [self] in
            t.close()
            if !isClosed { delegate?.streamEnded(self, error: .uv(UVError(rc))) }
        }
    }

    fileprivate func didWrite(_ count: Int, status: Int32) {
        pendingWriteBytes -= count
        if status < 0, status != UVError.canceled.code, !isClosed {
            failWrite(status)
            return
        }
        if aboveHigh, pendingWriteBytes <= lowWatermark, !isClosed {
            aboveHigh = false
            delegate?.streamWritable(self)
        }
    }

    // MARK: Closing

    /// Ends the connection gracefully after a `Connection: close` response: queued bytes are written,
    /// then a FIN (`uv_shutdown`), then whatever the peer still sends is read and dropped until it
    /// closes or `lingerMs` passes. Closing with unread input would make the kernel send a reset,
    /// and the peer could lose the response we just wrote (nginx's "lingering close").
    package func closeAfterFlush(lingerMs: UInt64 = 2_000) {
        guard !isClosed, !lingering else { return }
        if let tls {
            tls.shutdown()
            flushEncrypted(tls)
        }
        lingering = true
        delegate = nil
        let req = mallocStruct(uv_shutdown_t.self)
        // Lifetime: the request holds the stream until its callback.
        req.pointee.data = Unmanaged.passRetained(self).toOpaque()
        if uv_shutdown(req, asStream(handle), tcpShutdownCallback) < 0 {
            Unmanaged<TCPStream>.fromOpaque(req.pointee.data).release()
            free(req)
            close()
            return
        }
        wantsRead = true
        if !uvReading {
            uvReading = true
            uv_read_start(asStream(handle), tcpStreamAllocCallback, tcpStreamReadCallback)
        }
        armTimeout(lingerMs) { [self] in close() }
    }

    /// True after `closeAfterFlush`: reads are discarded until the peer closes.
    private var lingering = false

    /// Closes now; queued writes are cancelled. Safe to call twice.
    package func close() {
        guard !isClosed else { return }
        isClosed = true
        wantsRead = false
        dropTimeout()
        uv_close(asHandle(handle), tcpStreamCloseCallback)
    }

    /// Closes with a TCP reset (the peer sees ECONNRESET). Used by the mock upstream's fault injection.
    package func resetAndClose() {
        guard !isClosed else { return }
        isClosed = true
        wantsRead = false
        dropTimeout()
        if uv_tcp_close_reset(handle, tcpStreamCloseCallback) != 0 {
            uv_close(asHandle(handle), tcpStreamCloseCallback)
        }
    }

    fileprivate func didClose() {
        delegate = nil
        tls = nil
    }
}

private func tcpStreamAllocCallback(
    _ h: UnsafeMutablePointer<uv_handle_t>?, _ suggested: Int, _ buf: UnsafeMutablePointer<uv_buf_t>?
) {
    guard let h, let buf, let data = h.pointee.data else { return }
    let stream = Unmanaged<TCPStream>.fromOpaque(data).takeUnretainedValue()
    if stream.offersReadTargets, stream.tls == nil, let target = stream.delegate?.streamReadTarget(stream) {
        // An empty one makes libuv skip this read (UV_ENOBUFS, which `didRead` ignores).
        buf.pointee = uv_buf_t(base: target.baseAddress?.assumingMemoryBound(to: CChar.self), len: target.count)
        return
    }
    let rb = stream.loop.readBuffer
    buf.pointee = uv_buf_t(base: rb.baseAddress!.assumingMemoryBound(to: CChar.self), len: rb.count)
}

private func tcpStreamReadCallback(
    _ s: UnsafeMutablePointer<uv_stream_t>?, _ nread: Int, _ buf: UnsafePointer<uv_buf_t>?
) {
    guard let s, let data = s.pointee.data else { return }
    Unmanaged<TCPStream>.fromOpaque(data).takeUnretainedValue().didRead(nread, buf)
}

private func tcpStreamWriteCallback(_ req: UnsafeMutablePointer<uv_write_t>?, _ status: Int32) {
    guard let req else { return }
    let count = Int(bitPattern: req.pointee.data)
    let stream = req.pointee.handle.flatMap { $0.pointee.data }
    free(req)
    guard let stream else { return }
    Unmanaged<TCPStream>.fromOpaque(stream).takeUnretainedValue().didWrite(count, status: status)
}

private func tcpConnectCallback(_ req: UnsafeMutablePointer<uv_connect_t>?, _ status: Int32) {
    guard let req, let data = req.pointee.data else { return }
    // Lifetime: releases the retain taken in connect().
    let stream = Unmanaged<TCPStream>.fromOpaque(data).takeRetainedValue()
    free(req)
    stream.didConnect(status: status)
}

private func tcpShutdownCallback(_ req: UnsafeMutablePointer<uv_shutdown_t>?, _ status: Int32) {
    guard let req, let data = req.pointee.data else { return }
    // Lifetime: releases the retain taken in closeAfterFlush().
    let stream = Unmanaged<TCPStream>.fromOpaque(data).takeRetainedValue()
    free(req)
    if status < 0 { stream.close() }
}

private func tcpStreamCloseCallback(_ h: UnsafeMutablePointer<uv_handle_t>?) {
    guard let h, let data = h.pointee.data else { return }
    // Lifetime: releases the retain taken in init.
    let stream = Unmanaged<TCPStream>.fromOpaque(data).takeRetainedValue()
    stream.didClose()
}
