import ArgumentParser
import MockGateway
import UVProxy

@main
struct MiniProxy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mini-proxy",
        abstract: "A small, fast LLM API gateway: OpenAI and Anthropic clients to AI-Gateway, Bedrock and more.",
        version: MiniProxyVersion.string,
        subcommands: [Serve.self, Check.self, Mock.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the proxy with a config file.")

    @Option(name: .shortAndLong, help: "The YAML config file.")
    var config: String

    @Option(help: "Listen address HOST:PORT (overrides the config).")
    var listen: String?

    @Option(help: "Worker threads, each with its own event loop, 1...64 or auto (one per CPU; overrides the config).")
    var workers: String?

    func run() throws {
        let cfg: ProxyConfig
        do {
            cfg = try ConfigLoader.load(path: config)
        } catch {
            throw configFailure(config, error)
        }
        var address: HostPort?
        if let listen {
            do { address = try HostPort.parse(listen) } catch { throw ValidationError("--listen: \(error)") }
        }
        var workerCount: Int?
        if let workers {
            guard let n = ConfigLoader.workerCount(workers) else {
                throw ValidationError("--workers must be between 1 and 64, or auto")
            }
            workerCount = n
        }
        let server = try ProxyServer(config: cfg, configPath: config, listen: address, workers: workerCount)
        try server.run()
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a config file and print its routes.")

    @Option(name: .shortAndLong, help: "The YAML config file.")
    var config: String

    func run() throws {
        do {
            let cfg = try ConfigLoader.load(path: config)
            print(ConfigLoader.describe(cfg))  // includes the warnings
        } catch {
            throw configFailure(config, error)
        }
    }
}

struct Mock: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the bundled mock upstream (AI-Gateway's OpenAI and Bedrock routes).")

    @Option(help: "Listen address HOST:PORT.")
    var listen: String = "127.0.0.1:3002"

    @Option(help: "PEM certificate chain: serve HTTPS.")
    var tlsCert: String?

    @Option(help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Flag(help: "Accept any Bedrock body (by default the mock refuses what Bedrock refuses).")
    var lenient = false

    @Option(help: "JSON file with the Bedrock validation rules (betas, models, top_level_fields, message_keys, tool_keys, thinking_keys, field_betas).")
    var rules: String?

    func run() throws {
        let address: HostPort
        do { address = try HostPort.parse(listen) } catch { throw ValidationError("--listen: \(error)") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        var bedrockRules = MockBedrockRules()
        if let rules {
            do { bedrockRules = try MockBedrockRules.load(path: rules) } catch { throw ValidationError("--rules \(rules): \(error)") }
        }
        if lenient { bedrockRules.strict = false }
        let server = try MockServer(host: address.host, port: address.port, tlsCertificate: tlsCert, tlsKey: tlsKey,
                                    rules: bedrockRules)
        Log.write("mini-proxy mock: listening on \(address.host):\(server.port)\(tlsCert != nil ? " (TLS)" : "")\n")
        server.run()
    }
}

/// A config that does not load is not a usage error: one line naming the file and the key path, no
/// usage text, and exit status 78 (EX_CONFIG) so scripts can tell it from a bad command line (64).
func configFailure(_ path: String, _ error: any Error) -> ExitCode {
    Log.write("mini-proxy: \(path): \(error)\n")
    return ExitCode(78)
}
