import Foundation
import XCTest

@testable import Providers

/// One translator pair's golden fixtures, in the layout every pair shares: `Fixtures/<folder>/request`
/// (client request in, upstream request or 400 out), `response` (upstream response in, client response
/// out) and `stream/<name>/` (upstream stream in, client stream out). A pair's `…Fixtures` enum names its
/// folder, its options and how to make its translator; the loading, the replays and the fixture loops
/// below are the same for every pair.
protocol PairFixtures {
    associatedtype Translator: ExchangeTranslator
    /// The folder under `Fixtures/`, e.g. `openai-bedrock`.
    static var folder: String { get }
    /// A fresh translator with the pair's fixture options (and fixed clock).
    static func translator() -> Translator
    /// A complete upstream event that a replay sends after the stream ended: it must write nothing.
    static var lateUpstreamEvent: [UInt8] { get }
}

/// One stream fixture: `case.json` (the client's request, and how the upstream ends: `"end"` or
/// `{"fail": APIError}`), `upstream.sse` and `client.sse`.
struct StreamCase {
    var request: [UInt8]
    var upstream: [UInt8]
    var expected: [UInt8]
    var failure: APIError?
}

// MARK: Loading

extension PairFixtures {
    /// The fixture directory `kind` (`request`, `response`, `stream`) and the names in it (without
    /// `.json`), sorted.
    static func names(_ kind: String) throws -> (URL, [String]) {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: kind, withExtension: nil, subdirectory: "Fixtures/\(folder)"),
            "missing fixture directory \(kind)")
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            .map { $0.hasSuffix(".json") ? String($0.dropLast(5)) : $0 }
            .sorted()
        return (url, names)
    }

    static func read(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    static func json(_ url: URL) throws -> JSON { try JSONParser.parse(read(url)) }

    static func streamCase(_ directory: URL, _ name: String) throws -> StreamCase {
        let folder = directory.appendingPathComponent(name)
        let meta = try json(folder.appendingPathComponent("case.json"))
        var failure: APIError?
        if let fail = meta["end"]?["fail"] {
            failure = APIError(
                status: fail["status"]?.intValue ?? 0, type: fail["type"]?.stringValue ?? "",
                message: fail["message"]?.stringValue ?? "", code: fail["code"]?.stringValue)
        } else {
            XCTAssertEqual(meta["end"]?.stringValue, "end", name)
        }
        return StreamCase(
            request: try XCTUnwrap(meta["request"], name).bytes,
            upstream: try read(folder.appendingPathComponent("upstream.sse")),
            expected: try read(folder.appendingPathComponent("client.sse")), failure: failure)
    }
}

// MARK: Replays

extension PairFixtures {
    /// One replay: a fresh translator, the request, every piece, then the end (or the failure). Anything
    /// after the end is ignored (a second end, a late failure, `lateUpstreamEvent`): the stream is over,
    /// and the result says so when something was written after it.
    static func replay(_ testCase: StreamCase, _ pieces: [[UInt8]]) -> [UInt8] {
        let translator = Self.translator()
        guard (try? translator.upstreamRequest(for: ClientRequest(body: testCase.request)))?.stream == true else {
            return Array("request did not map to a stream".utf8)
        }
        var out: [UInt8] = []
        for piece in pieces { piece.withUnsafeBytes { translator.streamChunk($0, into: &out) } }
        if let failure = testCase.failure {
            translator.streamFail(failure, into: &out)
        } else {
            translator.streamEnd(into: &out)
        }
        let done = out.count
        translator.streamEnd(into: &out)
        translator.streamFail(APIError(status: 502, type: "api_error", message: "late"), into: &out)
        lateUpstreamEvent.withUnsafeBytes { translator.streamChunk($0, into: &out) }
        return done == out.count ? out : out + Array("<wrote after the end>".utf8)
    }
}

// MARK: The fixture loops

