import XCTest

@testable import UVProxy
@testable import UVNet

/// A client and a server `TLSSession` joined in memory: ciphertext drained from one side is fed
/// to the other, in chunks of a chosen size, with one cycle on the receiver after every chunk.
/// No sockets, no loop: exactly the calls the proxy's connection code makes.
final class TLSPair {
    /// One side's session and everything observed on it.
    final class Endpoint {
        let session: TLSSession
        /// Cleartext read so far (clearOut).
        var received: [UInt8] = []
        /// The latest handshake result.
        var handshake: TLSHandshakeResult = .needsData
        /// How many cycles ended in `.needsData`: proves incremental progress.
        var needsDataCount = 0
        /// `.closed` or `.failed` once the read side ended.
        var readEnd: TLSReadResult?
        /// Set to false to leave ciphertext unread in encIn (the caller stopped reading).
        var reads = true

        init(session: TLSSession) {
            self.session = session
        }

        var failure: TLSError? {
            if case .failed(let error) = handshake { return error }
            if case .failed(let error)? = readEnd { return error }
            return nil
        }
    }

    let client: Endpoint
    let server: Endpoint
    private var scratch = [UInt8](repeating: 0, count: 4096)

    init(client: TLSSession, server: TLSSession) {
        self.client = Endpoint(session: client)
        self.server = Endpoint(session: server)
    }

    convenience init(
        clientContext: TLSContext, serverContext: TLSContext, serverName: String?
    ) throws {
        try self.init(
            client: TLSSession(context: clientContext, serverName: serverName),
            server: TLSSession(context: serverContext, serverName: nil))
    }

    /// One cycle on a side: advance the handshake, and once it is complete read clear data until
    /// OpenSSL wants more ciphertext.
    func cycle(_ side: Endpoint) {
        if side.readEnd != nil { return }
        if !side.session.isHandshakeComplete {
            side.handshake = side.session.advanceHandshake()
            if side.handshake == .needsData { side.needsDataCount += 1 }
            guard side.handshake == .complete else { return }
        }
        guard side.reads else { return }
        while true {
            let result = scratch.withUnsafeMutableBytes { side.session.readClear(into: $0) }
            switch result {
            case .bytes(let count):
                side.received += scratch[0..<count]
            case .wantRead:
                return
            case .closed, .failed:
                side.readEnd = result
                return
            }
        }
    }

    /// Feeds `bytes` to `side` in chunks of `chunkSize`, cycling after each chunk.
    func deliver(_ bytes: [UInt8], to side: Endpoint, chunkSize: Int = Int.max) {
        var offset = 0
        while offset < bytes.count {
            let end = offset + min(chunkSize, bytes.count - offset)
            bytes[offset..<end].withUnsafeBytes { side.session.feedEncrypted($0) }
            cycle(side)
            offset = end
        }
    }

    /// Runs both sides until neither has ciphertext left to send. Returns the bytes moved.
    @discardableResult
    func run(chunkSize: Int = Int.max, maxRounds: Int = 1000) -> Int {
        cycle(client)
        cycle(server)
        var moved = 0
        for _ in 0..<maxRounds {
            var toServer: [UInt8] = []
            client.session.drainEncrypted(into: &toServer)
            deliver(toServer, to: server, chunkSize: chunkSize)
            var toClient: [UInt8] = []
            server.session.drainEncrypted(into: &toClient)
            deliver(toClient, to: client, chunkSize: chunkSize)
            moved += toServer.count + toClient.count
            if toServer.isEmpty, toClient.isEmpty { return moved }
        }
        XCTFail("TLS pair still exchanging bytes after \(maxRounds) rounds")
        return moved
    }

    /// Encrypts `bytes` on `side` (clearIn); `run()` then carries them over.
    func write(_ bytes: [UInt8], from side: Endpoint, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try bytes.withUnsafeBytes { try side.session.writeClear($0) }
        } catch {
            XCTFail("writeClear failed: \(error)", file: file, line: line)
        }
    }
}
