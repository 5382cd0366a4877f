/// What `ChunkedDecoder.decode` did with its input.
package enum ChunkedDecodeResult: Equatable, Sendable {
    /// Every input byte was consumed (`consumed == input.count`) and the body is not finished.
    case needMore(consumed: Int)
    /// The last chunk and the trailers were read; bytes after `consumed` belong to the next message.
    case done(consumed: Int)
    /// The body is malformed; the error is sticky.
    case failure(HTTPParseError)
}

/// What one call of `ChunkedDecoder.next` found.
package enum ChunkedStep {
    /// A run of body bytes (a span of the input, never empty); `consumed` input bytes, up to the
    /// run's end, were used.
    case body(UnsafeRawBufferPointer, consumed: Int)
    /// Every input byte was consumed and the body is not finished.
    case needMore
    /// The last chunk and the trailers were read; bytes after `consumed` belong to the next message.
    case done(consumed: Int)
    /// The body is malformed (`ChunkedDecoder.error` says how); sticky. No payload, so that a step is
    /// a plain value (returned in registers, nothing to destroy): `next` runs once or twice per stream event.
    case failure
}

/// An incremental decoder for the chunked transfer coding (RFC 9112 section 7.1).
///
/// It keeps no bytes: chunk-size lines and trailers are parsed byte by byte into a few integers,
/// and chunk data is handed to the caller as spans of the input, so a body of any size costs no
/// copy and no allocation here. Strict: hexadecimal sizes only (no whitespace), CRLF line ends,
/// CRLF after every chunk's data; chunk extensions are accepted (bounded) and ignored; trailers are
/// validated, bounded and discarded.
package struct ChunkedDecoder: Sendable {
    private enum State: UInt8 {
        case sizeStart, size, extension_, sizeLF, data, dataCR, dataLF
        case trailerStart, trailerName, trailerValue, trailerLF, finalLF, done
    }

    /// The longest chunk-size line (size and extensions) accepted.
    package static let maxSizeLineBytes = 4096

    package let maxBodyBytes: Int
    package let maxTrailerBytes: Int
    private var state = State.sizeStart
    /// The chunk size while parsing it, then the data bytes left in the chunk.
    private var remaining = 0
    private var lineBytes = 0
    private var trailerBytes = 0
    /// Body bytes handed to the caller so far.
    package private(set) var bodyBytes = 0
    /// Input bytes consumed so far (for error positions).
    private var position = 0
    private var failure: HTTPParseError?

    package init(maxBodyBytes: Int, maxTrailerBytes: Int = 8192) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// True once the last chunk and trailers were read.
    package var isDone: Bool { state == .done }

    /// Why the body is malformed, once `next` or `decode` said it is.
    package var error: HTTPParseError? { failure }

    /// Decodes as much of `input` as possible, passing each run of body bytes to `body` (spans of
    /// the input, valid only during the call). After `.done`, further calls answer `.done(consumed: 0)`.
    package mutating func decode(
        _ input: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer) -> Void
    ) -> ChunkedDecodeResult {
        var offset = 0
        while true {
            switch next(UnsafeRawBufferPointer(rebasing: input[offset...])) {
            case .body(let span, let consumed):
                body(span)
                offset &+= consumed
            case .needMore:
                return .needMore(consumed: input.count)
            case .done(let consumed):
                return .done(consumed: offset &+ consumed)
            case .failure:
                return .failure(failure!)
            }
        }
    }

    /// Decodes `input` up to the end of its first run of body bytes, the end of the body, or the end of
    /// the input, whichever comes first: the pull form of `decode`, for a caller that hands each run on
    /// as a value rather than through a closure. Call again with the bytes after `consumed`.
    /// `takingChunkEnd`: a run that ends its chunk also takes the chunk's closing CRLF when it follows in
    /// `input` (counted in `consumed`), so that a chunk that came whole (an SSE event) is one call, not two.
    package mutating func next(_ input: UnsafeRawBufferPointer, takingChunkEnd: Bool = false) -> ChunkedStep {
        if failure != nil { return .failure }
        if state == .done { return .done(consumed: 0) }
        let n = input.count
        var i = 0
        while i < n {
            if state == .data {
                let take = Swift.min(remaining, n &- i)
                remaining &-= take
                bodyBytes &+= take
                let end = i &+ take
                var used = end
                if remaining == 0 {
                    if takingChunkEnd, n &- end >= 2, input[end] == HTTPBytes.cr, input[end &+ 1] == HTTPBytes.lf {
                        state = .sizeStart
                        used = end &+ 2
                    } else {
                        state = .dataCR
                    }
                }
                position &+= used
                return .body(UnsafeRawBufferPointer(rebasing: input[i..<end]), consumed: used)
            }
            let b = input[i]
            if var error = step(b) {
                error.message += " (byte \(position &+ i) of the chunked body)"
                position &+= i
                return fail(error)
            }
            i &+= 1
            if state == .done {
                position &+= i
                return .done(consumed: i)
            }
        }
        position &+= n
        return .needMore
    }

    private mutating func fail(_ error: HTTPParseError) -> ChunkedStep {
        failure = error
        return .failure
    }

    /// One byte of a size line, a data terminator or the trailers. Returns an error or nil.
    @inline(__always)
    private mutating func step(_ b: UInt8) -> HTTPParseError? {
        switch state {
        case .sizeStart:
            guard let v = HTTPBytes.hexValue(b) else { return lineError(b, "chunk size is not hexadecimal") }
            remaining = v
            lineBytes = 1
            state = .size
        case .size:
            lineBytes &+= 1
            if let v = HTTPBytes.hexValue(b) {
                if remaining > (Int.max >> 4) {
                    return HTTPParseError(.badChunkSize, "chunk size overflows")
                }
                remaining = remaining << 4 | v
                if lineBytes > Self.maxSizeLineBytes {
                    return HTTPParseError(.badChunkSize, "chunk size line is too long")
                }
                return nil
            }
            if let error = checkSize() { return error }
            if b == HTTPBytes.semicolon {
                state = .extension_
            } else if b == HTTPBytes.cr {
                state = .sizeLF
            } else {
                return lineError(b, "chunk size is not hexadecimal")
            }
        case .extension_:
            lineBytes &+= 1
            if lineBytes > Self.maxSizeLineBytes {
                return HTTPParseError(.badChunkExtension, "chunk extension is longer than \(Self.maxSizeLineBytes) bytes")
            }
            if b == HTTPBytes.cr {
                state = .sizeLF
            } else if b == HTTPBytes.lf {
                return HTTPParseError(.bareLF, "bare LF in a chunk size line")
            } else if HTTPBytes.isForbiddenControl(b) {
                return HTTPParseError(.badChunkExtension, "control character in a chunk extension")
            }
        case .sizeLF:
            guard b == HTTPBytes.lf else { return HTTPParseError(.bareCR, "bare CR in a chunk size line") }
            if remaining == 0 {
                state = .trailerStart
            } else {
                state = .data
            }
        case .data:
            break  // handled in bulk by `decode`
        case .dataCR:
            guard b == HTTPBytes.cr else { return HTTPParseError(.badChunkData, "chunk data is not followed by CRLF") }
            state = .dataLF
        case .dataLF:
            guard b == HTTPBytes.lf else { return HTTPParseError(.badChunkData, "chunk data is not followed by CRLF") }
            state = .sizeStart
        case .trailerStart:
            if b == HTTPBytes.cr {
                state = .finalLF
                return nil
            }
            if let error = countTrailer() { return error }
            if HTTPBytes.isToken(b) {
                state = .trailerName
            } else if HTTPBytes.isOWS(b) {
                return HTTPParseError(.obsFold, "obsolete line folding in the trailers")
            } else if b == HTTPBytes.lf {
                return HTTPParseError(.bareLF, "bare LF in the trailers")
            } else {
                return HTTPParseError(.badTrailer, "invalid trailer field name")
            }
        case .trailerName:
            if let error = countTrailer() { return error }
            if b == HTTPBytes.colon {
                state = .trailerValue
            } else if !HTTPBytes.isToken(b) {
                return HTTPParseError(.badTrailer, "invalid trailer field name")
            }
        case .trailerValue:
            if let error = countTrailer() { return error }
            if b == HTTPBytes.cr {
                state = .trailerLF
            } else if b == HTTPBytes.lf {
                return HTTPParseError(.bareLF, "bare LF in the trailers")
            } else if b == 0 {
                return HTTPParseError(.nulInHeader, "NUL byte in the trailers")
            } else if HTTPBytes.isForbiddenControl(b) {
                return HTTPParseError(.controlCharacter, "control character in the trailers")
            }
        case .trailerLF:
            guard b == HTTPBytes.lf else { return HTTPParseError(.bareCR, "bare CR in the trailers") }
            state = .trailerStart
        case .finalLF:
            guard b == HTTPBytes.lf else { return HTTPParseError(.bareCR, "bare CR at the end of the chunked body") }
            state = .done
        case .done:
            break
        }
        return nil
    }

    private func lineError(_ b: UInt8, _ what: String) -> HTTPParseError {
        if b == HTTPBytes.lf { return HTTPParseError(.bareLF, "bare LF in a chunk size line") }
        return HTTPParseError(.badChunkSize, what)
    }

    /// Called when the size's digits end: the chunk must fit in what is left of the body limit
    /// (every earlier chunk has been delivered whole by now, so `bodyBytes` is the body so far).
    private func checkSize() -> HTTPParseError? {
        if remaining > maxBodyBytes {
            return HTTPParseError(.chunkTooLarge, "a chunk is larger than the \(maxBodyBytes)-byte body limit")
        }
        if remaining > maxBodyBytes &- bodyBytes {
            return HTTPParseError(.bodyTooLarge, "the chunked body is larger than the \(maxBodyBytes)-byte limit")
        }
        return nil
    }

    private mutating func countTrailer() -> HTTPParseError? {
        trailerBytes &+= 1
        if trailerBytes > maxTrailerBytes {
            return HTTPParseError(.trailersTooLarge, "the trailers are larger than \(maxTrailerBytes) bytes")
        }
        return nil
    }
}
