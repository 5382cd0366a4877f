import COpenSSL
import XCTest

@testable import UVProxy
@testable import UVNet

/// How a stream ends: close_notify, EOF without it, truncation, garbage and corruption.
final class TLSStreamEndTests: XCTestCase {
    private func connectedPair(maximumVersion: TLSContext.MaximumVersion = .tls13) throws -> TLSPair {
        let pki = try TestPKI.load()
        let server = try TLSContext.server(
            certificateFile: pki.serverCertificate, keyFile: pki.serverKey, maximumVersion: maximumVersion)
        let client = try TLSContext.client(caFile: pki.caFile)
        let pair = try TLSPair(clientContext: client, serverContext: server, serverName: "localhost")
        pair.run()
        XCTAssertEqual(pair.client.handshake, .complete)
        XCTAssertEqual(pair.server.handshake, .complete)
        return pair
    }

    private func read(_ session: TLSSession) -> TLSReadResult {
        var buffer = [UInt8](repeating: 0, count: 1024)
        return buffer.withUnsafeMutableBytes { session.readClear(into: $0) }
    }

    private func assertFailed(
        _ result: TLSReadResult, _ kind: TLSError.Kind, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard case .failed(let error) = result else { return XCTFail("\(result)", file: file, line: line) }
        XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
        XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        XCTAssertEqual(ERR_peek_error(), 0, file: file, line: line)
    }

    func testCloseNotifyEndsTheStreamCleanly() throws {
        for version in [TLSContext.MaximumVersion.tls13, .tls12] {
            let pair = try connectedPair(maximumVersion: version)
            pair.write(Array("last words".utf8), from: pair.server)
            pair.server.session.shutdown()
            pair.server.session.shutdown()  // idempotent: one close_notify
            XCTAssertThrowsError(try [UInt8(1)].withUnsafeBytes { try pair.server.session.writeClear($0) })
            pair.run()
            XCTAssertEqual(pair.client.received, Array("last words".utf8), "data before close_notify arrives")
            XCTAssertEqual(pair.client.readEnd, .closed)
            XCTAssertEqual(read(pair.client.session), .closed, "closed is sticky")
            // An EOF after close_notify is the normal end, not a truncation.
            pair.client.session.notifyEOF()
            XCTAssertEqual(read(pair.client.session), .closed)
            // The client may still answer with its own close_notify.
            pair.client.session.shutdown()
            pair.run()
            XCTAssertEqual(pair.server.readEnd, .closed)
        }
    }

    func testEOFWithoutCloseNotifyIsUnexpectedAfterBufferedData() throws {
        let pair = try connectedPair()
        pair.write(Array("partial body".utf8), from: pair.server)
        var ciphertext: [UInt8] = []
        pair.server.session.drainEncrypted(into: &ciphertext)
        ciphertext.withUnsafeBytes { pair.client.session.feedEncrypted($0) }
        pair.client.session.notifyEOF()
        XCTAssertEqual(read(pair.client.session), .bytes(12), "bytes that arrived before EOF are delivered")
        assertFailed(read(pair.client.session), .unexpectedEOF)
        assertFailed(read(pair.client.session), .unexpectedEOF)
    }

    func testTruncatedRecordThenEOFIsUnexpected() throws {
        let pair = try connectedPair()
        pair.write(Array(repeating: 0x61, count: 300), from: pair.server)
        var ciphertext: [UInt8] = []
        pair.server.session.drainEncrypted(into: &ciphertext)
        ciphertext.dropLast(5).withUnsafeBytes { pair.client.session.feedEncrypted($0) }
        XCTAssertEqual(read(pair.client.session), .wantRead, "a partial record is incomplete, not an error")
        pair.client.session.notifyEOF()
        assertFailed(read(pair.client.session), .unexpectedEOF)
    }

