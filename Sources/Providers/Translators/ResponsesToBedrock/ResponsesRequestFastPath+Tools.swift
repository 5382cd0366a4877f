/// The fast path's `tools`, `text.format` and `tool_choice`: `ResponsesToolMapping`'s rules on the bytes.
/// Each tool becomes a range of pieces (its `parameters` schema copied as it stands); names are decoded,
/// as the mapping keys its name table by them.
extension ResponsesRequestFastPath {
    /// The upstream `tool_choice` (`type` nil: none is sent) and the `text.format` tool.
    struct ToolChoice {
        var type: String?
        var name: String?
        var disableParallel = false
        var outputTool: String?

        var forcesTool: Bool { type == "any" || type == "tool" }
    }

    /// A tool's members that the mapping reads.
    struct ToolFields {
        var type: Slot?
        var name: Slot?
        var description: Slot?
        var parameters: Slot?
        var tools: Slot?
        var format: Slot?
    }

    /// Reads `tools` at `i` (its first occurrence) and maps each tool. False: the mapping must run.
    mutating func toolList(at i: inout Int) -> Bool {
        if p[i] == 0x6E {
            guard let s = value(i, depth: 1) else { return false }
            i = s.end
            return true
        }
        guard let any = openArray(&i) else { return false }
        guard any else { return true }
        while true {
            guard let fields = toolFields(&i, depth: 2), let type = fields.type, p[type.start] == 0x22 else {
                return false
            }
            if isString(type, "function") {
                guard addFunction(fields, namespace: nil, namespaceDescription: nil) else { return false }
            } else if isString(type, "custom") {
                guard addCustom(fields, namespace: nil, namespaceDescription: nil) else { return false }
            } else if isString(type, "namespace") {
                guard addNamespace(fields) else { return false }
            } else {
                guard let text = decode(type) else { return false }
                if text == "function" || text == "custom" || text == "namespace" { return false }
                toolNote("tool \(text)")
            }
            guard let more = nextElement(&i) else { return false }
            if !more { break }
        }
        return true
    }

    /// The members of the tool object at `i`; moves past it.
    private mutating func toolFields(_ i: inout Int, depth: Int) -> ToolFields? {
        guard let any = openObject(&i) else { return nil }
        var f = ToolFields()
        guard any else { return f }
        while true {
            guard let k = key(&i), let v = value(i, depth: depth + 1) else { return nil }
            i = v.end
            if keyIs(k, "type") {
                if f.type == nil { f.type = v }
            } else if keyIs(k, "name") {
                if f.name == nil { f.name = v }
            } else if keyIs(k, "description") {
                if f.description == nil { f.description = v }
            } else if keyIs(k, "parameters") {
                if f.parameters == nil { f.parameters = v }
            } else if keyIs(k, "tools") {
                if f.tools == nil { f.tools = v }
            } else if keyIs(k, "format") {
                if f.format == nil { f.format = v }
            }
            guard let more = nextMember(&i) else { return nil }
            if !more { break }
        }
        return f
    }

    /// An optional string member: `.some(nil)` when absent or null, nil when not a string.
    private func optionalString(_ s: Slot?) -> String?? {
        guard let s, p[s.start] != 0x6E else { return .some(nil) }
        guard let text = decode(s) else { return nil }
        return .some(text)
    }

    private mutating func addNamespace(_ f: ToolFields) -> Bool {
        guard let name = f.name, let namespace = decode(name),
            case .some(let description) = optionalString(f.description),
            let list = f.tools, p[list.start] == 0x5B
        else { return false }
        var i = list.start
        guard let any = openArray(&i) else { return false }
        guard any else { return true }
        while true {
            guard let child = toolFields(&i, depth: 4), let type = child.type, p[type.start] == 0x22 else {
                return false
            }
            if isString(type, "function") {
                guard addFunction(child, namespace: namespace, namespaceDescription: description) else { return false }
            } else if isString(type, "custom") {
                guard addCustom(child, namespace: namespace, namespaceDescription: description) else { return false }
            } else {
                return false
            }
            guard let more = nextElement(&i) else { return false }
            if !more { break }
        }
        return true
    }

