/// The fast path's small top-level objects and lists: `stop_sequences`, `metadata`, `tool_choice`,
/// `thinking`, `output_config` and `output_format`, checked as `MessagesRequestMapping` checks them.
extension MessagesRequestFastPath {
    /// `stop_sequences`: every element a string (as written).
    mutating func stringList(_ start: Int) -> Int {
        var i = JSONFastScan.whitespace(p, n, start + 1)
        guard i < n else { return -1 }
        if p[i] == 0x5D { return i + 1 }
        while true {
            guard i < n, p[i] == 0x22 else { return -1 }
            let end = JSONCanonicalScan.string(p, n, i)
            guard end > 0 else { return -1 }
            stops.append(i..<end)
            i = JSONFastScan.whitespace(p, n, end)
            guard i < n else { return -1 }
            if p[i] == 0x5D { return i + 1 }
            guard p[i] == 0x2C else { return -1 }
            i = JSONFastScan.whitespace(p, n, i + 1)
        }
    }

    /// `metadata`: `user_id`, and the other keys noted.
    mutating func metadata(_ start: Int) -> Int {
        var seenID = false
        return members(start, depth: 2) { path, key, valueStart, c in
            if Self.isKey(path.p, key, "user_id") {
                if seenID { return -1 }
                seenID = true
                if c == 0x6E { return JSONFastScan.member(path.p, path.n, valueStart, depth: 2) }
                guard c == 0x22 else { return -1 }
                let end = JSONCanonicalScan.string(path.p, path.n, valueStart)
                path.userID = Value(start: valueStart, end: end, kind: .string)
                return end
            }
            let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 2)
            if end > 0 { path.metadataNotes.add("field metadata." + Self.string(path.bytes, key)) }
            return end
        }
    }

    /// `tool_choice`: its `type`, `name` and `disable_parallel_tool_use`.
    mutating func toolChoice(_ start: Int) -> Int {
        var type = Value()
        var name = Value()
        var disable = Value()
        let end = members(start, depth: 2) { path, key, valueStart, c in
            let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 2)
            let value = Value(start: valueStart, end: end, kind: JSONKind(firstByte: c))
            if Self.isKey(path.p, key, "type") {
                if type.start >= 0 { return -1 }
                type = value
            } else if Self.isKey(path.p, key, "name") {
                if name.start >= 0 { return -1 }
                name = value
                if c == 0x22 && JSONCanonicalScan.string(path.p, path.n, valueStart) != end { return -1 }
            } else if Self.isKey(path.p, key, "disable_parallel_tool_use") {
                if disable.start >= 0 { return -1 }
                disable = value
            }
            return end
        }
        guard end > 0, let kind = plainString(type) else { return -1 }
        switch kind {
        case "auto", "any", "none": break
        case "tool": guard name.isString else { return -1 }
        default: return -1
        }
        guard !disable.present || disable.kind == .bool else { return -1 }
        choice = Value(start: start, end: end, kind: .object)
        choiceType = kind
        choiceName = name
        disableParallel = disable.present && p[disable.start] == 0x74
        return end
    }

    /// `thinking` → the effort it implies (used when `output_config.effort` gives none).
    mutating func thinking(_ start: Int) -> Int {
        var type = Value()
        var budget = Value()
        let end = members(start, depth: 2) { path, key, valueStart, c in
            let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 2)
            let value = Value(start: valueStart, end: end, kind: JSONKind(firstByte: c))
            if Self.isKey(path.p, key, "type") {
                if type.start >= 0 { return -1 }
                type = value
            } else if Self.isKey(path.p, key, "budget_tokens") {
                if budget.start >= 0 { return -1 }
                budget = value
            }
            return end
        }
        guard end > 0, let kind = plainString(type) else { return -1 }
        switch kind {
        case "enabled":
            guard budget.kind == .number, let tokens = int(budget) else { return -1 }
            thinkingEffort = tokens < 4096 ? "low" : tokens < 16384 ? "medium" : "high"
        case "adaptive": thinkingEffort = "medium"
        case "disabled": thinkingEffort = nil
        default: return -1
        }
        return end
    }

    /// `output_config`: `effort` and `format`; other keys noted.
    mutating func outputConfig(_ start: Int) -> Int {
        var effortValue = Value()
        var formatSeen = false
        let end = members(start, depth: 2) { path, key, valueStart, c in
            if Self.isKey(path.p, key, "format") {
                if formatSeen { return -1 }
                formatSeen = true
                if c == 0x6E { return JSONFastScan.member(path.p, path.n, valueStart, depth: 2) }
                guard c == 0x7B else { return -1 }
                var value = Value()
                let end = path.outputFormat(valueStart, into: &value)
                path.format = value
                return end
            }
            let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 2)
            if Self.isKey(path.p, key, "effort") {
                if effortValue.start >= 0 { return -1 }
                effortValue = Value(start: valueStart, end: end, kind: JSONKind(firstByte: c))
            } else if end > 0 {
                path.configNotes.add("field output_config." + Self.string(path.bytes, key))
            }
            return end
        }
        guard end > 0 else { return -1 }
        if effortValue.present {
            guard let value = plainString(effortValue) else { return -1 }
            switch value {
            case "low": effort = "low"
            case "medium": effort = "medium"
            case "high", "max": effort = "high"
            default: configNotes.add("field output_config.effort (unknown value)")
            }
        }
        return end
    }

    /// `{"type":"json_schema","schema":{...}}`: the schema's bytes in `value`.
    mutating func outputFormat(_ start: Int, into value: inout Value) -> Int {
        var type = Value()
        var schema = Value()
        let end = members(start, depth: 3) { path, key, valueStart, c in
            if Self.isKey(path.p, key, "schema") {
                if schema.start >= 0 { return -1 }
                guard c == 0x7B else { return -1 }
                let end = JSONCanonicalScan.compactValue(path.p, path.n, valueStart)
                schema = Value(start: valueStart, end: end, kind: .object)
                return end
            }
            let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 3)
            if Self.isKey(path.p, key, "type") {
                if type.start >= 0 { return -1 }
                type = Value(start: valueStart, end: end, kind: JSONKind(firstByte: c))
            }
            return end
        }
        guard end > 0, plainString(type) == "json_schema", schema.present else { return -1 }
        value = schema
        return end
    }
}
