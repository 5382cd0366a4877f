/// Parses a whole JSON document (RFC 8259, strict) into a `JSON` tree.
///
/// Rejects: trailing garbage, comments, trailing commas, leading zeros, invalid UTF-8, raw control
/// characters in strings, and lone surrogate escapes (rejected, not replaced: see `JSONReader`).
/// Nesting deeper than `maxDepth` arrays/objects is an error, so hostile input cannot exhaust the stack.
public enum JSONParser {
    public static let maxDepth = 512

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSON {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        guard reader.atEnd else { throw reader.error("unexpected data after the JSON value") }
        return value
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSON {
        let result: Result<JSON, JSONError> = bytes.withUnsafeBytes { buffer in
            do throws(JSONError) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Validates a document without building a tree.
    public static func validate(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        try reader.skipValue(depth: 0)
        reader.skipWhitespace()
        guard reader.atEnd else { throw reader.error("unexpected data after the JSON value") }
    }
}
