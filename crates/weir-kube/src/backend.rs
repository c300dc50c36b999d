//! From a Service port to backend servers: EndpointSlices (ready endpoints; serving but
//! terminating ones fenced so they drain), the ClusterIP with native load balancing,
//! ExternalName services when allowed, or endpoints given on the command line.

use std::collections::BTreeSet;

use weir_config::dynamic::Server;

use crate::objects::{IntOrString, ServicePort, ServiceSpec};
use crate::options::{BackendOptions, Options};
use crate::set::{Body, Kind, ObjectSet};

/// What a Service port resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Servers (URLs carry the scheme).
    pub servers: Vec<Server>,
    /// The Service port used.
    pub port: ServicePort,
    /// A warning to pass on (e.g. a cluster DNS name used offline).
    pub warning: Option<String>,
}

/// Per-call choices.
#[derive(Debug, Clone, Default)]
pub struct Want<'a> {
    /// Scheme forced by the route (`http`, `https`, `h2c`); else derived from the port.
    pub scheme: Option<&'a str>,
    /// Use the ClusterIP (`nativeLB`); `None` takes the provider default.
    pub native_lb: Option<bool>,
}

/// Finds a Service's spec.
pub fn service<'a>(set: &'a ObjectSet, namespace: &str, name: &str) -> Option<&'a ServiceSpec> {
    match set.get(Kind::Service, namespace, name).map(|o| &o.body) {
        Some(Body::Service(s)) => Some(s),
        _ => None,
    }
}

/// Traefik's rule: port 443 or a port name starting with `https` means HTTPS.
fn default_scheme(port: &ServicePort) -> &'static str {
    if port.port == 443 || port.name.as_deref().is_some_and(|n| n.starts_with("https")) {
        "https"
    } else {
        "http"
    }
}

fn host_port(addr: &str, port: i64) -> String {
    if addr.contains(':') && !addr.starts_with('[') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// Resolves `namespace/name:port` to servers.
pub fn resolve(
    set: &ObjectSet,
    opts: &Options,
    backends: &BackendOptions,
    namespace: &str,
    name: &str,
    port: &IntOrString,
    want: &Want<'_>,
) -> Result<Resolved, String> {
    let spec = service(set, namespace, name)
        .ok_or_else(|| format!("service {namespace}/{name} not found"))?;
    let found = spec.ports.iter().find(|p| match port {
        IntOrString::Int(n) => p.port == *n,
        IntOrString::String(s) => p.name.as_deref() == Some(s.as_str()),
    });
    let Some(svc_port) = found.cloned() else {
        return Err(format!("service {namespace}/{name} has no port {port}"));
    };
    let scheme = want.scheme.unwrap_or(default_scheme(&svc_port));
    let server = |hp: String, fenced: bool| Server {
        url: format!("{scheme}://{hp}"),
        fenced,
        ..Server::default()
    };

    // Endpoints given on the command line stand in for the cluster's.
    let by_number = (
        namespace.to_owned(),
        name.to_owned(),
        svc_port.port.to_string(),
    );
    let by_name = svc_port
        .name
        .as_ref()
        .map(|n| (namespace.to_owned(), name.to_owned(), n.clone()));
    let given = opts
        .endpoints
        .get(&by_number)
        .or_else(|| by_name.as_ref().and_then(|k| opts.endpoints.get(k)));
    if let Some(addrs) = given {
        return Ok(Resolved {
            servers: addrs.iter().map(|a| server(a.clone(), false)).collect(),
            port: svc_port,
            warning: None,
        });
    }

    if spec.type_.as_deref() == Some("ExternalName") {
        if !backends.allow_external_name_services {
            return Err(format!(
                "service {namespace}/{name} is an ExternalName service, which is not allowed (allowExternalNameServices)"
            ));
        }
        let ext = spec.external_name.as_deref().unwrap_or_default();
        if ext.is_empty() {
            return Err(format!("service {namespace}/{name} has no externalName"));
        }
        return Ok(Resolved {
            servers: vec![server(host_port(ext, svc_port.port), false)],
            port: svc_port,
            warning: None,
        });
    }

    if want.native_lb.unwrap_or(backends.native_lb_by_default) {
        let ip = spec.cluster_ip.as_deref().unwrap_or_default();
        if ip.is_empty() || ip == "None" {
            return Err(format!(
                "service {namespace}/{name} has no cluster IP, so nativeLB cannot be used"
            ));
        }
        return Ok(Resolved {
            servers: vec![server(host_port(ip, svc_port.port), false)],
            port: svc_port,
            warning: None,
        });
    }

    let mut slices = 0usize;
    let mut seen = BTreeSet::new();
    let mut servers = Vec::new();
    for obj in set.slices_of(namespace, name) {
        let Body::EndpointSlice(slice) = &obj.body else {
            continue;
        };
        slices += 1;
        let Some(ep_port) = slice
            .ports
            .iter()
            .find(|p| p.name == svc_port.name)
            .and_then(|p| p.port)
        else {
            continue;
        };
        for ep in &slice.endpoints {
            let c = &ep.conditions;
            let ready = c.ready != Some(false);
            let draining = !ready && c.serving == Some(true) && c.terminating == Some(true);
            if !ready && !draining {
                continue;
            }
            for addr in &ep.addresses {
                let hp = host_port(addr, ep_port);
                if seen.insert(hp.clone()) {
                    servers.push(server(hp, draining));
                }
            }
        }
    }
    if slices == 0 && opts.offline {
        // Without a cluster, the Service's cluster DNS name is the truthful target;
        // `--endpoint` points it elsewhere.
        let dns = format!("{name}.{namespace}.svc");
        return Ok(Resolved {
            servers: vec![server(host_port(&dns, svc_port.port), false)],
            warning: None,
            port: svc_port,
        });
    }
    if servers.iter().all(|s| s.fenced) && !backends.allow_empty_services {
        return Err(format!(
            "service {namespace}/{name} port {port} has no ready endpoints (allowEmptyServices)"
        ));
    }
    Ok(Resolved {
        servers,
        port: svc_port,
        warning: None,
    })
}
