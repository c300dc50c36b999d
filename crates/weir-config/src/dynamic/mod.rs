//! The dynamic configuration model: Traefik's `http`, `tcp`, `udp` and `tls` sections with
//! the same field names and defaults.

pub mod http;
pub mod middlewares;
pub mod tcp;
pub mod tls;
pub mod udp;

use serde::{Deserialize, Serialize};

pub use http::*;
pub use middlewares::*;
pub use tcp::*;
pub use tls::*;
pub use udp::*;

use crate::diagnostic::Diagnostic;

/// A whole dynamic configuration (one provider's view, or the merged view).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Configuration {
    /// HTTP routers, services, middlewares, transports.
    pub http: HttpConfiguration,
    /// TCP routers, services, middlewares, transports.
    pub tcp: TcpConfiguration,
    /// UDP routers and services.
    pub udp: UdpConfiguration,
    /// Certificates, options, stores.
    pub tls: TlsConfiguration,
}

impl Configuration {
    /// True when nothing is configured.
    pub fn is_empty(&self) -> bool {
        *self == Configuration::default()
    }

    /// Checks what serde cannot: each service and middleware holds exactly one kind, and
    /// deprecated spellings. Diagnostics carry dotted paths but no location; the loader
    /// fills in lines.
    pub fn validate(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut one =
            |path: String, kinds: Vec<&'static str>, what: &str, all: &str| match kinds.len() {
                1 => {}
                0 => out.push(Diagnostic::error(
                    path,
                    format!("the {what} has no type; set exactly one of {all}"),
                )),
                _ => out.push(Diagnostic::error(
                    path,
                    format!(
                        "the {what} sets several types ({}); set exactly one",
                        kinds.join(", ")
                    ),
                )),
            };
        const HTTP_SERVICES: &str =
            "loadBalancer, weighted, mirroring, failover, highestRandomWeight";
        for (name, s) in &self.http.services {
            one(
                format!("http.services.{name}"),
                s.kinds_set(),
                "service",
                HTTP_SERVICES,
            );
        }
        for (name, m) in &self.http.middlewares {
            one(
                format!("http.middlewares.{name}"),
                m.kinds_set(),
                "middleware",
                "a middleware type such as headers, redirectScheme, stripPrefix, ...",
            );
        }
        for (name, s) in &self.tcp.services {
            one(
                format!("tcp.services.{name}"),
                s.kinds_set(),
                "service",
                "loadBalancer, weighted",
            );
        }
        for (name, m) in &self.tcp.middlewares {
            one(
                format!("tcp.middlewares.{name}"),
                m.kinds_set(),
                "middleware",
                "inFlightConn, ipAllowList",
            );
        }
        for (name, s) in &self.udp.services {
            one(
                format!("udp.services.{name}"),
                s.kinds_set(),
                "service",
                "loadBalancer, weighted",
            );
        }
        for (name, m) in &self.http.middlewares {
            if m.ip_white_list.is_some() {
                out.push(Diagnostic::warning(
                    format!("http.middlewares.{name}.ipWhiteList"),
                    "ipWhiteList is deprecated; use ipAllowList",
                ));
            }
        }
        for (name, m) in &self.tcp.middlewares {
            if m.ip_white_list.is_some() {
                out.push(Diagnostic::warning(
                    format!("tcp.middlewares.{name}.ipWhiteList"),
                    "ipWhiteList is deprecated; use ipAllowList",
                ));
            }
        }
        out
    }
}
