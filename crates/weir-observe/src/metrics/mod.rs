//! The metrics registry: Traefik's Prometheus families under a configurable prefix.

mod encode;
mod process;
mod series;
mod sets;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use weir_config::dynamic::RouterObservabilityConfig;
use weir_config::static_config::{ObservabilityConfig, Prometheus};

pub use series::{HeaderValues, SLOTS, SeriesSet, SeriesSnapshot, VALUE_SEPARATOR};

use crate::labels::escape;

/// What to record and how to name it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// Name prefix (`weir`; `traefik` gives Traefik's exact names).
    pub prefix: String,
    /// Histogram upper bounds in seconds, ascending.
    pub buckets: Vec<f64>,
    /// Export entrypoint families (`addEntryPointsLabels`).
    pub entrypoints: bool,
    /// Export router families (`addRoutersLabels`).
    pub routers: bool,
    /// Export service families (`addServicesLabels`).
    pub services: bool,
    /// Count requests to internal routers (`metrics.addInternals`).
    pub add_internals: bool,
    /// Extra `*_requests_total` labels: (label name, request header), sorted by label.
    pub header_labels: Vec<(String, String)>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self::from_static(&Prometheus::default(), false)
    }
}

impl MetricsConfig {
    /// A series set with these buckets and header labels.
    fn series(&self, labels: String) -> SeriesSet {
        SeriesSet::new(labels, &self.buckets).with_header_labels(!self.header_labels.is_empty())
    }

    /// From `metrics.prometheus` and `metrics.addInternals`. Buckets are sorted, and
    /// non-finite ones dropped; an empty list gets Traefik's defaults.
    pub fn from_static(p: &Prometheus, add_internals: bool) -> Self {
        let mut buckets: Vec<f64> = p
            .buckets
            .iter()
            .copied()
            .filter(|b| b.is_finite())
            .collect();
        buckets.sort_by(f64::total_cmp);
        buckets.dedup();
        if buckets.is_empty() {
            buckets = vec![0.1, 0.3, 1.2, 5.0];
        }
        let prefix = if p.prefix.trim().is_empty() {
            "weir".to_owned()
        } else {
            p.prefix.trim().to_owned()
        };
        MetricsConfig {
            prefix,
            buckets,
            entrypoints: p.add_entry_points_labels,
            routers: p.add_routers_labels,
            services: p.add_services_labels,
            add_internals,
            header_labels: p
                .header_labels
                .iter()
                .filter(|(label, header)| valid_label_name(label) && !header.trim().is_empty())
                .map(|(label, header)| (label.clone(), header.trim().to_owned()))
                .collect(),
        }
    }
}

/// Whether `name` can be a Prometheus label name that does not clash with the fixed ones.
fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
        && ![
            "code",
            "method",
            "protocol",
            "entrypoint",
            "router",
            "service",
        ]
        .contains(&name)
}

/// One certificate's `tls_certs_not_after` gauge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertExpiry {
    /// Subject common name.
    pub cn: String,
    /// Serial number, decimal.
    pub serial: String,
    /// Subject alternative names, comma-separated.
    pub sans: String,
    /// Not valid after, Unix seconds.
    pub not_after: i64,
}

/// The metric handles a compiled route carries, resolved once per configuration so a
/// request records with a few atomic additions.
#[derive(Debug, Clone, Default)]
pub struct RouteHandles {
    /// The router's series (`router`, `service` labels).
    pub router: Option<Arc<SeriesSet>>,
    /// The router's service's series: its retries (`service_retries_total`), and whether
    /// the request counts in the series of the service that answers it (off for weir's own
    /// routers without `addInternals` and with `observability.metrics: false`).
    pub service: Option<Arc<SeriesSet>>,
    /// The router is one of weir's own (ping, API, metrics): not recorded or logged
    /// unless `addInternals`.
    pub internal: bool,
    /// The router's `observability.accessLogs: false`: its requests are not logged.
    pub skip_access_log: bool,
}

impl RouteHandles {
    /// Whether the route's requests are counted at all, on the entrypoint too (Traefik
    /// measures the entrypoint inside each router's chain): not for weir's own routers
    /// without `addInternals`, nor with `observability.metrics: false`, the routes that
    /// get no series.
    pub fn counted(&self) -> bool {
        self.service.is_some()
    }
}

