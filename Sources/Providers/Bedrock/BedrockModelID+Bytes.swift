/// `BedrockModelID.path` for a model name given as UTF-8 bytes (a JSON string's contents, no escapes).
///
/// Why: the request fast path has the name as bytes; making a `String`, resolving it with `String`
/// operations and encoding it into another `String` was about 2,000 instructions per request. This
/// variant classifies and percent-encodes the bytes and writes the filled template once.
///
/// It gives the same result as `path(template:model:aliases:stream:)` for every name (tested against
/// it): a name with a non-ASCII byte (where `String.hasPrefix` compares characters, not bytes) and an
/// aliased name take the `String` route.
extension BedrockModelID {
    static func path(
        template: String, modelBytes m: UnsafeRawBufferPointer, aliases: [String: String], stream: Bool
    ) -> String {
        for c in m where c >= 0x80 {
            return path(template: template, model: String(decoding: m, as: UTF8.self), aliases: aliases, stream: stream)
        }
        if !aliases.isEmpty {
            let name = String(decoding: m, as: UTF8.self)
            if aliases[name] != nil || aliases[anyModel] != nil {
                return path(template: template, model: name, aliases: aliases, stream: stream)
            }
        }
        // 0: as is; 1: "anthropic." + name + ":0"; 2: "anthropic." + name + "-v1:0"; 3: "anthropic." + name + "-v1".
        let form = idForm(m)
        var template = template
        return template.withUTF8 { t in
            var braces = 0
            for c in t where c == UInt8(ascii: "{") { braces += 1 }
            let capacity = t.count + braces * (3 * (m.count + 16) + 28)
            return String(unsafeUninitializedCapacity: capacity) { out in
                guard let o = out.baseAddress else { return 0 }
                var w = 0
                var i = 0
                var copied = 0
                let n = t.count
                guard let tp = t.baseAddress else { return 0 }
                while i < n {
                    guard tp[i] == UInt8(ascii: "{") else {
                        i += 1
                        continue
                    }
                    let model = n - i >= 7 && matches(t, i, "{model}")
                    guard model || (n - i >= 8 && matches(t, i, "{action}")) else {
                        i += 1
                        continue
                    }
                    (o + w).update(from: tp + copied, count: i - copied)
                    w += i - copied
                    if model {
                        w = writeSegment(m, form: form, to: o, at: w)
                        i += 7
                    } else {
                        let action: StaticString = stream ? "invoke-with-response-stream" : "invoke"
                        (o + w).update(from: action.utf8Start, count: action.utf8CodeUnitCount)
                        w += action.utf8CodeUnitCount
                        i += 8
                    }
                    copied = i
                }
                (o + w).update(from: tp + copied, count: n - copied)
                w += n - copied
                return w
            }
        }
    }

    @inline(__always)
    private static func matches(_ t: UnsafeBufferPointer<UInt8>, _ i: Int, _ word: StaticString) -> Bool {
        let w = word.utf8Start
        for k in 0..<word.utf8CodeUnitCount where t[i + k] != w[k] { return false }
        return true
    }

    /// `id(for:aliases:)`'s rules on ASCII bytes, as a form number (see the caller).
    static func idForm(_ m: UnsafeRawBufferPointer) -> Int {
        guard let base = m.baseAddress else { return 0 }
        let u = base.assumingMemoryBound(to: UInt8.self)
        let n = m.count
        var dot = -1
        var dashBeforeDot = false
        for k in 0..<n {
            let c = u[k]
            if c == UInt8(ascii: ":") { return 0 }
            if dot < 0 {
                if c == UInt8(ascii: ".") {
                    dot = k
                } else if c == UInt8(ascii: "-") {
                    dashBeforeDot = true
                }
            }
        }
        if dot > 0 && !dashBeforeDot { return 0 }
        // "claude" as bytes: c l a u d e.
        guard n >= 6, u[0] == 0x63, u[1] == 0x6C, u[2] == 0x61, u[3] == 0x75, u[4] == 0x64, u[5] == 0x65 else {
            return 0
        }
        return versionSuffix(m) ? 1 : (hasDate(m) ? 2 : 3)
    }