    private mutating func addFunction(_ f: ToolFields, namespace: String?, namespaceDescription: String?) -> Bool {
        guard let nameSlot = f.name, let name = decode(nameSlot),
            let upstream = register(name, namespace: namespace, kind: .function),
            case .some(let own) = optionalString(f.description)
        else { return false }
        let start = beginBlock()
        lit(#"{"name":"#)
        writeString(upstream)
        if namespaceDescription == nil {
            // The description alone: its bytes, when it has any text.
            if own?.isEmpty == false, let d = f.description {
                lit(#","description":"#)
                string(d)
            }
        } else if let description = Self.join(namespaceDescription, own) {
            lit(#","description":"#)
            writeString(description)
        }
        lit(#","input_schema":"#)
        if let parameters = f.parameters, p[parameters.start] != 0x6E {
            guard p[parameters.start] == 0x7B, canonicalValue(parameters) else { return false }
        } else {
            lit(#"{"type":"object","properties":{}}"#)
        }
        lit("}")
        tools.append(start..<pieces.count)
        toolUpstreamNames.append(upstream)
        floor = pieces.count
        return true
    }

    private mutating func addCustom(_ f: ToolFields, namespace: String?, namespaceDescription: String?) -> Bool {
        guard let nameSlot = f.name, let name = decode(nameSlot), case .some(let own) = optionalString(f.description)
        else { return false }
        var description = Self.join(namespaceDescription, own) ?? ""
        if let format = f.format, p[format.start] != 0x6E {
            guard p[format.start] == 0x7B, let fields = formatFields(format) else { return false }
            guard let typeSlot = fields.type, let type = decode(typeSlot) else { return false }
            if type == "grammar" {
                guard case .some(let syntax) = optionalString(fields.syntax), let definitionSlot = fields.definition,
                    let definition = decode(definitionSlot)
                else { return false }
                description +=
                    (description.isEmpty ? "" : "\n\n")
                    + "Put the whole tool input in the `input` string. It must follow this \(syntax ?? "lark") grammar:\n"
                    + definition
            } else if type != "text" {
                return false
            }
        }
        guard let upstream = register(name, namespace: namespace, kind: .custom) else { return false }
        let start = beginBlock()
        lit(#"{"name":"#)
        writeString(upstream)
        if !description.isEmpty {
            lit(#","description":"#)
            writeString(description)
        }
        lit(
            #","input_schema":{"type":"object","properties":{"input":{"type":"string","description":"The raw input for the tool."}},"required":["input"]}}"#
        )
        tools.append(start..<pieces.count)
        toolUpstreamNames.append(upstream)
        floor = pieces.count
        return true
    }

    /// A custom tool's `format` members (`type`, `syntax`, `definition`).
    private mutating func formatFields(_ s: Slot) -> (type: Slot?, syntax: Slot?, definition: Slot?)? {
        var i = s.start
        var type: Slot?
        var syntax: Slot?
        var definition: Slot?
        guard let any = openObject(&i) else { return nil }
        guard any else { return (nil, nil, nil) }
        while true {
            guard let k = key(&i), let v = value(i, depth: 5) else { return nil }
            i = v.end
            if keyIs(k, "type") {
                if type == nil { type = v }
            } else if keyIs(k, "syntax") {
                if syntax == nil { syntax = v }
            } else if keyIs(k, "definition") {
                if definition == nil { definition = v }
            }
            guard let more = nextMember(&i) else { return nil }
            if !more { break }
        }
        return (type, syntax, definition)
    }

    /// The upstream name, recorded; nil when it is declared twice (the mapping's 400).
    private mutating func register(_ name: String, namespace: String?, kind: ClientToolName.Kind) -> String? {
        let upstream = ResponsesToolMapping.upstreamName(namespace: namespace, name: name)
        guard names[upstream] == nil else { return nil }
        names[upstream] = ClientToolName(kind: kind, name: name, namespace: namespace)
        return upstream
    }

    private static func join(_ first: String?, _ second: String?) -> String? {
        switch (first?.isEmpty == false ? first : nil, second?.isEmpty == false ? second : nil) {
        case (let a?, let b?): return a + "\n\n" + b
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    mutating func toolNote(_ phrase: String) {
        if !toolRemoved.contains(phrase) { toolRemoved.append(phrase) }
    }

    // MARK: text.format and tool_choice

    /// `text.format` (as a tool), `tool_choice` and `parallel_tool_calls`, as `ResponsesToolMapping` ends.
    mutating func toolChoice(format text: Slot?, choice value: Slot?, parallel: Bool?) -> ToolChoice? {
        var result = ToolChoice()
        if let text {
            guard let format = member(of: text, "format"), let outputTool = addOutputTool(format) else { return nil }
            result.outputTool = outputTool
        }
        var choiceType: String?
        var named: String?
        if let value {
            if p[value.start] == 0x22 {
                guard let word = decode(value), word == "auto" || word == "none" || word == "required" else {
                    return nil
                }
                choiceType = word
            } else if p[value.start] == 0x7B {
                guard let typeSlot = member(of: value, "type"), let slot = typeSlot, let type = decode(slot) else {
                    return nil
                }
                switch type {
                case "function", "custom":
                    guard let nameSlot = member(of: value, "name"), let slot = nameSlot, let name = decode(slot),
                        let upstream = lookUp(name, kind: type == "function" ? .function : .custom)
                    else { return nil }
                    named = upstream
                case "allowed_tools":
                    guard let mode = allowOnly(value) else { return nil }
                    choiceType = mode
                default:
                    toolNote("tool_choice \(type)")
                    choiceType = "auto"
                }
            } else {
                return nil
            }
        }
        if let named {
            result.type = "tool"
            result.name = named
        } else if let outputTool = result.outputTool {
            if choiceType == "none" {
                result.type = "tool"
                result.name = outputTool
            } else {
                result.type = "any"
            }
        } else if let choiceType {
            result.type = choiceType == "required" ? "any" : choiceType
        }
        if parallel == false, !tools.isEmpty, result.type != "none" {
            if result.type == nil { result.type = "auto" }
            result.disableParallel = true
        }
        if tools.isEmpty {
            result.type = nil
            result.name = nil
            result.disableParallel = false
        }
        return result
    }

    /// `{"type":"allowed_tools","mode":...,"tools":[...]}` (`ResponsesToolMapping.allowOnly`): only the listed
    /// function and custom tools stay. The choice type for the mode; nil when refused.
    private mutating func allowOnly(_ value: Slot) -> String? {
        guard let modeMember = member(of: value, "mode"), case .some(let modeText) = optionalString(modeMember)
        else { return nil }
        let mode = modeText ?? "auto"
        guard mode == "auto" || mode == "required", let listMember = member(of: value, "tools"),
            let list = listMember, p[list.start] == 0x5B
        else { return nil }
        var keep: Set<String> = []
        var i = list.start
        guard let any = openArray(&i) else { return nil }
        if any {
            while true {
                guard p[i] == 0x7B, let entry = self.value(i, depth: 3),
                    let typeMember = member(of: entry, "type"), let typeSlot = typeMember, let type = decode(typeSlot)
                else { return nil }
                if type == "function" || type == "custom" {
                    guard let nameMember = member(of: entry, "name"), let nameSlot = nameMember,
                        let name = decode(nameSlot), let upstream = lookUp(name, kind: type == "function" ? .function : .custom)
                    else { return nil }
                    keep.insert(upstream)
                } else {
                    toolNote("tool_choice \(type)")
                }
                i = entry.end
                guard let more = nextElement(&i) else { return nil }
                if !more { break }
            }
        }
        var k = 0
        while k < tools.count {
            if let name = toolUpstreamNames[k], names[name] != nil, !keep.contains(name) {
                tools.remove(at: k)
                toolUpstreamNames.remove(at: k)
            } else {
                k += 1
            }
        }
        return mode
    }

    /// The first member `key` of the object `s`, `.some(nil)` when absent or null; nil when invalid.
    private mutating func member(of s: Slot, _ name: StaticString) -> Slot?? {
        var i = s.start
        guard let any = openObject(&i) else { return nil }
        guard any else { return .some(nil) }
        while true {
            guard let k = key(&i), let v = value(i, depth: 3) else { return nil }
            if keyIs(k, name) { return .some(p[v.start] == 0x6E ? nil : v) }
            i = v.end
            guard let more = nextMember(&i) else { return nil }
            if !more { break }
        }
        return .some(nil)
    }

    /// `text.format` as a tool: its name (nil for `text` or absent: `""`), or nil when refused.
    private mutating func addOutputTool(_ format: Slot?) -> String?? {
        guard let format else { return .some(nil) }
        guard p[format.start] == 0x7B, let typeMember = member(of: format, "type"), let typeSlot = typeMember,
            let type = decode(typeSlot)
        else { return nil }
        let name: String
        switch type {
        case "text": return .some(nil)
        case "json_object":
            name = "json_response"
        case "json_schema":
            guard let nameMember = member(of: format, "name"), let nameSlot = nameMember, let text = decode(nameSlot),
                let schemaMember = member(of: format, "schema"), let schema = schemaMember, p[schema.start] == 0x7B
            else { return nil }
            // The schema's own `type` (the first, even `null`) must be the string `object`.
            guard let rootType = firstMember(of: schema, "type") else { return nil }
            if let rootType, !isString(rootType, "object") { return nil }
            name = text
        default:
            return nil
        }
        guard names[name] == nil, let extraMember = member(of: format, "description"),
            case .some(let extra) = optionalString(extraMember)
        else { return nil }
        var description = "Give your final answer by calling this tool; its input is the answer, as JSON."
        if let extra, !extra.isEmpty { description += " " + extra }
        let start = beginBlock()
        lit(#"{"name":"#)
        writeString(name)
        lit(#","description":"#)
        writeString(description)
        lit(#","input_schema":"#)
        if type == "json_object" {
            lit(#"{"type":"object"}"#)
        } else {
            guard let schemaMember = member(of: format, "schema"), let schema = schemaMember, canonicalValue(schema)
            else { return nil }
        }
        lit("}")
        tools.append(start..<pieces.count)
        toolUpstreamNames.append(nil)
        floor = pieces.count
        return .some(name)
    }

    /// The first member `name` of the object `s` including a `null` one (`.some(nil)`: none).
    private mutating func firstMember(of s: Slot, _ name: StaticString) -> Slot?? {
        var i = s.start
        guard let any = openObject(&i) else { return nil }
        guard any else { return .some(nil) }
        while true {
            guard let k = key(&i), let v = value(i, depth: 4) else { return nil }
            if keyIs(k, name) { return .some(v) }
            i = v.end
            guard let more = nextMember(&i) else { return nil }
            if !more { break }
        }
        return .some(nil)
    }

    /// `ResponsesToolMapping.lookUp`: a top-level tool of that name first, else the one namespaced one.
    private func lookUp(_ name: String, kind: ClientToolName.Kind) -> String? {
        let matches = names.filter { $0.value.name == name && $0.value.kind == kind }.sorted { $0.key < $1.key }
        if let plain = matches.first(where: { $0.value.namespace == nil }) { return plain.key }
        guard matches.count == 1, let only = matches.first else { return nil }
        return only.key
    }
}
