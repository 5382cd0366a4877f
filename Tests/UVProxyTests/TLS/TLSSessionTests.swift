import Foundation
import XCTest

@testable import UVProxy
@testable import UVNet

/// Handshake and data transfer between two in-memory sessions, whole and incremental.
final class TLSSessionTests: XCTestCase {
    private func makePair(
        serverName: String? = "localhost", maximumVersion: TLSContext.MaximumVersion = .tls13
    ) throws -> TLSPair {
        let pki = try TestPKI.load()
        let server = try TLSContext.server(
            certificateFile: pki.serverCertificate, keyFile: pki.serverKey, maximumVersion: maximumVersion)
        let client = try TLSContext.client(caFile: pki.caFile)
        return try TLSPair(clientContext: client, serverContext: server, serverName: serverName)
    }

    private func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    func testHandshakeNegotiatesTLS13AndHTTP11AndSendsSNI() throws {
        let pair = try makePair()
        XCTAssertFalse(pair.client.session.isHandshakeComplete)
        pair.run()
        XCTAssertEqual(pair.client.handshake, .complete)
        XCTAssertEqual(pair.server.handshake, .complete)
        XCTAssertTrue(pair.client.session.isHandshakeComplete)
        XCTAssertTrue(pair.server.session.isHandshakeComplete)
        XCTAssertEqual(pair.client.session.protocolVersion, "TLSv1.3")
        XCTAssertEqual(pair.client.session.negotiatedProtocol, "http/1.1")
        XCTAssertEqual(pair.server.session.negotiatedProtocol, "http/1.1")
        XCTAssertEqual(pair.server.session.requestedServerName, "localhost")
        XCTAssertFalse(pair.client.session.hasPendingEncrypted)
        XCTAssertFalse(pair.server.session.hasPendingEncrypted)
    }

    func testRoundTripBothWays() throws {
        let pair = try makePair()
        pair.run()
        let request = Array("POST /v1/chat HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}".utf8)
        pair.write(request, from: pair.client)
        XCTAssertTrue(pair.client.session.hasPendingEncrypted)
        pair.run()
        XCTAssertEqual(pair.server.received, request)
        let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
        pair.write(response, from: pair.server)
        pair.run()
        XCTAssertEqual(pair.client.received, response)
        XCTAssertNil(pair.client.failure)
        XCTAssertNil(pair.server.failure)
    }

    func testTLS12HandshakeAndRoundTrip() throws {
        let pair = try makePair(maximumVersion: .tls12)
        pair.run()
        XCTAssertEqual(pair.client.handshake, .complete)
        XCTAssertEqual(pair.server.handshake, .complete)
        XCTAssertEqual(pair.client.session.protocolVersion, "TLSv1.2")
        XCTAssertEqual(pair.client.session.negotiatedProtocol, "http/1.1")
        pair.write(Array("ping".utf8), from: pair.client)
        pair.write(Array("pong".utf8), from: pair.server)
        pair.run()
        XCTAssertEqual(pair.server.received, Array("ping".utf8))
        XCTAssertEqual(pair.client.received, Array("pong".utf8))
    }

    func testOneMebibyteEachWay() throws {
        let pair = try makePair()
        pair.run()
        let up = pattern(1 << 20, seed: 7)
        let down = pattern(1 << 20, seed: 91)
        pair.write(up, from: pair.client)
        pair.write(down, from: pair.server)
        // Real sockets deliver in pieces: 64 KiB chunks, like a libuv read buffer.
        pair.run(chunkSize: 65536)
        XCTAssertEqual(pair.server.received.count, up.count)
        XCTAssertEqual(pair.client.received.count, down.count)
        XCTAssertTrue(pair.server.received == up)
        XCTAssertTrue(pair.client.received == down)
    }

    func testHandshakeAndDataFedOneByteAtATime() throws {
        for version in [TLSContext.MaximumVersion.tls13, .tls12] {
            let pair = try makePair(maximumVersion: version)
            pair.write(Array(), from: pair.client)  // an empty write before anything is a no-op
            pair.run(chunkSize: 1)
            XCTAssertEqual(pair.client.handshake, .complete, "\(version)")
            XCTAssertEqual(pair.server.handshake, .complete, "\(version)")
            // Every partial flight was answered with needsData, not an error.
            XCTAssertGreaterThan(pair.client.needsDataCount, 100, "\(version)")
            XCTAssertGreaterThan(pair.server.needsDataCount, 100, "\(version)")
            let message = pattern(5000, seed: 3)
            pair.write(message, from: pair.client)
            pair.write(message.reversed(), from: pair.server)
            pair.run(chunkSize: 1)
            XCTAssertEqual(pair.server.received, message, "\(version)")
            XCTAssertEqual(pair.client.received, message.reversed(), "\(version)")
        }
    }

