/// The fast path's one copy: the scanned body written as the general path writes it, translated and,
/// with a `BedrockCut`, cut to the profile (`BedrockRequestShaper`'s rules, on the spans the scan
/// noted). Kept bytes are copied as they are; what the profile leaves alone is copied in one piece.
extension AnthropicToBedrockFastPath {
    /// Writes the body into `out`. False when the cut meets something only the general path does.
    mutating func write(beta: [String], cut: inout BedrockCut?, longContextBeta: String?) -> Bool {
        // The header's betas as the translation appends them: in order, empty ones and repeats dropped.
        var headerBetas: [String] = []
        headerBetas.reserveCapacity(beta.count)
        for b in beta where !b.isEmpty && !headerBetas.contains(b) { headerBetas.append(b) }
        let bodyBeta = top.firstIndex { $0.tag == .beta }
        var clientBetas: [String] = []
        if cut != nil {
            // Betas first: fields that need a beta depend on the final list.
            if !beta.isEmpty {
                clientBetas = headerBetas
            } else if let i = bodyBeta {
                clientBetas = BedrockRequestShaper.betaValues(
                    UnsafeRawBufferPointer(rebasing: bytes[top[i].valueStart..<top[i].valueEnd]))
            }
            cut!.resolveBetas(client: clientBetas, add: longContextBeta.map { [$0] } ?? [])
        }
        var betaBytes = 0
        for b in headerBetas { betaBytes += b.utf8.count * 6 + 3 }
        for b in cut?.betas ?? [] { betaBytes += b.utf8.count * 6 + 3 }
        // In pieces, most of the body stays where it is: room for what is written between the spans.
        let copied = makesPieces && n > 32 << 10 ? n / 8 + 4096 : n
        out.reserveCapacity(copied + 96 + betaBytes + 26 * stringContents + 40 * systemMessages)

        copy(0, open + 1)
        let lastMemberEnd = top[top.count - 1].valueEnd
        var closeRunStart = close
        while closeRunStart > lastMemberEnd, Self.isWhitespace(p[closeRunStart - 1]) { closeRunStart -= 1 }
        var lastKept = -1
        for (i, m) in top.enumerated() where !Self.translationDrops(m.tag) { lastKept = i }
        let tail = Tail(lastKept: lastKept, closeRunStart: closeRunStart)
        var emitted = 0
        var previous = -1
        for (index, m) in top.enumerated() where !Self.translationDrops(m.tag) {
            var replaceBetas = false
            if cut != nil {
                if m.tag == .beta {
                    if cut!.betas.isEmpty { continue }
                    replaceBetas = cut!.betas != clientBetas
                } else if cut!.removesField(Self.key(bytes, m)) {
                    continue
                }
            }
            separator(after: previous, emitted: emitted, tail)
            emitted += 1
            previous = index
            copy(m.keyStart, m.valueStart)
            switch m.tag {
            case .messages:
                guard writeMessages(m, cut: &cut) else { return false }
            case .tools where cut != nil && m.kind == .array:
                guard writeTools(m, cut: &cut!) else { return false }
            case .thinking where cut != nil && m.kind == .object:
                guard writeThinking(m, cut: &cut!) else { return false }
            case .beta where replaceBetas:
                writeBetas(cut!.betas)
            default:
                copy(m.valueStart, m.valueEnd)
            }
        }
        let version = top.count
        if cut == nil || !cut!.removesField(Self.staticBytes("anthropic_version")) {
            separator(after: previous, emitted: emitted, tail)
            emitted += 1
            previous = version
            append(#""anthropic_version":"bedrock-2023-05-31""#)
        }
        if !beta.isEmpty {
            // The translation appended the header's list; the profile keeps its betas, or removes it.
            if cut?.betas.isEmpty != true {
                separator(after: previous, emitted: emitted, tail)
                emitted += 1
                append(#""anthropic_beta":"#)
                writeBetas(cut?.betas ?? headerBetas)
            }
        } else if bodyBeta == nil, let betas = cut?.betas, !betas.isEmpty {
            if emitted > 0 { byte(0x2C) }
            append(#""anthropic_beta":"#)
            writeBetas(betas)
        }
        copy(closeRunStart, n)
        flush()
        return true
    }

    /// Where the translation's own tail sits: after the last member it keeps it copies the bytes up to
    /// the whitespace before `}` and appends `anthropic_version`.
    struct Tail {
        var lastKept: Int
        var closeRunStart: Int
    }

    /// The bytes before a kept member, as `JSONEdit` writes them twice: the first member written takes
    /// the whitespace after `{`; another takes what followed the previous member written (in the
    /// translated body: the original gap, the translation's tail and comma, or the comma between the
    /// members it appends).
    mutating func separator(after previous: Int, emitted: Int, _ tail: Tail) {
        if emitted == 0 {
            copy(open + 1, top[0].keyStart)
        } else if previous >= top.count {
            byte(0x2C)
        } else if previous == tail.lastKept {
            copy(top[top.count - 1].valueEnd, tail.closeRunStart)
            byte(0x2C)
        } else {
            copy(top[previous].valueEnd, top[previous + 1].keyStart)
        }
    }

    static func translationDrops(_ tag: Tag) -> Bool { tag == .model || tag == .stream || tag == .version }

    mutating func writeBetas(_ betas: [String]) {
        byte(0x5B)
        for (i, b) in betas.enumerated() {
            if i > 0 { byte(0x2C) }
            flush()
            JSON.writeString(b, to: &out)
        }
        byte(0x5D)
    }

    // MARK: Bytes

    /// The bytes between a member's key quotes.
    static func key(_ bytes: UnsafeRawBufferPointer, _ m: Member) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(m.keyStart + 1)..<(m.keyEnd - 1)])
    }

