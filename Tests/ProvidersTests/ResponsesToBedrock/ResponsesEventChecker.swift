import XCTest

@testable import Providers

/// Checks a client stream against the rules the OpenAI SDKs' stream accumulators and Codex rely on:
///
/// - every event's `event:` name is its `type`; `sequence_number` counts 0, 1, 2, … with no gap;
/// - `response.created` comes first and `response.in_progress` second; exactly one final event
///   (`response.completed`, `response.incomplete` or `response.failed`) comes last; every `response`
///   object has the same id;
/// - `output_item.added` uses the next `output_index` (0, 1, …: the SDK indexes its output list by it);
///   events about an item name an item that was added and is not done yet, by its id and index;
///   `output_item.done` closes it, with the same id and type;
/// - deltas add up to their `.done` value (text, arguments, custom tool input, reasoning summary), and
///   the done item holds that value;
/// - a completed or incomplete response's `output` is the done items, in order, as sent.
enum ResponsesEventChecker {
    static let finals: Set<String> = ["response.completed", "response.incomplete", "response.failed"]

    struct Item {
        var id: String
        var type: String
        var done = false
        var deltas = ""
    }

    static func check(
        _ events: [(name: String, data: JSON)], _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        func fail(_ message: String) { XCTFail("\(context): \(message)", file: file, line: line) }
        guard events.count >= 3 else { return fail("fewer than 3 events") }
        var items: [Item] = []
        var doneItems: [JSON] = []
        var responseID: String?
        for (i, event) in events.enumerated() {
            let data = event.data
            let type = data["type"]?.stringValue ?? ""
            if type != event.name { fail("event \(i): name \(event.name) but type \(type)") }
            if data["sequence_number"]?.intValue != i {
                fail("event \(i): sequence_number \(String(describing: data["sequence_number"]))")
            }
            if i == 0, type != "response.created" { fail("first event is \(type)") }
            if i == 1, type != "response.in_progress" { fail("second event is \(type)") }
            if finals.contains(type) != (i == events.count - 1) {
                fail("event \(i) \(type): a final event must be last and only last")
            }
            if let response = data["response"] {
                let id = response["id"]?.stringValue
                if responseID == nil {
                    responseID = id
                } else if id != responseID {
                    fail("event \(i): response id \(String(describing: id))")
                }
                if response["object"]?.stringValue != "response" { fail("event \(i): response.object") }
            }
            let index = data["output_index"]?.intValue
            switch type {
            case "response.output_item.added":
                guard let item = data["item"], let id = item["id"]?.stringValue,
                    let itemType = item["type"]?.stringValue
                else {
                    fail("event \(i): added item without id or type")
                    continue
                }
                if index != items.count {
                    fail("event \(i): output_index \(String(describing: index)), expected \(items.count)")
                }
                items.append(Item(id: id, type: itemType))
            case "response.output_item.done":
                guard let index, index < items.count, !items[index].done, let item = data["item"] else {
                    fail("event \(i): done for an item that is not open")
                    continue
                }
                if item["id"]?.stringValue != items[index].id || item["type"]?.stringValue != items[index].type {
                    fail("event \(i): done item differs from the added one")
                }
                items[index].done = true
                doneItems.append(item)
                let value: String? =
                    switch items[index].type {
                    case "message": item["content"]?.arrayValue?.first?["text"]?.stringValue
                    case "function_call": item["arguments"]?.stringValue
                    case "custom_tool_call": item["input"]?.stringValue
                    default: item["summary"]?.arrayValue?.first?["text"]?.stringValue ?? ""
                    }
                if value != items[index].deltas {
                    fail("event \(i): item value \(String(describing: value)) is not its deltas \(items[index].deltas)")
                }
            case "response.completed", "response.incomplete":
                let output = data["response"]?["output"]?.arrayValue ?? []
                if ResponsesBedrockFixtures.normalized(.array(output))
                    != ResponsesBedrockFixtures.normalized(.array(doneItems))
                {
                    fail("final output is not the done items")
                }
                if items.contains(where: { !$0.done }) { fail("an item is still open at \(type)") }
                if data["response"]?["usage"]?["total_tokens"]?.intValue == nil { fail("no usage") }
            case "response.failed":
                if data["response"]?["error"]?["message"]?.stringValue == nil { fail("response.failed without error") }
            case "response.created", "response.in_progress":
                if data["response"]?["status"]?.stringValue != "in_progress" { fail("event \(i): status") }
            default:
                guard let index, index < items.count, !items[index].done,
                    data["item_id"]?.stringValue == items[index].id
                else {
                    fail("event \(i) \(type): names no open item")
                    continue
                }
                if type.hasSuffix(".delta") {
                    items[index].deltas += data["delta"]?.stringValue ?? "<no delta>"
                } else if type == "response.output_text.done" || type == "response.reasoning_summary_text.done" {
                    if data["text"]?.stringValue != items[index].deltas {
                        fail("event \(i): \(type) text is not its deltas")
                    }
                } else if type == "response.function_call_arguments.done" {
                    if data["arguments"]?.stringValue != items[index].deltas {
                        fail("event \(i): arguments are not their deltas")
                    }
                } else if type == "response.custom_tool_call_input.done" {
                    if data["input"]?.stringValue != items[index].deltas { fail("event \(i): input is not its deltas") }
                }
            }
        }
    }
}
