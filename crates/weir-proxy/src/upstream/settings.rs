//! How an [`UpstreamClient`](super::UpstreamClient) connects: the part of a Traefik
//! `serversTransport` the client understands.

use std::time::Duration;

/// Traefik's static default for `maxIdleConnsPerHost`.
pub const DEFAULT_MAX_IDLE_CONNS_PER_HOST: usize = 200;

/// What a *dynamic* `serversTransport` with `maxIdleConnsPerHost: 0` means: Go's
/// `http.DefaultMaxIdleConnsPerHost`, 2. Map a configured 0 to this constant (a static
/// default transport keeps [`DEFAULT_MAX_IDLE_CONNS_PER_HOST`]); a negative value disables
/// keep-alive pooling, map it to 0.
pub const GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST: usize = 2;

/// Settings of one upstream client, built by the configuration compiler from a
/// `serversTransport` (or from the defaults when a service names none).
///
/// Two clients built from equal settings behave the same, so a registry may key clients by
/// (transport name, settings) and reuse them across reloads; see
/// [`TransportRegistry`](super::TransportRegistry).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransportSettings {
    /// `serverName`: the TLS SNI and the name the certificate is verified against, instead of
    /// the server URL's host.
    pub server_name: Option<String>,
    /// `insecureSkipVerify`: accept any server certificate (no chain, name or signature check).
    pub insecure_skip_verify: bool,
    /// `rootCAs`: each entry is either PEM content (it contains `-----BEGIN`) or a path to a
    /// PEM file, like Traefik's `FileOrContent`. Empty means the Mozilla roots
    /// (webpki-roots).
    pub root_cas: Vec<String>,
    /// `maxIdleConnsPerHost`: idle keep-alive connections kept per server. 0 keeps none.
    pub max_idle_conns_per_host: usize,
    /// `forwardingTimeouts.dialTimeout`: TCP connect timeout (Traefik: 30 s). A connect
    /// failure or timeout answers 502.
    pub dial_timeout: Duration,
    /// `forwardingTimeouts.responseHeaderTimeout`: how long to wait for the response
    /// headers once the request is on its way (none by default). Elapsed: 504.
    ///
    /// weir starts this clock when it hands the request to the pool, so it also covers
    /// connecting and sending the request head; Go starts it after the request is written.
    pub response_header_timeout: Option<Duration>,
    /// `forwardingTimeouts.idleConnTimeout`: how long an idle pooled connection is kept
    /// (Traefik: 90 s).
    pub idle_conn_timeout: Duration,
    /// `disableHTTP2`: offer only HTTP/1.1 in ALPN to `https://` servers.
    pub disable_http2: bool,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            server_name: None,
            insecure_skip_verify: false,
            root_cas: Vec::new(),
            max_idle_conns_per_host: DEFAULT_MAX_IDLE_CONNS_PER_HOST,
            dial_timeout: Duration::from_secs(30),
            response_header_timeout: None,
            idle_conn_timeout: Duration::from_secs(90),
            disable_http2: false,
        }
    }
}
