/// The fast path's `messages`: as translated (every string `content` as one text block), or rebuilt
/// as `BedrockRequestShaper` rebuilds them when the profile removes a message key or folds a
/// `role: system` message into the user turn.
extension AnthropicToBedrockFastPath {
    mutating func writeMessages(_ m: Member, cut: inout BedrockCut?) -> Bool {
        var changed = false
        if cut != nil, cut!.foldsSystem || cut!.filtersMessageKeys {
            for j in messages where elements[j].repeated { return false }
            if cut!.filtersMessageKeys {
                let allowed = cut!.profile.names.messageKeys
                let refused = cut!.learned.messageKeys
                for j in messages {
                    guard let mask = removals(j, allowed: allowed, refused: refused, cut: &cut!, what: "message key")
                    else {
                        return false
                    }
                    elements[j].cut = mask
                    if mask != 0 { changed = true }
                }
            }
            if cut!.foldsSystem {
                // An escaped role may spell `system` or `user`: only the general path decodes it.
                for j in messages where elements[j].role == .escaped { return false }
                if systemMessages > 0 {
                    guard foldSystemMessages(cut: &cut!) else { return false }
                    changed = true
                }
            }
        }
        guard changed else {
            writeTranslatedMessages(m)
            return true
        }
        // Rebuilt as the shaper writes it: the messages it keeps, joined by commas.
        copy(m.valueStart, m.valueStart + 1)
        var previousEnd = -1
        for j in messages {
            let e = elements[j]
            switch e.fold {
            case .dropped, .appended, .inserted: continue
            default: break
            }
            if previousEnd >= 0 { comma(after: previousEnd, before: e.start) }
            previousEnd = e.end
            if e.fold == .own {
                append(#"{"role":"user","content":["#)
                writeBlocks(j)
                append("]}")
            } else {
                guard writeObject(e.start, e.end, e.firstMember, e.memberCount, mask: e.cut, message: j) else {
                    return false
                }
            }
        }
        copy(m.valueEnd - 1, m.valueEnd)
        return true
    }

    /// The messages array as the translation writes it: every string `content` as one text block.
    mutating func writeTranslatedMessages(_ m: Member) {
        var at = m.valueStart
        for j in messages {
            let e = elements[j]
            for k in e.firstMember..<(e.firstMember + e.memberCount) {
                let c = members[k]
                guard c.tag == .content, c.kind == .string else { continue }
                copy(at, c.valueStart)
                append(#"[{"type":"text","text":"#)
                copy(c.valueStart, c.valueEnd)
                append("}]")
                at = c.valueEnd
            }
        }
        copy(at, m.valueEnd)
    }

    /// Decides where each system message's blocks go, as `BedrockRequestShaper` does: after the user
    /// message before it, else after the leading tool results of the user message after it, else as a
    /// user message of its own. False for a system message without text or blocks.
    mutating func foldSystemMessages(cut: inout BedrockCut) -> Bool {
        for i in messages where elements[i].role == .system {
            guard hasBlocks(i) else { return false }
            cut.note("role system (folded into the user turn)")
            if blocksAreEmpty(i) {
                elements[i].fold = .dropped
                continue
            }
            var previous = i - 1
            while previous >= messages.lowerBound, elements[previous].isDroppedSystem { previous -= 1 }
            if previous >= messages.lowerBound, elements[previous].role == .user, hasBlocks(previous) {
                elements[i].fold = .appended(to: previous)
                elements[previous].fold = elements[previous].fold.adding(append: true)
            } else if i + 1 < messages.upperBound, elements[i + 1].role == .user, hasBlocks(i + 1) {
                elements[i].fold = .inserted(into: i + 1)
                elements[i + 1].fold = elements[i + 1].fold.adding(insert: true)
            } else {
                elements[i].fold = .own
            }
        }
        return true
    }

    /// The message's translated content is a list of blocks (it was a string or an array).
    func hasBlocks(_ j: Int) -> Bool {
        let c = elements[j].content
        return c >= 0 && (members[c].kind == .array || members[c].kind == .string)
    }

    func blocksAreEmpty(_ j: Int) -> Bool {
        let c = members[elements[j].content]
        return c.kind == .array && Self.trimmedInner(p, c.valueStart, c.valueEnd).isEmpty
    }

    /// A system message's blocks, as they go into another message: the translated content's inside.
    mutating func writeBlocks(_ j: Int) {
        let c = members[elements[j].content]
        if c.kind == .string {
            append(#"{"type":"text","text":"#)
            copy(c.valueStart, c.valueEnd)
            byte(0x7D)
        } else {
            let inner = Self.trimmedInner(p, c.valueStart, c.valueEnd)
            copy(inner.lowerBound, inner.upperBound)
        }
    }

    /// The content of a user message that takes system blocks: its own blocks with the inserted ones
    /// after its leading tool results and the appended ones at the end (`mergeContent`).
    mutating func writeMergedContent(_ j: Int, _ c: Member, append: Bool, insert: Bool) -> Bool {
        byte(0x5B)
        var first = true
        if !insert {
            if c.kind == .string {
                put(&first)
                writeTextBlock(c)
            } else {
                let inner = Self.trimmedInner(p, c.valueStart, c.valueEnd)
                if !inner.isEmpty {
                    put(&first)
                    copy(inner.lowerBound, inner.upperBound)
                }
            }
        } else if c.kind == .string {
            // One text block: nothing leads it.
            put(&first)
            writeBlocks(j - 1)
            put(&first)
            writeTextBlock(c)
        } else {
            var inserted = false
            var i = JSONFastScan.whitespace(p, n, c.valueStart + 1)
            if p[i] != 0x5D {
                while true {
                    let end = JSONFastScan.value(p, n, i, depth: 4, maxDepth: JSONParser.maxDepth)
                    guard end > 0 else { return false }
                    if !inserted {
                        guard let result = Self.isToolResult(p, i, end) else { return false }
                        if !result {
                            put(&first)
                            writeBlocks(j - 1)
                            inserted = true
                        }
                    }
                    put(&first)
                    copy(i, end)
                    i = JSONFastScan.whitespace(p, n, end)
                    if p[i] == 0x5D { break }
                    i = JSONFastScan.whitespace(p, n, i + 1)
                }
            }
            if !inserted {
                put(&first)
                writeBlocks(j - 1)
            }
        }
        if append {
            for i in (j + 1)..<messages.upperBound where elements[i].fold == .appended(to: j) {
                put(&first)
                writeBlocks(i)
            }
        }
        byte(0x5D)
        return true
    }

    @inline(__always) mutating func put(_ first: inout Bool) {
        if !first { byte(0x2C) }
        first = false
    }

    mutating func writeTextBlock(_ c: Member) {
        append(#"{"type":"text","text":"#)
        copy(c.valueStart, c.valueEnd)
        byte(0x7D)
    }

    /// True when the block at `start..<end` is an object whose first string `type` is `tool_result`;
    /// nil when a key or that value is escaped.
    static func isToolResult(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool? {
        guard p[start] == 0x7B else { return false }
        var i = JSONFastScan.whitespace(p, end, start + 1)
        if p[i] == 0x7D { return false }
        while true {
            var escaped = false
            let keyEnd = JSONFastScan.string(p, end, i, &escaped)
            guard keyEnd > 0, !escaped else { return nil }
            let valueStart = JSONFastScan.whitespace(p, end, JSONFastScan.whitespace(p, end, keyEnd) + 1)
            let valueEnd = JSONFastScan.value(p, end, valueStart, depth: 5, maxDepth: JSONParser.maxDepth)
            guard valueEnd > 0 else { return nil }
            if keyEnd - i == 6, equals(p, i + 1, "type"), p[valueStart] == 0x22 {
                for k in valueStart..<valueEnd where p[k] == 0x5C { return nil }
                return valueEnd - valueStart == 13 && equals(p, valueStart + 1, "tool_result")
            }
            i = JSONFastScan.whitespace(p, end, valueEnd)
            if p[i] == 0x7D { return false }
            i = JSONFastScan.whitespace(p, end, i + 1)
        }
    }

    mutating func writeTextBlockList(_ c: Member) {
        append(#"[{"type":"text","text":"#)
        copy(c.valueStart, c.valueEnd)
        append("}]")
    }
}

extension AnthropicToBedrockFastPath.Element {
    /// A system message whose blocks went elsewhere (or that had none).
    var isDroppedSystem: Bool {
        switch fold {
        case .dropped, .appended, .inserted: return true
        default: return false
        }
    }
}

extension AnthropicToBedrockFastPath.Fold {
    func adding(append: Bool = false, insert: Bool = false) -> Self {
        if case .target(let a, let i) = self { return .target(append: a || append, insert: i || insert) }
        return .target(append: append, insert: insert)
    }
}
