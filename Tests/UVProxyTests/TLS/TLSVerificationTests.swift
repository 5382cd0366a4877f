import COpenSSL
import XCTest

@testable import UVProxy
@testable import UVNet

/// Certificate and hostname verification, and context configuration errors.
final class TLSVerificationTests: XCTestCase {
    private func handshake(
        caFile: String?, insecure: Bool = false, certificate: String? = nil, serverName: String?
    ) throws -> TLSPair {
        let pki = try TestPKI.load()
        let server = try TLSContext.server(
            certificateFile: certificate ?? pki.serverCertificate, keyFile: pki.serverKey)
        let client = try TLSContext.client(caFile: caFile, insecureSkipVerify: insecure)
        let pair = try TLSPair(clientContext: client, serverContext: server, serverName: serverName)
        pair.run()
        return pair
    }

    private func assertClientFailure(
        _ pair: TLSPair, kind: TLSError.Kind, message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard case .failed(let error) = pair.client.handshake else {
            return XCTFail("client handshake: \(pair.client.handshake)", file: file, line: line)
        }
        XCTAssertEqual(error.kind, kind, file: file, line: line)
        XCTAssertEqual(error.message, message, file: file, line: line)
        XCTAssertEqual("\(error)", message, file: file, line: line)
        XCTAssertFalse(pair.client.session.isHandshakeComplete, file: file, line: line)
        // The client told the server why (an alert), so the server failed too, not hung.
        guard case .failed(let serverError) = pair.server.handshake else {
            return XCTFail("server handshake: \(pair.server.handshake)", file: file, line: line)
        }
        XCTAssertEqual(serverError.kind, .handshake, file: file, line: line)
        XCTAssertTrue(serverError.message.contains("alert"), serverError.message, file: file, line: line)
        // Failures are sticky, and reading or writing reports the same error.
        XCTAssertEqual(pair.client.session.advanceHandshake(), .failed(error), file: file, line: line)
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(
            buffer.withUnsafeMutableBytes { pair.client.session.readClear(into: $0) }, .failed(error),
            file: file, line: line)
        XCTAssertThrowsError(try buffer.withUnsafeBytes { try pair.client.session.writeClear($0) }) {
            XCTAssertEqual($0 as? TLSError, error, file: file, line: line)
        }
        // Nothing is left on this thread's OpenSSL error queue for the next connection to trip on.
        XCTAssertEqual(ERR_peek_error(), 0, file: file, line: line)
    }

    func testUnrelatedCAFailsVerificationWithReason() throws {
        let pki = try TestPKI.load()
        let pair = try handshake(caFile: pki.otherCAFile, serverName: "localhost")
        assertClientFailure(
            pair, kind: .verification, message: "certificate verify failed: unable to get local issuer certificate")
    }

    func testSystemStoreAloneDoesNotTrustTestCA() throws {
        let pair = try handshake(caFile: nil, serverName: "localhost")
        assertClientFailure(
            pair, kind: .verification, message: "certificate verify failed: unable to get local issuer certificate")
    }

    func testWrongHostnameIsAHostnameMismatch() throws {
        let pki = try TestPKI.load()
        let pair = try handshake(caFile: pki.caFile, serverName: "foo.example")
        assertClientFailure(
            pair, kind: .hostnameMismatch, message: "hostname mismatch: certificate is not valid for 'foo.example'")
        XCTAssertEqual(pair.server.session.requestedServerName, "foo.example")
    }

    func testSubdomainOfCertifiedNameIsAMismatch() throws {
        let pki = try TestPKI.load()
        let pair = try handshake(caFile: pki.caFile, serverName: "api.localhost")
        assertClientFailure(
            pair, kind: .hostnameMismatch, message: "hostname mismatch: certificate is not valid for 'api.localhost'")
    }

    func testExpiredCertificateFailsVerification() throws {
        let pki = try TestPKI.load()
        let pair = try handshake(caFile: pki.caFile, certificate: pki.expiredCertificate, serverName: "localhost")
        assertClientFailure(pair, kind: .verification, message: "certificate verify failed: certificate has expired")
    }

    func testIPAddressIsVerifiedAndSendsNoSNI() throws {
        let pki = try TestPKI.load()
        let good = try handshake(caFile: pki.caFile, serverName: "127.0.0.1")
        XCTAssertEqual(good.client.handshake, .complete)
        XCTAssertEqual(good.server.handshake, .complete)
        XCTAssertNil(good.server.session.requestedServerName, "SNI must not carry an IP literal")

        let bad = try handshake(caFile: pki.caFile, serverName: "127.0.0.2")
        assertClientFailure(
            bad, kind: .hostnameMismatch, message: "IP address mismatch: certificate is not valid for '127.0.0.2'")
        XCTAssertNil(bad.server.session.requestedServerName)

        let v6 = try handshake(caFile: pki.caFile, serverName: "[::1]")
        assertClientFailure(
            v6, kind: .hostnameMismatch, message: "IP address mismatch: certificate is not valid for '::1'")
    }

