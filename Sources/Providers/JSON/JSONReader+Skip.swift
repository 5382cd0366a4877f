/// Validation without a tree: skipping a value, used by `JSONObjectScanner` and `JSONParser.validate`.
///
/// Why not recursion: skipping is the per-byte cost of every pass-through request. A loop with an
/// explicit stack of open containers (one bit each: object or array) keeps the state in registers, has
/// no call per nested value, and bounds depth without using the thread's stack. The error messages and
/// offsets are the ones the tree parser gives for the same input.
extension JSONReader {
    /// Validates one value at `index` (whitespace already skipped) and moves past it. `depth` is the
    /// nesting depth of the value itself; containers deeper than `maxDepth` are refused.
    ///
    /// `JSONFastScan` answers first; only invalid input takes the detailed path, for its message.
    @inline(__always)
    mutating func skipValue(depth: Int) throws(JSONError) {
        let end = JSONFastScan.value(p, count, index, depth: depth, maxDepth: maxDepth)
        if end >= 0 {
            index = end
            return
        }
        try skipValueDetailed(depth: depth)
    }

    /// `skipValue` with a precise error message and offset.
    mutating func skipValueDetailed(depth: Int) throws(JSONError) {
        var stack = ContainerStack()
        while true {
            // A value is expected at `index`.
            guard index < count else { throw error("unexpected end of input") }
            let c = p[index]
            switch c {
            case 0x22:
                _ = try scanString()
            case 0x7B, 0x5B:
                guard depth + stack.depth < maxDepth else { throw error("nesting too deep") }
                index += 1
                skipWhitespace()
                let isObject = c == 0x7B
                if index < count, p[index] == (isObject ? 0x7D : 0x5D) {
                    index += 1  // empty: a complete value
                } else {
                    stack.push(isObject: isObject)
                    if isObject { try memberKey() } else { skipWhitespace() }
                    continue
                }
            case 0x74: try literal("true")
            case 0x66: try literal("false")
            case 0x6E: try literal("null")
            case 0x2D, 0x30...0x39: _ = try scanNumber()
            default: throw unexpected()
            }
            // A value is complete: close containers until one expects another element.
            while true {
                guard stack.depth > 0 else { return }
                skipWhitespace()
                let inObject = stack.topIsObject
                guard index < count else {
                    throw error(inObject
                        ? "unexpected end of input, expected ',' or '}'" : "unexpected end of input, expected ',' or ']'")
                }
                let d = p[index]
                if d == 0x2C {
                    index += 1
                    if inObject { try memberKey() } else { skipWhitespace() }
                    break
                }
                guard d == (inObject ? 0x7D : 0x5D) else {
                    throw error(inObject ? "expected ',' or '}'" : "expected ',' or ']'")
                }
                index += 1
                stack.pop()
            }
        }
    }

    /// Inside an object, before a member: the key, the colon, and the whitespace up to the value.
    @inline(__always) private mutating func memberKey() throws(JSONError) {
        skipWhitespace()
        guard index < count, p[index] == 0x22 else { throw atEnd ? unexpected() : error("expected a string key") }
        _ = try scanString()
        skipWhitespace()
        try expect(0x3A, "':'")
        skipWhitespace()
    }
}

/// The open containers of a skip, one bit each (1: object). The first 64 levels live in a register;
/// deeper levels (legal up to `JSONParser.maxDepth`, rare in practice) spill to an array.
struct ContainerStack {
    private var bits: UInt64 = 0
    private var spill: [UInt64] = []
    private(set) var depth = 0

    @inline(__always) var topIsObject: Bool { bits & 1 != 0 }

    @inline(__always) mutating func push(isObject: Bool) {
        if depth > 0 && depth % 64 == 0 { spill.append(bits); bits = 0 }
        bits = bits << 1 | (isObject ? 1 : 0)
        depth += 1
    }

    @inline(__always) mutating func pop() {
        depth -= 1
        bits >>= 1
        if depth > 0 && depth % 64 == 0, let saved = spill.popLast() { bits = saved }
    }
}
