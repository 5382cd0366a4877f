import Providers
import UVNet
import HTTP1

/// What a matched route does.
enum RouteAction: Sendable {
    /// Translate (or edit) and forward to the upstream.
    case exchange
    /// Forward any method, any content type, bytes unchanged (prefix rewritten).
    case passthrough
    /// Serve the configured model list in this dialect.
    case models(Dialect)
}

/// One upstream's config, shared by reference: an exchange reads fields in place instead of copying
/// the struct (and retaining each of its strings) per request.
final class UpstreamBox: @unchecked Sendable {
    let config: UpstreamConfig
    /// The name as bytes, for log lines.
    let nameBytes: [UInt8]
    init(_ config: UpstreamConfig) {
        self.config = config
        nameBytes = Array(config.name.utf8)
    }
}

/// A route ready to serve: its config, upstream and credential resolved once at start. A class, so
/// that an exchange holds it with one reference instead of copying a large struct per request.
final class CompiledRoute: @unchecked Sendable {
    let index: Int
    let config: RouteConfig
    let action: RouteAction
    let upstreamBox: UpstreamBox?
    let credential: CredentialSource?
    let cors: CORSConfig?
    let translation: TranslationOptions
    let timeouts: UpstreamTimeouts
    /// Methods as bytes for allocation-free matching; empty = any.
    let methods: [[UInt8]]
    /// The upstream header lines that never change (Host, User-Agent, configured and route headers),
    /// rendered once.
    let fixedUpstreamHeaders: [UInt8]
    /// Lowercased names a pass-through must not copy from the client (credentials, hop-by-hop,
    /// configured removals, names the config sets itself).
    let droppedClientHeaders: Set<String>
    /// The CORS header lines added to every response of this route, rendered once.
    let corsHeaders: [(name: String, value: String)]
    let corsHeaderBlock: [UInt8]
    /// The route's `fallbacks` compiled as routes of their own (same path, index and dialects; another
    /// upstream and/or a model id every request goes to), tried in order after this one.
    var fallbacks: [CompiledRoute] = []
    /// What `x-mini-proxy-upstream` says when this target answers: the upstream, and a fallback's model.
    let targetName: String
    /// The route's name in log lines: its path, with `*` after a prefix route.
    let logName: [UInt8]
    /// Its upstream and name as every log line writes them, formatted once.
    let logFields: RouteLogFields

    init(index: Int, config: RouteConfig, action: RouteAction, upstream: UpstreamBox?, credential: CredentialSource?,
         cors: CORSConfig?, translation: TranslationOptions, timeouts: UpstreamTimeouts, methods: [[UInt8]],
         tracing: Bool = false) {
        self.index = index
        self.config = config
        self.action = action
        self.upstreamBox = upstream
        self.credential = credential
        self.cors = cors
        self.translation = translation
        self.timeouts = timeouts
        self.methods = methods
        corsHeaders = cors.map { ProxyWorker.corsHeaders($0, preflight: false) } ?? []
        corsHeaderBlock = HTTPServerConnection.headerBlock(corsHeaders)
        var fixed = [UInt8]()
        var dropped = Exchange.neverForwarded
        for name in config.removeHeaders { dropped.insert(name.lowercased()) }
        // With tracing on the proxy writes the trace context itself (naming its own span).
        if tracing { dropped.formUnion(["traceparent", "tracestate"]) }
        for h in config.setHeaders { dropped.insert(h.name.lowercased()) }
        if let upstream = upstream?.config {
            HTTPWriter.appendHeader("Host", upstream.url.hostHeader, into: &fixed)
            HTTPWriter.appendHeader("User-Agent", "mini-proxy/\(MiniProxyVersion.string)", into: &fixed)
            let removes = Set(config.removeHeaders.map { $0.lowercased() })
            for h in upstream.headers where !removes.contains(h.name.lowercased()) && !config.setHeaders.contains(where: {
                $0.name.lowercased() == h.name.lowercased()
            }) {
                HTTPWriter.appendHeader(h.name, h.value, into: &fixed)
                dropped.insert(h.name.lowercased())
            }
            for h in config.setHeaders { HTTPWriter.appendHeader(h.name, h.value, into: &fixed) }
            if let auth = upstream.auth { dropped.insert(auth.header.lowercased()) }
        }
        fixedUpstreamHeaders = fixed
        droppedClientHeaders = dropped
        logName = Array((config.isPrefix ? config.path + "*" : config.path).utf8)
        logFields = RouteLogFields(upstream: upstream?.nameBytes ?? [], route: logName)
        targetName = config.upstream + (config.modelAliases[BedrockModelID.anyModel].map { "/" + $0 } ?? "")
    }

