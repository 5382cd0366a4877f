import Foundation
import XCTest
@testable import UVProxy

/// The token command through the whole proxy: cached, single flight, refreshed after a 401, and
/// failures reported without the token.
final class CredentialCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mini-proxy-cred-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A script that counts its runs and prints the n-th line of `tokens` (the last one thereafter).
    private func script(tokens: [String], sleep: Double = 0, exitStatus: Int = 0, stderr: String = "") throws -> String {
        let path = dir + "/token.sh"
        let list = tokens.map { "'\($0)'" }.joined(separator: " ")
        try """
        #!/bin/sh
        n=$(cat \(dir!)/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(dir!)/runs
        sleep \(sleep)
        set -- \(list)
        i=1; tok=""; for t in "$@"; do tok=$t; [ $i -ge $n ] && break; i=$((i+1)); done
        [ -n "\(stderr)" ] && echo "\(stderr)" >&2
        [ \(exitStatus) -ne 0 ] && exit \(exitStatus)
        echo "$tok"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    private var runs: Int { Int((try? String(contentsOfFile: dir + "/runs", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0 }

    private func stack(command: String, timeout: String = "5s") throws -> TestStack {
        // Access log on: `make test` greps the suite's output for these tokens.
        try TestStack(yaml: """
        access_log: true
        upstreams:
          mock:
            url: MOCK_URL
            auth: { header: Authorization, prefix: "slauth ", command: [\(command)], command_timeout: \(timeout), ttl: 300s }
        routes:
          - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/openai/v1/chat/completions }
        """)
    }

    private func echoAuthorization(_ c: RawHTTPClient) throws -> (Int, String?) {
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+echo","messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        guard r.status == 200 else { return (r.status, r.text) }
        let content = ((r.json?["choices"] as? [[String: Any]])?[0]["message"] as? [String: Any])?["content"] as? String ?? ""
        let echo = try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any]
        return (200, (echo?["headers"] as? [String: String])?["authorization"])
    }

    func testTokenIsCachedAndSentWithPrefix() throws {
        let s = try stack(command: try script(tokens: ["tok-aaa"]))
        defer { s.stop() }
        let c = try s.client()
        for _ in 0..<3 {
            let (status, auth) = try echoAuthorization(c)
            XCTAssertEqual(status, 200)
            XCTAssertEqual(auth, "slauth tok-aaa")
        }
        XCTAssertEqual(runs, 1)
    }

    func testConcurrentRequestsShareOneCommandRun() throws {
        let s = try stack(command: try script(tokens: ["tok-bbb"], sleep: 0.3))
        defer { s.stop() }
        let port = s.proxyPort
        let failed = FailureCounter()
        DispatchQueue.concurrentPerform(iterations: 20) { _ in
            guard let c = try? RawHTTPClient(port: port) else { return failed.add() }
            c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
            if c.readResponse()?.status != 200 { failed.add() }
        }
        XCTAssertEqual(failed.value, 0)
        XCTAssertEqual(runs, 1)
    }

    func testUpstream401RefreshesTheTokenAndRetriesOnce() throws {
        let s = try stack(command: try script(tokens: ["rejected-token", "tok-good"]))
        defer { s.stop() }
        let (status, auth) = try echoAuthorization(try s.client())
        XCTAssertEqual(status, 200)
        XCTAssertEqual(auth, "slauth tok-good")
        XCTAssertEqual(runs, 2)
    }

    func testRepeated401IsReturnedAfterOneRetry() throws {
        let s = try stack(command: try script(tokens: ["rejected-1", "rejected-2", "rejected-3"]))
        defer { s.stop() }
        let (status, _) = try echoAuthorization(try s.client())
        XCTAssertEqual(status, 401)
        XCTAssertEqual(runs, 2)
    }

    func testFailingCommandSaysHowWithoutTheToken() throws {
        let s = try stack(command: try script(tokens: ["secret-token-123"], exitStatus: 3, stderr: "not logged in"))
        defer { s.stop() }
        let (status, text) = try echoAuthorization(try s.client())
        XCTAssertEqual(status, 502)
        let body = try XCTUnwrap(text)
        XCTAssertTrue(body.contains("exited with status 3"), body)
        XCTAssertTrue(body.contains("not logged in"), body)
        XCTAssertFalse(body.contains("secret-token-123"), body)
    }

    func testHangingCommandTimesOut() throws {
        let s = try stack(command: try script(tokens: ["late"], sleep: 5), timeout: "300ms")
        defer { s.stop() }
        let started = Date()
        let (status, text) = try echoAuthorization(try s.client())
        XCTAssertEqual(status, 503)
        XCTAssertTrue(text?.contains("timed out after 300 ms") ?? false, text ?? "")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }

    func testJWTExpiryMinusSkewElseTTL() {
        func b64url(_ s: String) -> String {
            Data(s.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        let jwt = "\(b64url(#"{"alg":"none"}"#)).\(b64url(#"{"sub":"x","exp":2000000000}"#)).sig"
        XCTAssertEqual(CredentialSource.expiry(of: jwt, now: 1000, ttlMs: 60_000, skewMs: 30_000), 2_000_000_000 - 30)
        XCTAssertEqual(CredentialSource.expiry(of: "opaque-token", now: 1000, ttlMs: 60_000, skewMs: 30_000), 1060)
        XCTAssertNil(CredentialSource.jwtExpiry("a.b"))
        XCTAssertNil(CredentialSource.jwtExpiry("a.!!!.c"))
    }
}
