//! Turning the static configuration into the pieces `serve` and `check` assemble:
//! entrypoint settings, internal services and routers, the default upstream transport.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http::{HeaderValue, StatusCode};
use weir_config::dynamic::{Configuration, Router};
use weir_config::static_config::StaticConfiguration;
use weir_proxy::compile::EntrypointInfo;
use weir_proxy::entrypoint::EntrypointSettings;
use weir_proxy::handler::SharedHandler;
use weir_proxy::internal::{Noop, Ping, RedirectScheme, ShutdownState, Whoami};
use weir_proxy::pipeline::headers::TrustedNets;
use weir_proxy::upstream::{GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST, TransportSettings};

use weir_providers::file::{FileProvider, FileProviderConfig};

use crate::reload::Update;
use crate::static_load::parse_address;

/// One entrypoint, ready to bind.
pub struct EntrypointSpec {
    /// Where to listen.
    pub address: SocketAddr,
    /// `reusePort`.
    pub reuse_port: bool,
    /// Serving settings.
    pub settings: EntrypointSettings,
    /// What the compiler needs.
    pub info: EntrypointInfo,
}

/// The TCP entrypoints in table order (name order, as the static file's map).
pub fn entrypoints(cfg: &StaticConfiguration) -> anyhow::Result<Vec<EntrypointSpec>> {
    let mut out = Vec::new();
    for (name, ep) in &cfg.entry_points {
        if ep.is_udp() {
            tracing::warn!(entrypoint = %name, "UDP entrypoints are not supported yet; skipped");
            continue;
        }
        let address =
            parse_address(&ep.address).with_context(|| format!("entryPoints.{name}.address"))?;
        let (trusted, bad) = TrustedNets::new(
            ep.forwarded_headers.insecure,
            &ep.forwarded_headers.trusted_ips,
        );
        for b in bad {
            tracing::warn!(entrypoint = %name, "forwardedHeaders.trustedIPs: {b:?} is not an IP or CIDR; ignored");
        }
        let t = &ep.transport;
        let settings = EntrypointSettings {
            name: Arc::from(name.as_str()),
            index: out.len(),
            trusted,
            sanitize_path: ep.http.sanitize_path,
            read_timeout: t.responding_timeouts.read_timeout.to_std_nonzero(),
            write_timeout: t.responding_timeouts.write_timeout.to_std_nonzero(),
            idle_timeout: t.responding_timeouts.idle_timeout.to_std_nonzero(),
            max_header_bytes: usize::try_from(ep.http.max_header_bytes)
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or(1 << 20),
            h2_max_concurrent_streams: u32::try_from(ep.http2.max_concurrent_streams)
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or(250),
            accept_grace: t
                .life_cycle
                .request_accept_grace_timeout
                .to_std()
                .unwrap_or_default(),
            grace_timeout: t
                .life_cycle
                .grace_time_out
                .to_std()
                .unwrap_or(Duration::from_secs(10)),
        };
        out.push(EntrypointSpec {
            address,
            reuse_port: ep.reuse_port,
            settings,
            info: EntrypointInfo {
                name: name.clone(),
                as_default: ep.as_default,
                tls: ep.http.tls.clone(),
                middlewares: ep.http.middlewares.clone(),
                observability: ep.observability.clone(),
            },
        });
    }
    if out.is_empty() {
        anyhow::bail!("no TCP entrypoint is configured");
    }
    Ok(out)
}

/// The `name@internal` services.
pub fn internal_services(
    cfg: &StaticConfiguration,
    shutdown: Arc<ShutdownState>,
    terminating: StatusCode,
) -> BTreeMap<String, SharedHandler> {
    let mut m: BTreeMap<String, SharedHandler> = BTreeMap::new();
    for r in redirections(cfg) {
        m.insert(
            format!("{}@internal", r.service),
            Arc::new(RedirectScheme::new(&r.scheme, r.port, r.permanent)),
        );
    }
    m.insert(
        "ping@internal".into(),
        Arc::new(Ping::new(shutdown, terminating)),
    );
    m.insert(
        "whoami@internal".into(),
        Arc::new(Whoami::new(hostname_string())),
    );
    m.insert("noop@internal".into(), Arc::new(Noop));
    m
}