extension PairFixtures {
    /// Every `request/<name>.json`: the client's body (`client`, or raw `clientText`) and either the
    /// expected upstream request (`upstream`: path, stream, body) or the expected 400 (`error`: status,
    /// type). `upstream` and `error` check what else the pair's fixtures hold. Returns how many were read.
    @discardableResult
    static func checkRequestFixtures(
        required: [String], file: StaticString = #filePath, line: UInt = #line,
        upstream: (_ name: String, _ request: UpstreamRequest, _ translator: Translator, _ fixture: JSON) throws ->
            Void = { _, _, _, _ in },
        error: (_ name: String, _ error: APIError, _ expected: JSON) throws -> Void
    ) throws -> Int {
        let (directory, names) = try names("request")
        for name in required {
            XCTAssertTrue(names.contains(name), "missing request fixture \(name)", file: file, line: line)
        }
        var checked = 0
        for name in names {
            let fixture = try json(directory.appendingPathComponent(name + ".json"))
            let body: [UInt8]
            if let text = fixture["clientText"]?.stringValue {
                body = Array(text.utf8)
            } else {
                // The raw bytes of the `client` member: numbers such as 2.50 stay as written.
                body = try XCTUnwrap(fixture["client"], name).bytes
            }
            let translator = Self.translator()
            let result = Result { () throws(APIError) in try translator.upstreamRequest(for: ClientRequest(body: body))
            }
            if let expected = fixture["upstream"] {
                guard case .success(let request) = result else {
                    XCTFail("\(name): unexpected error \(result)", file: file, line: line)
                    continue
                }
                XCTAssertEqual(request.path, expected["path"]?.stringValue, "\(name): path", file: file, line: line)
                XCTAssertEqual(
                    request.stream, expected["stream"]?.boolValue, "\(name): stream", file: file, line: line)
                XCTAssertEqual(request.contentType, "application/json", name, file: file, line: line)
                assertSameJSON(
                    request.body, try XCTUnwrap(expected["body"]), "\(name): body", file: file, line: line)
                try upstream(name, request, translator, fixture)
            } else {
                let expected = try XCTUnwrap(fixture["error"], name)
                guard case .failure(let apiError) = result else {
                    XCTFail("\(name): expected an error, got \(result)", file: file, line: line)
                    continue
                }
                XCTAssertEqual(apiError.status, expected["status"]?.intValue, name, file: file, line: line)
                XCTAssertEqual(apiError.type, expected["type"]?.stringValue, name, file: file, line: line)
                try error(name, apiError, expected)
            }
            checked += 1
        }
        return checked
    }

    /// The expected error's `message`, or a `messagePrefix` followed by the parser's reason.
    static func assertMessage(
        _ error: APIError, _ expected: JSON, _ name: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        if let message = expected["message"]?.stringValue {
            XCTAssertEqual(error.message, message, name, file: file, line: line)
        } else {
            let prefix = try XCTUnwrap(expected["messagePrefix"]?.stringValue, name, file: file, line: line)
            XCTAssertTrue(error.message.hasPrefix(prefix), "\(name): \(error.message)", file: file, line: line)
            XCTAssertGreaterThan(
                error.message.count, prefix.count, "\(name): the reason is missing", file: file, line: line)
        }
    }

    /// Every `response/<name>.json`: the client's request, the upstream's complete response (status,
    /// optional `retryAfter`, `bodyText`) and the expected client response (status, headers, body).
    static func checkResponseFixtures(required: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let (directory, names) = try names("response")
        for name in required {
            XCTAssertTrue(names.contains(name), "missing response fixture \(name)", file: file, line: line)
        }
        for name in names {
            let fixture = try json(directory.appendingPathComponent(name + ".json"))
            let translator = Self.translator()
            _ = try translator.upstreamRequest(for: ClientRequest(body: try XCTUnwrap(fixture["request"], name).bytes))
            let upstream = try XCTUnwrap(fixture["upstream"], name)
            let response = translator.clientResponse(
                status: try XCTUnwrap(upstream["status"]?.intValue, name), contentType: "application/json",
                body: Array(try XCTUnwrap(upstream["bodyText"]?.stringValue, name).utf8),
                retryAfter: upstream["retryAfter"]?.stringValue)
            let expected = try XCTUnwrap(fixture["expected"], name)
            XCTAssertEqual(response.status, expected["status"]?.intValue, name, file: file, line: line)
            XCTAssertEqual(response.contentType, "application/json", name, file: file, line: line)
            let expectedHeaders = (expected["headers"]?.arrayValue ?? []).map {
                "\($0.arrayValue?.first?.stringValue ?? ""): \($0.arrayValue?.last?.stringValue ?? "")"
            }
            XCTAssertEqual(
                response.headers.map { "\($0.name): \($0.value)" }, expectedHeaders, name, file: file, line: line)
            assertSameJSON(response.body, try XCTUnwrap(expected["body"]), name, file: file, line: line)
        }
    }

