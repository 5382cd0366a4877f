/// The fast path's reading of content blocks and tools: each block's members as byte ranges
/// (`Block`), the strings it copies checked to be spelled as the mapping writes them.
extension MessagesRequestFastPath {
    /// A content block as read: the members the mapping looks at.
    struct Block {
        var type = Value()
        var text = Value()
        var id = Value()
        var name = Value()
        var toolUseID = Value()
        var input = Value()
        var isError = Value()
        var content = Value()
        /// A `tool_result`'s content blocks, in `innerBlocks`.
        var inner = 0..<0
        var source = Value()
        var sourceType = Value()
        var mediaType = Value()
        var data = Value()
        var url = Value()
        var cacheControl = false
        var citations = false
    }

    /// Reads the array of blocks at `start` into `blocks` (`innerBlocks` for a `tool_result`'s
    /// content): the index after it, or -1 (also for an element that is not an object).
    mutating func readBlocks(_ start: Int, depth: Int) -> Int {
        blocks.removeAll(keepingCapacity: true)
        innerBlocks.removeAll(keepingCapacity: true)
        return readBlockList(start, depth: depth, inner: false)
    }

    private mutating func readBlockList(_ start: Int, depth: Int, inner: Bool) -> Int {
        var i = JSONFastScan.whitespace(p, n, start + 1)
        guard i < n else { return -1 }
        if p[i] == 0x5D { return i + 1 }
        while true {
            guard i < n, p[i] == 0x7B else { return -1 }
            var block = Block()
            i = readBlock(i, depth: depth + 1, inner: inner, into: &block)
            guard i > 0 else { return -1 }
            if inner { innerBlocks.append(block) } else { blocks.append(block) }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return -1 }
            if p[i] == 0x5D { return i + 1 }
            guard p[i] == 0x2C else { return -1 }
            i = JSONFastScan.whitespace(p, n, i + 1)
        }
    }

    /// One block's members. Strings the mapping copies must pass `JSONCanonicalScan`, an `input`
    /// object must be compact; a key read twice is left to the general path.
    private mutating func readBlock(_ start: Int, depth: Int, inner: Bool, into b: inout Block) -> Int {
        members(start, depth: depth) { path, key, valueStart, c in
            let p = path.p
            let n = path.n
            let kind = JSONKind(firstByte: c)
            switch key.count {
            case 4 where Self.isKey(p, key, "type"):
                guard b.type.start < 0 else { return -1 }
                let end = JSONFastScan.member(p, n, valueStart, depth: depth + 1)
                b.type = Value(start: valueStart, end: end, kind: kind)
                return end
            case 4 where Self.isKey(p, key, "text"):
                guard b.text.start < 0 else { return -1 }
                b.text = path.copied(valueStart, kind, depth + 1)
                return b.text.end
            case 2 where Self.isKey(p, key, "id"):
                guard b.id.start < 0 else { return -1 }
                b.id = path.copied(valueStart, kind, depth + 1)
                return b.id.end
            case 4 where Self.isKey(p, key, "name"):
                guard b.name.start < 0 else { return -1 }
                b.name = path.copied(valueStart, kind, depth + 1)
                return b.name.end
            case 11 where Self.isKey(p, key, "tool_use_id"):
                guard b.toolUseID.start < 0 else { return -1 }
                b.toolUseID = path.copied(valueStart, kind, depth + 1)
                return b.toolUseID.end
            case 5 where Self.isKey(p, key, "input"):
                guard b.input.start < 0 else { return -1 }
                let end =
                    c == 0x7B
                    ? JSONCanonicalScan.compactValue(p, n, valueStart)
                    : JSONFastScan.member(p, n, valueStart, depth: depth + 1)
                b.input = Value(start: valueStart, end: end, kind: kind)
                return end
            case 8 where Self.isKey(p, key, "is_error"):
                guard b.isError.start < 0 else { return -1 }
                let end = JSONFastScan.member(p, n, valueStart, depth: depth + 1)
                b.isError = Value(start: valueStart, end: end, kind: kind)
                return end
            case 7 where !inner && Self.isKey(p, key, "content"):
                guard b.content.start < 0 else { return -1 }
                if c == 0x5B {
                    let first = path.innerBlocks.count
                    let end = path.readBlockList(valueStart, depth: depth + 1, inner: true)
                    b.inner = first..<path.innerBlocks.count
                    b.content = Value(start: valueStart, end: end, kind: .array)
                } else {
                    b.content = path.copied(valueStart, kind, depth + 1)
                }
                return b.content.end
            case 6 where Self.isKey(p, key, "source"):
                guard b.source.start < 0 else { return -1 }
                let end =
                    c == 0x7B
                    ? path.readSource(valueStart, depth: depth + 1, into: &b)
                    : JSONFastScan.member(p, n, valueStart, depth: depth + 1)
                b.source = Value(start: valueStart, end: end, kind: kind)
                return end
            case 13 where Self.isKey(p, key, "cache_control"):
                b.cacheControl = true
            case 9 where Self.isKey(p, key, "citations"):
                b.citations = true
            default: break
            }
            return JSONFastScan.member(p, n, valueStart, depth: depth + 1)
        }
    }

    /// An image or document `source`: `type`, `media_type`, `data`, `url`.
    private mutating func readSource(_ start: Int, depth: Int, into b: inout Block) -> Int {
        members(start, depth: depth) { path, key, valueStart, c in
            let kind = JSONKind(firstByte: c)
            if Self.isKey(path.p, key, "type") {
                guard b.sourceType.start < 0 else { return -1 }
                let end = JSONFastScan.member(path.p, path.n, valueStart, depth: depth + 1)
                b.sourceType = Value(start: valueStart, end: end, kind: kind)
                return end
            }
            if Self.isKey(path.p, key, "media_type") {
                guard b.mediaType.start < 0 else { return -1 }
                b.mediaType = path.copied(valueStart, kind, depth + 1)
                return b.mediaType.end
            }
            if Self.isKey(path.p, key, "data") {
                guard b.data.start < 0 else { return -1 }
                b.data = path.copied(valueStart, kind, depth + 1)
                return b.data.end
            }
            if Self.isKey(path.p, key, "url") {
                guard b.url.start < 0 else { return -1 }
                b.url = path.copied(valueStart, kind, depth + 1)
                return b.url.end
            }
            return JSONFastScan.member(path.p, path.n, valueStart, depth: depth + 1)
        }
    }

    /// A value the mapping may copy: a string must be spelled as `JSON.writeString` writes it.
    @inline(__always) func copied(_ start: Int, _ kind: JSONKind, _ depth: Int) -> Value {
        let end =
            kind == .string
            ? JSONCanonicalScan.string(p, n, start) : JSONFastScan.member(p, n, start, depth: depth)
        return Value(start: start, end: end, kind: kind)
    }

    // MARK: Tools

    /// `tools` → the tools section: `,{"type":"function","function":{...}}` per tool kept.
    mutating func scanTools(_ start: Int) -> Int {
        var i = JSONFastScan.whitespace(p, n, start + 1)
        guard i < n else { return -1 }
        if p[i] == 0x5D { return i + 1 }
        while true {
            guard i < n, p[i] == 0x7B else { return -1 }
            i = readTool(i)
            guard i > 0 else { return -1 }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return -1 }
            if p[i] == 0x5D { return i + 1 }
            guard p[i] == 0x2C else { return -1 }
            i = JSONFastScan.whitespace(p, n, i + 1)
        }
    }

    private mutating func readTool(_ start: Int) -> Int {
        var type = Value()
        var name = Value()
        var description = Value()
        var schema = Value()
        var strict = Value()
        keys.removeAll(keepingCapacity: true)
        let end = members(start, depth: 2) { path, key, valueStart, c in
            let kind = JSONKind(firstByte: c)
            if Self.isKey(path.p, key, "type") {
                guard type.start < 0 else { return -1 }
                let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 3)
                type = Value(start: valueStart, end: end, kind: kind)
                return end
            }
            if Self.isKey(path.p, key, "name") {
                guard name.start < 0 else { return -1 }
                name = path.copied(valueStart, kind, 3)
                return name.end
            }
            if Self.isKey(path.p, key, "description") {
                guard description.start < 0 else { return -1 }
                description = path.copied(valueStart, kind, 3)
                return description.end
            }
            if Self.isKey(path.p, key, "input_schema") {
                guard schema.start < 0 else { return -1 }
                let end =
                    c == 0x7B
                    ? JSONCanonicalScan.compactValue(path.p, path.n, valueStart)
                    : JSONFastScan.member(path.p, path.n, valueStart, depth: 3)
                schema = Value(start: valueStart, end: end, kind: kind)
                return end
            }
            if Self.isKey(path.p, key, "strict") {
                guard strict.start < 0 else { return -1 }
                let end = JSONFastScan.member(path.p, path.n, valueStart, depth: 3)
                strict = Value(start: valueStart, end: end, kind: kind)
                return end
            }
            path.keys.append(key)
            return JSONFastScan.member(path.p, path.n, valueStart, depth: 3)
        }
        guard end > 0 else { return -1 }
        if type.present {
            guard let kind = plainString(type) else { return -1 }
            if kind != "custom" {
                // Tool search has nothing to search once every tool is sent; other typed tools are refused.
                guard kind.hasPrefix("tool_search_tool_") else { return -1 }
                toolNotes.add("tool " + kind)
                return end
            }
        }
        guard name.isString, !description.present || description.isString, schema.present,
            schema.kind == .object, !strict.present || strict.kind == .bool
        else { return -1 }
        pieces.append(.text(#",{"type":"function","function":{"name":"#))
        pieces.append(.body(name.start, name.end))
        if description.present {
            pieces.append(.text(#","description":"#))
            pieces.append(.body(description.start, description.end))
        }
        pieces.append(.text(#","parameters":"#))
        pieces.append(.body(schema.start, schema.end))
        if strict.present { pieces.append(p[strict.start] == 0x74 ? .text(#","strict":true}}"#) : .text(#","strict":false}}"#)) } else {
            pieces.append(.text("}}"))
        }
        for key in keys { toolNotes.add("tool key " + Self.string(bytes, key)) }
        toolCount += 1
        return end
    }
}