    func testEOFDuringHandshakeIsUnexpected() throws {
        let pki = try TestPKI.load()
        let client = try TLSSession(context: TLSContext.client(caFile: pki.caFile), serverName: "localhost")
        XCTAssertEqual(client.advanceHandshake(), .needsData)
        var hello: [UInt8] = []
        client.drainEncrypted(into: &hello)
        client.notifyEOF()
        guard case .failed(let error) = client.advanceHandshake() else { return XCTFail("expected failure") }
        XCTAssertEqual(error.kind, .unexpectedEOF)
        XCTAssertEqual(error.message, "connection closed during the TLS handshake")
        XCTAssertEqual(ERR_peek_error(), 0)
    }

    func testPlaintextHTTPAnswerDuringHandshakeFails() throws {
        let pki = try TestPKI.load()
        let client = try TLSSession(context: TLSContext.client(caFile: pki.caFile), serverName: "localhost")
        XCTAssertEqual(client.advanceHandshake(), .needsData)
        var out: [UInt8] = []
        client.drainEncrypted(into: &out)
        Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8).withUnsafeBytes { client.feedEncrypted($0) }
        guard case .failed(let error) = client.advanceHandshake() else { return XCTFail("expected failure") }
        XCTAssertEqual(error.kind, .handshake)
        XCTAssertEqual(error.message, "TLS handshake failed: wrong version number (is the peer speaking TLS?)")
        XCTAssertEqual(ERR_peek_error(), 0)
        var buffer = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { client.readClear(into: $0) }, .failed(error))
    }

    func testGarbageAfterHandshakeIsAProtocolError() throws {
        let pair = try connectedPair()
        let garbage: [UInt8] = [0x17, 0x03, 0x03, 0x00, 0x20] + Array(repeating: 0xAB, count: 32)
        garbage.withUnsafeBytes { pair.server.session.feedEncrypted($0) }
        let result = read(pair.server.session)
        assertFailed(result, .protocolError)
        // Sticky everywhere: reads, writes, the handshake view.
        XCTAssertEqual(read(pair.server.session), result)
        XCTAssertThrowsError(try [UInt8(1)].withUnsafeBytes { try pair.server.session.writeClear($0) }) {
            XCTAssertEqual(($0 as? TLSError)?.kind, .protocolError)
        }
        // The server queued a fatal alert for the peer, and the peer learns why.
        XCTAssertTrue(pair.server.session.hasPendingEncrypted)
        var alert: [UInt8] = []
        pair.server.session.drainEncrypted(into: &alert)
        alert.withUnsafeBytes { pair.client.session.feedEncrypted($0) }
        assertFailed(read(pair.client.session), .protocolError)
    }

    func testCorruptedRecordIsAProtocolError() throws {
        for version in [TLSContext.MaximumVersion.tls13, .tls12] {
            let pair = try connectedPair(maximumVersion: version)
            pair.write(Array(repeating: 0x62, count: 100), from: pair.client)
            var ciphertext: [UInt8] = []
            pair.client.session.drainEncrypted(into: &ciphertext)
            ciphertext[ciphertext.count / 2] ^= 0x01
            ciphertext.withUnsafeBytes { pair.server.session.feedEncrypted($0) }
            assertFailed(read(pair.server.session), .protocolError)
        }
    }

    func testTrailingGarbageAfterCloseNotifyIsIgnored() throws {
        let pair = try connectedPair()
        pair.client.session.shutdown()
        var ciphertext: [UInt8] = []
        pair.client.session.drainEncrypted(into: &ciphertext)
        ciphertext += Array("junk".utf8)
        ciphertext.withUnsafeBytes { pair.server.session.feedEncrypted($0) }
        XCTAssertEqual(read(pair.server.session), .closed)
        XCTAssertEqual(read(pair.server.session), .closed)
    }

    func testShutdownBeforeHandshakeSendsNothing() throws {
        let pki = try TestPKI.load()
        let client = try TLSSession(context: TLSContext.client(caFile: pki.caFile), serverName: "localhost")
        client.shutdown()
        XCTAssertFalse(client.hasPendingEncrypted)
        XCTAssertEqual(ERR_peek_error(), 0)
    }
}
