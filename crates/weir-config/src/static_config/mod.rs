//! The static configuration: entrypoints, providers, API, observability. Read once at
//! start-up from a file, flags and environment variables.

pub mod entrypoints;
pub mod observability;
pub mod providers;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use entrypoints::*;
pub use observability::*;
pub use providers::*;

use crate::diagnostic::Diagnostic;
use crate::duration::Duration;
use crate::dynamic::{ForwardingTimeouts, TcpClientTls};

/// The static configuration (Traefik's `traefik.yml`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StaticConfiguration {
    /// Global switches.
    pub global: Global,
    /// Default HTTP backend transport.
    pub servers_transport: StaticServersTransport,
    /// Default TCP backend transport.
    pub tcp_servers_transport: StaticTcpServersTransport,
    /// Entrypoints by name.
    pub entry_points: BTreeMap<String, EntryPoint>,
    /// Providers.
    pub providers: Providers,
    /// API and dashboard (off unless set).
    pub api: Option<Api>,
    /// `/ping` (off unless set).
    pub ping: Option<Ping>,
    /// Metrics (off unless set).
    pub metrics: Option<Metrics>,
    /// Application log.
    pub log: Log,
    /// Access log (off unless set).
    pub access_log: Option<AccessLog>,
    /// Tracing (kept opaque for now).
    pub tracing: Option<serde_json::Value>,
    /// Certificate resolvers (ACME, Tailscale), kept opaque.
    pub certificates_resolvers: BTreeMap<String, serde_json::Value>,
    /// CNAME flattening (kept opaque).
    pub host_resolver: Option<serde_json::Value>,
    /// Experimental features (kept opaque).
    pub experimental: Option<serde_json::Value>,
    /// `core.defaultRuleSyntax`.
    pub core: Option<Core>,
    /// SPIFFE (kept opaque).
    pub spiffe: Option<serde_json::Value>,
    /// OCSP (kept opaque).
    pub ocsp: Option<serde_json::Value>,
}

/// `global`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Global {
    /// Default true (weir never phones home; accepted for compatibility).
    pub check_new_version: bool,
    /// Default false (weir never phones home; accepted for compatibility).
    pub send_anonymous_usage: bool,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            check_new_version: true,
            send_anonymous_usage: false,
        }
    }
}

/// `core`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Core {
    /// `v3` (default) or `v2`.
    pub default_rule_syntax: String,
}

/// Static `serversTransport`: the default for services without `serversTransport`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StaticServersTransport {
    /// Skip certificate verification.
    pub insecure_skip_verify: bool,
    /// CA files.
    #[serde(rename = "rootCAs")]
    pub root_cas: Vec<String>,
    /// Idle connections per host (default 200).
    pub max_idle_conns_per_host: i64,
    /// Timeouts.
    pub forwarding_timeouts: ForwardingTimeouts,
    /// SPIFFE (opaque).
    pub spiffe: Option<serde_json::Value>,
}

impl Default for StaticServersTransport {
    fn default() -> Self {
        StaticServersTransport {
            insecure_skip_verify: false,
            root_cas: Vec::new(),
            max_idle_conns_per_host: 200,
            forwarding_timeouts: ForwardingTimeouts::default(),
            spiffe: None,
        }
    }
}

/// Static `tcpServersTransport`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StaticTcpServersTransport {
    /// Connect timeout (default 30s).
    pub dial_timeout: Duration,
    /// Keep-alive period (default 15s).
    pub dial_keep_alive: Duration,
    /// Delay before closing the write side.
    pub termination_delay: Duration,
    /// TLS to backends.
    pub tls: Option<TcpClientTls>,
}

impl Default for StaticTcpServersTransport {
    fn default() -> Self {
        StaticTcpServersTransport {
            dial_timeout: Duration::from_secs(30),
            dial_keep_alive: Duration::from_secs(15),
            termination_delay: Duration::ZERO,
            tls: None,
        }
    }
}

/// Name of the internal entrypoint serving ping, API and metrics by default.
pub const TRAEFIK_ENTRYPOINT: &str = "traefik";

/// Address given to an implicitly created `traefik` entrypoint (weir's port plan: 9000;
/// Traefik uses 8080).
pub const TRAEFIK_ENTRYPOINT_ADDRESS: &str = ":9000";

/// Default entrypoint of `metrics.prometheus` (weir's port plan; Traefik uses `traefik`).
pub const METRICS_ENTRYPOINT: &str = "metrics";

/// Address given to an implicitly created `metrics` entrypoint.
pub const METRICS_ENTRYPOINT_ADDRESS: &str = ":9100";

