/// One upstream server (YAML `upstreams.<name>`): where it is, how to trust it, what to send it.
package struct UpstreamConfig: Sendable {
    /// The key under `upstreams:`; routes refer to it.
    package var name: String
    package var url: UpstreamURL
    /// `ca_file`: PEM bundle trusted in addition to the system store. Empty (`${VAR:-}`) means unset.
    package var caFile: String?
    /// `insecure_skip_verify`: turns certificate and hostname checks off. Default false; true warns.
    package var insecureSkipVerify: Bool
    /// `headers`: static headers added to every request, in file order. Names are tokens, values have
    /// no CR/LF/NUL; a value that expands to empty is dropped (with a warning), so optional
    /// `${VAR:-}` headers simply disappear.
    package var headers: [(name: String, value: String)]
    package var auth: AuthConfig?
    package var timeouts: UpstreamTimeouts
    /// `max_idle_connections`: idle keep-alive connections kept per worker. Default 64.
    package var maxIdleConnections: Int
    /// `surplus_idle_timeout` (ms): a connection returned while `max_idle_connections` are already idle
    /// (the tail of a burst) stays open this long for the next requests, then closes. Default 2 s; 0
    /// closes it at once. Without it, a burst of N requests closes N - max_idle connections as they
    /// finish and opens as many again for the next burst (a TCP and TLS handshake each).
    package var surplusIdleTimeoutMs: Int = 2_000

    package init(
        name: String, url: UpstreamURL, caFile: String? = nil, insecureSkipVerify: Bool = false,
        headers: [(name: String, value: String)] = [], auth: AuthConfig? = nil,
        timeouts: UpstreamTimeouts = UpstreamTimeouts(), maxIdleConnections: Int = 64
    ) {
        self.name = name
        self.url = url
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
        self.headers = headers
        self.auth = auth
        self.timeouts = timeouts
        self.maxIdleConnections = maxIdleConnections
    }
}