/// Routers weir adds itself (Traefik's internal provider): `/ping` on the ping entrypoint
/// at the highest priority, and on the embedded default the demo whoami router.
pub fn internal_config(cfg: &StaticConfiguration, embedded: bool) -> Configuration {
    let mut c = Configuration::default();
    if let Some(ping) = cfg.ping.as_ref().filter(|p| !p.manual_routing) {
        c.http.routers.insert(
            "ping".into(),
            Router {
                entry_points: vec![ping.entry_point.clone()],
                rule: "PathPrefix(`/ping`)".into(),
                priority: i64::MAX,
                service: "ping@internal".into(),
                ..Router::default()
            },
        );
    }
    crate::observe::internal_routers(cfg, &mut c);
    for r in redirections(cfg) {
        c.http.routers.insert(
            r.router,
            Router {
                entry_points: vec![r.entrypoint],
                rule: "HostRegexp(`^.+$`)".into(),
                priority: r.priority,
                service: format!("{}@internal", r.service),
                ..Router::default()
            },
        );
    }
    if embedded {
        c.http.routers.insert(
            "whoami".into(),
            Router {
                entry_points: vec!["web".into()],
                rule: "Host(`whoami.localhost`)".into(),
                service: "whoami@internal".into(),
                ..Router::default()
            },
        );
    }
    c
}

/// An entrypoint's `http.redirections.entryPoint`, resolved.
struct Redirection {
    entrypoint: String,
    router: String,
    service: String,
    scheme: String,
    port: Option<u16>,
    permanent: bool,
    priority: i64,
}

/// Every entrypoint redirection whose target resolves (`to` is an entrypoint name or
/// `:port`); the others are logged and left out.
fn redirections(cfg: &StaticConfiguration) -> Vec<Redirection> {
    let mut out = Vec::new();
    for (name, ep) in &cfg.entry_points {
        let Some(r) = ep
            .http
            .redirections
            .as_ref()
            .and_then(|r| r.entry_point.as_ref())
        else {
            continue;
        };
        let port = if let Some(p) = r.to.strip_prefix(':') {
            p.parse::<u16>().ok()
        } else {
            cfg.entry_points
                .get(&r.to)
                .and_then(|t| parse_address(&t.address).ok())
                .map(|a| a.port())
        };
        let Some(port) = port else {
            tracing::error!(
                "entryPoints.{name}.http.redirections.entryPoint.to: {:?} is neither an entrypoint nor :port; no redirection",
                r.to
            );
            continue;
        };
        let router = normalize(&format!("{name}-to-{}", r.to));
        out.push(Redirection {
            entrypoint: name.clone(),
            service: format!("redirect-{router}"),
            router,
            scheme: if r.scheme.is_empty() {
                "https".to_owned()
            } else {
                r.scheme.clone()
            },
            port: Some(port),
            permanent: r.permanent,
            priority: if r.priority == 0 {
                i64::MAX - 1
            } else {
                r.priority
            },
        });
    }
    out
}

/// Traefik's name normalisation: runs of characters other than letters, digits, `.` and
/// `-` become one `-`.
fn normalize(name: &str) -> String {
    name.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The static `serversTransport` as upstream client settings.
pub fn default_transport(cfg: &StaticConfiguration) -> TransportSettings {
    let st = &cfg.servers_transport;
    let defaults = TransportSettings::default();
    let ft = &st.forwarding_timeouts;
    TransportSettings {
        server_name: None,
        insecure_skip_verify: st.insecure_skip_verify,
        root_cas: st.root_cas.clone(),
        max_idle_conns_per_host: match st.max_idle_conns_per_host {
            0 => GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST,
            n if n < 0 => 0,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
        dial_timeout: ft
            .dial_timeout
            .to_std_nonzero()
            .unwrap_or(defaults.dial_timeout),
        response_header_timeout: ft.response_header_timeout.to_std_nonzero(),
        idle_conn_timeout: ft
            .idle_conn_timeout
            .to_std_nonzero()
            .unwrap_or(defaults.idle_conn_timeout),
        disable_http2: false,
    }
}

/// This machine's hostname (for `X-Forwarded-Server` and whoami).
pub fn hostname_string() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "weir".to_owned())
}