    /// True when the name holds a release date: `-` then eight digits starting `20`, then the end or a
    /// non-digit (`claude-3-7-sonnet-20250219`, `claude-sonnet-4-5-20250929+tools`).
    public static func hasDate(_ u: UnsafeRawBufferPointer) -> Bool {
        let n = u.count
        var i = 1
        while i + 8 <= n {
            if u[i - 1] == UInt8(ascii: "-"), u[i] == UInt8(ascii: "2"), u[i + 1] == UInt8(ascii: "0") {
                var k = i + 2
                while k < i + 8, u[k] >= 0x30, u[k] <= 0x39 { k += 1 }
                if k == i + 8, k == n || !(u[k] >= 0x30 && u[k] <= 0x39) { return true }
            }
            i += 1
        }
        return false
    }

    /// True for names ending in `-v<digits>` or `-v<digits>.<digits>`.
    static func versionSuffix(_ u: UnsafeRawBufferPointer) -> Bool {
        var i = u.count
        var sawDigit = false
        var sawDot = false
        while i > 0 {
            let c = u[i - 1]
            if c >= 0x30 && c <= 0x39 {
                sawDigit = true
            } else if c == 0x2E && sawDigit && !sawDot {
                sawDot = true
                sawDigit = false
            } else {
                break
            }
            i -= 1
        }
        return sawDigit && i >= 2 && u[i - 1] == UInt8(ascii: "v") && u[i - 2] == UInt8(ascii: "-")
    }

    /// Writes the percent-encoded id at `o + w`; returns the new write index.
    private static func writeSegment(
        _ m: UnsafeRawBufferPointer, form: Int, to o: UnsafeMutablePointer<UInt8>, at start: Int
    ) -> Int {
        var w = start
        @inline(__always) func put(_ c: UInt8) {
            switch c {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E, 0x3A:
                o[w] = c
                w += 1
            default:
                o[w] = 0x25
                o[w + 1] = hex(c >> 4)
                o[w + 2] = hex(c & 0xF)
                w += 3
            }
        }
        if form == 0 && (m.count == 1 || m.count == 2) && m.allSatisfy({ $0 == UInt8(ascii: ".") }) {
            // `.` and `..` are encoded whole, as `pathSegment` does.
            for _ in 0..<m.count {
                o[w] = 0x25; o[w + 1] = 0x32; o[w + 2] = 0x45
                w += 3
            }
            return w
        }
        if form != 0 {
            let prefix: StaticString = "anthropic."
            (o + w).update(from: prefix.utf8Start, count: 10)
            w += 10
        }
        for c in m { put(c) }
        if form == 1 {
            o[w] = UInt8(ascii: ":"); o[w + 1] = UInt8(ascii: "0")
            w += 2
        } else if form == 2 {
            let suffix: StaticString = "-v1:0"
            (o + w).update(from: suffix.utf8Start, count: 5)
            w += 5
        } else if form == 3 {
            let suffix: StaticString = "-v1"
            (o + w).update(from: suffix.utf8Start, count: 3)
            w += 3
        }
        return w
    }

    @inline(__always) private static func hex(_ n: UInt8) -> UInt8 { n < 10 ? 0x30 + n : 0x37 + n }
}

extension BedrockModelID {
    /// `…/model/<id>/invoke…` → the id, percent-decoded, into `out`; false when the path has none. (Spans
    /// name the model id a Bedrock upstream was asked for from the path the request went to.)
    public static func model(inPath path: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        let n = path.count
        var i = 0
        // Find the first segment that is exactly `model`, then take the next one.
        while i <= n {
            var j = i
            while j < n && path[j] != 0x2F { j += 1 }
            if j - i == 5 && path[i] == 0x6D && path[i + 1] == 0x6F && path[i + 2] == 0x64 && path[i + 3] == 0x65 && path[i + 4] == 0x6C {
                let s = j + 1
                guard s <= n else { return false }
                var e = s
                while e < n && path[e] != 0x2F { e += 1 }
                guard e > s else { return false }
                out.removeAll(keepingCapacity: true)
                var k = s
                while k < e {
                    if path[k] == 0x25, k + 2 < e, let hi = hexValue(path[k + 1]), let lo = hexValue(path[k + 2]) {
                        out.append(hi << 4 | lo)
                        k += 3
                    } else {
                        out.append(path[k])
                        k += 1
                    }
                }
                return true
            }
            i = j + 1
        }
        return false
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x37
        case 0x61...0x66: c - 0x57
        default: nil
        }
    }
}