    /// Every `stream/<name>/`: replayed whole (`compare` checks that output against the fixture), then
    /// byte by byte and split at every index, and every replay must write the same bytes.
    static func checkStreamFixtures(
        required: [String], file: StaticString = #filePath, line: UInt = #line,
        compare: (_ name: String, _ whole: [UInt8], _ testCase: StreamCase) throws -> Void
    ) throws {
        let (directory, names) = try names("stream")
        for name in required {
            XCTAssertTrue(names.contains(name), "missing stream fixture \(name)", file: file, line: line)
        }
        for name in names {
            let testCase = try streamCase(directory, name)
            let whole = replay(testCase, [testCase.upstream])
            try compare(name, whole, testCase)
            assertEverySplit(testCase.upstream, expected: whole.utf8String, file: file, line: line) {
                replay(testCase, $0).utf8String
            }
        }
    }
}

// MARK: Comparing

extension PairFixtures {
    /// Object members sorted by key, recursively: equality that ignores key order and nothing else
    /// (numbers still compare by their text, strings exactly).
    static func normalized(_ value: JSON) -> JSON {
        switch value {
        case .array(let items): return .array(items.map(normalized))
        case .object(let object):
            var sorted = JSONObject()
            for member in object.members.sorted(by: { $0.key < $1.key }) {
                sorted.append(member.key, normalized(member.value))
            }
            return .object(sorted)
        default: return value
        }
    }

    static func assertSameJSON(
        _ actual: JSON, _ expected: JSON, _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(
            normalized(actual), normalized(expected),
            "\(context):\n actual   \(actual.bytes.utf8String)\n expected \(expected.bytes.utf8String)", file: file,
            line: line)
    }

    /// The same for bytes the translator wrote, which must be JSON.
    static func assertSameJSON(
        _ actual: [UInt8], _ expected: JSON, _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let parsed = try? JSONParser.parse(actual) else {
            XCTFail("\(context): output is not JSON: \(actual.utf8String)", file: file, line: line)
            return
        }
        XCTAssertEqual(
            normalized(parsed), normalized(expected),
            "\(context):\n actual   \(actual.utf8String)\n expected \(expected.bytes.utf8String)", file: file, line: line)
    }

    /// SSE output against a fixture's: as many frames, the output ending on a frame boundary (or empty,
    /// when `emptyAllowed`), and `frame` comparing each frame with the fixture's.
    static func assertSameFrames(
        _ actual: [UInt8], _ expected: [UInt8], _ context: String, emptyAllowed: Bool = false,
        file: StaticString = #filePath, line: UInt = #line,
        frame: (_ index: Int, _ actual: [UInt8], _ expected: [UInt8]) -> Void
    ) {
        let actualFrames = frames(actual)
        let expectedFrames = frames(expected)
        XCTAssertEqual(
            actualFrames.count, expectedFrames.count,
            "\(context): frame count\n actual:\n\(actual.utf8String)\n expected:\n\(expected.utf8String)", file: file,
            line: line)
        if !(emptyAllowed && actual.isEmpty) {
            XCTAssertEqual(
                actual.suffix(2), [0x0A, 0x0A], "\(context): output must end on a frame boundary", file: file,
                line: line)
        }
        for (index, (a, e)) in zip(actualFrames, expectedFrames).enumerated() { frame(index, a, e) }
    }

    /// SSE frames split on the blank line that ends each one (the translators write `\n` line ends only).
    static func frames(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A, bytes[index + 1] == 0x0A {
                frames.append(Array(bytes[start..<index]))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        if start < bytes.count { frames.append(Array(bytes[start...])) }
        return frames
    }
}