/// [`hostname_string`] as a header value.
pub fn hostname() -> HeaderValue {
    HeaderValue::try_from(hostname_string()).unwrap_or(HeaderValue::from_static("weir"))
}

/// The file provider, when the static configuration enables one.
pub fn file_provider(cfg: &StaticConfiguration) -> anyhow::Result<Option<FileProvider>> {
    let Some(file) = &cfg.providers.file else {
        return Ok(None);
    };
    let config = FileProviderConfig::from_static(file, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(FileProvider::new(config)))
}

/// The reloader's update from a file provider's result: its diagnostics logged, a failure
/// counted in `metrics` (the last good configuration stays in force).
pub fn file_update<E>(
    result: Result<weir_providers::ProviderSnapshot, E>,
    metrics: Option<&weir_observe::Metrics>,
) -> Result<Update, E> {
    let snapshot = result.inspect_err(|_| {
        if let Some(m) = metrics {
            m.config_reload_failed();
        }
    })?;
    for d in &snapshot.diagnostics {
        tracing::warn!("{d}");
    }
    Ok(Update {
        provider: "file".into(),
        config: Arc::new(snapshot.config),
        complete: true,
    })
}

/// Runs the file provider's watch loop, forwarding each good configuration to the reloader.
/// A configuration that fails to load was already logged by the provider; the reloader
/// keeps the last good one, and `metrics` count the failure.
pub fn spawn_file_watch(
    provider: FileProvider,
    tx: tokio::sync::mpsc::Sender<Update>,
    metrics: Option<Arc<weir_observe::Metrics>>,
) {
    let (ftx, mut frx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        if let Err(e) = provider.watch(ftx).await {
            tracing::error!("file provider: cannot watch for changes: {e}");
        }
    });
    tokio::spawn(async move {
        while let Some(update) = frx.recv().await {
            let Ok(update) = file_update(update, metrics.as_deref()) else {
                continue;
            };
            if tx.send(update).await.is_err() {
                return;
            }
        }
    });
}

/// Starts the live Kubernetes providers the static configuration enables; each publishes
/// its configuration to the reloader on every change. Not used with `--manifests`, which
/// stands in for the cluster.
pub fn spawn_kubernetes(
    cfg: &StaticConfiguration,
    tx: &tokio::sync::mpsc::Sender<Update>,
    metrics: Option<Arc<weir_observe::Metrics>>,
) -> anyhow::Result<()> {
    let mut providers = Vec::new();
    if let Some(c) = &cfg.providers.kubernetes_ingress {
        providers.push(weir_kube_live::Provider::ingress(c)?);
    }
    if let Some(c) = &cfg.providers.kubernetes_crd {
        providers.push(weir_kube_live::Provider::crd(c)?);
    }
    for provider in providers {
        let name = provider.name();
        tracing::info!(
            "kubernetes provider {name}: watching {} ({})",
            provider.endpoint(),
            provider.source()
        );
        let (ptx, mut prx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            if let Err(e) = provider.run(ptx).await {
                tracing::error!("kubernetes provider {name}: {e}");
            }
        });
        let tx = tx.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            while let Some(report) = prx.recv().await {
                let p = match report {
                    weir_kube_live::Report::Config(p) => *p,
                    weir_kube_live::Report::Failing(error) => {
                        // Publications stay incomplete until it recovers; the reload alert
                        // sees the failure.
                        tracing::error!("kubernetes provider {name}: {error}");
                        if let Some(m) = &metrics {
                            m.config_reload_failed();
                        }
                        continue;
                    }
                };
                for problem in &p.problems {
                    tracing::warn!("kubernetes provider {name}: {problem}");
                }
                let update = Update {
                    provider: p.provider.into(),
                    config: Arc::new(p.config),
                    complete: p.complete,
                };
                if tx.send(update).await.is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}
