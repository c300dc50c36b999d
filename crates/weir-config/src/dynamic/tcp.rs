//! The `tcp` section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::Duration;

use super::http::{Certificate, Domain, HealthCheck, WrrService};

/// The `tcp` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpConfiguration {
    /// Routers by name.
    pub routers: BTreeMap<String, TcpRouter>,
    /// Services by name.
    pub services: BTreeMap<String, TcpService>,
    /// Middlewares by name.
    pub middlewares: BTreeMap<String, TcpMiddleware>,
    /// Transports by name.
    pub servers_transports: BTreeMap<String, TcpServersTransport>,
}

/// `tcp.routers.<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpRouter {
    /// Entrypoints.
    pub entry_points: Vec<String>,
    /// Middlewares.
    pub middlewares: Vec<String>,
    /// Service.
    pub service: String,
    /// Rule (`HostSNI(...)`, `ClientIP(...)`, `ALPN(...)`).
    pub rule: String,
    /// Deprecated syntax override.
    pub rule_syntax: String,
    /// Priority (0 = rule length). Left out of the API's JSON when 0, as
    /// Traefik's `omitempty` leaves it.
    #[serde(skip_serializing_if = "crate::is_zero_i64")]
    pub priority: i64,
    /// TLS.
    pub tls: Option<RouterTcpTlsConfig>,
}

/// `tcp.routers.<name>.tls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RouterTcpTlsConfig {
    /// Pass the TLS stream through untouched.
    pub passthrough: bool,
    /// TLS options name.
    pub options: String,
    /// Certificate resolver.
    pub cert_resolver: String,
    /// Domains.
    pub domains: Vec<Domain>,
}

/// `tcp.services.<name>`: exactly one kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpService {
    /// Load balancer.
    pub load_balancer: Option<TcpServersLoadBalancer>,
    /// Weighted round robin over services.
    pub weighted: Option<TcpWeightedRoundRobin>,
}

impl TcpService {
    /// The kinds set, by their configuration names.
    pub fn kinds_set(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.load_balancer.is_some() {
            v.push("loadBalancer");
        }
        if self.weighted.is_some() {
            v.push("weighted");
        }
        v
    }
}

/// `tcp.services.<name>.loadBalancer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpServersLoadBalancer {
    /// Servers.
    pub servers: Vec<TcpServer>,
    /// Transport name.
    pub servers_transport: String,
    /// Deprecated here (use the transport).
    pub proxy_protocol: Option<ProxyProtocol>,
    /// Deprecated here (use the transport).
    pub termination_delay: Option<i64>,
    /// Health check.
    pub health_check: Option<TcpServerHealthCheck>,
}

/// A TCP backend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpServer {
    /// `host:port`.
    pub address: String,
    /// Connect with TLS.
    pub tls: bool,
}

/// PROXY protocol towards backends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProxyProtocol {
    /// Version 1 or 2 (default 2).
    pub version: i64,
}

impl Default for ProxyProtocol {
    fn default() -> Self {
        ProxyProtocol { version: 2 }
    }
}

/// TCP health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpServerHealthCheck {
    /// Port override.
    pub port: i64,
    /// Payload sent.
    pub send: String,
    /// Expected reply.
    pub expect: String,
    /// Interval (default 30s).
    pub interval: Duration,
    /// Interval while unhealthy (default: `interval`).
    pub unhealthy_interval: Option<Duration>,
    /// Timeout (default 5s).
    pub timeout: Duration,
}

impl Default for TcpServerHealthCheck {
    fn default() -> Self {
        TcpServerHealthCheck {
            port: 0,
            send: String::new(),
            expect: String::new(),
            interval: Duration::from_secs(30),
            unhealthy_interval: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// `tcp.services.<name>.weighted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpWeightedRoundRobin {
    /// Children.
    pub services: Vec<WrrService>,
    /// Health propagation.
    pub health_check: Option<HealthCheck>,
}

/// `tcp.middlewares.<name>`: exactly one kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpMiddleware {
    /// Connection limit.
    pub in_flight_conn: Option<TcpInFlightConn>,
    /// IP allow list.
    pub ip_allow_list: Option<TcpIpAllowList>,
    /// Deprecated alias of `ipAllowList`.
    pub ip_white_list: Option<TcpIpAllowList>,
}

impl TcpMiddleware {
    /// The kinds set, by their configuration names.
    pub fn kinds_set(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.in_flight_conn.is_some() {
            v.push("inFlightConn");
        }
        if self.ip_allow_list.is_some() {
            v.push("ipAllowList");
        }
        if self.ip_white_list.is_some() {
            v.push("ipWhiteList");
        }
        v
    }
}

/// `inFlightConn`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpInFlightConn {
    /// Maximum simultaneous connections per client IP.
    pub amount: i64,
}

/// TCP `ipAllowList`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpIpAllowList {
    /// Allowed IPs / CIDRs.
    pub source_range: Vec<String>,
}

/// `tcp.serversTransports.<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpServersTransport {
    /// Keep-alive period (default 15s).
    pub dial_keep_alive: Duration,
    /// Connect timeout (default 30s).
    pub dial_timeout: Duration,
    /// PROXY protocol to backends.
    pub proxy_protocol: Option<ProxyProtocol>,
    /// Delay before closing the write side (default 100ms).
    pub termination_delay: Duration,
    /// TLS to backends.
    pub tls: Option<TcpClientTls>,
}

impl Default for TcpServersTransport {
    fn default() -> Self {
        TcpServersTransport {
            dial_keep_alive: Duration::from_secs(15),
            dial_timeout: Duration::from_secs(30),
            proxy_protocol: None,
            termination_delay: Duration::from_millis(100),
            tls: None,
        }
    }
}

/// `tcp.serversTransports.<name>.tls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpClientTls {
    /// SNI / verification name.
    pub server_name: String,
    /// Skip verification.
    pub insecure_skip_verify: bool,
    /// CAs.
    #[serde(rename = "rootCAs")]
    pub root_cas: Vec<String>,
    /// Client certificates.
    pub certificates: Vec<Certificate>,
    /// Expected peer URI SAN.
    #[serde(rename = "peerCertURI")]
    pub peer_cert_uri: String,
    /// Expected peer SANs.
    #[serde(rename = "peerCertSANs")]
    pub peer_cert_sans: Vec<String>,
    /// SPIFFE (opaque).
    pub spiffe: Option<serde_json::Value>,
}
