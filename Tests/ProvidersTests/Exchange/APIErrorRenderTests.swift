import XCTest
@testable import Providers

final class APIErrorRenderTests: XCTestCase {
    func testOpenAIShape() {
        let e = APIError(status: 400, type: "invalid_request_error", message: "bad \"x\"\n")
        XCTAssertEqual(e.body(for: .openAIChat).utf8String,
                       #"{"error":{"message":"bad \"x\"\n","type":"invalid_request_error","param":null,"code":null}}"#)
        XCTAssertEqual(APIError.gatewayTimeout("slow").body(for: .passthrough).utf8String,
                       #"{"error":{"message":"slow","type":"api_error","param":null,"code":"upstream_timeout"}}"#)
    }

    func testAnthropicShapeForBothAnthropicDialects() {
        for d in [Dialect.anthropicMessages, .bedrockAnthropic] {
            XCTAssertEqual(APIError.unauthorized("no key").body(for: d).utf8String,
                           #"{"type":"error","error":{"type":"authentication_error","message":"no key"}}"#)
        }
    }

    func testAnthropicTypeByStatus() {
        let table: [(Int, String)] = [
            (400, "invalid_request_error"), (401, "authentication_error"), (403, "permission_error"),
            (404, "not_found_error"), (413, "request_too_large"), (429, "rate_limit_error"), (500, "api_error"),
            (503, "overloaded_error"), (529, "overloaded_error"), (502, "api_error"), (504, "api_error"),
            (405, "invalid_request_error"),
        ]
        for (status, type) in table {
            let e = APIError(status: status, type: "invalid_request_error", message: "m")
            let json = try? JSONParser.parse(e.body(for: .anthropicMessages))
            let expected = status == 405 ? "invalid_request_error" : type
            if status == 502 || status == 504 {
                XCTAssertEqual(APIError.anthropicType(status: status, fallback: "weird"), "api_error")
            } else {
                XCTAssertEqual(json?["error"]?["type"]?.stringValue, expected, "\(status)")
            }
        }
    }

    func testFactories() {
        let f: [(APIError, Int, String)] = [
            (.badGateway("x"), 502, "api_error"), (.gatewayTimeout("x"), 504, "api_error"),
            (.serviceUnavailable("x"), 503, "api_error"), (.notFound("x"), 404, "invalid_request_error"),
            (.methodNotAllowed("x"), 405, "invalid_request_error"), (.payloadTooLarge("x"), 413, "invalid_request_error"),
            (.unauthorized("x"), 401, "authentication_error"),
        ]
        for (e, status, type) in f {
            XCTAssertEqual(e.status, status)
            XCTAssertEqual(e.type, type)
        }
        let r = APIError(status: 429, type: "rate_limit_error", message: "m", retryAfter: "9").response(for: .openAIChat)
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.contentType, "application/json")
        XCTAssertEqual(r.headers.first?.name, "Retry-After")
        XCTAssertEqual(r.headers.first?.value, "9")
    }

    func testStreamErrorEvents() {
        let e = APIError.badGateway("upstream closed")
        XCTAssertEqual(e.streamEvent(for: .openAIChat).utf8String,
                       "data: {\"error\":{\"message\":\"upstream closed\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\ndata: [DONE]\n\n")
        XCTAssertEqual(e.streamEvent(for: .anthropicMessages).utf8String,
                       "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream closed\"}}\n\n")
    }

    func testUpstreamErrorBodyShapes() {
        let cases: [(String, String?, String)] = [
            (#"{"message":"m1"}"#, nil, "m1"), (#"{"Message":"m2"}"#, nil, "m2"),
            (#"{"type":"error","error":{"type":"overloaded_error","message":"m3"}}"#, "overloaded_error", "m3"),
            (#"{"error":{"message":"m4","type":"invalid_request_error","code":"c"}}"#, "invalid_request_error", "m4"),
            (#"{"error":"m5"}"#, nil, "m5"), ("oops", nil, "upstream returned HTTP 418"), (#"{"x":1}"#, nil, "upstream returned HTTP 418"),
        ]
        for (body, type, message) in cases {
            let p = UpstreamErrorBody.parse(status: 418, body: bytes(body))
            XCTAssertEqual(p.type, type, body)
            XCTAssertEqual(p.message, message, body)
        }
        let o = UpstreamErrorBody.openAIError(status: 429, body: bytes(#"{"message":"slow"}"#), retryAfter: "2")
        XCTAssertEqual(o, APIError(status: 429, type: "rate_limit_error", message: "slow", retryAfter: "2"))
    }
}
