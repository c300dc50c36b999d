//! `http.routers`, `http.services`, `http.serversTransports`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::Duration;

use super::middlewares::Middleware;

/// The `http` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpConfiguration {
    /// Routers by name.
    pub routers: BTreeMap<String, Router>,
    /// Services by name.
    pub services: BTreeMap<String, Service>,
    /// Middlewares by name.
    pub middlewares: BTreeMap<String, Middleware>,
    /// Backend transports by name.
    pub servers_transports: BTreeMap<String, ServersTransport>,
}

/// `http.routers.<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Router {
    /// Entrypoints the router listens on; empty means the default entrypoints.
    pub entry_points: Vec<String>,
    /// Middlewares applied in order (after the entrypoint's).
    pub middlewares: Vec<String>,
    /// Target service name.
    pub service: String,
    /// The matching rule.
    pub rule: String,
    /// Deprecated per-router syntax override (`""`, `v2`, `v3`).
    pub rule_syntax: String,
    /// Priority; 0 means the rule's length in bytes. Left out of the API's JSON when 0, as
    /// Traefik's `omitempty` leaves it.
    #[serde(skip_serializing_if = "crate::is_zero_i64")]
    pub priority: i64,
    /// Parent routers (multi-layer routing).
    pub parent_refs: Vec<String>,
    /// TLS; `tls: {}` turns TLS on with the default options.
    pub tls: Option<RouterTlsConfig>,
    /// Per-router observability overrides.
    pub observability: Option<RouterObservabilityConfig>,
}

/// `http.routers.<name>.tls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RouterTlsConfig {
    /// Name of a `tls.options` entry (default: `default`).
    pub options: String,
    /// Certificate resolver name.
    pub cert_resolver: String,
    /// Domains to request certificates for.
    pub domains: Vec<Domain>,
}

/// A domain with its alternative names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Domain {
    /// Main domain.
    pub main: String,
    /// Subject alternative names.
    pub sans: Vec<String>,
}

/// `http.routers.<name>.observability`; `None` fields inherit the entrypoint's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RouterObservabilityConfig {
    /// Access logs on/off.
    pub access_logs: Option<bool>,
    /// Metrics on/off.
    pub metrics: Option<bool>,
    /// Tracing on/off.
    pub tracing: Option<bool>,
    /// `minimal` or `detailed`.
    pub trace_verbosity: Option<String>,
}

/// `http.services.<name>`: exactly one kind must be set (see [`Service::kind`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Service {
    /// Load balancer over servers.
    pub load_balancer: Option<ServersLoadBalancer>,
    /// Weighted round robin over services.
    pub weighted: Option<WeightedRoundRobin>,
    /// Mirroring.
    pub mirroring: Option<Mirroring>,
    /// Failover.
    pub failover: Option<Failover>,
    /// Highest random weight over services.
    pub highest_random_weight: Option<HighestRandomWeight>,
}

/// A borrowed view of the single kind a [`Service`] holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServiceKind<'a> {
    /// `loadBalancer`.
    LoadBalancer(&'a ServersLoadBalancer),
    /// `weighted`.
    Weighted(&'a WeightedRoundRobin),
    /// `mirroring`.
    Mirroring(&'a Mirroring),
    /// `failover`.
    Failover(&'a Failover),
    /// `highestRandomWeight`.
    HighestRandomWeight(&'a HighestRandomWeight),
}

impl Service {
    /// The kinds set, by their configuration names.
    pub fn kinds_set(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.load_balancer.is_some() {
            v.push("loadBalancer");
        }
        if self.weighted.is_some() {
            v.push("weighted");
        }
        if self.mirroring.is_some() {
            v.push("mirroring");
        }
        if self.failover.is_some() {
            v.push("failover");
        }
        if self.highest_random_weight.is_some() {
            v.push("highestRandomWeight");
        }
        v
    }

    /// The kind, or `None` when zero or several kinds are set (a diagnostic was reported).
    pub fn kind(&self) -> Option<ServiceKind<'_>> {
        if self.kinds_set().len() != 1 {
            return None;
        }
        if let Some(x) = &self.load_balancer {
            return Some(ServiceKind::LoadBalancer(x));
        }
        if let Some(x) = &self.weighted {
            return Some(ServiceKind::Weighted(x));
        }
        if let Some(x) = &self.mirroring {
            return Some(ServiceKind::Mirroring(x));
        }
        if let Some(x) = &self.failover {
            return Some(ServiceKind::Failover(x));
        }
        self.highest_random_weight
            .as_ref()
            .map(ServiceKind::HighestRandomWeight)
    }
}

/// `loadBalancer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServersLoadBalancer {
    /// Sticky sessions.
    pub sticky: Option<Sticky>,
    /// Backend servers.
    pub servers: Vec<Server>,
    /// `wrr` (default), `p2c`, `hrw`, `leasttime`.
    pub strategy: String,
    /// Active health check.
    pub health_check: Option<ServerHealthCheck>,
    /// Passive health check.
    pub passive_health_check: Option<PassiveServerHealthCheck>,
    /// Forward the client's Host header (default true).
    pub pass_host_header: bool,
    /// Response flushing.
    pub response_forwarding: ResponseForwarding,
    /// Name of an `http.serversTransports` entry.
    pub servers_transport: String,
}

impl Default for ServersLoadBalancer {
    fn default() -> Self {
        ServersLoadBalancer {
            sticky: None,
            servers: Vec::new(),
            strategy: "wrr".into(),
            health_check: None,
            passive_health_check: None,
            pass_host_header: true,
            response_forwarding: ResponseForwarding::default(),
            servers_transport: String::new(),
        }
    }
}

/// `responseForwarding`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResponseForwarding {
    /// Flush interval (default 100ms; negative flushes after every write).
    pub flush_interval: Duration,
}

impl Default for ResponseForwarding {
    fn default() -> Self {
        ResponseForwarding {
            flush_interval: Duration::from_millis(100),
        }
    }
}

/// A backend server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Server {
    /// `scheme://host:port[/path]`.
    pub url: String,
    /// Weight (default 1; the API leaves the default out, as Traefik shows no weight when
    /// none is configured).
    #[serde(skip_serializing_if = "is_default_weight")]
    pub weight: i64,
    /// Keep the URL's path as a prefix.
    pub preserve_path: bool,
    /// Fenced: takes no new requests.
    pub fenced: bool,
}

