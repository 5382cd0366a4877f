import XCTest
@testable import Providers

final class OpenAIPassthroughTranslatorTests: XCTestCase {
    private let folder = "openai-openai"
    private let options = TranslationOptions(upstreamPath: "/v1/openai/v1/chat/completions", renameMaxTokens: true)

    private func make() -> OpenAIPassthroughTranslator { OpenAIPassthroughTranslator(options: options) }

    private func requestError(_ body: String) -> APIError? {
        do throws(APIError) {
            _ = try make().upstreamRequest(for: ClientRequest(body: bytes(body)))
            return nil
        } catch {
            return error
        }
    }

    func testRequestFixtures() throws {
        let names = Fixture.names(folder, suffix: ".request.json")
        XCTAssertEqual(names, ["both", "rename"])
        for name in names {
            let input = Fixture.bytes(folder, "\(name).request.json")
            let up = try make().upstreamRequest(for: ClientRequest(body: input))
            XCTAssertEqual(up.body.utf8String, Fixture.bytes(folder, "\(name).upstream.json").utf8String, name)
            XCTAssertEqual(up.path, "/v1/openai/v1/chat/completions")
            XCTAssertEqual(up.stream, name == "rename")
            // Without the option the body is untouched.
            let plain = try OpenAIPassthroughTranslator(options: TranslationOptions(upstreamPath: "/p"))
                .upstreamRequest(for: ClientRequest(body: input))
            XCTAssertEqual(plain.body, input)
        }
    }