    /// The dialect errors are rendered in.
    var errorDialect: Dialect {
        if case .models(let d) = action { return d }
        return config.ingress
    }

    func allows(method: UnsafeRawBufferPointer) -> Bool {
        methods.isEmpty || methods.contains { $0.elementsEqual(method) }
    }
}

/// Everything immutable a worker needs, built once from the config and shared by all workers.
final class ProxyRuntime: @unchecked Sendable {
    let config: ProxyConfig
    let routes: [CompiledRoute]
    /// Route paths as bytes, so a request's routes are found without a String or a hash: exact paths
    /// (each with the routes that share it), then prefixes, longest first.
    /// Finds the routes for a request path.
    let router: Router
    let credentials: [String: CredentialSource]
    let tlsContexts: [String: TLSContext]
    let inboundKeys: [[UInt8]]
    /// `inboundKeys[i]`'s name for the log.
    let inboundKeyNames: [[UInt8]]

    /// Rejections learned from the upstream per model; the server passes the same one to every reload.
    let healing: BedrockHealing

    init(config: ProxyConfig, healing: BedrockHealing = BedrockHealing()) throws {
        self.config = config
        self.healing = healing
        var creds: [String: CredentialSource] = [:]
        var tls: [String: TLSContext] = [:]
        for (name, u) in config.upstreams {
            if let auth = u.auth { creds[name] = CredentialSource(config: auth, upstream: name) }
            if u.url.isTLS {
                tls[name] = try TLSContext.client(caFile: u.caFile, insecureSkipVerify: u.insecureSkipVerify)
            }
        }
        credentials = creds
        tlsContexts = tls
        var compiled: [CompiledRoute] = []
        var seenModelPaths = Set<String>()
        var boxes: [String: UpstreamBox] = [:]
        for (name, u) in config.upstreams { boxes[name] = UpstreamBox(u) }
        func add(_ r: RouteConfig, _ action: RouteAction, methods: [String]) {
            let upstream = boxes[r.upstream]
            let timeouts = config.timeouts(for: r)
            compiled.append(CompiledRoute(
                index: compiled.count, config: r, action: action, upstream: upstream,
                credential: creds[r.upstream], cors: r.cors,
                translation: TranslationOptions(
                    upstreamPath: r.upstreamPath, renameMaxTokens: r.renameMaxTokens,
                    defaultMaxTokens: r.defaultMaxTokens, modelAliases: r.modelAliases,
                    profile: r.profile, healing: r.profile == nil ? nil : healing),
                timeouts: timeouts, methods: methods.map { Array($0.uppercased().utf8) }, tracing: config.tracing.enabled))
        }
        for r in config.routes {
            add(r, r.ingress == .passthrough ? .passthrough : .exchange, methods: r.methods)
            let primary = compiled[compiled.count - 1]
            for f in r.fallbacks {
                var c = r
                c.upstream = f.upstream ?? r.upstream
                if let model = f.model { c.modelAliases = [BedrockModelID.anyModel: model] }
                c.fallbacks = []
                let upstream = boxes[c.upstream]
                primary.fallbacks.append(CompiledRoute(
                    index: primary.index, config: c, action: primary.action, upstream: upstream,
                    credential: creds[c.upstream], cors: c.cors,
                    translation: TranslationOptions(
                        upstreamPath: c.upstreamPath, renameMaxTokens: c.renameMaxTokens,
                        defaultMaxTokens: c.defaultMaxTokens, modelAliases: c.modelAliases,
                        profile: c.profile, healing: c.profile == nil ? nil : healing),
                    timeouts: config.timeouts(for: c), methods: primary.methods, tracing: config.tracing.enabled))
            }
        }
        // Each chat/messages route also serves its dialect's models list beside it, unless configured.
        for r in config.routes where r.ingress != .passthrough {
            let path = r.modelsPath ?? Self.siblingModelsPath(r.path)
            guard let path, !seenModelPaths.contains(path), !config.routes.contains(where: { $0.path == path }) else { continue }
            seenModelPaths.insert(path)
            var m = r
            m.path = path
            m.isPrefix = false
            add(m, .models(r.ingress.modelListDialect), methods: ["GET", "HEAD"])
        }
        routes = compiled
        router = Router(compiled.map { (path: $0.config.path, isPrefix: $0.config.isPrefix, index: $0.index) })
        // `/bedrock/claude/v1/messages` → `/bedrock`, `/bedrock/claude`, `/bedrock/claude/v1` (and `/`).
        var bases: Set<[UInt8]> = [Array("/".utf8)]
        for r in compiled {
            let path = Array(r.config.path.utf8)
            for i in path.indices.dropFirst() where path[i] == UInt8(ascii: "/") { bases.insert(Array(path[..<i])) }
            if r.config.isPrefix, path.count > 1 { bases.insert(Array(path.dropLast())) }
        }
        routeBases = bases
        inboundKeys = config.inboundKeys.map { Array($0.utf8) }
        inboundKeyNames = config.inboundKeys.indices.map {
            Array(($0 < config.inboundKeyNames.count ? config.inboundKeyNames[$0] : "key-\($0 + 1)").utf8)
        }
    }

