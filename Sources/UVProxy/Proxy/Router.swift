import HTTP1

/// Route matching: which configured routes a request path names. Exact paths first, then the longest
/// matching prefix; several routes on one path (different methods) come back together, in config
/// order, and the caller checks the method (so that 405 can be told from 404). Built once per config.
struct Router {
    private let exact: [(path: [UInt8], routes: [Int])]
    /// Longest first.
    private let prefixes: [(prefix: [UInt8], routes: [Int])]
    /// `exact[i].path.count` and `prefixes[i].prefix.count`, scanned first: walking the entries
    /// themselves retained and released their two arrays each (~40 instructions an entry, ~600 a
    /// request with the shipped config's routes).
    private let exactCounts: [Int]
    private let prefixCounts: [Int]

    /// `routes`: each route's path, whether it is a prefix, and its index in the runtime's route list.
    init(_ routes: [(path: String, isPrefix: Bool, index: Int)]) {
        var ex: [(path: [UInt8], routes: [Int])] = []
        var px: [(prefix: [UInt8], routes: [Int])] = []
        for r in routes {
            let path = Array(r.path.utf8)
            if r.isPrefix {
                // Routes on one prefix with different methods share an entry, as exact paths do.
                if let i = px.firstIndex(where: { $0.prefix == path }) { px[i].routes.append(r.index) } else { px.append((path, [r.index])) }
            } else if let i = ex.firstIndex(where: { $0.path == path }) {
                ex[i].routes.append(r.index)
            } else {
                ex.append((path, [r.index]))
            }
        }
        exact = ex
        prefixes = px.sorted { $0.prefix.count > $1.prefix.count }
        exactCounts = exact.map(\.path.count)
        prefixCounts = prefixes.map(\.prefix.count)
    }

    /// The routes for a path as bytes (the target without its query). Byte comparison is String
    /// comparison here: request paths are visible ASCII (the parser's rule). No allocation.
    func candidates(path: UnsafeRawBufferPointer) -> [Int] {
        let n = path.count
        let e = exactCounts.withUnsafeBufferPointer { counts in
            var i = 0
            while i < counts.count {
                if counts[i] == n, exact[i].path.withUnsafeBytes({ memcmpEqual($0, 0..<n, path) }) { return i }
                i &+= 1
            }
            return -1
        }
        if e >= 0 { return exact[e].routes }
        let p = prefixCounts.withUnsafeBufferPointer { counts in
            var i = 0
            while i < counts.count {
                let k = counts[i]
                if k <= n, prefixes[i].prefix.withUnsafeBytes({ memcmpEqual($0, 0..<k, UnsafeRawBufferPointer(rebasing: path[0..<k])) }) {
                    return i
                }
                i &+= 1
            }
            return -1
        }
        return p >= 0 ? prefixes[p].routes : []
    }
}