/// A service that forwards to servers (a `loadBalancer`): its qualified name and the
/// series its requests count in. As Traefik counts a service's requests around its
/// servers, a request counts in the service whose server answered it (the load balancer
/// under a weighted or failover service), and not at all when a middleware answered.
#[derive(Debug)]
pub struct ServiceHandle {
    /// The qualified service name (the access log's `ServiceName`).
    pub name: Arc<str>,
    /// Its series; `None` when metrics are off.
    pub series: Option<Arc<SeriesSet>>,
}

impl ServiceHandle {
    /// A handle that records nothing (metrics off).
    pub fn unrecorded(name: &str) -> Arc<ServiceHandle> {
        Arc::new(ServiceHandle {
            name: Arc::from(name),
            series: None,
        })
    }
}

/// A router's or an entrypoint's `observability` switches (Traefik's
/// `observability.metrics` and `.accessLogs`, both on unless set to false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteObservability {
    /// Record router and service metrics.
    pub metrics: bool,
    /// Write access-log lines.
    pub access_log: bool,
}

impl Default for RouteObservability {
    fn default() -> Self {
        RouteObservability {
            metrics: true,
            access_log: true,
        }
    }
}

impl RouteObservability {
    /// A router's switches from its `observability` (its entrypoint's defaults applied):
    /// each on unless set to false.
    pub fn of_router(o: Option<&RouterObservabilityConfig>) -> Self {
        RouteObservability {
            metrics: o.and_then(|o| o.metrics).unwrap_or(true),
            access_log: o.and_then(|o| o.access_logs).unwrap_or(true),
        }
    }

    /// An entrypoint's switches from its `observability`, for the requests no router took
    /// (all on when it has none).
    pub fn of_entrypoint(o: Option<&ObservabilityConfig>) -> Self {
        o.map_or_else(Self::default, |o| RouteObservability {
            metrics: o.metrics,
            access_log: o.access_logs,
        })
    }
}

/// One entrypoint's series and open connection gauge.
#[derive(Debug)]
pub struct EntrypointMetrics {
    name: String,
    series: Arc<SeriesSet>,
    open: AtomicI64,
}

impl EntrypointMetrics {
    /// Its series.
    pub fn series(&self) -> &Arc<SeriesSet> {
        &self.series
    }