    func testRequestErrors() {
        let cases: [(String, String)] = [
            ("{\"model\":", "request body is not valid JSON: unexpected end of input at byte 9"),
            ("", "request body is not valid JSON: empty document, expected a JSON object at byte 0"),
            ("[]", "request body is not valid JSON: expected a JSON object at byte 0"),
            (#"{"messages":[]}"#, "`model` is required"),
            (#"{"model":null,"messages":[]}"#, "`model` must be a string"),
            (#"{"model":"m"}"#, "`messages` is required"),
            (#"{"model":"m","messages":"hi"}"#, "`messages` must be an array"),
        ]
        for (body, message) in cases {
            let e = requestError(body)
            XCTAssertEqual(e?.message, message, body)
            XCTAssertEqual(e?.status, 400)
            XCTAssertEqual(e?.body(for: .openAIChat).utf8String.hasPrefix("{\"error\":{\"message\":"), true)
        }
    }

    func testResponsePassThrough() {
        let body = bytes(#"{"error":{"message":"slow down"}}"#)
        let r = make().clientResponse(status: 429, contentType: "application/json; charset=utf-8", body: body, retryAfter: "3")
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.body, body)
        XCTAssertEqual(r.contentType, "application/json; charset=utf-8")
        XCTAssertEqual(r.headers.map(\.name), ["Retry-After"])
        XCTAssertEqual(r.headers.map(\.value), ["3"])
        XCTAssertEqual(make().clientResponse(status: 200, contentType: nil, body: [], retryAfter: nil).contentType, "application/json")
    }

    func testStreamPassesThroughEverySplit() {
        let input = Fixture.bytes(folder, "stream.upstream.sse")
        let expected = Fixture.bytes(folder, "stream.client.sse").utf8String
        assertEverySplit(input, expected: expected) { replayStream(make, $0) }
    }

    /// A failure at every cut point yields the bytes so far, a terminated event and the error + [DONE].
    func testStreamFailAtEveryCut() {
        let input = Fixture.bytes(folder, "stream.upstream.sse")
        let tail = "data: {\"error\":{\"message\":\"boom\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\ndata: [DONE]\n\n"
        for cut in 0...input.count {
            let t = make()
            var out: [UInt8] = []
            // Feed the prefix in two pieces to exercise state carried across chunks.
            let mid = cut / 2
            Array(input[..<mid]).withUnsafeBytes { t.streamChunk($0, into: &out) }
            Array(input[mid..<cut]).withUnsafeBytes { t.streamChunk($0, into: &out) }
            t.streamFail(.badGateway("boom"), into: &out)
            let prefix = Array(input[..<cut]).utf8String
            let atBoundary = cut == 0 || prefix.hasSuffix("\n\n")
            XCTAssertEqual(t.isAtEventBoundary, true)
            XCTAssertEqual(out.utf8String, prefix + (atBoundary ? "" : "\n\n") + tail, "cut \(cut)")
            // The client can decode everything it got: the error event is the last data before [DONE].
            var decoder = SSEDecoder()
            var datas: [String] = []
            XCTAssertNoThrow(try decoder.feed(out) { datas.append($0.data.utf8String) })
            XCTAssertEqual(datas.suffix(2), [String(tail.dropFirst(6).prefix(while: { $0 != "\n" })), "[DONE]"], "cut \(cut)")
        }
    }

    /// `passStreamChunk` (bytes written as they are) and `streamChunk` (bytes copied into `out`) send
    /// the same bytes and track the same event boundary, for every split of the fixture and of CR/LF
    /// runs; after the end of the stream neither sends anything.
    func testPassStreamChunkMatchesStreamChunk() {
        var inputs = [Fixture.bytes(folder, "stream.upstream.sse")]
        inputs += ["data: a\r\n\r\n", "data: a\r\r\ndata: b\n\n\n", "\n\r\n\r"].map { bytes($0) }
        for input in inputs {
            for cut in 0...input.count {
                let copied = make(), passed = make()
                var out: [UInt8] = []
                var written: [UInt8] = []
                for piece in [Array(input[..<cut]), Array(input[cut...])] where !piece.isEmpty {
                    piece.withUnsafeBytes { p in
                        copied.streamChunk(p, into: &out)
                        if passed.passStreamChunk(p) { written += piece } else { passed.streamChunk(p, into: &written) }
                    }
                    XCTAssertEqual(passed.isAtEventBoundary, copied.isAtEventBoundary, "cut \(cut)")
                }
                XCTAssertEqual(written, out, "cut \(cut)")
                passed.streamEnd(into: &written)
                bytes("data: late\n\n").withUnsafeBytes { XCTAssertFalse(passed.passStreamChunk($0), "nothing after the end") }
            }
        }
    }

    func testBoundaryTrackingWithCRLineEnds() {
        let cases: [([String], Bool)] = [
            (["data: a\r\n\r\n"], true), (["data: a\r\n", "\r\n"], true), (["data: a\r", "\n"], false),
            (["data: a\r", "\n\r"], true), (["data: a\r\r"], true), (["data: a\n"], false), (["data: a\n", "\n"], true),
            (["data: a\n", "\n", "x"], false), (["\n"], true), ([], true),
        ]
        for (chunks, boundary) in cases {
            let t = make()
            var out: [UInt8] = []
            for c in chunks { bytes(c).withUnsafeBytes { t.streamChunk($0, into: &out) } }
            XCTAssertEqual(t.isAtEventBoundary, boundary, "\(chunks)")
        }
    }

    func testKeepAliveAndEnd() {
        let t = make()
        var out: [UInt8] = []
        t.keepAlive(into: &out)
        t.streamEnd(into: &out)
        t.streamFail(.badGateway("late"), into: &out)
        XCTAssertEqual(out.utf8String, ": keep-alive\n\n")
    }
}

/// The request fast path (one scan, one splice) against the general edit it replaced.
final class OpenAIPassthroughRequestEditTests: XCTestCase {
    private func upstream(_ body: String, rename: Bool = true) throws -> UpstreamRequest {
        try OpenAIPassthroughTranslator(options: TranslationOptions(upstreamPath: "/p", renameMaxTokens: rename))
            .upstreamRequest(for: ClientRequest(body: bytes(body)))
    }

    /// What the general `JSONEdit` makes of `body`: the reference for every case.
    private func reference(_ body: String) throws -> String {
        let b = bytes(body)
        let scan = try JSONObjectScanner.scan(b)
        var edit = JSONEdit()
        if scan.contains("max_completion_tokens") {
            edit.remove("max_tokens")
        } else {
            edit.rename("max_tokens", to: "max_completion_tokens")
        }
        return edit.apply(to: b, scan: scan).utf8String
    }

    func testRenameIsByteExactWhereverTheKeyIs() throws {
        let bodies = [
            #"{"model":"gpt-5","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":64,"temperature":0.2}"#,
            "{\"max_tokens\" :\t64 , \"model\":\"m\",\"messages\":[]}",
            "\n{ \"model\":\"m\",\"messages\":[ ],\n  \"max_tokens\": 1e2 }\n",
            #"{"model":"m","messages":[],"max\u005ftokens":5}"#,
            #"{"model":"m","messages":[],"max_tokens":5,"max_tokens":6}"#,
            #"{"model":"m","messages":[],"max_tokens":5,"max_completion_tokens":6}"#,
            #"{"max_completion_tokens":6,"model":"m","max_tokens":5,"messages":[]}"#,
            #"{"model":"m","messages":[],"x":{"max_tokens":5}}"#,
            #"{"model":"m","messages":[],"max_tokensx":5,"amax_tokens":1}"#,
        ]
        for body in bodies {
            let up = try upstream(body)
            XCTAssertEqual(up.body.utf8String, try reference(body), body)
            XCTAssertNoThrow(try JSONParser.parse(up.body), body)
            // Off: the client's bytes, untouched.
            XCTAssertEqual(try upstream(body, rename: false).body, bytes(body), body)
        }
        XCTAssertEqual(
            try upstream(#"{"model":"m","messages":[],"max_tokens":5}"#).body.utf8String,
            #"{"model":"m","messages":[],"max_completion_tokens":5}"#)
    }

    func testFieldsReadFromTheScan() throws {
        XCTAssertTrue(try upstream(#"{"model":"m","messages":[],"stream":true}"#).stream)
        XCTAssertFalse(try upstream(#"{"model":"m","messages":[],"stream":false}"#).stream)
        XCTAssertFalse(try upstream(#"{"model":"m","messages":[],"stream":"true"}"#).stream)
        // The last `stream` wins, the first `model` and `messages` are checked.
        XCTAssertTrue(try upstream(#"{"model":"m","messages":[],"stream":false,"stream":true}"#).stream)
        XCTAssertTrue(try upstream(#"{"model":"m","messages":[],"str\u0065am":true}"#).stream)
        XCTAssertNoThrow(try upstream(#"{"model":"m","model":1,"messages":[]}"#))
        XCTAssertThrowsError(try upstream(#"{"model":1,"model":"m","messages":[]}"#))
        XCTAssertThrowsError(try upstream(#"{"model":"m","messages":{},"messages":[]}"#))
        XCTAssertNoThrow(try upstream(#"{"m\u006fdel":"m","messages":[]}"#))
        // Invalid JSON deep inside still fails, with the detailed message.
        do throws(APIError) {
            _ = try OpenAIPassthroughTranslator(options: TranslationOptions(upstreamPath: "/p", renameMaxTokens: true))
                .upstreamRequest(for: ClientRequest(body: bytes(#"{"model":"m","messages":[{"a":"\uD800"}]}"#)))
            XCTFail("no error")
        } catch {
            XCTAssertEqual(error.message, "request body is not valid JSON: lone surrogate \\u escape at byte 31")
        }
    }
}
