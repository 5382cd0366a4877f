import Foundation
import XCTest

@testable import UVProxy
@testable import UVNet

/// Memory held by idle sessions: what thousands of pooled upstream connections cost.
final class TLSIdleMemoryTests: XCTestCase {
    private func connectedPair() throws -> TLSPair {
        let pki = try TestPKI.load()
        let server = try TLSContext.server(certificateFile: pki.serverCertificate, keyFile: pki.serverKey)
        let client = try TLSContext.client(caFile: pki.caFile)
        let pair = try TLSPair(clientContext: client, serverContext: server, serverName: "localhost")
        pair.run()
        return pair
    }

    private func residentBytes() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testReleaseIdleBuffersKeepsTheSessionWorking() throws {
        let pair = try connectedPair()
        pair.write(Array(repeating: 7, count: 50_000), from: pair.server)
        pair.run(chunkSize: 65536)
        pair.client.session.releaseIdleBuffers()
        pair.server.session.releaseIdleBuffers()
        pair.write(Array("next request".utf8), from: pair.client)
        pair.write(Array("next response".utf8), from: pair.server)
        pair.run()
        XCTAssertEqual(pair.server.received, Array("next request".utf8))
        XCTAssertEqual(pair.client.received.suffix(13), Array("next response".utf8))
        XCTAssertEqual(pair.client.received.count, 50_013)
        XCTAssertNil(pair.client.failure)
        XCTAssertNil(pair.server.failure)
    }

    func testReleaseIdleBuffersLeavesPendingBytesAlone() throws {
        let pair = try connectedPair()
        pair.write(Array("queued".utf8), from: pair.client)
        pair.client.session.releaseIdleBuffers()  // encOut holds a record: must not be dropped
        XCTAssertTrue(pair.client.session.hasPendingEncrypted)
        var ciphertext: [UInt8] = []
        pair.client.session.drainEncrypted(into: &ciphertext)
        // Unread ciphertext in the server's encIn must survive too.
        ciphertext.withUnsafeBytes { pair.server.session.feedEncrypted($0) }
        pair.server.session.releaseIdleBuffers()
        pair.cycle(pair.server)
        XCTAssertEqual(pair.server.received, Array("queued".utf8))
    }

    func testReleaseIdleBuffersKeepsEOFSemantics() throws {
        let pair = try connectedPair()
        pair.client.session.notifyEOF()
        pair.client.session.releaseIdleBuffers()
        var buffer = [UInt8](repeating: 0, count: 16)
        guard case .failed(let error) = buffer.withUnsafeMutableBytes({ pair.client.session.readClear(into: $0) })
        else { return XCTFail("an EOF must still be reported after the BIOs were replaced") }
        XCTAssertEqual(error.kind, .unexpectedEOF)
    }

    /// 200 connected pairs that each moved a 30 KB response, then went idle. Measured on this
    /// machine: about 180 KB per pair with default OpenSSL buffers, 113 KB with
    /// SSL_MODE_RELEASE_BUFFERS, 37 KB once `releaseIdleBuffers()` also dropped the BIO capacity.
    func testIdlePairsStaySmall() throws {
        let pki = try TestPKI.load()
        let server = try TLSContext.server(certificateFile: pki.serverCertificate, keyFile: pki.serverKey)
        let client = try TLSContext.client(caFile: pki.caFile)
        let count = 200
        var sessions: [TLSSession] = []
        sessions.reserveCapacity(2 * count)
        let before = residentBytes()
        for _ in 0..<count {
            let pair = try TLSPair(clientContext: client, serverContext: server, serverName: "localhost")
            pair.run()
            pair.write(Array(repeating: 1, count: 3000), from: pair.client)
            pair.write(Array(repeating: 2, count: 30_000), from: pair.server)
            pair.run(chunkSize: 65536)
            XCTAssertEqual(pair.client.received.count, 30_000)
            pair.client.session.releaseIdleBuffers()
            pair.server.session.releaseIdleBuffers()
            sessions.append(pair.client.session)
            sessions.append(pair.server.session)
        }
        let perPair = (residentBytes() - before) / count
        XCTAssertLessThan(perPair, 80_000, "idle TLS pair costs \(perPair) bytes")
        withExtendedLifetime(sessions) {}
    }
}
