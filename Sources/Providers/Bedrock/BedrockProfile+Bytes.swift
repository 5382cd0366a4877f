#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Names compared with keys as they stand in a body (the bytes between a key's quotes), without
/// decoding them into `String`s: each name's length, then its UTF-8 bytes, one after another.
struct ByteNames: Sendable, Equatable {
    private var storage: [UInt8] = []
    /// Every name is ASCII. Swift compares `String`s by canonical equivalence, under which a few
    /// non-ASCII characters equal ASCII ones (U+212A KELVIN SIGN is "K"); bytes and `String`s agree only
    /// when both sides are ASCII, so callers compare bytes only then.
    private(set) var isASCII = true

    init(_ names: [String]) {
        for name in names {
            let utf8 = Array(name.utf8)
            guard utf8.count < 0x1_0000 else {
                isASCII = false
                continue
            }
            if utf8.contains(where: { $0 >= 0x80 }) { isASCII = false }
            storage.append(UInt8(utf8.count & 0xFF))
            storage.append(UInt8(utf8.count >> 8))
            storage.append(contentsOf: utf8)
        }
    }

    /// True when one of the names is exactly the `count` bytes at `p`. The length and the first byte
    /// are compared before `memcmp` is called: a profile's list is a dozen names, asked about every
    /// member of every message and tool (~250 times for a Claude Code request).
    func contains(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        storage.withUnsafeBufferPointer { s -> Bool in
            guard let base = s.baseAddress else { return false }
            var i = 0
            let n = s.count
            while i < n {
                let length = Int(base[i]) | Int(base[i + 1]) << 8
                if length == count, count == 0 || (base[i + 2] == p[0] && memcmp(base + i + 2, p, count) == 0) {
                    return true
                }
                i += 2 + length
            }
            return false
        }
    }
}

extension BedrockProfile {
    /// The profile's lists as `ByteNames`, for the translation's fast path (`BedrockCut`). Rebuilt
    /// whenever a list changes.
    struct Names: Sendable, Equatable {
        var topLevelFields: ByteNames?
        var messageKeys: ByteNames?
        var toolKeys: ByteNames?
        var toolTypes: ByteNames?
        var thinkingKeys: ByteNames?
        /// `fieldBetas`, each field as bytes with the betas it needs.
        var fieldBetas: [FieldBetas] = []
        /// Every list is ASCII (see `ByteNames.isASCII`).
        var isASCII = true

        struct FieldBetas: Sendable, Equatable {
            var field: ByteNames
            var needs: [String]
        }

        static let empty = Names()

        private init() {}

        init(_ profile: BedrockProfile) {
            topLevelFields = profile.topLevelFields.map(ByteNames.init)
            messageKeys = profile.messageKeys.map(ByteNames.init)
            toolKeys = profile.toolKeys.map(ByteNames.init)
            toolTypes = profile.toolTypes.map(ByteNames.init)
            thinkingKeys = profile.thinkingKeys.map(ByteNames.init)
            for (field, needs) in profile.fieldBetas.sorted(by: { $0.key < $1.key }) {
                fieldBetas.append(FieldBetas(field: ByteNames([field]), needs: needs))
            }
            let lists = [topLevelFields, messageKeys, toolKeys, toolTypes, thinkingKeys] + fieldBetas.map { $0.field }
            isASCII = lists.allSatisfy { $0?.isASCII ?? true }
        }

        /// The betas `field` needs, when it needs one.
        func betas(neededBy p: UnsafePointer<UInt8>, _ count: Int) -> [String]? {
            for f in fieldBetas where f.field.contains(p, count) { return f.needs }
            return nil
        }
    }
}
