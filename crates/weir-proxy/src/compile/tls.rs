//! Router TLS: which option set a router uses on each of its entrypoints (its own `tls`, or
//! the entrypoint's `http.tls` default), and per entrypoint the option set for each host.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use weir_config::dynamic::Router;

use super::{Inputs, Report, Status};
use crate::tls::{EntrypointTls, TlsCompiled};

/// Hosts of TLS routers per entrypoint: host -> (option set, router) pairs.
pub(super) type HostOptions = Vec<BTreeMap<String, Vec<(String, String)>>>;

/// The qualified option set the router uses on each entrypoint (`None`: plain HTTP).
/// Unknown or broken option sets are errors that disable the router, as in Traefik.
pub(super) fn router_options(
    router: &Router,
    provider: &str,
    entrypoints: &[usize],
    inputs: &Inputs<'_>,
    tls: &TlsCompiled,
    errors: &mut Vec<String>,
) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(entrypoints.len());
    for &ep in entrypoints {
        let Some(cfg) = router.tls.as_ref().or(inputs.entrypoints[ep].tls.as_ref()) else {
            out.push(None);
            continue;
        };
        if !cfg.cert_resolver.is_empty() {
            errors.push(format!(
                "tls.certResolver {:?}: certificate resolvers (ACME) are not supported",
                cfg.cert_resolver
            ));
        }
        // An entrypoint's default applies as if written in the router (Traefik copies it
        // into the router), so names resolve in the router's provider.
        let name = TlsCompiled::option_name(&cfg.options, provider);
        match tls.options.get(&name) {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                let msg = format!("TLS options {name:?} cannot be used: {e}");
                if !errors.contains(&msg) {
                    errors.push(msg);
                }
            }
            None => {
                let msg = format!("unknown TLS options: {name}");
                if !errors.contains(&msg) {
                    errors.push(msg);
                }
            }
        }
        out.push(Some(name));
    }
    out
}

/// Builds each entrypoint's TLS setup. A host whose routers ask for different option sets
/// gets the default set, and those routers a warning (Traefik's behaviour).
pub(super) fn entrypoint_tls(
    hosts: HostOptions,
    tls: &mut TlsCompiled,
    report: &mut Report,
) -> Vec<Option<Arc<EntrypointTls>>> {
    let Some(default) = tls.default_config.clone() else {
        return hosts.iter().map(|_| None).collect();
    };
    let mut used: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut out = Vec::with_capacity(hosts.len());
    for ep_hosts in hosts {
        let mut by_host = HashMap::new();
        for (host, uses) in ep_hosts {
            for (opt, router) in &uses {
                let users = used.entry(opt.clone()).or_default();
                if !users.contains(router) {
                    users.push(router.clone());
                }
            }
            let first = &uses[0].0;
            let name = if uses.iter().all(|(o, _)| o == first) {
                first.clone()
            } else {
                let msg = format!(
                    "found different TLS options for routers on the same host {host}, so using the default TLS options instead"
                );
                for (_, router) in &uses {
                    if let Some(r) = report.routers.get_mut(router)
                        && !r.errors.contains(&msg)
                    {
                        r.errors.push(msg.clone());
                        if r.status == Status::Enabled {
                            r.status = Status::Warning;
                        }
                    }
                }
                crate::tls::compile::DEFAULT_OPTIONS.to_owned()
            };
            if let Some(Ok(config)) = tls.options.get(&name) {
                by_host.insert(host, config.clone());
            }
        }
        out.push(Some(Arc::new(EntrypointTls::new(by_host, default.clone()))));
    }
    for (name, users) in used {
        if let Some(r) = tls.option_reports.get_mut(&name) {
            r.used_by = users;
        }
    }
    out
}
