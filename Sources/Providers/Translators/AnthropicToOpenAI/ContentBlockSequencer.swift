/// Turns OpenAI's stream deltas (text, and tool calls by index, possibly interleaved) into Anthropic
/// content blocks, which never interleave: one block is open at a time, each `content_block_start`,
/// its deltas, then its `content_block_stop`, with indexes 0, 1, 2... in order.
///
/// Blocks open in the order their first piece arrives. A piece for the open block is written at once.
/// A piece for another block is written at once too when the open block may be closed: text may always
/// close; a tool call only once its arguments are a complete JSON object or array (`ArgumentsProgress`),
/// since OpenAI may still send pieces for an unfinished call. Otherwise the piece waits in a queue until
/// the open call completes (or the answer ends), and the waiting blocks then follow in order. OpenAI
/// streams calls one after another, so the queue is normally empty; it is bounded (`maxQueuedBytes`,
/// each waiting block counted at `entryCost` more than its bytes, and `maxToolCalls` calls per answer;
/// past either, `overflowed` is set and the stream fails). A tool call opens only with its name (OpenAI
/// sends it with the first piece); a call whose name never came is an upstream fault (`finish` says
/// so), never a `tool_use` without a name. Pieces for a call already closed are dropped.
struct ContentBlockSequencer {
    enum Kind: Equatable {
        case text
        /// OpenAI's tool call index.
        case tool(Int)
    }

    private enum ToolState { case waiting, open, closed }

    private struct ToolCall {
        var id: String
        var name: String
        var state = ToolState.waiting
        var progress = ArgumentsProgress()
    }

    private struct Pending {
        var kind: Kind
        /// Decoded text or argument bytes received while waiting.
        var bytes: [UInt8]
    }

    let maxQueuedBytes: Int
    /// What a waiting block costs against `maxQueuedBytes` beyond its bytes, so empty ones count too.
    static let entryCost = 64
    /// More distinct tool calls than this in one answer is an upstream fault.
    static let maxToolCalls = 1024
    private var current: (kind: Kind, index: Int)?
    private var queue: [Pending] = []
    private var queuedBytes = 0
    private var tools: [Int: ToolCall] = [:]
    private var nextIndex = 0
    private var scratch: [UInt8] = []
    private(set) var sawToolCall = false
    private(set) var overflowed = false

