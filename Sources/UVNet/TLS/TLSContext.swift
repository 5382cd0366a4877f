internal import COpenSSL

/// An OpenSSL `SSL_CTX` configured once, then shared by every connection of a worker.
///
/// OpenSSL allows concurrent `SSL_new` on one context as long as nobody reconfigures it, so the
/// context is immutable after its factory returns; that is what makes `@unchecked Sendable` true.
/// Clients verify the peer against the system CA store plus an optional PEM `caFile`; verification
/// is off only when a caller explicitly passes `insecureSkipVerify: true`.
package final class TLSContext: @unchecked Sendable {
    /// The highest protocol version a context will speak. Production code always takes the
    /// default (TLS 1.3); tests cap servers at TLS 1.2 to exercise that handshake too.
    enum MaximumVersion: Sendable {
        case tls12
        case tls13
    }

    let context: OpaquePointer
    let isServer: Bool
    let verifiesPeer: Bool

    private init(context: OpaquePointer, isServer: Bool, verifiesPeer: Bool) {
        self.context = context
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// A client context: TLS 1.2 or newer, ALPN `http/1.1`, peer verification against the system
    /// CA store plus `caFile` (PEM, may hold several certificates).
    package static func client(caFile: String?, insecureSkipVerify: Bool = false) throws(TLSError) -> TLSContext {
        let context = try makeContext(method: TLS_client_method(), maximumVersion: .tls13)
        do throws(TLSError) {
            if insecureSkipVerify {
                SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            } else {
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
                OpenSSLErrorQueue.clear()
                guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw configurationError("cannot load the system CA store")
                }
            }
            if let caFile {
                // Loaded even when verification is off, so a bad path is reported either way.
                OpenSSLErrorQueue.clear()
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    throw configurationError("cannot load CA file '\(caFile)'")
                }
            }
            // ALPN wire format: each protocol name prefixed by its length.
            let protocols: [UInt8] = [8] + Array("http/1.1".utf8)
            guard SSL_CTX_set_alpn_protos(context, protocols, UInt32(protocols.count)) == 0 else {
                throw configurationError("cannot set ALPN protocols")
            }
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        return TLSContext(context: context, isServer: false, verifiesPeer: !insecureSkipVerify)
    }

    /// A server context (for the mock upstream and tests): a PEM certificate chain (leaf first)
    /// and its PEM private key. Selects ALPN `http/1.1` when the client offers it.
    package static func server(certificateFile: String, keyFile: String) throws(TLSError) -> TLSContext {
        try server(certificateFile: certificateFile, keyFile: keyFile, maximumVersion: .tls13)
    }

    static func server(
        certificateFile: String, keyFile: String, maximumVersion: MaximumVersion
    ) throws(TLSError) -> TLSContext {
        let context = try makeContext(method: TLS_server_method(), maximumVersion: maximumVersion)
        do throws(TLSError) {
            OpenSSLErrorQueue.clear()
            guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
                throw configurationError("cannot load certificate file '\(certificateFile)'")
            }
            guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
                throw configurationError("cannot load key file '\(keyFile)'")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw configurationError("key file '\(keyFile)' does not match certificate '\(certificateFile)'")
            }
            SSL_CTX_set_alpn_select_cb(context, tlsContextSelectALPNCallback, nil)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        return TLSContext(context: context, isServer: true, verifiesPeer: false)
    }

    /// The settings both roles share: version floor (and ceiling), no renegotiation (a session
    /// then never needs to read in order to write), and buffers released while idle, which matters
    /// with thousands of mostly idle pooled connections.
    private static func makeContext(
        method: OpaquePointer?, maximumVersion: MaximumVersion
    ) throws(TLSError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(method) else {
            throw configurationError("cannot create an SSL context")
        }
        let ceiling = maximumVersion == .tls12 ? TLS1_2_VERSION : TLS1_3_VERSION
        guard COpenSSL_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1,
            COpenSSL_SSL_CTX_set_max_proto_version(context, ceiling) == 1
        else {
            SSL_CTX_free(context)
            throw configurationError("cannot set the protocol versions")
        }
        SSL_CTX_set_options(context, COpenSSL_SSL_OP_NO_RENEGOTIATION() | COpenSSL_SSL_OP_NO_COMPRESSION())
        _ = COpenSSL_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
        return context
    }

    private static func configurationError(_ what: String) -> TLSError {
        if let reason = OpenSSLErrorQueue.drainMessage() {
            return TLSError(kind: .configuration, message: what + ": " + reason)
        }
        return TLSError(kind: .configuration, message: what)
    }
}

/// ALPN selection for server contexts: pick `http/1.1` from the client's list, or carry on
/// without ALPN (`NOACK`) when the client did not offer it. `out` must point into `input` or
/// static memory; it points into `input`.
private func tlsContextSelectALPNCallback(
    _ ssl: OpaquePointer?,
    _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?,
    _ input: UnsafePointer<UInt8>?,
    _ inputLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let out, let outLength, let input else { return SSL_TLSEXT_ERR_NOACK }
    let wanted = "http/1.1".utf8
    let list = UnsafeBufferPointer(start: input, count: Int(inputLength))
    var index = 0
    while index < list.count {
        let length = Int(list[index])
        let start = index + 1
        guard start + length <= list.count else { break }
        if length == wanted.count, list[start..<start + length].elementsEqual(wanted) {
            out.pointee = input + start
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_NOACK
}
