import Foundation
import Glibc
import XCTest
@testable import UVProxy

/// What one upstream read yields reaches the client in one write: the response head with the first
/// events, and the last events with the final chunk. Checked by counting the data segments the
/// client's socket received (`tcpi_data_segs_in`; on loopback with TCP_NODELAY every small write is
/// one segment), so a proxy that wrote head, events and terminator separately would fail.
final class StreamCoalescingTests: XCTestCase {
    /// Offset of `tcpi_data_segs_in` in Linux's `struct tcp_info` (ABI-stable since Linux 4.6;
    /// glibc's own `tcp_info` stops before it).
    private static let dataSegsInOffset = 152

    private static func dataSegmentsIn(_ fd: Int32) -> UInt32? {
        var info = [UInt8](repeating: 0, count: 256)
        var len = socklen_t(info.count)
        let rc = info.withUnsafeMutableBytes { getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, $0.baseAddress, &len) }
        guard rc == 0, Int(len) >= dataSegsInOffset + 4 else { return nil }
        return info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: dataSegsInOffset, as: UInt32.self) }
    }

    private static func sendAll(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    private static func chunk(_ s: String) -> String { String(Array(s.utf8).count, radix: 16) + "\r\n" + s + "\r\n" }

    /// An upstream that answers with its head and three events in one write, then, 100 ms later,
    /// two more events and the last chunk in a second write.
    private func twoWriteUpstream(contentType: String, events: [String]) throws -> ScriptedUpstream {
        try ScriptedUpstream { fd, _ in
            guard ScriptedUpstream.readHead(fd) else { return }
            let first = "HTTP/1.1 200 OK\r\nContent-Type: \(contentType)\r\nTransfer-Encoding: chunked\r\n\r\n"
                + events[0..<3].map(Self.chunk).joined()
            Self.sendAll(fd, first)
            usleep(100_000)
            Self.sendAll(fd, events[3...].map(Self.chunk).joined() + "0\r\n\r\n")
            usleep(100_000)
        }
    }

    private func proxy(upstreamPort: Int, route: String) throws -> ProxyServer {
        try startProxy("""
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(upstreamPort)" }
        routes:
          - \(route)
        """)
    }

    /// Reads the whole chunked response; returns the body and the data segments the socket took in.
    private func readStream(_ c: RawHTTPClient) throws -> (head: RawHTTPClient.Response, body: String, segments: UInt32) {
        let head = try XCTUnwrap(c.readHeadOnly())
        let body = try XCTUnwrap(c.readChunked())
        // Nothing more may arrive: the response is complete and the connection idle.
        let segments = try XCTUnwrap(Self.dataSegmentsIn(c.fd))
        return (head, String(decoding: body, as: UTF8.self), segments)
    }

    func testRawStreamLeavesInOneWritePerUpstreamRead() throws {
        let events = (0..<5).map { "data: {\"n\":\($0)}\n\n" }
        let up = try twoWriteUpstream(contentType: "text/event-stream", events: events)
        defer { up.stop() }
        let p = try proxy(upstreamPort: up.port, route: "{ path: /raw/*, upstream: up, ingress: passthrough, upstream_path: /events }")
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        c.send("GET /raw/events HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try readStream(c)
        XCTAssertEqual(r.head.status, 200)
        XCTAssertEqual(r.body, events.joined())
        XCTAssertEqual(r.segments, 2, "head+3 events, then 2 events+last chunk: one write each")
    }

    func testTranslatedStreamLeavesInOneWritePerUpstreamRead() throws {
        let events = [
            #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}"#,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}"#,
            #"{"type":"content_block_stop","index":0}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}"#,
            #"{"type":"message_stop"}"#,
        ].map { "data: \($0)\n\n" }
        let up = try ScriptedUpstream { fd, _ in
            guard ScriptedUpstream.readHead(fd) else { return }
            Self.sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + events[0..<3].map(Self.chunk).joined())
            usleep(100_000)
            Self.sendAll(fd, events[3...].map(Self.chunk).joined() + "0\r\n\r\n")
            usleep(100_000)
        }
        defer { up.stop() }
        let p = try proxy(upstreamPort: up.port, route: "{ path: /v1/chat/completions, upstream: up, ingress: openai-chat, egress: bedrock-anthropic }")
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        c.send(RawHTTPClient.post("/v1/chat/completions", body: #"{"model":"claude-x","messages":[{"role":"user","content":"hi"}],"stream":true}"#))
        let r = try readStream(c)
        XCTAssertEqual(r.head.status, 200)
        XCTAssertTrue(r.body.contains(#""content":"Hel""#), r.body)
        XCTAssertTrue(r.body.hasSuffix("data: [DONE]\n\n"), r.body)
        XCTAssertEqual(r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.count, 5, r.body)
        XCTAssertEqual(r.segments, 2, "one write per upstream read: \(r.body)")
    }
}