    /// `/openai/v1/chat/completions` → `/openai/v1/models`; `/bedrock/claude/v1/messages` → `/bedrock/claude/v1/models`.
    static func siblingModelsPath(_ path: String) -> String? {
        if path.hasSuffix("/chat/completions") { return String(path.dropLast("/chat/completions".count)) + "/models" }
        if path.hasSuffix("/messages") { return String(path.dropLast("/messages".count)) + "/models" }
        if path.hasSuffix("/responses") { return String(path.dropLast("/responses".count)) + "/models" }
        return nil
    }

    /// The leading segments of every route path (the base URLs clients are given), for `HEAD <base>`
    /// and `<base>/health`.
    let routeBases: Set<[UInt8]>

    /// True when the request goes to a pass-through route: the first route on its path (the router
    /// compares bytes and returns a stored list, no allocation).
    func isPassthrough(_ head: HTTPRequestHead) -> Bool {
        guard let i = candidates(of: head).first else { return false }
        return routes[i].action.isPassthrough
    }

    /// The routes whose path matches (method checked by the caller, so that 405 can be told from 404).
    func candidates(path: String) -> [Int] {
        var path = path
        return path.withUTF8 { candidates(path: UnsafeRawBufferPointer($0)) }
    }

    /// The routes for a request's path (its target without the query).
    func candidates(of head: HTTPRequestHead) -> [Int] {
        head.bytes.withUnsafeBytes { candidates(path: UnsafeRawBufferPointer(rebasing: $0[head.pathRange])) }
    }

    /// The same for a path as bytes (`Router.candidates`).
    func candidates(path: UnsafeRawBufferPointer) -> [Int] { router.candidates(path: path) }

    /// Models a route lists: those configured for its upstream's dialect (all when a model names none).
    func modelList(for route: CompiledRoute) -> [ModelInfo] {
        config.models(for: route.config).map {
            ModelInfo(id: $0.id, ownedBy: $0.ownedBy, created: $0.created, displayName: $0.displayName)
        }
    }
}
