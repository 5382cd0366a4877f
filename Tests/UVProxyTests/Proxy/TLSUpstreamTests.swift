import Foundation
import XCTest
@testable import UVProxy
@testable import MockGateway

/// The proxy against a real TLS upstream (the mock with a certificate generated for the test).
final class TLSUpstreamTests: XCTestCase {
    private func config(caFile: String?, extra: String = "") -> String {
        """
        access_log: false
        upstreams:
          mock:
            url: MOCK_URL
        \(caFile.map { "    ca_file: \($0)" } ?? "")
        \(extra)
        routes:
          - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/openai/v1/chat/completions }
        """
    }

    private func post(_ stack: TestStack, stream: Bool = false) throws -> RawHTTPClient.Response {
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions",
                                  body: "{\"model\":\"gpt-5+chunks=3\",\"stream\":\(stream),\"messages\":[]}"))
        return try XCTUnwrap(c.readResponse())
    }

    func testVerifiedTLSUpstreamServesJSONAndStreamsOverPooledConnections() throws {
        let pki = try TestPKI.load()
        let stack = try TestStack(yaml: config(caFile: pki.caFile), mockTLS: (pki.serverCertificate, pki.serverKey), mockHost: "127.0.0.1")
        defer { stack.stop() }
        let c = try stack.client()
        for i in 0..<5 {
            c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: "{\"model\":\"gpt-5\",\"stream\":\(i % 2 == 1),\"messages\":[]}"))
            let r = try XCTUnwrap(c.readResponse())
            XCTAssertEqual(r.status, 200, r.text)
            if i % 2 == 1 { XCTAssertTrue(r.text.hasSuffix("data: [DONE]\n\n"), r.text) }
        }
    }

    func testUnknownCAIsA502ThatSaysWhy() throws {
        let pki = try TestPKI.load()
        let stack = try TestStack(yaml: config(caFile: pki.otherCAFile), mockTLS: (pki.serverCertificate, pki.serverKey))
        defer { stack.stop() }
        let r = try post(stack)
        XCTAssertEqual(r.status, 502)
        let message = try XCTUnwrap((r.json?["error"] as? [String: Any])?["message"] as? String)
        XCTAssertTrue(message.contains("certificate verify failed"), message)
    }

    func testSystemStoreAloneRejectsTheTestCA() throws {
        let pki = try TestPKI.load()
        let stack = try TestStack(yaml: config(caFile: nil), mockTLS: (pki.serverCertificate, pki.serverKey))
        defer { stack.stop() }
        let r = try post(stack)
        XCTAssertEqual(r.status, 502)
        XCTAssertTrue(r.text.contains("certificate verify failed"), r.text)
    }

    func testHostnameMismatchIsA502ThatSaysWhy() throws {
        let pki = try TestPKI.load()
        // 127.0.0.2 is loopback too, but not in the certificate (which names localhost and 127.0.0.1).
        let stack = try TestStack(yaml: config(caFile: pki.caFile), mockTLS: (pki.serverCertificate, pki.serverKey), mockHost: "127.0.0.2")
        defer { stack.stop() }
        let r = try post(stack)
        XCTAssertEqual(r.status, 502)
        XCTAssertTrue(r.text.contains("mismatch"), r.text)
    }

    func testExpiredCertificateIsRefused() throws {
        let pki = try TestPKI.load()
        let stack = try TestStack(yaml: config(caFile: pki.caFile), mockTLS: (pki.expiredCertificate, pki.serverKey))
        defer { stack.stop() }
        let r = try post(stack)
        XCTAssertEqual(r.status, 502)
        XCTAssertTrue(r.text.contains("expired"), r.text)
    }

    func testPlainHTTPClientOnTLSPortFailsClearly() throws {
        let pki = try TestPKI.load()
        // The proxy speaks TLS to an upstream that answers in plain HTTP: a handshake failure, not a hang.
        let mock = try MockServer(host: "127.0.0.1", port: 0)
        mock.start()
        defer { mock.stop() }
        let yaml = config(caFile: pki.caFile).replacingOccurrences(of: "MOCK_URL", with: "https://127.0.0.1:\(mock.port)")
        let proxy = try startProxy(yaml)
        defer { proxy.stop(); proxy.wait() }
        let c = try RawHTTPClient(port: proxy.port)
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 502)
        XCTAssertTrue(r.text.contains("TLS"), r.text)
    }
}
