//! The `manifests` source: Kubernetes manifests from disk (`-f`/`--manifests`), translated
//! with the same options as the Kubernetes providers, endpoints from `--endpoint`.

use weir_config::Diagnostic;
use weir_config::dynamic::Configuration;
use weir_config::static_config::StaticConfiguration;
use weir_kube::manifests::{Manifests, parse_endpoint};
use weir_kube::{CrdOptions, IngressOptions, Options, translate};

use crate::cli::ConfigArgs;

/// What the manifests give.
pub struct ManifestSource {
    /// Configurations by provider name (`kubernetescrd`, `kubernetes`).
    pub providers: Vec<(String, Configuration)>,
    /// Every problem, located in its file.
    pub diagnostics: Vec<Diagnostic>,
    /// Services without endpoints, reached by their cluster DNS name.
    pub dns_services: Vec<String>,
    /// Objects of kinds weir does not read, by `apiVersion/kind`.
    pub skipped: Vec<(String, usize)>,
    /// Number of objects read.
    pub objects: usize,
}

/// Reads and translates the manifests, when any are given.
pub fn load(
    args: &ConfigArgs,
    cfg: &StaticConfiguration,
) -> anyhow::Result<Option<ManifestSource>> {
    if args.manifests.is_empty() {
        if !args.endpoints.is_empty() {
            anyhow::bail!("--endpoint needs manifests (-f/--manifests)");
        }
        return Ok(None);
    }
    let mut opts = Options {
        crd: Some(
            cfg.providers
                .kubernetes_crd
                .as_ref()
                .map(CrdOptions::from_static)
                .unwrap_or_default(),
        ),
        ingress: Some(
            cfg.providers
                .kubernetes_ingress
                .as_ref()
                .map(IngressOptions::from_static)
                .unwrap_or_default(),
        ),
        offline: true,
        ..Options::default()
    };
    for e in &args.endpoints {
        let (key, target) = parse_endpoint(e).map_err(|e| anyhow::anyhow!(e))?;
        opts.endpoints.entry(key).or_default().push(target);
    }
    let m = Manifests::read(&args.manifests, args.recursive)?;
    let t = translate(&m.set, &opts);
    let mut diagnostics = m.diagnostics.clone();
    for (ns, name, port) in opts.endpoints.keys() {
        if weir_kube::backend::service(&m.set, ns, name).is_none() {
            diagnostics.push(Diagnostic::warning(
                format!("--endpoint {ns}/{name}:{port}"),
                format!("no Service {ns}/{name} in the manifests; this endpoint is not used"),
            ));
        }
    }
    diagnostics.extend(t.problems.iter().map(|p| m.locate(p)));
    let mut dns_services = Vec::new();
    for (_, c) in [(0, &t.crd), (1, &t.ingress)] {
        for (name, s) in &c.http.services {
            let dns = s
                .load_balancer
                .as_ref()
                .is_some_and(|lb| lb.servers.iter().any(|sv| sv.url.contains(".svc:")));
            if dns {
                dns_services.push(name.clone());
            }
        }
    }
    Ok(Some(ManifestSource {
        providers: t.providers(&opts),
        diagnostics,
        dns_services,
        skipped: m.skipped.into_iter().collect(),
        objects: m.set.len(),
    }))
}
