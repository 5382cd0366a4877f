#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The decisions of `BedrockRequestShaper` (a profile plus what was learned for one model), taken on
/// key bytes as they stand in a body: the translation's fast path cuts while it writes. Same rules,
/// same notes, in the same order; the tests hold the two to byte-identical results.
///
/// Keys must be unescaped and ASCII (`ByteNames`): for anything else `failed` is set and the caller
/// leaves the request to the general path.
struct BedrockCut {
    let profile: BedrockProfile
    let learned: LearnedRejections
    /// The betas the request sends, in order (`resolveBetas`).
    private(set) var betas: [String] = []
    /// What was removed, one phrase each, as `BedrockRequestShaper.Result.removed`.
    private(set) var removed = BedrockNotes()
    /// A key or value could not be compared on bytes.
    var failed = false

    /// `role: system` messages are folded into the user turn.
    let foldsSystem: Bool
    /// Messages lose keys (`messageKeys`, learned message keys).
    let filtersMessageKeys: Bool
    /// Tools are looked at: by type, by key, or both.
    let filtersToolTypes: Bool
    let filtersToolKeys: Bool

    init(profile: BedrockProfile, learned: LearnedRejections?) {
        self.profile = profile
        let learned = learned ?? LearnedRejections()
        self.learned = learned
        foldsSystem = profile.systemMessages == .fold || learned.foldSystem
        filtersMessageKeys = profile.messageKeys != nil || !learned.messageKeys.isEmpty
        filtersToolTypes = profile.toolTypes != nil
        filtersToolKeys = profile.toolKeys != nil || !learned.toolKeys.isEmpty
        failed = !profile.names.isASCII
    }

    mutating func note(
        _ a: StaticString, _ b: UnsafeRawBufferPointer = BedrockNotes.none, _ c: StaticString = "",
        _ d: UnsafeRawBufferPointer = BedrockNotes.none, _ e: StaticString = ""
    ) {
        removed.add(a, b, c, d, e)
    }

    // MARK: Betas

    /// The betas sent: the client's (body or header, in order) and `add`, each once, those the profile
    /// and the model allow; the others are noted.
    mutating func resolveBetas(client: [String], add: [String]) {
        betas = []
        betas.reserveCapacity(client.count + add.count)
        for i in 0..<(client.count + add.count) {
            let b = i < client.count ? client[i] : add[i - client.count]
            if betas.contains(b) { continue }
            if profile.allowsBeta(b, learned: learned) {
                betas.append(b)
            } else {
                var b = b
                b.withUTF8 { note("beta ", UnsafeRawBufferPointer($0)) }
            }
        }
    }

    // MARK: Keys

    /// True when the top-level member `key` (the bytes between its quotes) goes; notes why.
    mutating func removesField(_ key: UnsafeRawBufferPointer) -> Bool {
        guard let p = bytes(key) else { return false }
        let names = profile.names
        if let allowed = names.topLevelFields, !allowed.contains(p, key.count) {
            note("field ", key)
            return true
        }
        if !learned.fields.isEmpty, learned.fields.contains(String(decoding: key, as: UTF8.self)) {
            note("field ", key)
            return true
        }
        if let needs = names.betas(neededBy: p, key.count), !needs.contains(where: { betas.contains($0) }) {
            note("field ", key, " (its beta is not sent)")
            return true
        }
        return false
    }

    /// True when an object loses its member `key`: not in `allowed` (nil: any key) or in `refused`.
    mutating func removesKey(
        _ key: UnsafeRawBufferPointer, allowed: ByteNames?, refused: Set<String>, what: StaticString
    ) -> Bool {
        guard allowed != nil || !refused.isEmpty, let p = bytes(key) else { return false }
        var goes = false
        if let allowed, !allowed.contains(p, key.count) { goes = true }
        if !goes, !refused.isEmpty, refused.contains(String(decoding: key, as: UTF8.self)) { goes = true }
        if goes { note(what, BedrockNotes.none, " ", key) }
        return goes
    }

