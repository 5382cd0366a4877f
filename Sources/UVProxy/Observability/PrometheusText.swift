/// The text exposition format's small pieces.
enum PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// `a="x",b="y"`, values escaped.
    static func labels(_ pairs: [(String, String)]) -> String {
        var s = ""
        for (i, (k, v)) in pairs.enumerated() {
            if i > 0 { s += "," }
            s += k
            s += "=\""
            s += escapeLabelValue(v)
            s += "\""
        }
        return s
    }

    /// A label value: backslash, double quote and line feed escaped (`\\`, `\"`, `\n`).
    static func escapeLabelValue(_ v: String) -> String {
        guard v.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return v }
        var s = ""
        for c in v.unicodeScalars {
            switch c {
            case "\\": s += "\\\\"
            case "\"": s += "\\\""
            case "\n": s += "\\n"
            default: s.unicodeScalars.append(c)
            }
        }
        return s
    }

    /// HELP text: backslash and line feed escaped.
    static func escapeHelp(_ v: String) -> String {
        v.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    /// Seconds from nanoseconds, as a Prometheus float (`0.000123`, `1.5`, `1e-05`).
    static func seconds(_ ns: UInt64) -> String {
        let s = Double(ns) / 1e9
        return s == s.rounded() && s < 1e15 ? String(Int64(s)) : "\(s)"
    }

    /// `_bucket` lines (cumulative, `le` last), `_sum` and `_count` of one histogram.
    static func appendHistogram(
        _ name: String, labels: String, buckets: Buckets, counts: [UInt64], sumNs: UInt64, to out: inout String
    ) {
        let sep = labels.isEmpty ? "" : ","
        var cumulative: UInt64 = 0
        for (i, le) in buckets.labels.enumerated() {
            cumulative &+= counts[i]
            out += "\(name)_bucket{\(labels)\(sep)le=\"\(le)\"} \(cumulative)\n"
        }
        cumulative &+= counts[buckets.labels.count]
        out += "\(name)_bucket{\(labels)\(sep)le=\"+Inf\"} \(cumulative)\n"
        let braces = labels.isEmpty ? "" : "{\(labels)}"
        out += "\(name)_sum\(braces) \(seconds(sumNs))\n"
        out += "\(name)_count\(braces) \(cumulative)\n"
    }
}
