//! `entryPoints.<name>`.

use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::dynamic::{EncodedCharacters, RouterTlsConfig};

/// An entrypoint: a listening address and its HTTP behaviour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EntryPoint {
    /// `[host]:port[/tcp|/udp]`.
    pub address: String,
    /// Make this a default entrypoint for routers without `entryPoints`.
    pub as_default: bool,
    /// Let user routers handle ACME challenges.
    #[serde(rename = "allowACMEByPass")]
    pub allow_acme_by_pass: bool,
    /// SO_REUSEPORT.
    pub reuse_port: bool,
    /// Trust of incoming X-Forwarded-* headers.
    pub forwarded_headers: ForwardedHeaders,
    /// PROXY protocol on accepted connections.
    pub proxy_protocol: Option<ProxyProtocolConfig>,
    /// HTTP options.
    pub http: EntryPointHttp,
    /// HTTP/2 options.
    pub http2: Http2Config,
    /// HTTP/3 (off unless set).
    pub http3: Option<Http3Config>,
    /// UDP options.
    pub udp: UdpConfig,
    /// Timeouts and lifecycle.
    pub transport: EntryPointTransport,
    /// Observability defaults for the routers on this entrypoint and its unmatched
    /// requests; `None` when not written (everything on).
    pub observability: Option<ObservabilityConfig>,
}

impl EntryPoint {
    /// An entrypoint listening on `address` with defaults elsewhere.
    pub fn with_address(address: impl Into<String>) -> Self {
        EntryPoint {
            address: address.into(),
            ..EntryPoint::default()
        }
    }

    /// True when the address ends with `/udp`.
    pub fn is_udp(&self) -> bool {
        self.address.to_ascii_lowercase().ends_with("/udp")
    }
}

/// `forwardedHeaders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ForwardedHeaders {
    /// Trust all incoming X-Forwarded-* headers.
    pub insecure: bool,
    /// Trust them from these IPs/CIDRs.
    #[serde(rename = "trustedIPs")]
    pub trusted_ips: Vec<String>,
    /// Headers listed in Connection that are kept.
    pub connection: Vec<String>,
    /// Do not append the client to X-Forwarded-For.
    pub not_append_x_forwarded_for: bool,
    /// Add X-Forwarded-Scheme and X-Scheme.
    pub add_x_forwarded_scheme_headers: bool,
}

/// `proxyProtocol`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProxyProtocolConfig {
    /// Accept from anyone.
    pub insecure: bool,
    /// Accept from these IPs/CIDRs.
    #[serde(rename = "trustedIPs")]
    pub trusted_ips: Vec<String>,
}

/// `http` of an entrypoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EntryPointHttp {
    /// Redirections.
    pub redirections: Option<Redirections>,
    /// Middlewares prepended to every router (qualified names).
    pub middlewares: Vec<String>,
    /// Default TLS for routers on this entrypoint.
    pub tls: Option<RouterTlsConfig>,
    /// Rejected encoded characters (unset = all allowed).
    pub encoded_characters: Option<EncodedCharacters>,
    /// Keep `;` inside query values.
    pub encode_query_semicolons: bool,
    /// Remove `/./`, `/../`, `//` before routing (default true).
    pub sanitize_path: bool,
    /// Maximum request header size (default 1 MiB).
    pub max_header_bytes: i64,
    /// `keep` (default), `delete`, `reject`.
    pub underscore_headers_strategy: String,
}

impl Default for EntryPointHttp {
    fn default() -> Self {
        EntryPointHttp {
            redirections: None,
            middlewares: Vec::new(),
            tls: None,
            encoded_characters: None,
            encode_query_semicolons: false,
            sanitize_path: true,
            max_header_bytes: 1_048_576,
            underscore_headers_strategy: "keep".into(),
        }
    }
}

/// `http.redirections`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Redirections {
    /// Redirect everything to another entrypoint.
    pub entry_point: Option<RedirectEntryPoint>,
}

/// `http.redirections.entryPoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RedirectEntryPoint {
    /// Entrypoint name or `:port`.
    pub to: String,
    /// Scheme (default https).
    pub scheme: String,
    /// Permanent (default true).
    pub permanent: bool,
    /// Priority of the generated router (default MaxInt-1).
    pub priority: i64,
}

impl Default for RedirectEntryPoint {
    fn default() -> Self {
        RedirectEntryPoint {
            to: String::new(),
            scheme: "https".into(),
            permanent: true,
            priority: i64::MAX - 1,
        }
    }
}

/// `http2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Http2Config {
    /// Default 250.
    pub max_concurrent_streams: i64,
    /// Default 4096.
    pub max_decoder_header_table_size: i64,
    /// Default 4096.
    pub max_encoder_header_table_size: i64,
}

impl Default for Http2Config {
    fn default() -> Self {
        Http2Config {
            max_concurrent_streams: 250,
            max_decoder_header_table_size: 4096,
            max_encoder_header_table_size: 4096,
        }
    }
}

/// `http3`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Http3Config {
    /// Port advertised in Alt-Svc (0 = the entrypoint's).
    pub advertised_port: i64,
}

/// `udp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdpConfig {
    /// Idle session timeout (default 3s).
    pub timeout: Duration,
}

impl Default for UdpConfig {
    fn default() -> Self {
        UdpConfig {
            timeout: Duration::from_secs(3),
        }
    }
}

/// `transport`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EntryPointTransport {
    /// Shutdown behaviour.
    pub life_cycle: LifeCycle,
    /// Server-side timeouts.
    pub responding_timeouts: RespondingTimeouts,
    /// Close a connection after this many requests (0 = no limit; left out of the API's
    /// JSON when 0, as Traefik's `omitempty`).
    #[serde(skip_serializing_if = "crate::is_zero_i64")]
    pub keep_alive_max_requests: i64,
    /// Close a connection after this long (0 = no limit; left out when 0, likewise).
    #[serde(skip_serializing_if = "is_zero_duration")]
    pub keep_alive_max_time: Duration,
}

fn is_zero_duration(d: &Duration) -> bool {
    d.is_zero()
}

/// `transport.lifeCycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LifeCycle {
    /// Keep accepting for this long after SIGTERM (default 0).
    pub request_accept_grace_timeout: Duration,
    /// Time given to in-flight requests (default 10s).
    pub grace_time_out: Duration,
}

impl Default for LifeCycle {
    fn default() -> Self {
        LifeCycle {
            request_accept_grace_timeout: Duration::ZERO,
            grace_time_out: Duration::from_secs(10),
        }
    }
}

/// `transport.respondingTimeouts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RespondingTimeouts {
    /// Whole-request read timeout (default 60s).
    pub read_timeout: Duration,
    /// Response write timeout (default 0 = none).
    pub write_timeout: Duration,
    /// Keep-alive idle timeout (default 180s).
    pub idle_timeout: Duration,
}

impl Default for RespondingTimeouts {
    fn default() -> Self {
        RespondingTimeouts {
            read_timeout: Duration::from_secs(60),
            write_timeout: Duration::ZERO,
            idle_timeout: Duration::from_secs(180),
        }
    }
}

/// `observability` of an entrypoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObservabilityConfig {
    /// Default true.
    pub access_logs: bool,
    /// Default true.
    pub metrics: bool,
    /// Default true.
    pub tracing: bool,
    /// `minimal` (default) or `detailed`.
    pub trace_verbosity: String,
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        ObservabilityConfig {
            access_logs: true,
            metrics: true,
            tracing: true,
            trace_verbosity: "minimal".into(),
        }
    }
}
