import XCTest
@testable import Providers

/// The decoder reuses its event buffers after each dispatch; an event kept by the callee must not change.
final class SSEDecoderBufferReuseTests: XCTestCase {
    func testKeptEventsKeepTheirBytesWhileBuffersAreReused() throws {
        let stream = bytes("event: a\ndata: first\n\nevent: bb\ndata: second, longer\ndata: x\n\ndata: 3\n\n")
        assertEverySplit(stream, expected: ["a|first", "bb|second, longer\nx", "|3"]) { chunks in
            var decoder = SSEDecoder()
            var kept: [SSEEvent] = []
            for c in chunks { try? decoder.feed(c) { kept.append($0) } }
            return kept.map { $0.event.utf8String + "|" + $0.data.utf8String }
        }
    }
}