    /// The bytes between a string value's quotes; nil when it has an escape.
    static func stringValue(_ bytes: UnsafeRawBufferPointer, _ m: Member) -> UnsafeRawBufferPointer? {
        for i in m.valueStart..<m.valueEnd where bytes[i] == 0x5C { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[(m.valueStart + 1)..<(m.valueEnd - 1)])
    }

    static func equalsBytes(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        b.count == s.utf8CodeUnitCount
            && b.elementsEqual(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    static func staticBytes(_ s: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
    }

    /// The inside of the array at `start..<end` without surrounding whitespace (`a,b` of `[ a,b ]`).
    static func trimmedInner(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Range<Int> {
        var lo = start + 1
        var hi = end - 1
        while lo < hi, isWhitespace(p[lo]) { lo += 1 }
        while hi > lo, isWhitespace(p[hi - 1]) { hi -= 1 }
        return lo..<max(lo, hi)
    }

    /// Copies `from..<to` of the body. Pieces that follow each other in the body are copied as one:
    /// the copy waits in `pending` until a piece from elsewhere, or a written byte, comes.
    @inline(__always) mutating func copy(_ from: Int, _ to: Int) {
        guard to > from else { return }
        if from == pending.upperBound {
            pending = pending.lowerBound..<to
            return
        }
        flush()
        pending = from..<to
    }

    /// Writes the copy that waits (or, in pieces, notes a long one as a span of the body).
    mutating func flush() {
        if !pending.isEmpty {
            if makesPieces && pending.count >= Self.pieceMinimum && pieces.count < Self.pieceLimit {
                notePiece()
            } else {
                out.append(contentsOf: UnsafeBufferPointer(start: p + pending.lowerBound, count: pending.count))
            }
        }
        pending = 0..<0
    }

    /// `pending` as a span of the client's body, after the bytes written since the last one.
    @inline(never) mutating func notePiece() {
        if pieces.isEmpty { pieces.reserveCapacity(32) }
        if out.count > writtenStart {
            pieces.append(UpstreamRequest.Piece(fromSource: false, range: writtenStart..<out.count))
        }
        pieces.append(UpstreamRequest.Piece(fromSource: true, range: pending))
        writtenStart = out.count
    }

    @inline(__always) mutating func append(_ s: StaticString) {
        flush()
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    @inline(__always) mutating func byte(_ c: UInt8) {
        flush()
        out.append(c)
    }

    /// The comma between two elements of a rebuilt array (`previousEnd` and `start` in the body): the
    /// body's own when it is just that comma, so that the copy goes on in one piece.
    @inline(__always) mutating func comma(after previousEnd: Int, before start: Int) {
        if start == previousEnd + 1, p[previousEnd] == 0x2C { copy(previousEnd, start) } else { byte(0x2C) }
    }
}
