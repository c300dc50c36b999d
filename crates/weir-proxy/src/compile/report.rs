//! What compiling a configuration found: the status of every element and its errors, for
//! `weir check`, logs and the API.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// An element's state after compilation, as Traefik's API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Serving.
    Enabled,
    /// Serving, with a warning.
    Warning,
    /// Not serving because of an error.
    Disabled,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Enabled => "enabled",
            Status::Warning => "warning",
            Status::Disabled => "disabled",
        })
    }
}

/// A compiled router.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterReport {
    /// Entrypoints it serves on.
    pub entry_points: Vec<String>,
    /// Its rule.
    pub rule: String,
    /// Effective priority.
    pub priority: i64,
    /// Qualified service name.
    pub service: String,
    /// Qualified middleware names.
    pub middlewares: Vec<String>,
    /// Whether it only serves TLS connections.
    pub tls: bool,
    /// Its state.
    pub status: Status,
    /// Errors and warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The provider that defined it.
    pub provider: String,
    /// Its configuration after its entrypoint's defaults, when they changed it (see
    /// `compile/models.rs`): what the API shows instead of the configured one.
    #[serde(skip)]
    pub applied: Option<weir_config::dynamic::Router>,
    /// Its access-log and metrics switches, after its entrypoint's defaults.
    #[serde(skip)]
    pub observability: weir_observe::RouteObservability,
    /// Its `observability.tracing` (weir does not trace; shown as configured).
    #[serde(skip)]
    pub tracing: bool,
}

/// A compiled service or middleware.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementReport {
    /// Its kind (`loadBalancer`, `weighted`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its state.
    pub status: Status,
    /// Errors and warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Routers (or services) that use it.
    pub used_by: Vec<String>,
    /// The provider that defined it.
    pub provider: String,
}

impl ElementReport {
    /// The report of an element built as `result`, with `warnings` found on the way:
    /// enabled, warning (it works but something was off) or disabled (with the error).
    pub fn from_result<T>(
        kind: &str,
        provider: &str,
        warnings: Vec<String>,
        result: &Result<T, String>,
    ) -> Self {
        let mut errors = warnings;
        let status = match result {
            Ok(_) if errors.is_empty() => Status::Enabled,
            Ok(_) => Status::Warning,
            Err(e) => {
                errors.push(e.clone());
                Status::Disabled
            }
        };
        ElementReport {
            kind: kind.into(),
            status,
            errors,
            used_by: Vec::new(),
            provider: provider.into(),
        }
    }
}

/// Everything a compilation reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Routers by qualified name.
    pub routers: BTreeMap<String, RouterReport>,
    /// Services by qualified name.
    pub services: BTreeMap<String, ElementReport>,
    /// Middlewares by qualified name.
    pub middlewares: BTreeMap<String, ElementReport>,
    /// TLS option sets by qualified name (`default`, `name@provider`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tls_options: BTreeMap<String, ElementReport>,
    /// Configured certificates, with their names and expiry (`info.notAfter`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<crate::tls::CertReport>,
    /// Problems not tied to one element (e.g. an unknown entrypoint in a model).
    pub global: Vec<String>,
    /// The load balancers built, by service name: live server status for the API and
    /// the `service_server_up` metric.
    #[serde(skip)]
    pub balancers: BTreeMap<String, std::sync::Arc<crate::service::LoadBalancer>>,
}

impl Report {
    /// Number of errors (disabled elements count once per error).
    pub fn error_count(&self) -> usize {
        let routers = self
            .routers
            .values()
            .filter(|r| r.status == Status::Disabled)
            .map(|r| r.errors.len().max(1));
        let elements = self
            .services
            .values()
            .chain(self.middlewares.values())
            .chain(self.tls_options.values())
            .filter(|e| e.status == Status::Disabled)
            .map(|e| e.errors.len().max(1));
        let certs = self
            .certificates
            .iter()
            .filter(|c| c.status == Status::Disabled)
            .count();
        routers.chain(elements).sum::<usize>() + certs + self.global.len()
    }

    /// Every problem as `kind name: message` lines, errors first.
    pub fn problems(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for (name, r) in &self.routers {
            let sink = if r.status == Status::Disabled {
                &mut errors
            } else {
                &mut warnings
            };
            sink.extend(r.errors.iter().map(|e| format!("router {name}: {e}")));
        }
        for (what, map) in [
            ("service", &self.services),
            ("middleware", &self.middlewares),
            ("TLS options", &self.tls_options),
        ] {
            for (name, e) in map {
                let sink = if e.status == Status::Disabled {
                    &mut errors
                } else {
                    &mut warnings
                };
                sink.extend(e.errors.iter().map(|m| format!("{what} {name}: {m}")));
            }
        }
        for c in &self.certificates {
            let sink = if c.status == Status::Disabled {
                &mut errors
            } else {
                &mut warnings
            };
            let what = if c.default {
                "default certificate"
            } else {
                "certificate"
            };
            sink.extend(
                c.errors
                    .iter()
                    .map(|m| format!("{what} {}: {m}", c.cert_file)),
            );
        }
        errors.extend(self.global.iter().cloned());
        errors.extend(warnings);
        errors
    }
}
