import XCTest

@testable import UVProxy

/// Durations, sizes, addresses and URLs: the small grammars.
final class ConfigSyntaxTests: XCTestCase {
    func testDurations() {
        let cases: [(String, Int?)] = [
            ("30s", 30_000), ("250ms", 250), ("2m", 120_000), ("1h", 3_600_000), ("1m30s", 90_000),
            ("1.5s", 1500), ("30", 30_000), ("0.5", 500), ("0", 0), ("0s", 0), (" 10s ", 10_000), ("1h2m3s4ms", 3_723_004),
            ("", nil), ("s", nil), ("10", 10_000), ("10x", nil), ("-1s", nil), ("-5", nil), ("1 s", nil), ("1S", nil),
            ("ms", nil), ("1e3", nil), ("10s5", nil), ("1..2s", nil), ("nan", nil), ("inf", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(ConfigSyntax.durationMilliseconds(text), expected, "'\(text)'")
        }
    }

    func testByteCounts() {
        let cases: [(String, Int?)] = [
            ("65536", 65536), ("64KiB", 65536), ("32MiB", 32 << 20), ("1GiB", 1 << 30), ("1KB", 1000), ("2MB", 2_000_000),
            ("1GB", 1_000_000_000), ("64 KiB", 65536), ("1k", 1024), ("7B", 7), ("", nil), ("KiB", nil), ("1.5MiB", nil),
            ("-1", nil), ("1TiB", nil), ("99999999999999999999", nil), ("9223372036854775807GiB", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(ConfigSyntax.byteCount(text), expected, "'\(text)'")
        }
    }

    func testHostPort() throws {
        let good: [(String, HostPort)] = [
            ("127.0.0.1:3001", HostPort(host: "127.0.0.1", port: 3001)),
            ("[::1]:8080", HostPort(host: "::1", port: 8080)),
            ("[::]:80", HostPort(host: "::", port: 80)),
            ("0.0.0.0:3001", HostPort(host: "0.0.0.0", port: 3001)),
            (":3001", HostPort(host: "127.0.0.1", port: 3001)),
            ("3001", HostPort(host: "127.0.0.1", port: 3001)),
            ("localhost:3001", HostPort(host: "127.0.0.1", port: 3001)),
            ("10.1.2.3:0", HostPort(host: "10.1.2.3", port: 0)),
            ("[fe80::1:2]:1", HostPort(host: "fe80::1:2", port: 1)),
            ("[::ffff:10.0.0.1]:1", HostPort(host: "::ffff:10.0.0.1", port: 1)),
        ]
        for (text, expected) in good { XCTAssertEqual(try HostPort.parse(text), expected, text) }
        for bad in ["", "127.0.0.1", "127.0.0.1:", "1.2.3:80", "256.0.0.1:80", "::1:80", "[::1]", "[::1]80", "[::1:80",
                    "host:80", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80", "[1:2:3:4:5:6:7:8:9]:1", "[1::2::3]:1"] {
            XCTAssertThrowsError(try HostPort.parse(bad), "'\(bad)' should fail") { error in
                XCTAssertEqual((error as? ConfigError)?.path, "listen")
            }
        }
        XCTAssertTrue(try HostPort.parse("127.0.0.9:1").isLoopback)
        XCTAssertTrue(try HostPort.parse("[::1]:1").isLoopback)
        XCTAssertFalse(try HostPort.parse("0.0.0.0:1").isLoopback)
        XCTAssertFalse(try HostPort.parse("[::]:1").isLoopback)
        XCTAssertEqual(try HostPort.parse("[::1]:8080").description, "[::1]:8080")
        XCTAssertThrowsError(try HostPort.parse("x", path: "--listen")) { error in
            XCTAssertEqual("\(error)", "--listen: invalid port in 'x' (expected HOST:PORT, e.g. 127.0.0.1:3001 or [::1]:3001)")
        }
    }

    func testUpstreamURLs() throws {
        let u = try UpstreamURL.parse("HTTPS://AI-Gateway.Example.COM/base/path/")
        XCTAssertEqual(u, UpstreamURL(scheme: "https", host: "ai-gateway.example.com", port: 443, basePath: "/base/path"))
        XCTAssertTrue(u.isTLS)
        XCTAssertEqual(u.hostHeader, "ai-gateway.example.com")
        XCTAssertFalse(u.hostIsIPAddress)
        let p = try UpstreamURL.parse("http://127.0.0.1:3002")
        XCTAssertEqual(p, UpstreamURL(scheme: "http", host: "127.0.0.1", port: 3002, basePath: ""))
        XCTAssertEqual(p.hostHeader, "127.0.0.1:3002")
        XCTAssertTrue(p.hostIsIPAddress)
        XCTAssertFalse(p.isTLS)
        let v6 = try UpstreamURL.parse("https://[::1]:8443/")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.hostHeader, "[::1]:8443")
        XCTAssertEqual(v6.description, "https://[::1]:8443")
        XCTAssertEqual(try UpstreamURL.parse("http://h:80").hostHeader, "h")
        XCTAssertEqual(try UpstreamURL.parse("https://h:80").hostHeader, "h:80")
        XCTAssertEqual(try UpstreamURL.parse("http://h").port, 80)
    }
}
