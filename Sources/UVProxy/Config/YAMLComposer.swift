import CYAML

/// Composes one YAML document from libyaml's event parser into a `YAMLNode` tree.
///
/// libyaml scans and parses (it checks the UTF-8, the indentation and the flow syntax and reports
/// where a problem is); this type only assembles the tree: it resolves anchors and aliases, refuses
/// duplicate mapping keys and a second document, and caps the nesting depth so that a hostile file
/// cannot exhaust the stack of the code that later walks or frees the tree. No recursion here: open
/// collections live on an explicit stack.
///
/// Loading a config is a cold path; this runs once per start or reload.
struct YAMLComposer {
    /// Deeper nesting is refused. Real configs nest five or six levels.
    static let maxDepth = 256

    /// An open sequence or mapping, waiting for its end event.
    private struct Frame {
        let isMapping: Bool
        let anchor: String?
        /// Where the collection starts: duplicate keys are reported here.
        let line: Int
        let column: Int
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        /// A mapping key whose value has not arrived yet.
        var pendingKey: YAMLNode?
        /// The scalar keys seen so far, for the duplicate check without a quadratic scan.
        var scalarKeys: Set<String> = []
    }

    private let input: UnsafeRawBufferPointer
    private var stack: [Frame] = []
    private var anchors: [String: YAMLNode] = [:]
    private var root: YAMLNode?
    private var documents = 0

    private init(input: UnsafeRawBufferPointer) { self.input = input }

    /// The document in `text`, or nil when the stream holds no document (empty, or only comments).
    static func compose(_ text: String) throws(YAMLError) -> YAMLNode? {
        try compose(Array(text.utf8))
    }

    /// The document in `bytes` (UTF-8, UTF-16 with a BOM also works: libyaml detects it), or nil when
    /// the stream holds no document. Bytes that are not valid text are an error with their position.
    static func compose(_ bytes: [UInt8]) throws(YAMLError) -> YAMLNode? {
        let result: Result<YAMLNode?, YAMLError> = bytes.withUnsafeBytes { raw in
            do throws(YAMLError) { return .success(try compose(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Drives libyaml over `bytes`; the parser and every event are freed on every path.
    static func compose(_ bytes: UnsafeRawBufferPointer) throws(YAMLError) -> YAMLNode? {
        // libyaml asserts on a null input pointer; an empty stream has no document anyway.
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        // The parser must not move: the string reader keeps a pointer to it.
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(line: 1, column: 1, problem: "out of memory")
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, base.assumingMemoryBound(to: UInt8.self), bytes.count)

        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer { event.deallocate() }
        var composer = YAMLComposer(input: bytes)
        while true {
            // yaml_parser_parse zeroes the event first, so deleting it after a failure is harmless.
            defer { yaml_event_delete(event) }
            guard yaml_parser_parse(parser, event) == 1 else { throw composer.failure(of: parser.pointee) }
            if try composer.consume(event.pointee) { break }
        }
        return composer.root
    }

    // MARK: Events

    /// Takes one event; true at the end of the stream.
    private mutating func consume(_ event: yaml_event_t) throws(YAMLError) -> Bool {
        let line = Int(event.start_mark.line) + 1
        let column = Int(event.start_mark.column) + 1
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            if documents > 0 {
                throw YAMLError(line: line, column: column, problem: "a second document starts here (a config is one document)")
            }
        case YAML_DOCUMENT_END_EVENT:
            documents += 1
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let node = anchors[name] else {
                throw YAMLError(line: line, column: column, problem: "undefined alias '\(name)'")
            }
            try add(node)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let node = YAMLNode.scalar(YAMLScalar(text: text, isPlain: s.style == YAML_PLAIN_SCALAR_STYLE && s.tag == nil))
            if let anchor = Self.string(s.anchor) { anchors[anchor] = node }
            try add(node)
        case YAML_SEQUENCE_START_EVENT:
            try open(isMapping: false, anchor: Self.string(event.data.sequence_start.anchor), line: line, column: column)
        case YAML_MAPPING_START_EVENT:
            try open(isMapping: true, anchor: Self.string(event.data.mapping_start.anchor), line: line, column: column)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { break }
            let node: YAMLNode = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
            if let anchor = frame.anchor { anchors[anchor] = node }
            try add(node)
        default:
            break  // stream start, and the empty event
        }
        return false
    }

    private mutating func open(isMapping: Bool, anchor: String?, line: Int, column: Int) throws(YAMLError) {
        guard stack.count < Self.maxDepth else {
            throw YAMLError(line: line, column: column, problem: "nested deeper than \(Self.maxDepth) levels")
        }
        stack.append(Frame(isMapping: isMapping, anchor: anchor, line: line, column: column))
    }

    /// Puts a finished node into the open collection (as an item, a key or a value), or makes it the root.
    private mutating func add(_ node: YAMLNode) throws(YAMLError) {
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey {
            stack[top].pairs.append(YAMLPair(key: key, value: node))
            stack[top].pendingKey = nil
        } else {
            let duplicate: Bool
            if case .scalar(let s) = node {
                duplicate = !stack[top].scalarKeys.insert(s.text).inserted
            } else {
                duplicate = stack[top].pairs.contains { $0.key == node }
            }
            if duplicate {
                let name = if case .scalar(let s) = node { "'\(s.text)'" } else { node.kindName }
                throw YAMLError(line: stack[top].line, column: stack[top].column, problem: "duplicate key \(name)")
            }
            stack[top].pendingKey = node
        }
    }

    // MARK: Errors

    /// libyaml's error with its position. Reader errors (bad UTF-8, control characters) carry a byte
    /// offset instead of a mark: it is turned into a line and a column here.
    private func failure(of parser: yaml_parser_t) -> YAMLError {
        var problem = Self.string(parser.problem) ?? "invalid YAML"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(line: 1, column: 1, problem: "out of memory")
        case YAML_READER_ERROR:
            if parser.problem_value >= 0 {
                problem += " (0x" + String(UInt32(parser.problem_value), radix: 16, uppercase: true) + ")"
            }
            let (line, column) = Self.position(ofByte: parser.problem_offset, in: input)
            return YAMLError(line: line, column: column, problem: problem)
        default:
            return YAMLError(
                line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1, problem: problem)
        }
    }

    /// The 1-based line and column (in characters) of the byte at `offset`. Line breaks are LF, CRLF
    /// and a lone CR, as in YAML.
    static func position(ofByte offset: Int, in bytes: UnsafeRawBufferPointer) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            let b = bytes[i]
            if b == 0x0A || (b == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A)) {
                line += 1
                column = 1
            } else if b != 0x0D && b & 0xC0 != 0x80 {
                column += 1  // a character starts here (continuation bytes do not count)
            }
            i += 1
        }
        return (line, column)
    }

    private static func string(_ c: UnsafePointer<CChar>?) -> String? {
        guard let c else { return nil }
        return String(cString: c)
    }

    private static func string(_ c: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let c else { return nil }
        return String(cString: c)
    }
}
