//! Wiring observability: the metrics registry, the access logger, and the internal
//! routers and services that expose them (`prometheus@internal`).

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use weir_config::dynamic::{Configuration, Router};
use weir_config::static_config::{Prometheus as PrometheusConfig, StaticConfiguration};
use weir_observe::access::{AccessLogger, Settings as AccessSettings};
use weir_observe::{Metrics, MetricsConfig, Observer, RouteObservability};
use weir_proxy::compile::{EntrypointInfo, Report};
use weir_proxy::handler::SharedHandler;
use weir_proxy::internal::Prometheus;

/// `metrics.prometheus`, when Prometheus exposition is on.
pub fn prometheus(cfg: &StaticConfiguration) -> Option<&PrometheusConfig> {
    cfg.metrics.as_ref().and_then(|m| m.prometheus.as_ref())
}

/// The registry: on when Prometheus or the API (whose dashboard shows request counts) is.
pub fn metrics(cfg: &StaticConfiguration, entrypoints: &[String]) -> Option<Arc<Metrics>> {
    let add_internals = cfg.metrics.as_ref().is_some_and(|m| m.add_internals);
    let config = match prometheus(cfg) {
        Some(p) => MetricsConfig::from_static(p, add_internals),
        None if cfg.api.is_some() => MetricsConfig::default(),
        None => return None,
    };
    Some(Arc::new(Metrics::new(config, entrypoints)))
}

/// The access logger, when `accessLog` is set and its output opens.
pub fn access_log(
    cfg: &StaticConfiguration,
    metrics: Option<Arc<Metrics>>,
) -> Option<AccessLogger> {
    let c = cfg.access_log.as_ref()?;
    let (settings, warnings) = AccessSettings::from_static(c);
    for w in warnings {
        tracing::warn!("{w}");
    }
    // As Traefik: an access log that cannot be opened is reported and weir serves without
    // it, rather than not serving at all.
    match AccessLogger::start(settings, metrics) {
        Ok(logger) => Some(logger),
        Err(e) => {
            tracing::error!(
                "accessLog.filePath {:?}: cannot open it ({e}); serving without an access log",
                c.file_path
            );
            None
        }
    }
}

/// The observer the entrypoints share, when anything is observed; `entrypoints` in table
/// order.
pub fn observer(
    metrics: Option<Arc<Metrics>>,
    access: Option<AccessLogger>,
    entrypoints: &[EntrypointInfo],
) -> Option<Arc<Observer>> {
    (metrics.is_some() || access.is_some()).then(|| {
        let switches = entrypoints
            .iter()
            .map(|e| RouteObservability::of_entrypoint(e.observability.as_ref()))
            .collect();
        Arc::new(Observer::new(metrics, access).with_entrypoints(switches))
    })
}

/// Adds `prometheus@internal` (when metrics are on).
pub fn internal_services(
    metrics: Option<&Arc<Metrics>>,
    services: &mut BTreeMap<String, SharedHandler>,
) {
    if let Some(m) = metrics {
        services.insert(
            "prometheus@internal".into(),
            Arc::new(Prometheus::new(m.clone())),
        );
    }
}

/// Adds weir's own routers: `/metrics` on the Prometheus entrypoint unless
/// `manualRouting`, and with `api.insecure` the API and dashboard on `traefik`.
pub fn internal_routers(cfg: &StaticConfiguration, c: &mut Configuration) {
    // `api.insecure`: the API and dashboard on entrypoint `traefik`, as Traefik does.
    if let Some(api) = cfg.api.as_ref().filter(|a| a.insecure) {
        let ep = vec![weir_config::static_config::TRAEFIK_ENTRYPOINT.to_owned()];
        c.http.routers.insert(
            "api".into(),
            Router {
                entry_points: ep.clone(),
                rule: "PathPrefix(`/api`)".into(),
                priority: i64::MAX - 1,
                service: "api@internal".into(),
                ..Router::default()
            },
        );
        if api.dashboard {
            c.http.routers.insert(
                "dashboard".into(),
                Router {
                    entry_points: ep,
                    rule: "PathPrefix(`/`)".into(),
                    priority: i64::MAX - 2,
                    service: "dashboard@internal".into(),
                    ..Router::default()
                },
            );
        }
    }
    if let Some(p) = prometheus(cfg).filter(|p| !p.manual_routing) {
        c.http.routers.insert(
            "prometheus".into(),
            Router {
                entry_points: vec![p.entry_point.clone()],
                rule: "PathPrefix(`/metrics`)".into(),
                priority: i64::MAX,
                service: "prometheus@internal".into(),
                ..Router::default()
            },
        );
    }
}

/// Adds `api@internal` and `dashboard@internal` (the same handler) when `api` is set.
pub fn api_services(
    cfg: &StaticConfiguration,
    state: Arc<weir_api::ApiState>,
    services: &mut BTreeMap<String, SharedHandler>,
) {
    let Some(api) = &cfg.api else { return };
    let handler: SharedHandler = Arc::new(weir_api::Api::new(state, api.dashboard));
    services.insert("api@internal".into(), handler.clone());
    services.insert("dashboard@internal".into(), handler);
}

/// Feeds `service_server_up` from the health-checked load balancers of the latest report
/// (as Traefik, whose health checker sets the gauge: a service without a health check has
/// none).
pub fn server_source(metrics: &Metrics, report: Arc<ArcSwap<Report>>) {
    metrics.set_server_source(Box::new(move || {
        let report = report.load();
        let mut out = Vec::new();
        for (name, lb) in report
            .balancers
            .iter()
            .filter(|(_, lb)| lb.health_checked())
        {
            for (target, up) in lb.server_status() {
                out.push((name.clone(), target.url().to_string(), up));
            }
        }
        out
    }));
}

/// `tls_certs_not_after` of every certificate that loaded, with Traefik's labels (decimal
/// serial, comma-separated SANs).
pub fn cert_expiries(report: &Report) -> Vec<weir_observe::CertExpiry> {
    report
        .certificates
        .iter()
        .filter_map(|c| c.info.as_ref())
        .map(|i| weir_observe::CertExpiry {
            cn: i.common_name.clone(),
            serial: weir_observe::tls_labels::serial_decimal(&i.serial),
            sans: i.sans.join(","),
            not_after: i.not_after,
        })
        .collect()
}

/// Reopens the access log file on SIGUSR1 (what logrotate's `postrotate` sends). The
/// signal is listened for without an access log too, so it never ends weir (its default
/// action), as Traefik always handles it.
pub fn reopen_on_sigusr1(observer: Option<Arc<Observer>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut usr1 = match signal(SignalKind::user_defined1()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot listen for SIGUSR1; access log reopening is off: {e}");
                return;
            }
        };
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                match observer.as_ref().and_then(|o| o.access_log()) {
                    Some(log) => {
                        tracing::info!("SIGUSR1: reopening the access log");
                        log.reopen();
                    }
                    None => tracing::debug!("SIGUSR1: no access log to reopen"),
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = observer;
}
