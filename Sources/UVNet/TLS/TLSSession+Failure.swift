internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turning OpenSSL's error state into a `TLSError` that says why, and setting up the peer name.
extension TLSSession {
    /// A failed handshake: first the verify result (the precise reason a certificate was refused),
    /// then EOF, then whatever the error queue holds (alerts from the peer, version mismatch, ...).
    func handshakeFailure(_ code: Int32) -> TLSError {
        let reason = OpenSSLErrorQueue.peekSSLReason()
        let queued = OpenSSLErrorQueue.drainMessage()
        let verifyResult = SSL_get_verify_result(ssl)
        if !isServerSide, verifiesPeer, verifyResult != X509_V_OK {
            return verificationError(verifyResult)
        }
        if reason == SSL_R_UNEXPECTED_EOF_WHILE_READING || (code == SSL_ERROR_SYSCALL && queued == nil) {
            return TLSError(kind: .unexpectedEOF, message: "connection closed during the TLS handshake")
        }
        if code == SSL_ERROR_ZERO_RETURN {
            return TLSError(kind: .unexpectedEOF, message: "peer closed the TLS session during the handshake")
        }
        var message = "TLS handshake failed: " + (queued ?? "error \(code)")
        if reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG {
            // What a plain-HTTP answer to a ClientHello looks like: name the likely cause.
            message += " (is the peer speaking TLS?)"
        }
        return TLSError(kind: .handshake, message: message)
    }

    /// A failed read or write after the handshake.
    func streamFailure(_ code: Int32) -> TLSError {
        let reason = OpenSSLErrorQueue.peekSSLReason()
        let queued = OpenSSLErrorQueue.drainMessage()
        if reason == SSL_R_UNEXPECTED_EOF_WHILE_READING || (code == SSL_ERROR_SYSCALL && queued == nil) {
            return TLSError(kind: .unexpectedEOF, message: "connection closed without TLS close_notify")
        }
        return TLSError(kind: .protocolError, message: "TLS error: " + (queued ?? "error \(code)"))
    }

    private func verificationError(_ result: Int) -> TLSError {
        let name = peerNameForMessages
        switch Int32(result) {
        case X509_V_ERR_HOSTNAME_MISMATCH:
            return TLSError(
                kind: .hostnameMismatch, message: "hostname mismatch: certificate is not valid for '\(name)'")
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return TLSError(
                kind: .hostnameMismatch, message: "IP address mismatch: certificate is not valid for '\(name)'")
        default:
            let text = X509_verify_cert_error_string(result).map { String(cString: $0) } ?? "error \(result)"
            return TLSError(kind: .verification, message: "certificate verify failed: " + text)
        }
    }

    /// Sets SNI and the name (or address) the certificate must match. Returns the normalized name.
    /// IP literals (optionally in brackets) get address verification and no SNI, as RFC 6066 says.
    static func configurePeerName(_ serverName: String, ssl: OpaquePointer) throws(TLSError) -> String {
        var name = Substring(serverName)
        if name.hasPrefix("["), name.hasSuffix("]") { name = name.dropFirst().dropLast() }
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty, !name.utf8.contains(0) else {
            throw TLSError(kind: .configuration, message: "invalid TLS server name '\(serverName)'")
        }
        let normalized = String(name)
        OpenSSLErrorQueue.clear()
        if isIPAddressLiteral(normalized) {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), normalized) == 1 else {
                throw setupError("cannot verify IP address '\(normalized)'")
            }
        } else {
            guard COpenSSL_SSL_set_tlsext_host_name(ssl, normalized) == 1 else {
                throw setupError("cannot set TLS server name '\(normalized)'")
            }
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, normalized) == 1 else {
                throw setupError("cannot verify host name '\(normalized)'")
            }
        }
        return normalized
    }

    static func isIPAddressLiteral(_ name: String) -> Bool {
        var storage = in6_addr()
        return withUnsafeMutableBytes(of: &storage) { raw in
            inet_pton(AF_INET, name, raw.baseAddress) == 1 || inet_pton(AF_INET6, name, raw.baseAddress) == 1
        }
    }

    static func setupError(_ what: String) -> TLSError {
        if let reason = OpenSSLErrorQueue.drainMessage() {
            return TLSError(kind: .configuration, message: what + ": " + reason)
        }
        return TLSError(kind: .configuration, message: what)
    }
}