impl StaticConfiguration {
    /// The configuration weir runs with when it is given no configuration at all:
    /// `web` :8000, `websecure` :8443, `traefik` :9000, ping on, API off.
    pub fn embedded_default() -> Self {
        let mut c = StaticConfiguration::default();
        c.entry_points
            .insert("web".into(), EntryPoint::with_address(":8000"));
        c.entry_points
            .insert("websecure".into(), EntryPoint::with_address(":8443"));
        c.entry_points.insert(
            TRAEFIK_ENTRYPOINT.into(),
            EntryPoint::with_address(TRAEFIK_ENTRYPOINT_ADDRESS),
        );
        c.ping = Some(Ping::default());
        c.effective()
    }

    /// Applies Traefik's `SetEffectiveConfiguration`:
    /// - no entrypoint → `http` on `:80`;
    /// - `api.insecure`, or ping / prometheus on entrypoint `traefik` without
    ///   `manualRouting` → entrypoint `traefik` is created if missing (on `:9000`, weir's
    ///   port, where Traefik uses `:8080`);
    /// - prometheus on entrypoint `metrics` (weir's default) without `manualRouting` →
    ///   entrypoint `metrics` is created if missing, on `:9100`;
    /// - `providers.precedence` lower-cased, Traefik's default list when empty.
    pub fn effective(mut self) -> Self {
        if self.entry_points.is_empty() {
            self.entry_points
                .insert("http".into(), EntryPoint::with_address(":80"));
        }
        let api_needs = self.api.as_ref().is_some_and(|a| a.insecure);
        let ping_needs = self
            .ping
            .as_ref()
            .is_some_and(|p| p.entry_point == TRAEFIK_ENTRYPOINT && !p.manual_routing);
        let prom_needs = self
            .metrics
            .as_ref()
            .and_then(|m| m.prometheus.as_ref())
            .is_some_and(|p| p.entry_point == TRAEFIK_ENTRYPOINT && !p.manual_routing);
        if (api_needs || ping_needs || prom_needs)
            && !self.entry_points.contains_key(TRAEFIK_ENTRYPOINT)
        {
            self.entry_points.insert(
                TRAEFIK_ENTRYPOINT.into(),
                EntryPoint::with_address(TRAEFIK_ENTRYPOINT_ADDRESS),
            );
        }
        let metrics_needs = self
            .metrics
            .as_ref()
            .and_then(|m| m.prometheus.as_ref())
            .is_some_and(|p| p.entry_point == METRICS_ENTRYPOINT && !p.manual_routing);
        if metrics_needs && !self.entry_points.contains_key(METRICS_ENTRYPOINT) {
            self.entry_points.insert(
                METRICS_ENTRYPOINT.into(),
                EntryPoint::with_address(METRICS_ENTRYPOINT_ADDRESS),
            );
        }
        if self.providers.precedence.is_empty() {
            self.providers.precedence = DEFAULT_PRECEDENCE.iter().map(|s| s.to_string()).collect();
        } else {
            for p in &mut self.providers.precedence {
                *p = p.to_ascii_lowercase();
            }
        }
        self
    }

    /// Names of the default entrypoints for routers without `entryPoints`: those with
    /// `asDefault` if any, else every TCP entrypoint; `traefik` never.
    pub fn default_entry_points(&self) -> Vec<String> {
        let tcp = || {
            self.entry_points
                .iter()
                .filter(|(n, ep)| n.as_str() != TRAEFIK_ENTRYPOINT && !ep.is_udp())
        };
        let marked: Vec<String> = tcp()
            .filter(|(_, ep)| ep.as_default)
            .map(|(n, _)| n.clone())
            .collect();
        if marked.is_empty() {
            tcp().map(|(n, _)| n.clone()).collect()
        } else {
            marked
        }
    }

    /// Checks what serde cannot (paths without locations; the loader adds lines).
    pub fn validate(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (name, ep) in &self.entry_points {
            if ep.address.trim().is_empty() {
                out.push(Diagnostic::error(
                    format!("entryPoints.{name}.address"),
                    "an entrypoint needs an address such as \":8000\"",
                ));
            }
        }
        if let Some(file) = &self.providers.file {
            match (file.filename.is_empty(), file.directory.is_empty()) {
                (false, false) => out.push(Diagnostic::error(
                    "providers.file",
                    "filename and directory are mutually exclusive",
                )),
                (true, true) => out.push(Diagnostic::error(
                    "providers.file",
                    "set filename or directory",
                )),
                _ => {}
            }
            if file.debug_log_generated_template {
                out.push(Diagnostic::warning(
                    "providers.file.debugLogGeneratedTemplate",
                    "weir does not render Go templates in files; ignored",
                ));
            }
        }
        for name in self.providers.unsupported() {
            out.push(Diagnostic::warning(
                format!("providers.{name}"),
                format!("the {name} provider is not supported by weir; ignored"),
            ));
        }
        if let Some(api) = &self.api
            && api.insecure
            && api.base_path != "/"
            && !api.base_path.is_empty()
        {
            out.push(Diagnostic::error(
                "api.basePath",
                "basePath cannot be used with api.insecure",
            ));
        }
        out
    }
}