    /// One more open connection.
    pub fn connection_opened(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    /// One fewer open connection.
    pub fn connection_closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `(service, server URL, up)` triples, asked for at each scrape.
pub type ServerSource = Box<dyn Fn() -> Vec<(String, String, bool)> + Send + Sync>;

/// The registry.
pub struct Metrics {
    config: MetricsConfig,
    entrypoints: Vec<EntrypointMetrics>,
    routers: sets::Sets,
    services: sets::Sets,
    reloads: AtomicU64,
    last_reload_success: AtomicU64,
    reload_failures: AtomicU64,
    last_reload_failure: AtomicU64,
    log_dropped: AtomicU64,
    servers: Mutex<Option<ServerSource>>,
    certificates: Mutex<Vec<CertExpiry>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry for the entrypoints named in table order.
    pub fn new(config: MetricsConfig, entrypoints: &[String]) -> Self {
        let entrypoints = entrypoints
            .iter()
            .map(|name| EntrypointMetrics {
                name: name.clone(),
                series: Arc::new(config.series(label("entrypoint", name))),
                open: AtomicI64::new(0),
            })
            .collect();
        Metrics {
            config,
            entrypoints,
            routers: sets::Sets::default(),
            services: sets::Sets::default(),
            reloads: AtomicU64::new(0),
            last_reload_success: AtomicU64::new(0),
            reload_failures: AtomicU64::new(0),
            last_reload_failure: AtomicU64::new(0),
            log_dropped: AtomicU64::new(0),
            servers: Mutex::new(None),
            certificates: Mutex::new(Vec::new()),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// Entrypoint `index` (table order).
    pub fn entrypoint(&self, index: usize) -> Option<&EntrypointMetrics> {
        self.entrypoints.get(index)
    }

    /// Handles for router `router` (qualified) using service `service`; `internal` for
    /// weir's own routers. Called when a configuration is compiled; the series of a router
    /// that keeps its name and service continue counting across reloads.
    pub fn route_handles(
        &self,
        router: &str,
        service: &str,
        internal: bool,
        observability: RouteObservability,
    ) -> Arc<RouteHandles> {
        let mut handles = RouteHandles {
            internal,
            skip_access_log: !observability.access_log,
            ..RouteHandles::default()
        };
        if !observability.metrics || (internal && !self.config.add_internals) {
            return Arc::new(handles);
        }
        let router_labels = format!("{},{}", label("router", router), label("service", service));
        handles.router = Some(self.routers.get(router, &router_labels, || {
            self.config.series(router_labels.clone())
        }));
        handles.service = Some(self.service_set(service));
        Arc::new(handles)
    }

    /// The handle of service `service` (qualified), whose series continue counting
    /// across reloads. Called when a configuration is compiled.
    pub fn service_handle(&self, service: &str) -> Arc<ServiceHandle> {
        Arc::new(ServiceHandle {
            name: Arc::from(service),
            series: Some(self.service_set(service)),
        })
    }

    fn service_set(&self, service: &str) -> Arc<SeriesSet> {
        let labels = label("service", service);
        self.services
            .get(service, &labels, || self.config.series(labels.clone()))
    }

    /// Retires the routers and services a new configuration no longer has: their series
    /// are scraped once more, then leave the output (bounded cardinality).
    pub fn retain(&self, router: impl Fn(&str) -> bool, service: impl Fn(&str) -> bool) {
        self.routers.retain(router);
        self.services.retain(service);
    }

    /// Counts a configuration reload and stamps the last-success gauge.
    pub fn config_reloaded(&self) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
        self.last_reload_success
            .store(unix_now(), Ordering::Relaxed);
    }

    /// Counts a configuration that failed to load (a provider's file that does not parse,
    /// a compilation that failed) and stamps the last-failure gauge.
    pub fn config_reload_failed(&self) {
        self.reload_failures.fetch_add(1, Ordering::Relaxed);
        self.last_reload_failure
            .store(unix_now(), Ordering::Relaxed);
    }

    /// Replaces the certificates `tls_certs_not_after` reports (at each reload).
    pub fn set_certificates(&self, mut certificates: Vec<CertExpiry>) {
        certificates.sort_by(|a, b| (&a.cn, &a.serial).cmp(&(&b.cn, &b.serial)));
        certificates.dedup();
        *lock(&self.certificates) = certificates;
    }

    /// Counts access-log lines that never reached the output: dropped while the writer was
    /// behind, or lost to a write that failed (a full disk).
    pub fn log_lines_lost(&self, lines: u64) {
        self.log_dropped.fetch_add(lines, Ordering::Relaxed);
    }

    /// Access-log lines dropped so far.
    pub fn log_lines_dropped(&self) -> u64 {
        self.log_dropped.load(Ordering::Relaxed)
    }

    /// Sets where `service_server_up` comes from.
    pub fn set_server_source(&self, source: ServerSource) {
        *lock(&self.servers) = Some(source);
    }

    /// Per-entrypoint series snapshots, by entrypoint name (for the dashboard).
    pub fn entrypoint_snapshots(&self) -> Vec<(String, Vec<SeriesSnapshot>)> {
        self.entrypoints
            .iter()
            .map(|e| (e.name.clone(), e.series.snapshot()))
            .collect()
    }

    /// Per-router series snapshots, by router name (for the dashboard).
    pub fn router_snapshots(&self) -> Vec<(String, Vec<SeriesSnapshot>)> {
        snapshots(&self.routers)
    }

    /// Per-service series snapshots, by service name (for the dashboard).
    pub fn service_snapshots(&self) -> Vec<(String, Vec<SeriesSnapshot>)> {
        snapshots(&self.services)
    }

    /// The text exposition of every family.
    pub fn encode(&self) -> String {
        encode::encode(self)
    }
}

fn snapshots(sets: &sets::Sets) -> Vec<(String, Vec<SeriesSnapshot>)> {
    sets.live()
        .into_iter()
        .map(|(k, v)| (k, v.snapshot()))
        .collect()
}

/// Milliseconds since the Unix epoch (the reload gauges print seconds with a fraction, as
/// Go's client does: two reloads in one second still compare).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `name="value"` with the value escaped.
fn label(name: &str, value: &str) -> String {
    let mut s = String::with_capacity(name.len() + value.len() + 3);
    s.push_str(name);
    s.push_str("=\"");
    escape(value, &mut s);
    s.push('"');
    s
}