fn is_default_weight(w: &i64) -> bool {
    *w == 1
}

impl Default for Server {
    fn default() -> Self {
        Server {
            url: String::new(),
            weight: 1,
            preserve_path: false,
            fenced: false,
        }
    }
}

/// `sticky`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Sticky {
    /// Cookie-based stickiness.
    pub cookie: Option<Cookie>,
}

/// `sticky.cookie`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Cookie {
    /// Cookie name (default derived from the service name).
    pub name: String,
    /// Secure flag.
    pub secure: bool,
    /// HttpOnly flag.
    pub http_only: bool,
    /// `none`, `lax`, `strict` or empty.
    pub same_site: String,
    /// Max-Age in seconds.
    pub max_age: i64,
    /// Path (default `/`).
    pub path: String,
    /// Domain.
    pub domain: String,
}

impl Default for Cookie {
    fn default() -> Self {
        Cookie {
            name: String::new(),
            secure: false,
            http_only: false,
            same_site: String::new(),
            max_age: 0,
            path: "/".into(),
            domain: String::new(),
        }
    }
}

/// Active health check of a load balancer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServerHealthCheck {
    /// Scheme override.
    pub scheme: String,
    /// `http` (default) or `grpc`.
    pub mode: String,
    /// Path to probe.
    pub path: String,
    /// Method (default GET).
    pub method: String,
    /// Expected status (0 = any 2xx/3xx).
    pub status: i64,
    /// Port override.
    pub port: i64,
    /// Interval (default 30s).
    pub interval: Duration,
    /// Interval while unhealthy (default: `interval`).
    pub unhealthy_interval: Option<Duration>,
    /// Timeout (default 5s).
    pub timeout: Duration,
    /// Host header.
    pub hostname: String,
    /// Follow redirects (default true).
    pub follow_redirects: bool,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
}

impl Default for ServerHealthCheck {
    fn default() -> Self {
        ServerHealthCheck {
            scheme: String::new(),
            mode: "http".into(),
            path: String::new(),
            method: "GET".into(),
            status: 0,
            port: 0,
            interval: Duration::from_secs(30),
            unhealthy_interval: None,
            timeout: Duration::from_secs(5),
            hostname: String::new(),
            follow_redirects: true,
            headers: BTreeMap::new(),
        }
    }
}

/// Passive health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PassiveServerHealthCheck {
    /// Window (default 10s).
    pub failure_window: Duration,
    /// Failures in the window that mark the server down (default 1).
    pub max_failed_attempts: i64,
}

impl Default for PassiveServerHealthCheck {
    fn default() -> Self {
        PassiveServerHealthCheck {
            failure_window: Duration::from_secs(10),
            max_failed_attempts: 1,
        }
    }
}

/// `healthCheck: {}` on a service of services: propagate the children's health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthCheck {}

/// `weighted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WeightedRoundRobin {
    /// Child services.
    pub services: Vec<WrrService>,
    /// Sticky sessions.
    pub sticky: Option<Sticky>,
    /// Health propagation.
    pub health_check: Option<HealthCheck>,
}

