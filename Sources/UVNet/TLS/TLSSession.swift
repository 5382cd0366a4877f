internal import COpenSSL

/// One TLS connection as a pure engine over two OpenSSL memory BIOs; it never touches a socket.
///
/// The loop that owns the socket moves bytes through four doors (node's TLSWrap words):
/// **encIn** `feedEncrypted` (ciphertext read from the socket), **clearOut** `readClear`
/// (decrypted application data), **clearIn** `writeClear` (application data to encrypt) and
/// **encOut** `drainEncrypted` (ciphertext to write to the socket). One **cycle** is: feed what
/// the socket gave, advance the handshake or read clear data until it wants more, then drain
/// encOut and write it. Any SSL call may produce ciphertext (alerts, tickets, key updates), so the
/// caller drains after every call.
///
/// Discipline (from swift-nio-ssl): `ERR_clear_error()` before every SSL call, `SSL_get_error`
/// right after it; `WANT_READ`/`WANT_WRITE` mean "incomplete", not failure. Failures are sticky:
/// once a session failed, every later call reports the same error.
///
/// Loop-confined: not `Sendable`, used by one thread at a time.
package final class TLSSession {
    let ssl: OpaquePointer
    /// encIn: the read BIO OpenSSL decrypts from. Owned by `ssl`.
    private var encInBIO: OpaquePointer
    /// encOut: the write BIO OpenSSL encrypts into. Owned by `ssl`.
    private var encOutBIO: OpaquePointer
    private let context: TLSContext
    /// The name or address the client dialled, as used for verification and error messages.
    private let peerName: String?

    var isServerSide: Bool { context.isServer }
    var verifiesPeer: Bool { context.verifiesPeer }
    var peerNameForMessages: String { peerName ?? "" }

    private var handshakeDone = false
    private var failure: TLSError?
    private var receivedCloseNotify = false
    private var shutdownQueued = false
    private var eofNotified = false

    /// Client: `serverName` sets SNI (DNS names only, never IP literals) and turns on hostname or
    /// IP address verification. Server sessions take `nil`.
    package init(context: TLSContext, serverName: String?) throws(TLSError) {
        if context.isServer, serverName != nil {
            throw TLSError(kind: .configuration, message: "a server TLS session takes no server name")
        }
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.context) else {
            throw Self.setupError("cannot create a TLS session")
        }
        guard let encIn = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw Self.setupError("cannot create a memory BIO")
        }
        guard let encOut = BIO_new(BIO_s_mem()) else {
            BIO_free(encIn)
            SSL_free(ssl)
            throw Self.setupError("cannot create a memory BIO")
        }
        // Lifetime: SSL takes ownership of both BIOs here; SSL_free (in deinit) frees them.
        SSL_set_bio(ssl, encIn, encOut)
        // An empty encIn answers "retry" until the socket reports EOF (see `notifyEOF`).
        _ = COpenSSL_BIO_set_mem_eof_return(encIn, -1)

        var peerName: String? = nil
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName {
                do throws(TLSError) {
                    peerName = try Self.configurePeerName(serverName, ssl: ssl)
                } catch {
                    SSL_free(ssl)
                    throw error
                }
            }
        }
        self.ssl = ssl
        self.encInBIO = encIn
        self.encOutBIO = encOut
        self.context = context
        self.peerName = peerName
    }

    deinit {
        // Lifetime: frees the SSL object and the two memory BIOs it owns.
        SSL_free(ssl)
    }

    /// True once the handshake finished; application data may then flow both ways.
    package var isHandshakeComplete: Bool { handshakeDone }

    /// True when encOut holds ciphertext the caller has not drained yet.
    package var hasPendingEncrypted: Bool { BIO_ctrl_pending(encOutBIO) > 0 }

    /// The ALPN protocol both sides agreed on (`"http/1.1"`), or nil. Cold path: allocates.
    package var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>? = nil
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The negotiated protocol version, e.g. `"TLSv1.3"`. Cold path: allocates.
    package var protocolVersion: String {
        String(cString: SSL_get_version(ssl))
    }

    /// Server sessions: the SNI name the client sent, or nil (e.g. when it dialled an IP address).
    var requestedServerName: String? {
        guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    // MARK: encIn

    /// encIn: hands ciphertext read from the socket to OpenSSL. Memory BIOs accept everything.
    package func feedEncrypted(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let chunk = Int32(min(bytes.count - offset, Int(Int32.max)))
            let written = BIO_write(encInBIO, base + offset, chunk)
            // A memory BIO only refuses bytes when malloc fails; the bytes are then lost and the
            // record layer will report the stream as broken.
            guard written > 0 else { return }
            offset += Int(written)
        }
    }

    /// The socket reported EOF: from now on an empty encIn means end of stream, so a read that
    /// needs more ciphertext fails with `.unexpectedEOF` unless close_notify came first.
    package func notifyEOF() {
        eofNotified = true
        _ = COpenSSL_BIO_set_mem_eof_return(encInBIO, 0)
    }

    /// Gives back the memory the two BIOs grew to. A memory BIO keeps its high-water capacity
    /// (a 64 KiB socket read leaves 64 KiB behind), which adds up over thousands of idle pooled
    /// connections; call this when a connection goes idle (e.g. parked in the pool). It replaces
    /// both BIOs with fresh empty ones, and does nothing while either holds bytes or before the
    /// handshake completed. Not for hot paths: it allocates two small BIOs.
    package func releaseIdleBuffers() {
        guard handshakeDone, BIO_ctrl_pending(encInBIO) == 0, BIO_ctrl_pending(encOutBIO) == 0 else { return }
        guard let freshIn = BIO_new(BIO_s_mem()) else { return }
        guard let freshOut = BIO_new(BIO_s_mem()) else {
            BIO_free(freshIn)
            return
        }
        _ = COpenSSL_BIO_set_mem_eof_return(freshIn, eofNotified ? 0 : -1)
        // Lifetime: SSL frees each old BIO and owns the fresh one from here.
        SSL_set0_rbio(ssl, freshIn)
        SSL_set0_wbio(ssl, freshOut)
        encInBIO = freshIn
        encOutBIO = freshOut
    }

    // MARK: handshake

    /// Runs the handshake as far as the ciphertext fed so far allows. Drain encOut afterwards:
    /// each flight the handshake produces is waiting there, and after `.failed` it may hold the
    /// alert that tells the peer why (write it before closing the socket).
    package func advanceHandshake() -> TLSHandshakeResult {
        if let failure { return .failed(failure) }
        if handshakeDone { return .complete }
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            handshakeDone = true
            return .complete
        }
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsData
        default:
            let error = handshakeFailure(code)
            failure = error
            return .failed(error)
        }
    }

    // MARK: clearOut

    /// clearOut: decrypts as much as fits into `buffer`. Call it until it returns `.wantRead`:
    /// OpenSSL may hold more decrypted bytes than one buffer takes. An empty buffer reads nothing
    /// (`.bytes(0)`). Drives an unfinished handshake first.
    package func readClear(into buffer: UnsafeMutableRawBufferPointer) -> TLSReadResult {
        if let failure { return .failed(failure) }
        if receivedCloseNotify { return .closed }
        if !handshakeDone {
            switch advanceHandshake() {
            case .complete: break
            case .needsData: return .wantRead
            case .failed(let error): return .failed(error)
            }
        }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        var count = 0
        OpenSSLErrorQueue.clear()
        let result = SSL_read_ex(ssl, base, buffer.count, &count)
        if result == 1 { return .bytes(count) }
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantRead
        case SSL_ERROR_ZERO_RETURN:
            OpenSSLErrorQueue.clear()
            receivedCloseNotify = true
            return .closed
        default:
            let error = streamFailure(code)
            failure = error
            return .failed(error)
        }
    }

    // MARK: clearIn

    /// clearIn: encrypts all of `bytes` into encOut. Only after the handshake completed and before
    /// `shutdown()` (an empty write is always a no-op). Renegotiation is disabled, so a write never
    /// has to wait for a read.
    package func writeClear(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        if let failure { throw failure }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard handshakeDone else {
            throw TLSError(kind: .protocolError, message: "cannot write before the TLS handshake completed")
        }
        guard !shutdownQueued else {
            throw TLSError(kind: .protocolError, message: "cannot write after the TLS session was shut down")
        }
        var offset = 0
        while offset < bytes.count {
            var written = 0
            OpenSSLErrorQueue.clear()
            let result = SSL_write_ex(ssl, base + offset, bytes.count - offset, &written)
            if result == 1 {
                offset += written
                continue
            }
            let code = SSL_get_error(ssl, result)
            let error: TLSError
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE {
                OpenSSLErrorQueue.clear()
                error = TLSError(kind: .protocolError, message: "TLS write could not complete")
            } else {
                error = streamFailure(code)
            }
            failure = error
            throw error
        }
    }

    // MARK: encOut

    /// encOut: appends every pending ciphertext byte to `out` and returns how many. Grows the
    /// caller's array in place (amortized); no allocation of its own.
    @discardableResult
    package func drainEncrypted(into out: inout [UInt8]) -> Int {
        var total = 0
        while true {
            let pending = min(Int(BIO_ctrl_pending(encOutBIO)), Int(Int32.max))
            guard pending > 0 else { return total }
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: pending))
            let read = out.withUnsafeMutableBytes { raw -> Int32 in
                guard let base = raw.baseAddress else { return 0 }
                return BIO_read(encOutBIO, base + start, Int32(pending))
            }
            let taken = max(Int(read), 0)
            if taken < pending { out.removeLast(pending - taken) }
            guard taken > 0 else { return total }
            total += taken
        }
    }

    // MARK: shutdown

    /// Queues close_notify in encOut (drain and write it, then close the socket). Idempotent; does
    /// nothing on a failed or unfinished session, where no alert would be meaningful.
    package func shutdown() {
        guard !shutdownQueued else { return }
        shutdownQueued = true
        guard failure == nil, handshakeDone else { return }
        OpenSSLErrorQueue.clear()
        let result = SSL_shutdown(ssl)
        if result < 0 {
            _ = SSL_get_error(ssl, result)
            OpenSSLErrorQueue.clear()
        }
    }
}
