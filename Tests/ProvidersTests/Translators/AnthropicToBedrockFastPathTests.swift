import XCTest

@testable import Providers

/// `AnthropicToBedrockFastPath` must give byte-identical results to the general translation whenever it
/// answers, answer for the common shapes, and never answer where the general path throws.
final class AnthropicToBedrockFastPathTests: XCTestCase {
    private let folder = "anthropic-bedrock"
    private let options = TranslationOptions(upstreamPath: "/v1/bedrock/model/{model}/{action}")

    /// Requests the fast path must take.
    private let fastBodies = [
        #"{"model":"claude-sonnet-4-5","max_tokens":64,"system":"You are terse.","messages":[{"role":"user","content":"Say hello in five words."}],"temperature":0.2,"stream":true}"#,
        #" { "stream" : false , "model" : "claude-v2" , "anthropic_version" : "x", "messages" : [ { "role" : "user" , "content" : "a\n\"b\" \u00e9" , "content" : "dup" } , {"role":"assistant","content":[{"type":"text","text":"ok"}]}, {} ] , "max_tokens" : 1.5e3 , "anthropic_version" : 1 } "#,
        #"{"anthropic_version":"v","model":"us.anthropic.claude-3:0","messages":[],"max_tokens":1,"stream":null}"#,
        #"{"model":"a/b c","messages":[{"role":"user","content":"x"}],"max_tokens":2,"max_tokens":"dup"}"#,
        "{\n  \"model\": \"claude-3-7-sonnet-20250219\",\n  \"messages\": [{\"content\":\"hi\",\"role\":\"user\"}],\n  \"max_tokens\": 10\n}\n",
        #"{"model":".","messages":[{"role":"user","content":"x","x":{"content":"nested"}}],"max_tokens":2}"#,
        #"{"model":"claude-instant-v1.2","messages":[{"role":"user","content":"x"}],"max_tokens":2,"metadata":{"model":"m"}}"#,
    ]

    /// Requests the fast path leaves to the general path (valid or not).
    private let otherBodies = [
        #"{"model":"x","model":"y","messages":[],"max_tokens":1}"#,
        #"{"model":"x","messages":[],"messages":[],"max_tokens":1}"#,
        #"{"model":"x","messages":[],"max_tokens":1,"stream":true,"stream":false}"#,
        #"{"\u006dodel":"x","messages":[],"max_tokens":1}"#,
        #"{"model":"x\u00e9","messages":[],"max_tokens":1}"#,
        #"{"model":"","messages":[],"max_tokens":1}"#,
        #"{"model":5,"messages":[],"max_tokens":1}"#,
        #"{"messages":[],"max_tokens":1}"#,
        #"{"model":"x","messages":{},"max_tokens":1}"#,
        #"{"model":"x","max_tokens":1}"#,
        #"{"model":"x","messages":[],"max_tokens":"1"}"#,
        #"{"model":"x","messages":[]}"#,
        #"{"model":"x","messages":[],"max_tokens":1,"stream":1}"#,
        #"{"model":"x","messages":["hi"],"max_tokens":1}"#,
        #"{"model":"x","messages":[{"role":"user","c\u006fntent":"hi"}],"max_tokens":1}"#,
        #"[{"model":"x"}]"#,
        #"{"model":"x","messages":[{"role":"user","content":"\ud800"}],"max_tokens":1}"#,
    ]

    private func general(_ body: [UInt8], beta: [String] = []) -> Result<UpstreamRequest, APIError> {
        do throws(APIError) {
            return .success(
                try AnthropicToBedrockTranslator(options: options).generalUpstreamRequest(
                    for: ClientRequest(body: body, anthropicBeta: beta)))
        } catch {
            return .failure(error)
        }
    }

    private func fast(_ body: [UInt8], _ options: TranslationOptions? = nil, beta: [String] = []) -> UpstreamRequest? {
        body.withUnsafeBytes { AnthropicToBedrockFastPath.translate($0, options: options ?? self.options, beta: beta) }
    }

    private func assertSame(_ fast: UpstreamRequest, _ body: [UInt8], beta: [String] = [], line: UInt = #line) throws {
        let expected = try general(body, beta: beta).get()
        XCTAssertEqual(fast.body, expected.body, String(decoding: body, as: UTF8.self), line: line)
        XCTAssertEqual(fast.path, expected.path, line: line)
        XCTAssertEqual(fast.stream, expected.stream, line: line)
        XCTAssertEqual(fast.accept, expected.accept, line: line)
        XCTAssertEqual(fast.contentType, expected.contentType, line: line)
    }

    func testFastPathMatchesTheGeneralPathByteForByte() throws {
        for text in fastBodies {
            let body = Array(text.utf8)
            let up = try XCTUnwrap(fast(body), "not taken: \(text)")
            try assertSame(up, body)
        }
    }