/// A weighted child service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WrrService {
    /// Service name.
    pub name: String,
    /// Weight (default 1).
    pub weight: i64,
}

impl Default for WrrService {
    fn default() -> Self {
        WrrService {
            name: String::new(),
            weight: 1,
        }
    }
}

/// `mirroring`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Mirroring {
    /// Main service.
    pub service: String,
    /// Mirror the body too (default true).
    pub mirror_body: bool,
    /// Max mirrored body size (-1 = unlimited).
    pub max_body_size: i64,
    /// Mirrors.
    pub mirrors: Vec<MirrorService>,
    /// Health propagation.
    pub health_check: Option<HealthCheck>,
}

impl Default for Mirroring {
    fn default() -> Self {
        Mirroring {
            service: String::new(),
            mirror_body: true,
            max_body_size: -1,
            mirrors: Vec::new(),
            health_check: None,
        }
    }
}

/// A mirror.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MirrorService {
    /// Service name.
    pub name: String,
    /// Percentage of requests mirrored.
    pub percent: i64,
}

/// `failover`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Failover {
    /// Main service.
    pub service: String,
    /// Fallback service.
    pub fallback: String,
    /// Health propagation.
    pub health_check: Option<HealthCheck>,
    /// Status-based failover.
    pub errors: Option<FailoverErrors>,
}

/// `failover.errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FailoverErrors {
    /// Status ranges (`"500-599"`).
    pub status: Vec<String>,
    /// Max buffered request body (-1 = unlimited).
    pub max_request_body_bytes: i64,
}

impl Default for FailoverErrors {
    fn default() -> Self {
        FailoverErrors {
            status: Vec::new(),
            max_request_body_bytes: -1,
        }
    }
}

/// `highestRandomWeight`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HighestRandomWeight {
    /// Child services.
    pub services: Vec<WrrService>,
    /// Health propagation.
    pub health_check: Option<HealthCheck>,
}

/// `http.serversTransports.<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServersTransport {
    /// SNI / verification name.
    pub server_name: String,
    /// Skip certificate verification.
    pub insecure_skip_verify: bool,
    /// CA files (or PEM).
    #[serde(rename = "rootCAs")]
    pub root_cas: Vec<String>,
    /// Client certificates.
    pub certificates: Vec<Certificate>,
    /// Cipher suites.
    pub cipher_suites: Vec<String>,
    /// Minimum TLS version.
    pub min_version: String,
    /// Maximum TLS version.
    pub max_version: String,
    /// Idle connections kept per host (default 200).
    pub max_idle_conns_per_host: i64,
    /// Timeouts.
    pub forwarding_timeouts: ForwardingTimeouts,
    /// Disable HTTP/2 to backends.
    #[serde(rename = "disableHTTP2")]
    pub disable_http2: bool,
    /// Expected peer URI SAN.
    #[serde(rename = "peerCertURI")]
    pub peer_cert_uri: String,
    /// Expected peer SANs.
    #[serde(rename = "peerCertSANs")]
    pub peer_cert_sans: Vec<String>,
    /// SPIFFE (opaque).
    pub spiffe: Option<serde_json::Value>,
}

impl Default for ServersTransport {
    fn default() -> Self {
        ServersTransport {
            server_name: String::new(),
            insecure_skip_verify: false,
            root_cas: Vec::new(),
            certificates: Vec::new(),
            cipher_suites: Vec::new(),
            min_version: String::new(),
            max_version: String::new(),
            max_idle_conns_per_host: 200,
            forwarding_timeouts: ForwardingTimeouts::default(),
            disable_http2: false,
            peer_cert_uri: String::new(),
            peer_cert_sans: Vec::new(),
            spiffe: None,
        }
    }
}

/// A certificate/key pair (file paths or inline PEM).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Certificate {
    /// Certificate file or PEM.
    pub cert_file: String,
    /// Key file or PEM.
    pub key_file: String,
}

/// `forwardingTimeouts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ForwardingTimeouts {
    /// Connect timeout (default 30s).
    pub dial_timeout: Duration,
    /// Time to wait for response headers (0 = none).
    pub response_header_timeout: Duration,
    /// Idle pooled connection lifetime (default 90s).
    pub idle_conn_timeout: Duration,
    /// HTTP/2 ping after this much read idleness (0 = off).
    pub read_idle_timeout: Duration,
    /// HTTP/2 ping timeout (default 15s).
    pub ping_timeout: Duration,
}

impl Default for ForwardingTimeouts {
    fn default() -> Self {
        ForwardingTimeouts {
            dial_timeout: Duration::from_secs(30),
            response_header_timeout: Duration::ZERO,
            idle_conn_timeout: Duration::from_secs(90),
            read_idle_timeout: Duration::ZERO,
            ping_timeout: Duration::from_secs(15),
        }
    }
}
