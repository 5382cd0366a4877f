/// `data:<media type>;base64,<data>` as the Anthropic `base64` source both OpenAI-shaped ingresses
/// (Chat `image_url`/`file_data`, Responses `input_image`/`input_file`) turn it into.
enum Base64DataURL {
    /// (media type, data) of a URL the caller knows to start with `data:`; errors name `path`.
    static func parse(_ url: String, path: String) throws(APIError) -> (mediaType: String, data: String) {
        let rest = url.utf8.dropFirst(5)
        guard let comma = rest.firstIndex(of: UInt8(ascii: ",")) else {
            throw .invalidRequest("Invalid value for '\(path)': malformed data URL.")
        }
        let header = String(decoding: rest[rest.startIndex..<comma], as: UTF8.self)
        let data = String(decoding: rest[rest.index(after: comma)...], as: UTF8.self)
        guard header.hasSuffix(";base64") else {
            throw .invalidRequest("Invalid value for '\(path)': data URLs must be base64 encoded.")
        }
        let mediaType = String(header.dropLast(7))
        guard !mediaType.isEmpty, !data.isEmpty else {
            throw .invalidRequest("Invalid value for '\(path)': malformed data URL.")
        }
        return (mediaType, data)
    }

    /// `{"type":"base64","media_type":…,"data":…}`.
    static func source(_ mediaType: String, _ data: String) -> JSON {
        .object(JSONObject([("type", "base64"), ("media_type", .string(mediaType)), ("data", .string(data))]))
    }
}
