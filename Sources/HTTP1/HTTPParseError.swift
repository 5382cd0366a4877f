/// Why a head or a chunked body was refused. Parsers keep it sticky: once a parser failed it answers
/// the same error until `reset()`, and the caller closes the connection after answering `status`.
///
/// `message` says what went wrong and where (line number or byte offset) but never echoes a header
/// value or other client bytes, so it is safe to log and to send back in an error body.
///
/// `status` is the status a server answers to a client. For errors found in an upstream's response
/// the proxy answers 502 instead; the code still says what was wrong.
package struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// The head did not end within `maxHeadBytes` (431).
        case headTooLarge
        /// More than `maxHeaderCount` fields (431).
        case tooManyHeaders
        /// The request line is not `METHOD SP target SP HTTP/1.x`.
        case badRequestLine
        /// The status line is not `HTTP/1.x SP 3DIGIT [SP reason]`.
        case badStatusLine
        /// A well-formed version other than HTTP/1.x (505).
        case invalidVersion
        /// A header line that is not `token ":" OWS value OWS`.
        case badHeader
        /// A CR not followed by LF.
        case bareCR
        /// An LF not preceded by CR.
        case bareLF
        /// A header line that starts with SP or HT (obsolete line folding).
        case obsFold
        /// A NUL byte in the head or trailers.
        case nulInHeader
        /// A control character other than HT in the head or trailers.
        case controlCharacter
        /// Several `Content-Length` values that disagree.
        case conflictingLength
        /// A `Content-Length` that is not a decimal number, or overflows.
        case badContentLength
        /// Both `Transfer-Encoding` and `Content-Length`: a request smuggling vector.
        case contentLengthWithTransferEncoding
        /// A `Transfer-Encoding` whose final coding is not `chunked`, or that is malformed, or on HTTP/1.0.
        case badTransferEncoding
        /// A transfer coding other than `chunked` (501).
        case unsupportedTransferEncoding
        /// An HTTP/1.1 request without `Host`.
        case missingHost
        /// More than one `Host` field.
        case duplicateHost
        /// A chunk size that is not hexadecimal, is empty, or overflows.
        case badChunkSize
        /// A malformed or overlong chunk extension.
        case badChunkExtension
        /// Chunk data not followed by CRLF.
        case badChunkData
        /// A single chunk larger than `maxBodyBytes` (413).
        case chunkTooLarge
        /// A body larger than `maxBodyBytes` (413).
        case bodyTooLarge
        /// A malformed trailer field.
        case badTrailer
        /// Trailers larger than their limit (431).
        case trailersTooLarge
    }

    package var code: Code
    /// The status to answer a client with: 400, 413, 431, 501 or 505.
    package var status: Int
    /// What and where, never client bytes.
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
        switch code {
        case .headTooLarge, .tooManyHeaders, .trailersTooLarge: status = 431
        case .chunkTooLarge, .bodyTooLarge: status = 413
        case .unsupportedTransferEncoding: status = 501
        case .invalidVersion: status = 505
        default: status = 400
        }
    }

    package var description: String { "\(status) \(code.rawValue): \(message)" }
}