    /// A tool of `type` (the bytes between the quotes of its string value) that the profile does not
    /// send: true, and noted with its `name` (decoded, or `?`).
    mutating func removesTool(type: UnsafeRawBufferPointer, name: () -> String?) -> Bool {
        guard let types = profile.names.toolTypes, let p = bytes(type), !types.contains(p, type.count) else {
            return false
        }
        var name = name() ?? "?"
        name.withUTF8 { note("tool ", UnsafeRawBufferPointer($0), " (type ", type, ")") }
        return true
    }

    /// The key's bytes when they can be compared as they are (ASCII); else marks the cut failed.
    private mutating func bytes(_ key: UnsafeRawBufferPointer) -> UnsafePointer<UInt8>? {
        for c in key where c >= 0x80 {
            failed = true
            return nil
        }
        guard let base = key.baseAddress else { return UnsafePointer(bitPattern: 1) }
        return base.assumingMemoryBound(to: UInt8.self)
    }
}

extension BedrockProfile {
    /// True when `beta` may be sent to a model for which `learned` was learned.
    func allowsBeta(_ beta: String, learned: LearnedRejections) -> Bool {
        switch learned.betas {
        case .none: return false
        case .knownGood:
            let known = betas ?? BedrockProfile.claudeOnBedrock.betas ?? []
            return known.contains(beta)
        case .profile:
            return betas?.contains(beta) ?? true
        }
    }
}

/// What a cut removed: phrases as `BedrockRequestShaper` words them (each once, in order), kept in one
/// buffer (each phrase's length, then its bytes) and made `String`s only when read.
struct BedrockNotes: Sendable, Equatable {
    private var bytes: [UInt8] = []

    static var none: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    init() {}

    init(_ phrases: [String]) {
        for var phrase in phrases { phrase.withUTF8 { add("", UnsafeRawBufferPointer($0)) } }
    }

    var isEmpty: Bool { bytes.isEmpty }

    /// Adds the phrase `a b c d e` (written one after the other) unless it is there already.
    mutating func add(
        _ a: StaticString, _ b: UnsafeRawBufferPointer = none, _ c: StaticString = "",
        _ d: UnsafeRawBufferPointer = none, _ e: StaticString = ""
    ) {
        if bytes.isEmpty { bytes.reserveCapacity(256) }
        let start = bytes.count
        for _ in 0..<4 { bytes.append(0) }
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: a.utf8Start, count: a.utf8CodeUnitCount))
        bytes.append(contentsOf: b)
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: c.utf8Start, count: c.utf8CodeUnitCount))
        bytes.append(contentsOf: d)
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: e.utf8Start, count: e.utf8CodeUnitCount))
        let length = UInt32(bytes.count - start - 4).littleEndian
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: length, toByteOffset: start, as: UInt32.self) }
        // A repeat: drop what was just written.
        if !isNew(start) { bytes.removeSubrange(start...) }
    }

    /// True when the phrase at `start` (the last one) is not among those before it.
    private func isNew(_ start: Int) -> Bool {
        bytes.withUnsafeBytes { all in
            let length = Int(UInt32(littleEndian: all.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
            let phrase = UnsafeRawBufferPointer(rebasing: all[(start + 4)..<(start + 4 + length)])
            var i = 0
            while i < start {
                let n = Int(UInt32(littleEndian: all.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                if n == length, memcmp(all.baseAddress! + i + 4, phrase.baseAddress!, n) == 0 { return false }
                i += 4 + n
            }
            return true
        }
    }

    /// The phrases, in order.
    var strings: [String] {
        bytes.withUnsafeBytes { all in
            var out: [String] = []
            var i = 0
            while i < all.count {
                let n = Int(UInt32(littleEndian: all.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                out.append(
                    String(decoding: UnsafeRawBufferPointer(rebasing: all[(i + 4)..<(i + 4 + n)]), as: UTF8.self))
                i += 4 + n
            }
            return out
        }
    }
}