    func testRecordSplitAtEveryIndex() throws {
        let pair = try makePair()
        pair.run()
        let message = Array("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n".utf8)
        var clear = [UInt8](repeating: 0, count: 256)
        var ciphertext: [UInt8] = []
        pair.write(message, from: pair.server)
        pair.server.session.drainEncrypted(into: &ciphertext)
        for split in 0...ciphertext.count {
            if split > 0 {
                // Each round encrypts the message again: every record has its own sequence number.
                pair.write(message, from: pair.server)
                ciphertext.removeAll(keepingCapacity: true)
                pair.server.session.drainEncrypted(into: &ciphertext)
            }
            let client = pair.client.session
            ciphertext[0..<split].withUnsafeBytes { client.feedEncrypted($0) }
            let first = clear.withUnsafeMutableBytes { client.readClear(into: $0) }
            if split < ciphertext.count {
                XCTAssertEqual(first, .wantRead, "split at \(split)")
                ciphertext[split...].withUnsafeBytes { client.feedEncrypted($0) }
                let second = clear.withUnsafeMutableBytes { client.readClear(into: $0) }
                XCTAssertEqual(second, .bytes(message.count), "split at \(split)")
            } else {
                XCTAssertEqual(first, .bytes(message.count), "split at \(split)")
            }
            XCTAssertEqual(Array(clear[0..<message.count]), message, "split at \(split)")
            XCTAssertEqual(clear.withUnsafeMutableBytes { client.readClear(into: $0) }, .wantRead)
        }
    }

    func testSmallReadBufferDrainsEverything() throws {
        let pair = try makePair()
        pair.run()
        let message = pattern(40_000, seed: 11)
        pair.write(message, from: pair.client)
        var ciphertext: [UInt8] = []
        pair.client.session.drainEncrypted(into: &ciphertext)
        ciphertext.withUnsafeBytes { pair.server.session.feedEncrypted($0) }
        var received: [UInt8] = []
        var small = [UInt8](repeating: 0, count: 7)
        loop: while true {
            switch small.withUnsafeMutableBytes({ pair.server.session.readClear(into: $0) }) {
            case .bytes(let count):
                XCTAssertGreaterThan(count, 0)
                received += small[0..<count]
            case .wantRead: break loop
            case let other:
                XCTFail("unexpected \(other)")
                break loop
            }
        }
        XCTAssertEqual(received, message)
        XCTAssertEqual(
            small.withUnsafeMutableBytes {
                pair.server.session.readClear(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<0]))
            }, .bytes(0))
    }

    func testDrainAppendsToCallersArray() throws {
        let pair = try makePair()
        var out: [UInt8] = [1, 2, 3]
        XCTAssertEqual(pair.client.session.advanceHandshake(), .needsData)
        XCTAssertTrue(pair.client.session.hasPendingEncrypted)
        let count = pair.client.session.drainEncrypted(into: &out)
        XCTAssertGreaterThan(count, 100)
        XCTAssertEqual(out.count, 3 + count)
        XCTAssertEqual(Array(out[0..<3]), [1, 2, 3])
        XCTAssertEqual(out[3], 0x16, "a TLS handshake record follows the caller's bytes")
        XCTAssertFalse(pair.client.session.hasPendingEncrypted)
        XCTAssertEqual(pair.client.session.drainEncrypted(into: &out), 0)
        XCTAssertEqual(out.count, 3 + count)
    }

    func testWriteBeforeHandshakeIsRefused() throws {
        let pair = try makePair()
        XCTAssertThrowsError(
            try [UInt8](repeating: 1, count: 4).withUnsafeBytes { try pair.client.session.writeClear($0) }
        ) {
            XCTAssertEqual(($0 as? TLSError)?.kind, .protocolError)
        }
        // The refusal is not sticky: the handshake still succeeds afterwards.
        pair.run()
        XCTAssertEqual(pair.client.handshake, .complete)
    }
}

/// One context per worker is shared by every connection; workers run on their own threads.
final class TLSContextSharingTests: XCTestCase {
    func testContextsAreSharedAcrossThreads() throws {
        let pki = try TestPKI.load()
        let server = try TLSContext.server(certificateFile: pki.serverCertificate, keyFile: pki.serverKey)
        let client = try TLSContext.client(caFile: pki.caFile)
        let completed = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for round in 0..<10 {
                // Alternate good and bad names so failures (and their error queues) interleave.
                let name = round % 2 == 0 ? "localhost" : "wrong.example"
                guard let pair = try? TLSPair(clientContext: client, serverContext: server, serverName: name) else {
                    return XCTFail("worker \(worker): session setup failed")
                }
                pair.run()
                if round % 2 == 0 {
                    XCTAssertEqual(pair.client.handshake, .complete, "worker \(worker) round \(round)")
                    completed.increment()
                } else {
                    XCTAssertEqual(pair.client.failure?.kind, .hostnameMismatch, "worker \(worker) round \(round)")
                }
            }
        }
        XCTAssertEqual(completed.value, 20)
    }
}

/// A lock-protected count for the threads above.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
