/// Why a TLS context or session failed, in words fit for a 502 body and a log line.
///
/// The message is bounded and never contains key material: it is built from OpenSSL's reason
/// strings and the verify result, e.g. "certificate verify failed: unable to get local issuer
/// certificate" or "hostname mismatch: certificate is not valid for 'foo.example'".
package struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// A context or session could not be set up (unreadable CA file, bad key, ...).
        case configuration
        /// The handshake failed for a reason other than certificate verification.
        case handshake
        /// The peer's certificate chain did not verify (unknown CA, expired, ...).
        case verification
        /// The certificate is valid but not for the name or IP address we dialled.
        case hostnameMismatch
        /// The transport ended without a close_notify (truncation is possible).
        case unexpectedEOF
        /// Bad records, alerts or API misuse after the handshake.
        case protocolError
    }

    package var kind: Kind
    package var message: String

    package init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }
}

/// The outcome of one `TLSSession.advanceHandshake()` cycle.
package enum TLSHandshakeResult: Sendable, Equatable {
    /// The handshake finished; application data may flow.
    case complete
    /// OpenSSL consumed every ciphertext byte it had and wants more from the socket.
    case needsData
    /// The handshake failed for good; the session is dead (the error is sticky).
    case failed(TLSError)
}

/// The outcome of one `TLSSession.readClear(into:)` call (clearOut).
package enum TLSReadResult: Sendable, Equatable {
    /// This many cleartext bytes were written to the front of the caller's buffer.
    case bytes(Int)
    /// No cleartext is available until more ciphertext arrives.
    case wantRead
    /// The peer sent close_notify: a clean end of stream.
    case closed
    /// The stream is broken (bad record, alert, or EOF without close_notify); sticky.
    case failed(TLSError)
}
