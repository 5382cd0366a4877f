import XCTest

@testable import Providers

final class DialectHeadersTests: XCTestCase {
    func testOnlyAnthropicClientsHaveABetaHeader() {
        for d in Dialect.allCases {
            XCTAssertEqual(d.betaHeader, d == .anthropicMessages ? "anthropic-beta" : nil, d.rawValue)
        }
    }

    func testBetasAreSplitTrimmedAndEmptiesDropped() {
        XCTAssertEqual(ClientRequest.betas(fromHeaderValues: []), [])
        XCTAssertEqual(ClientRequest.betas(fromHeaderValues: ["claude-code-20250219"]), ["claude-code-20250219"])
        XCTAssertEqual(ClientRequest.betas(fromHeaderValues: [" a-1 ,\tb-2\t, ,,c-3", "d-4", "", " , "]),
                       ["a-1", "b-2", "c-3", "d-4"])
        // Only spaces and tabs are trimmed (as HTTP's optional whitespace).
        XCTAssertEqual(ClientRequest.betas(fromHeaderValues: ["\u{A0}x"]), ["\u{A0}x"])
        XCTAssertEqual(ClientRequest.betas(fromHeaderValues: [",", ",,a,", "b,", ",c", "\t", " d e "]),
                       ["a", "b", "c", "d e"])
        // Split at the comma byte, as HTTP lists are: a comma that a combining mark follows (one `Character`
        // with it) still separates, and multi-byte entries keep their bytes.
        XCTAssertEqual(ClientRequest.betas(fromHeaderValues: ["a,\u{301}b", "é-1,日本"]), ["a", "\u{301}b", "é-1", "日本"])
    }

    func testForwardedPrefixes() {
        func forwarded(_ name: String) -> Bool {
            let lower = Array(name.lowercased().utf8)
            guard ForwardedResponseHeaders.firstBytes & (1 << UInt32(Array(name.utf8)[0] & 31)) != 0 else { return false }
            return ForwardedResponseHeaders.prefixes.contains { lower.starts(with: $0) }
        }
        for name in ["x-ratelimit-remaining-requests", "Anthropic-RateLimit-Tokens-Reset", "openai-processing-ms",
                     "X-Amzn-RequestId", "request-id", "x-should-retry"] {
            XCTAssertTrue(forwarded(name), name)
        }
        for name in ["content-type", "date", "server", "x-request-id", "retry-after", "anthropic-version", "set-cookie"] {
            XCTAssertFalse(forwarded(name), name)
        }
        // The first-byte test never rules out a forwarded name, in either case.
        for p in ForwardedResponseHeaders.prefixes {
            for b in [p[0], p[0] & ~0x20] { XCTAssertNotEqual(ForwardedResponseHeaders.firstBytes & (1 << UInt32(b & 31)), 0) }
        }
    }

    func testRateLimitsTranslateBetweenOpenAIAndAnthropicOnly() {
        let openAI: [Dialect] = [.openAIChat, .openAIResponses]
        let anthropic: [Dialect] = [.anthropicMessages, .bedrockAnthropic]
        for u in Dialect.allCases {
            for c in Dialect.allCases {
                let expected = (anthropic.contains(u) && openAI.contains(c)) || (openAI.contains(u) && anthropic.contains(c))
                XCTAssertEqual(RateLimitHeaders.translates(upstream: u, client: c), expected, "\(u) → \(c)")
            }
        }
    }
}
