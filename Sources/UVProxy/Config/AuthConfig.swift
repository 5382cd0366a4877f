/// How the proxy obtains the credential it sends to an upstream (YAML `upstreams.<name>.auth`).
///
/// The header sent is `<header>: <prefix><token>`, e.g. `Authorization: slauth <jwt>`.
/// Exactly one source: `value` (a literal, usually `${SECRET}`), `env` (a variable name), or
/// `command` (prints the token on stdout; a list is exec'd directly, a string runs via `/bin/sh -c`).
package struct AuthConfig: Sendable {
    /// `header`, default `Authorization`.
    package var header: String
    /// `prefix`, default `"Bearer "` (note the space); AI-Gateway uses `"slauth "`.
    package var prefix: String
    package var source: Source
    /// `command_timeout`: a command still running after this is killed and the request fails (503).
    /// Milliseconds, default 10 s.
    package var commandTimeout: Int
    /// `ttl`: how long a command's token is cached when it is not a JWT with `exp`. Default 5 min.
    package var ttl: Int
    /// `refresh_skew`: a JWT is refreshed this long before its `exp`. Default 30 s.
    package var refreshSkew: Int
    /// The token for `.staticValue` and `.env` sources, read when the config is loaded (the env
    /// source reads its variable at load, and again on reload; never per request). Nil for commands.
    package var token: String?

    package enum Source: Sendable, Equatable {
        /// `value:`: the token itself.
        case staticValue(String)
        /// `env:`: the name of the variable holding the token (its value is in `AuthConfig.token`).
        case env(String)
        /// `command:`: run to obtain a token; cached (see `ttl`, `refreshSkew`), re-run on expiry or 401.
        case command(Command)
    }

    package enum Command: Sendable, Equatable {
        /// A YAML list: exec'd directly, no shell.
        case argv([String])
        /// A YAML string: run as `/bin/sh -c <string>`.
        case shell(String)
    }

    package init(
        header: String = "Authorization", prefix: String = "Bearer ", source: Source,
        commandTimeout: Int = 10_000, ttl: Int = 300_000, refreshSkew: Int = 30_000, token: String? = nil
    ) {
        self.header = header
        self.prefix = prefix
        self.source = source
        self.commandTimeout = commandTimeout
        self.ttl = ttl
        self.refreshSkew = refreshSkew
        switch source {
        case .staticValue(let value): self.token = value
        default: self.token = token
        }
    }
}