    init(maxQueuedBytes: Int) {
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// A piece of the answer's text (a JSON string value in `fields`).
    mutating func text(_ value: PickedValue, in fields: FieldPicker, into out: inout [UInt8]) {
        if fields.isEmptyString(value) { return }
        if queue.isEmpty {
            if let current, current.kind == .text {
                writeDelta(text: true, index: current.index, value, in: fields, into: &out)
                return
            }
            if canCloseCurrent {
                closeCurrent(into: &out)
                let index = open(.text, into: &out)
                writeDelta(text: true, index: index, value, in: fields, into: &out)
                return
            }
        }
        Self.decode(value, in: fields, into: &scratch)
        if let last = queue.indices.last, queue[last].kind == .text {
            queue[last].bytes.append(contentsOf: scratch)
        } else {
            queue.append(Pending(kind: .text, bytes: scratch))
            noteQueued(Self.entryCost)
        }
        noteQueued(scratch.count)
        drain(force: false, into: &out)
    }

    /// A piece of tool call `index`: its id and name (first piece), and a piece of its arguments.
    mutating func toolCall(
        index k: Int, id: String?, name: String?, arguments: PickedValue?, in fields: FieldPicker,
        into out: inout [UInt8]
    ) {
        let isNew = tools[k] == nil
        if isNew {
            guard tools.count < Self.maxToolCalls else {
                overflowed = true
                return
            }
            tools[k] = ToolCall(id: id ?? "", name: name ?? "")
        } else if tools[k]?.state == .waiting {
            if let id, !id.isEmpty, tools[k]?.id.isEmpty == true { tools[k]?.id = id }
            if let name, !name.isEmpty, tools[k]?.name.isEmpty == true { tools[k]?.name = name }
        }
        guard let call = tools[k] else { return }
        var piece: PickedValue?
        if let arguments, arguments.kind == .string, !fields.isEmptyString(arguments) { piece = arguments }
        switch call.state {
        case .closed:
            return
        case .open:
            guard let piece, let index = current?.index else { return }
            Self.decode(piece, in: fields, into: &scratch)
            scratch.withUnsafeBytes { tools[k]?.progress.feed($0) }
            writeDelta(text: false, index: index, piece, in: fields, into: &out)
            if tools[k]?.progress.complete == true && !queue.isEmpty { drain(force: false, into: &out) }
        case .waiting:
            scratch.removeAll(keepingCapacity: true)
            if let piece { Self.decode(piece, in: fields, into: &scratch) }
            scratch.withUnsafeBytes { tools[k]?.progress.feed($0) }
            if isNew && queue.isEmpty && canCloseCurrent && !call.name.isEmpty {
                closeCurrent(into: &out)
                let index = open(.tool(k), into: &out)
                if let piece { writeDelta(text: false, index: index, piece, in: fields, into: &out) }
                return
            }
            if let queued = queue.firstIndex(where: { $0.kind == .tool(k) }) {
                queue[queued].bytes.append(contentsOf: scratch)
            } else {
                queue.append(Pending(kind: .tool(k), bytes: scratch))
                noteQueued(Self.entryCost)
            }
            noteQueued(scratch.count)
            drain(force: false, into: &out)
        }
    }

    /// The answer is over: every waiting block is written and every block closed. False when a tool
    /// call never got its name: the blocks before it are written and closed, it and those after it are not.
    mutating func finish(into out: inout [UInt8]) -> Bool {
        drain(force: true, into: &out)
        closeCurrent(into: &out)
        return queue.isEmpty
    }

    // MARK: Blocks

    private var canCloseCurrent: Bool {
        guard let current else { return true }
        switch current.kind {
        case .text: return true
        case .tool(let k): return tools[k]?.progress.complete ?? true
        }
    }

    /// Opens the waiting blocks in order while the open one may close (all of them when `force`).
    private mutating func drain(force: Bool, into out: inout [UInt8]) {
        while let head = queue.first {
            if case .tool(let k) = head.kind, tools[k]?.name.isEmpty ?? true { return }
            if !force && !canCloseCurrent { return }
            closeCurrent(into: &out)
            queue.removeFirst()
            queuedBytes -= head.bytes.count + Self.entryCost
            let index = open(head.kind, into: &out)
            if !head.bytes.isEmpty {
                if head.kind == .text {
                    AnthropicEventBytes.textDeltaStart(index: index, into: &out)
                } else {
                    AnthropicEventBytes.inputJSONDeltaStart(index: index, into: &out)
                }
                head.bytes.withUnsafeBytes { JSON.writeString(utf8: $0, to: &out) }
                AnthropicEventBytes.deltaEnd(into: &out)
            }
        }
    }

    private mutating func open(_ kind: Kind, into out: inout [UInt8]) -> Int {
        let index = nextIndex
        nextIndex += 1
        current = (kind, index)
        switch kind {
        case .text:
            AnthropicEventBytes.textBlockStart(index: index, into: &out)
        case .tool(let k):
            tools[k]?.state = .open
            sawToolCall = true
            let call = tools[k]
            let id = call?.id ?? ""
            AnthropicEventBytes.toolBlockStart(
                index: index, id: id.isEmpty ? "call_\(k)" : id, name: call?.name ?? "", into: &out)
        }
        return index
    }

    private mutating func closeCurrent(into out: inout [UInt8]) {
        guard let current else { return }
        AnthropicEventBytes.blockStop(index: current.index, into: &out)
        if case .tool(let k) = current.kind { tools[k]?.state = .closed }
        self.current = nil
    }

    private mutating func noteQueued(_ count: Int) {
        queuedBytes += count
        if queuedBytes > maxQueuedBytes { overflowed = true }
    }

    private func writeDelta(
        text: Bool, index: Int, _ value: PickedValue, in fields: FieldPicker, into out: inout [UInt8]
    ) {
        if text {
            AnthropicEventBytes.textDeltaStart(index: index, into: &out)
        } else {
            AnthropicEventBytes.inputJSONDeltaStart(index: index, into: &out)
        }
        fields.appendString(value, to: &out)
        AnthropicEventBytes.deltaEnd(into: &out)
    }

    /// The text of a (validated) JSON string value, into `bytes` (replacing what it held).
    static func decode(_ value: PickedValue, in fields: FieldPicker, into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        let inner = UnsafeRawBufferPointer(
            rebasing: fields.bytes[(value.range.lowerBound + 1)..<(value.range.upperBound - 1)])
        if inner.contains(UInt8(ascii: "\\")) {
            JSONReader.unescape(inner, into: &bytes)
        } else {
            bytes.append(contentsOf: inner)
        }
    }
}

/// Follows a tool call's arguments, piece by piece, far enough to know when they form one complete
/// JSON object or array (strings and escapes tracked, nothing else checked). Arguments that start with
/// anything else never complete: their block stays open until the answer ends.
struct ArgumentsProgress {
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var started = false
    private var opaque = false
    private(set) var complete = false

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if complete || opaque { return }
        for c in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch c {
            case 0x20, 0x0A, 0x0D, 0x09:
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                started = true
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard started else {
                    opaque = true
                    return
                }
                depth -= 1
                if depth == 0 {
                    complete = true
                    return
                }
            case UInt8(ascii: "\""):
                guard started else {
                    opaque = true
                    return
                }
                inString = true
            default:
                if !started {
                    opaque = true
                    return
                }
            }
        }
    }
}
