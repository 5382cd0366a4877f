import XCTest
@testable import Providers

final class RateLimitHeadersTests: XCTestCase {
    func testAnthropicToOpenAIAndBack() {
        let now = 1_893_456_000  // 2030-01-01T00:00:00Z
        XCTAssertEqual(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-requests-remaining", value: "99",
                                                    upstream: .bedrockAnthropic, client: .openAIChat, now: now)?.name,
                       "x-ratelimit-remaining-requests")
        let reset = RateLimitHeaders.counterpart(name: "anthropic-ratelimit-tokens-reset", value: "2030-01-01T00:01:00Z",
                                                 upstream: .bedrockAnthropic, client: .openAIResponses, now: now)
        XCTAssertEqual(reset?.name, "x-ratelimit-reset-tokens")
        XCTAssertEqual(reset?.value, "60s")
        let back = RateLimitHeaders.counterpart(name: "x-ratelimit-reset-requests", value: "1m30s",
                                                upstream: .openAIChat, client: .anthropicMessages, now: now)
        XCTAssertEqual(back?.name, "anthropic-ratelimit-requests-reset")
        XCTAssertEqual(back?.value, "2030-01-01T00:01:30Z")
        XCTAssertEqual(RateLimitHeaders.counterpart(name: "x-ratelimit-limit-tokens", value: "30000", upstream: .openAIChat,
                                                    client: .anthropicMessages, now: now)?.name, "anthropic-ratelimit-tokens-limit")
        XCTAssertNil(RateLimitHeaders.counterpart(name: "x-ratelimit-limit-tokens", value: "1", upstream: .openAIChat, client: .openAIChat, now: now))
        XCTAssertNil(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-input-tokens-limit", value: "1", upstream: .bedrockAnthropic,
                                                  client: .openAIChat, now: now), "no OpenAI name for it")
        XCTAssertNil(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-requests-reset", value: "soon", upstream: .bedrockAnthropic,
                                                  client: .openAIChat, now: now))
        // Absurd values are dropped, not trapped on.
        XCTAssertNil(RateLimitHeaders.counterpart(name: "x-ratelimit-reset-tokens", value: "99999999999999999999s", upstream: .openAIChat,
                                                  client: .anthropicMessages, now: now))
        XCTAssertNil(RateLimitHeaders.counterpart(name: "anthropic-ratelimit-tokens-reset", value: "9999-12-31T23:59:59Z", upstream: .bedrockAnthropic,
                                                  client: .openAIChat, now: now))
    }

    func testDurationsAndTimes() {
        XCTAssertEqual(RateLimitHeaders.durationSeconds("6m0s"), 360)
        XCTAssertEqual(RateLimitHeaders.durationSeconds("20ms"), 0.02)
        XCTAssertEqual(RateLimitHeaders.durationSeconds("1h2m3.5s"), 3723.5)
        XCTAssertNil(RateLimitHeaders.durationSeconds("5"))
        XCTAssertNil(RateLimitHeaders.durationSeconds("x"))
        XCTAssertEqual(RateLimitHeaders.rfc3339Seconds("1970-01-01T00:01:00Z"), 60)
        XCTAssertEqual(RateLimitHeaders.rfc3339Seconds("1970-01-01T01:00:00.123+01:00"), 0)
        XCTAssertNil(RateLimitHeaders.rfc3339Seconds("yesterday"))
    }
}
