import Foundation

@testable import Providers

/// Random Responses API request bodies for comparing `ResponsesRequestFastPath` with
/// `ResponsesRequestMapping`: every input item kind (messages with `input_text`/`input_image`/
/// `output_text`/`refusal`, `function_call`, `custom_tool_call`, their outputs as text and as parts,
/// `reasoning` with and without a Claude `encrypted_content`, hosted items), every tool kind (function,
/// custom with a grammar, namespace, hosted), `tool_choice`, `text.format`, `reasoning.effort`, sampling,
/// and the stored-state fields that are refused; written with random member order, spacing and escape
/// styles (the writer's own, `\/`, `\u00e9`, upper-case hex), with a few wrong types and nulls.
/// Deterministic for a seed (SplitMix64).
struct ResponsesBodyGenerator {
    private var state: UInt64
    /// This body may hold mistakes (wrong types, unknown values) that the mapping refuses.
    private var faults = false

    init(seed: UInt64) { state = seed }

    /// A JSON value to write, with strings kept as text until written.
    indirect enum Value {
        case object([(String, Value)])
        case array([Value])
        case string(String)
        case raw(String)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    /// A mistake, in a body that may hold them.
    mutating func fault(_ percent: Int) -> Bool { faults && chance(percent) }
    mutating func pick<T>(_ list: [T]) -> T { list[int(list.count)] }

    // MARK: Bodies

    mutating func body(small: Bool = false) -> [UInt8] {
        faults = chance(30)
        var members: [(String, Value)] = []
        members.append(("model", .string(pick(["claude-sonnet-4-5", "sonnet", "m\u{e9}", "gpt-5", "a/b", "x"]))))
        if fault(10) { members.append(("model", .raw("5"))) }
        if chance(60) {
            members.append(
                ("instructions", chance(5) ? .raw("null") : fault(10) ? .raw("1") : .string(text(small ? 40 : 400))))
        }
        var toolNames: [String] = []
        if chance(60) { members.append(("tools", tools(&toolNames))) }
        members.append(("input", chance(8) ? .string(text(30)) : input(small ? 4 : 14, toolNames)))
        if chance(30) { members.append(("tool_choice", toolChoice(toolNames))) }
        if chance(25) {
            members.append(("parallel_tool_calls", .raw(fault(20) ? "1" : pick(["true", "false", "null"]))))
        }
        if chance(20) { members.append(("text", textField())) }
        if chance(25) {
            members.append(
                ("max_output_tokens", .raw(fault(30) ? pick(["0", "2.5"]) : pick(["100", "1", "5000", "null"]))))
        }
        if chance(20) {
            members.append(
                (
                    "temperature",
                    .raw(fault(30) ? pick(["2", "0.2e1"]) : pick(["0", "0.5", "1", "1.0", "null", "5e-1"]))
                ))
        }
        if chance(15) { members.append(("top_p", .raw(fault(20) ? "\"x\"" : pick(["0.9", "1", "0.5"])))) }
        if chance(40) {
            var r: [(String, Value)] = []
            if chance(80) {
                r.append(
                    (
                        "effort",
                        fault(20)
                            ? .string("max")
                            : chance(90)
                                ? .string(pick(["low", "medium", "high", "none", "minimal", "xhigh"])) : .raw("null")
                    ))
            }
            if chance(50) { r.append(("summary", fault(20) ? .raw("3") : .string(pick(["auto", "detailed"])))) }
            members.append(("reasoning", .object(r)))
        }
        if chance(50) { members.append(("store", .raw(fault(20) ? "true" : "false"))) }
        if chance(50) { members.append(("stream", .raw(pick(["true", "false", "false", "null"])))) }
        if chance(40) {
            members.append(
                ("include", .array([.string("reasoning.encrypted_content")] + (fault(20) ? [.raw("1")] : []))))
        }
        if fault(5) { members.append(("previous_response_id", .string("resp_1"))) }
        if fault(5) { members.append(("background", .raw("true"))) }
        if chance(5) { members.append(("top_logprobs", .raw(fault(50) ? "3" : "0"))) }
        if chance(20) { members.append(("metadata", .object([("k", .string(text(8)))]))) }
        if chance(10) { members.append(("truncation", .string("auto"))) }
        if chance(30) { members.append(("prompt_cache_key", .string("01a24d0a"))) }
        if chance(20) { members.append(("client_metadata", .object([("turn", .string(text(10)))]))) }
        shuffle(&members, keepingFirst: chance(50) ? 1 : 0)
        var out: [UInt8] = []
        write(.object(members), &out, spaced: chance(25))
        return out
    }

    private mutating func shuffle(_ members: inout [(String, Value)], keepingFirst: Int) {
        guard members.count > keepingFirst + 1 else { return }
        for i in stride(from: members.count - 1, to: keepingFirst, by: -1) {
            let j = keepingFirst + int(i - keepingFirst + 1)
            members.swapAt(i, j)
        }
    }

    mutating func text(_ length: Int) -> String {
        let pieces = [
            "a", "b", "c", " ", "hello", "\n", "\t", "\"", "\\", "/", "\u{e9}", "\u{1F600}", "\u{01}", "\r",
            "\u{7F}", "<tag>", "{\"k\":1}", "\u{2028}",
        ]
        var s = ""
        let n = int(length + 1)
        while s.utf8.count < n { s += pick(pieces) }
        return s
    }

    // MARK: Input

    private mutating func input(_ count: Int, _ toolNames: [String]) -> Value {
        var items: [Value] = chance(90) ? [message("user")] : []
        var calls = 0
        for _ in 0..<int(count + 1) {
            switch int(12) {
            case 0, 1: items.append(message(pick(["user", "user", "assistant", "developer", "system"])))
            case 2: items.append(message("user"))
            case 3, 4:
                calls += 1
                items.append(functionCall("call_\(calls)", toolNames))
                if chance(80) { items.append(toolOutput("call_\(calls)", custom: false)) }
            case 5:
                calls += 1
                items.append(customCall("call_\(calls)"))
                items.append(toolOutput("call_\(calls)", custom: true))
            case 6, 7: items.append(reasoning())
            case 8: items.append(message("assistant"))
            case 9:
                items.append(
                    item([
                        ("type", .string(pick(["web_search_call", "local_shell_call", "compaction", "mcp_call"]))),
                        ("id", .string("x")),
                    ]))
            case 10:
                items.append(toolOutput("call_\(calls)", custom: false))
            default:
                if fault(20) {
                    items.append(
                        item([
                            ("type", .string(pick(["item_reference", "bogus", "additional_tools"]))),
                            ("id", .string("x")),
                        ]))
                } else {
                    items.append(message("user"))
                }
            }
        }
        return .array(items)
    }

    private mutating func item(_ members: [(String, Value)]) -> Value {
        var m = members
        if chance(15) { shuffle(&m, keepingFirst: 0) }
        if chance(10) { m.append(("status", .string("completed"))) }
        return .object(m)
    }

    private mutating func message(_ role: String) -> Value {
        var m: [(String, Value)] = []
        if chance(85) { m.append(("type", .string("message"))) }
        if chance(50) { m.append(("id", .string("msg_\(int(1000))"))) }
        m.append(("role", fault(5) ? .string("wizard") : .string(role)))
        if chance(25) {
            m.append(("content", chance(5) ? .raw("null") : .string(text(40))))
        } else {
            var parts: [Value] = []
            for _ in 0..<int(4) { parts.append(part(role)) }
            m.append(("content", .array(parts)))
        }
        return item(m)
    }

    private mutating func part(_ role: String) -> Value {
        var m: [(String, Value)]
        var kind = faults ? int(10) : int(8)
        if !fault(30) {
            // The kinds the role takes.
            switch role {
            case "user": if kind == 3 || kind == 4 || kind == 5 { kind = 6 }
            case "assistant": if kind <= 2 || kind == 6 || kind == 7 { kind = 3 }
            default: if kind >= 5 && kind <= 7 { kind = 0 }
            }
        }
        switch kind {
        case 0, 1, 2:
            m = [("type", .string("input_text")), ("text", .string(chance(10) ? "" : text(60)))]
        case 3, 4:
            m = [("type", .string("output_text")), ("text", .string(text(50)))]
            if chance(30) { m.append(("annotations", .array([]))) }
        case 5: m = [("type", .string("refusal")), ("refusal", .string(text(20)))]
        case 6:
            m = [("type", .string("input_image")), ("image_url", .string(imageURL())), ("detail", .string("auto"))]
            if fault(20) { m.append(("file_id", .string("file-1"))) }
        case 7 where chance(40):
            // A PDF: inline data, or a URL; with a file name or not.
            let bytes = (0..<(3 + int(40))).map { _ in UInt8(truncatingIfNeeded: next()) }
            let media = fault(30) ? "image/png" : "application/pdf"
            m = [("type", .string("input_file"))]
            switch int(faults ? 4 : 3) {
            case 0: m.append(("file_url", .string("https://example.com/\(text(4)).pdf")))
            case 3: m.append(("file_id", .string("file-1")))
            default: m.append(("file_data", .string("data:\(media);base64," + Data(bytes).base64EncodedString())))
            }
            if chance(60) { m.append(("filename", chance(80) ? .string(text(12)) : .raw(pick(["3", "null"])))) }
        case 7:
            m = [("type", .string("input_image")), ("image_url", .string(imageURL())), ("detail", .string("auto"))]
        case 8: m = [("type", .string(pick(["input_audio", "input_file", "bogus"]))), ("text", .string("x"))]
        default: m = [("type", .string("input_text")), ("text", .raw(pick(["1", "null", "\"t\""])))]
        }
        if chance(10) { m.append(("prompt_cache_breakpoint", .object([]))) }
        if chance(10) { shuffle(&m, keepingFirst: 0) }
        _ = role
        return .object(m)
    }

    private mutating func imageURL() -> String {
        switch int(10) {
        case 0: return "https://example.com/\(text(5)).png"
        case 1 where faults:
            return pick(["data:image/png,AAAA", "data:;base64,AAAA", "http://x", "data:image/png;base64,", "file:x"])
        default:
            let bytes = (0..<(3 + int(60))).map { _ in UInt8(truncatingIfNeeded: next()) }
            return "data:" + pick(["image/png", "image/jpeg", "image/webp"]) + ";base64,"
                + Data(bytes).base64EncodedString()
        }
    }

    private mutating func functionCall(_ id: String, _ toolNames: [String]) -> Value {
        var args: String
        switch int(8) {
        case 0: args = ""
        case 1: args = fault(50) ? pick(["[1]", "{", "nope"]) : " "
        case 2: args = "{ \"a\" : [ 1 , 2.50 ] , \"s\" : \"\\u00e9\" }"
        default:
            args =
                "{\"cmd\":\""
                + text(20).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\u{01}", with: "\\u0001") + "\"}"
        }
        var m: [(String, Value)] = [
            ("type", .string("function_call")), ("id", .string("fc_\(id)")),
            ("name", .string(toolNames.isEmpty || chance(20) ? "exec_command" : pick(toolNames))),
            ("arguments", .string(args)), ("call_id", .string(id)),
        ]
        if chance(15) {
            m.append(("namespace", chance(80) ? .string(pick(["multi_agent_v1", "functions", ""])) : .raw("null")))
        }
        return item(m)
    }

    private mutating func customCall(_ id: String) -> Value {
        item([
            ("type", .string("custom_tool_call")), ("name", .string("apply_patch")), ("input", .string(text(80))),
            ("call_id", .string(id)),
        ])
    }

    private mutating func toolOutput(_ id: String, custom: Bool) -> Value {
        var m: [(String, Value)] = [
            ("type", .string(custom ? "custom_tool_call_output" : "function_call_output")), ("call_id", .string(id)),
        ]
        if chance(70) {
            m.append(("output", .string(chance(10) ? "" : text(300))))
        } else if chance(90) {
            var parts: [Value] = []
            for _ in 0..<int(3) { parts.append(part("user")) }
            m.append(("output", .array(parts)))
        } else {
            m.append(("output", faults ? .raw(pick(["null", "3", "{}"])) : .string("")))
        }
        return item(m)
    }

    private mutating func reasoning() -> Value {
        var m: [(String, Value)] = [("type", .string("reasoning")), ("id", .string("rs_1")), ("summary", .array([]))]
        switch int(6) {
        case 0: break
        case 1: m.append(("encrypted_content", .string("gAAAAABo-openai-opaque")))
        case 2: m.append(("encrypted_content", fault(50) ? .raw("5") : .raw("null")))
        default:
            let block =
                chance(80)
                ? "{\"type\":\"thinking\",\"thinking\":\"" + pick(["plan", "a\\nb", "\\u00e9"])
                    + "\",\"signature\":\"EqQB\(int(999))==\"}"
                : "{\"type\":\"redacted_thinking\",\"data\":\"xyz\"}"
            var encoded: [UInt8] = []
            Array(block.utf8).withUnsafeBytes { ReasoningBlockCodec.encode($0, into: &encoded) }
            m.append(("encrypted_content", .string(String(decoding: encoded, as: UTF8.self))))
        }
        return item(m)
    }

    // MARK: Tools

    private mutating func tools(_ names: inout [String]) -> Value {
        var list: [Value] = []
        for k in 0..<int(6) {
            switch int(8) {
            case 0, 1, 2:
                let name = fault(10) ? "dup" : "fn\(k)"
                names.append(name)
                var m: [(String, Value)] = [("type", .string("function")), ("name", .string(name))]
                if chance(70) { m.append(("description", .string(text(60)))) }
                if chance(80) {
                    m.append(
                        (
                            "parameters",
                            fault(5)
                                ? .raw("[]")
                                : .object([
                                    ("type", .string("object")),
                                    (
                                        "properties",
                                        .object([
                                            (
                                                "cmd",
                                                .object([
                                                    ("type", .string("string")), ("description", .string(text(20))),
                                                ])
                                            )
                                        ])
                                    ),
                                    ("required", .array([.string("cmd")])),
                                ])
                        ))
                }
                if chance(50) { m.append(("strict", .raw("false"))) }
                list.append(.object(m))
            case 3:
                var m: [(String, Value)] = [("type", .string("custom")), ("name", .string("cu\(k)"))]
                if chance(50) { m.append(("description", .string(text(30)))) }
                if chance(60) {
                    m.append(
                        (
                            "format",
                            chance(70)
                                ? .object([
                                    ("type", .string("grammar")), ("syntax", .string(pick(["lark", "regex"]))),
                                    ("definition", .string(text(40))),
                                ])
                                : .object([("type", .string(fault(30) ? "bogus" : "text"))])
                        ))
                }
                list.append(.object(m))
            case 4:
                var children: [Value] = []
                for c in 0..<(1 + int(3)) {
                    let name = "child\(c)"
                    names.append(name)
                    var m: [(String, Value)] = [
                        ("type", .string(chance(70) ? "function" : "custom")), ("name", .string(name)),
                    ]
                    if chance(60) { m.append(("description", .string(text(20)))) }
                    if chance(50) { m.append(("parameters", .object([("type", .string("object"))]))) }
                    children.append(.object(m))
                }
                var m: [(String, Value)] = [
                    ("type", .string("namespace")), ("name", .string(pick(["multi_agent_v1", "functions", "ns\(k)"]))),
                ]
                if chance(60) { m.append(("description", .string(text(20)))) }
                m.append(("tools", .array(children)))
                list.append(.object(m))
            default:
                list.append(
                    .object([
                        ("type", .string(pick(["web_search", "file_search", "local_shell", "image_generation"]))),
                        ("external_web_access", .raw("true")),
                    ]))
            }
        }
        return .array(list)
    }

    private mutating func toolChoice(_ names: [String]) -> Value {
        switch int(7) {
        case 0, 1: return .string(fault(20) ? "sometimes" : pick(["auto", "none", "required"]))
        case 2: return .object([("type", .string("function")), ("name", .string(names.isEmpty ? "zz" : pick(names)))])
        case 3: return .object([("type", .string("custom")), ("name", .string("cu0"))])
        case 4: return .object([("type", .string(pick(["web_search_preview", "file_search", "mcp"])))])
        case 5 where faults:
            return .object([("type", .string("allowed_tools")), ("mode", .string("auto")), ("tools", .array([]))])
        default: return .raw(fault(50) ? "3" : "null")
        }
    }

    private mutating func textField() -> Value {
        var m: [(String, Value)] = []
        switch int(5) {
        case 0: m.append(("format", .object([("type", .string("text"))])))
        case 1: m.append(("format", .object([("type", .string("json_object"))])))
        case 2, 3:
            var f: [(String, Value)] = [("type", .string("json_schema")), ("name", .string(pick(["answer", "fn0"])))]
            f.append(
                ("schema", .object([("type", .string(fault(20) ? "array" : "object")), ("properties", .object([]))])))
            if chance(50) { f.append(("description", .string(text(10)))) }
            if chance(50) { f.append(("strict", .raw("true"))) }
            m.append(("format", .object(f)))
        default: m.append(("format", .raw("null")))
        }
        if chance(50) { m.append(("verbosity", .string("low"))) }
        return .object(m)
    }

    // MARK: Writing

    private mutating func write(_ value: Value, _ out: inout [UInt8], spaced: Bool) {
        func gap(_ g: inout ResponsesBodyGenerator, _ out: inout [UInt8]) {
            if spaced && g.chance(50) { out.append(contentsOf: Array(g.pick([" ", "\n  ", "\t"]).utf8)) }
        }
        switch value {
        case .raw(let text): out.append(contentsOf: Array(text.utf8))
        case .string(let text): writeString(text, &out)
        case .array(let elements):
            out.append(0x5B)
            for (k, e) in elements.enumerated() {
                if k > 0 { out.append(0x2C) }
                gap(&self, &out)
                write(e, &out, spaced: spaced)
                gap(&self, &out)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            for (k, m) in members.enumerated() {
                if k > 0 { out.append(0x2C) }
                gap(&self, &out)
                writeString(m.0, &out, plainOnly: true)
                gap(&self, &out)
                out.append(0x3A)
                gap(&self, &out)
                write(m.1, &out, spaced: spaced)
                gap(&self, &out)
            }
            out.append(0x7D)
        }
    }

    /// A string literal: mostly as `JSON.writeString` writes it, sometimes with other (valid) escapes.
    private mutating func writeString(_ text: String, _ out: inout [UInt8], plainOnly: Bool = false) {
        let style = plainOnly ? 0 : int(10)
        if style < 7 {
            JSON.writeString(text, to: &out)
            return
        }
        out.append(0x22)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: Array("\\\"".utf8))
            case "\\": out.append(contentsOf: Array("\\\\".utf8))
            case "/" where style == 7: out.append(contentsOf: Array("\\/".utf8))
            case "\n" where style == 8: out.append(contentsOf: Array("\\u000A".utf8))
            default:
                if scalar.value < 0x20 || (style == 9 && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out.append(
                            contentsOf: Array(
                                String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)).utf8))
                    } else {
                        out.append(contentsOf: Array(String(format: "\\u%04x", scalar.value).utf8))
                    }
                } else {
                    out.append(contentsOf: Array(String(scalar).utf8))
                }
            }
        }
        out.append(0x22)
    }
}
