/// The fast path's tools and `thinking`, cut to the profile (`BedrockRequestShaper.shapeTools`,
/// `shapeObject`), and the object writer both they and the messages use.
extension AnthropicToBedrockFastPath {
    /// `tools`: as they are, or rebuilt without the tools of a type the profile does not send and the
    /// keys it does not send (client tools: `toolKeys`; typed tools: learned refusals only).
    mutating func writeTools(_ m: Member, cut: inout BedrockCut) -> Bool {
        guard cut.filtersToolTypes || cut.filtersToolKeys else {
            copy(m.valueStart, m.valueEnd)
            return true
        }
        let allowed = cut.profile.names.toolKeys
        let refused = cut.learned.toolKeys
        var changed = false
        for t in tools where elements[t].memberCount >= 0 {
            let e = elements[t]
            var mask: UInt64?
            if e.type >= 0, let type = Self.stringValue(bytes, members[e.type]), !Self.equalsBytes(type, "custom") {
                let bytes = self.bytes
                let name = e.name >= 0 ? members[e.name].valueStart..<members[e.name].valueEnd : nil
                if cut.removesTool(type: type, name: { name.flatMap { JSONObjectScanner.decodeString(bytes, at: $0) } })
                {
                    elements[t].fold = .dropped
                    changed = true
                    continue
                }
                // A typed (server or Anthropic-defined) tool has keys of its own: only learned refusals apply.
                mask = removals(t, allowed: nil, refused: refused, cut: &cut, what: "tool key")
            } else if e.type >= 0, Self.stringValue(bytes, members[e.type]) == nil {
                return false
            } else {
                mask = removals(t, allowed: allowed, refused: refused, cut: &cut, what: "tool key")
            }
            guard let mask else { return false }
            elements[t].cut = mask
            if mask != 0 { changed = true }
        }
        guard changed else {
            copy(m.valueStart, m.valueEnd)
            return true
        }
        copy(m.valueStart, m.valueStart + 1)
        var previousEnd = -1
        for t in tools where elements[t].fold != .dropped {
            let e = elements[t]
            if previousEnd >= 0 { comma(after: previousEnd, before: e.start) }
            previousEnd = e.end
            if e.cut == 0 {
                copy(e.start, e.end)
            } else {
                guard writeObject(e.start, e.end, e.firstMember, e.memberCount, mask: e.cut, message: -1) else {
                    return false
                }
            }
        }
        copy(m.valueEnd - 1, m.valueEnd)
        return true
    }

    /// `thinking` without the keys the profile does not list or the model refused.
    mutating func writeThinking(_ m: Member, cut: inout BedrockCut) -> Bool {
        guard thinking.count <= 64 else { return false }
        let allowed = cut.profile.names.thinkingKeys
        let refused = cut.learned.thinkingKeys
        var mask: UInt64 = 0
        for (k, i) in thinking.enumerated()
        where cut.removesKey(Self.key(bytes, members[i]), allowed: allowed, refused: refused, what: "thinking key") {
            mask |= 1 << UInt64(k)
        }
        if mask == 0 {
            copy(m.valueStart, m.valueEnd)
            return true
        }
        return writeObject(m.valueStart, m.valueEnd, thinking.lowerBound, thinking.count, mask: mask, message: -1)
    }

    /// One bit per member of element `j` that `cut` removes (and notes); nil past 64 members.
    mutating func removals(
        _ j: Int, allowed: ByteNames?, refused: Set<String>, cut: inout BedrockCut, what: StaticString
    ) -> UInt64? {
        let e = elements[j]
        guard allowed != nil || !refused.isEmpty else { return 0 }
        guard e.memberCount <= 64 else { return nil }
        var mask: UInt64 = 0
        for k in 0..<e.memberCount {
            let key = Self.key(bytes, members[e.firstMember + k])
            if cut.removesKey(key, allowed: allowed, refused: refused, what: what) { mask |= 1 << UInt64(k) }
        }
        return mask
    }

    /// The object at `start..<end` (members `first..<first+count`) without the members `mask` marks,
    /// as `JSONEdit` removes them; a message's `content` is written translated (and merged with system
    /// blocks for a fold target).
    mutating func writeObject(_ start: Int, _ end: Int, _ first: Int, _ count: Int, mask: UInt64, message: Int) -> Bool
    {
        copy(start, start + 1)
        var emitted = 0
        var lastKept = 0
        for k in 0..<count {
            if mask & (1 << UInt64(k)) != 0 { continue }
            let m = members[first + k]
            if emitted == 0 {
                copy(start + 1, members[first].keyStart)
            } else {
                copy(members[first + lastKept].valueEnd, members[first + lastKept + 1].keyStart)
            }
            emitted += 1
            lastKept = k
            copy(m.keyStart, m.valueStart)
            if message >= 0, m.tag == .content {
                if case .target(let append, let insert) = elements[message].fold {
                    guard writeMergedContent(message, m, append: append, insert: insert) else { return false }
                } else if m.kind == .string {
                    writeTextBlockList(m)
                } else {
                    copy(m.valueStart, m.valueEnd)
                }
            } else {
                copy(m.valueStart, m.valueEnd)
            }
        }
        copy(count > 0 ? members[first + count - 1].valueEnd : start + 1, end)
        return true
    }
}