    func testTrailingDotIsIgnored() throws {
        let pki = try TestPKI.load()
        let pair = try handshake(caFile: pki.caFile, serverName: "localhost.")
        XCTAssertEqual(pair.client.handshake, .complete)
        XCTAssertEqual(pair.server.session.requestedServerName, "localhost")
    }

    func testInsecureSkipVerifyAcceptsWhatVerificationRefuses() throws {
        let pki = try TestPKI.load()
        let cases: [(ca: String?, certificate: String, name: String?)] = [
            (pki.otherCAFile, pki.serverCertificate, "localhost"),
            (nil, pki.serverCertificate, "foo.example"),
            (nil, pki.expiredCertificate, "localhost"),
            (nil, pki.serverCertificate, nil),
        ]
        for (ca, certificate, name) in cases {
            let pair = try handshake(caFile: ca, insecure: true, certificate: certificate, serverName: name)
            XCTAssertEqual(pair.client.handshake, .complete, "\(name ?? "nil")")
            XCTAssertEqual(pair.server.handshake, .complete, "\(name ?? "nil")")
            pair.write(Array("ok".utf8), from: pair.client)
            pair.run()
            XCTAssertEqual(pair.server.received, Array("ok".utf8))
        }
    }

    func testVerificationIsOnByDefault() throws {
        // No server name: the chain is still verified.
        let pki = try TestPKI.load()
        let pair = try handshake(caFile: pki.otherCAFile, serverName: nil)
        assertClientFailure(
            pair, kind: .verification, message: "certificate verify failed: unable to get local issuer certificate")
        let trusted = try handshake(caFile: pki.caFile, serverName: nil)
        XCTAssertEqual(trusted.client.handshake, .complete)
    }

    // MARK: configuration errors

    private func assertConfigurationError(
        _ mentioning: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? TLSError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, .configuration, file: file, line: line)
            XCTAssertTrue(error.message.contains(mentioning), error.message, file: file, line: line)
        }
        XCTAssertEqual(ERR_peek_error(), 0, file: file, line: line)
    }

    func testMissingCAFileIsAConfigurationError() throws {
        let pki = try TestPKI.load()
        let missing = pki.directory + "/no-such-ca.pem"
        assertConfigurationError("cannot load CA file '\(missing)'") { _ = try TLSContext.client(caFile: missing) }
        assertConfigurationError("no-such-ca.pem") {
            _ = try TLSContext.client(caFile: missing, insecureSkipVerify: true)
        }
    }

    func testCAFileWithoutCertificatesIsAConfigurationError() throws {
        let pki = try TestPKI.load()
        assertConfigurationError("cannot load CA file") { _ = try TLSContext.client(caFile: pki.notACertificate) }
    }

    func testServerConfigurationErrors() throws {
        let pki = try TestPKI.load()
        assertConfigurationError("cannot load certificate file") {
            _ = try TLSContext.server(certificateFile: pki.directory + "/missing.pem", keyFile: pki.serverKey)
        }
        assertConfigurationError("cannot load certificate file") {
            _ = try TLSContext.server(certificateFile: pki.notACertificate, keyFile: pki.serverKey)
        }
        assertConfigurationError("cannot load key file") {
            _ = try TLSContext.server(certificateFile: pki.serverCertificate, keyFile: pki.notACertificate)
        }
        assertConfigurationError("key values mismatch") {
            _ = try TLSContext.server(certificateFile: pki.serverCertificate, keyFile: pki.directory + "/ca.key")
        }
    }

    func testSessionNameErrors() throws {
        let pki = try TestPKI.load()
        let client = try TLSContext.client(caFile: pki.caFile)
        let server = try TLSContext.server(certificateFile: pki.serverCertificate, keyFile: pki.serverKey)
        assertConfigurationError("takes no server name") { _ = try TLSSession(context: server, serverName: "x") }
        assertConfigurationError("invalid TLS server name") { _ = try TLSSession(context: client, serverName: "") }
        assertConfigurationError("invalid TLS server name") { _ = try TLSSession(context: client, serverName: "a\0b") }
        XCTAssertTrue(TLSSession.isIPAddressLiteral("10.1.2.3"))
        XCTAssertTrue(TLSSession.isIPAddressLiteral("fe80::1"))
        XCTAssertFalse(TLSSession.isIPAddressLiteral("ai-gateway.example.net"))
        XCTAssertFalse(TLSSession.isIPAddressLiteral("10.1.2"))
    }
}