    /// The client's `anthropic-beta` values (Claude Code sends them on every request) are appended as
    /// `anthropic_beta`, exactly as the general path writes them; a body with its own `anthropic_beta`
    /// is merged by the general path.
    func testBetaHeaderValuesMatchTheGeneralPath() throws {
        let betas: [[String]] = [
            ["claude-code-20250219"],
            ["claude-code-20250219", "interleaved-thinking-2025-05-14", "fine-grained-tool-streaming-2025-05-14"],
            ["a", "a", "", "b", "a"],
            [""],
            ["q\"u\\o\u{1}té"],
        ]
        for text in fastBodies {
            for beta in betas {
                let body = Array(text.utf8)
                let up = try XCTUnwrap(fast(body, beta: beta), "not taken: \(text) \(beta)")
                try assertSame(up, body, beta: beta)
            }
        }
        let own = Array(#"{"model":"x","messages":[],"max_tokens":1,"anthropic_beta":["a"]}"#.utf8)
        XCTAssertNil(fast(own, beta: ["b"]), "a body list to merge goes to the general path")
        XCTAssertNotNil(fast(own), "without a header the body's list is copied as it is")
        try assertSame(try XCTUnwrap(fast(own)), own)
        // Every prefix and one-byte change with a header: the fast path never answers differently.
        for text in fastBodies.prefix(3) {
            let body = Array(text.utf8)
            var variants: [[UInt8]] = (0...body.count).map { Array(body[..<$0]) }
            for i in body.indices where body[i] != 0x22 {
                var v = body
                v[i] = 0x22
                variants.append(v)
            }
            for v in variants {
                if let up = fast(v, beta: betas[1]) { try assertSame(up, v, beta: betas[1]) }
            }
        }
    }

    func testFixtureRequestsMatch() throws {
        let names = Fixture.names(folder, suffix: ".request.json")
        XCTAssertFalse(names.isEmpty)
        var taken = 0
        for name in names {
            let body = Fixture.bytes(folder, "\(name).request.json")
            if let up = fast(body) {
                taken += 1
                try assertSame(up, body)
            }
        }
        XCTAssertGreaterThan(taken, 0)
    }

    func testFastPathDeclinesOtherRequests() {
        for text in otherBodies {
            XCTAssertNil(fast(Array(text.utf8)), text)
        }
    }

    /// The public entry point gives the general path's exact errors for requests the fast path declines.
    func testDeclinedRequestsKeepTheirErrors() {
        for text in otherBodies {
            let body = Array(text.utf8)
            let viaPublic: Result<UpstreamRequest, APIError>
            do throws(APIError) {
                viaPublic = .success(
                    try AnthropicToBedrockTranslator(options: options).upstreamRequest(for: ClientRequest(body: body)))
            } catch {
                viaPublic = .failure(error)
            }
            switch (viaPublic, general(body)) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a.body, b.body, text)
            case (.failure(let a), .failure(let b)): XCTAssertEqual(a, b, text)
            default: XCTFail("different outcome: \(text)")
            }
        }
    }

    /// Every prefix and every one-byte change of the bodies (fixtures included): wherever the fast path
    /// answers, the general path accepts and says the same.
    func testFastPathNeverAnswersDifferently() throws {
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D, 0x30, 0x20, 0x6E, 0x74, 0x01, 0xC3]
        var sources = (fastBodies + otherBodies).map { Array($0.utf8) }
        for name in Fixture.names(folder, suffix: ".request.json") {
            sources.append(Fixture.bytes(folder, "\(name).request.json"))
        }
        var answered = 0
        for body in sources {
            for v in prefixesAndByteChanges(body, replacements: replacements, includingWhole: true) {
                guard let up = fast(v) else { continue }
                answered += 1
                try assertSame(up, v)
            }
        }
        XCTAssertGreaterThan(answered, 100)
    }

    /// Aliases go through the `String` route; the result still matches.
    func testAliasesMatch() throws {
        let aliased = TranslationOptions(
            upstreamPath: "/model/{model}/{action}", modelAliases: ["sonnet": "arn:aws:bedrock:x/y", "claude-x": "."])
        for model in ["sonnet", "claude-x", "claude-y", "haiku"] {
            let body = Array(#"{"model":"\#(model)","messages":[],"max_tokens":1}"#.utf8)
            let up = try XCTUnwrap(fast(body, aliased))
            let expected = try AnthropicToBedrockTranslator(options: aliased)
                .generalUpstreamRequest(for: ClientRequest(body: body))
            XCTAssertEqual(up.path, expected.path, model)
            XCTAssertEqual(up.body, expected.body, model)
        }
    }
}
