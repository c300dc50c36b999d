//! The reload loop: provider snapshots in, compiled routing tables out. Compilation runs on
//! a blocking thread, off the request path; the result replaces the table with one atomic
//! store, so requests in flight finish on the table they started with.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;
use weir_config::dynamic::Configuration;
use weir_proxy::compile::{self, EntrypointInfo, Inputs, Report};
use weir_proxy::handler::SharedHandler;
use weir_proxy::service::HealthRegistry;
use weir_proxy::table::SharedTable;
use weir_proxy::tls::TlsRegistry;
use weir_proxy::upstream::{TransportRegistry, TransportSettings};

/// A provider's new configuration.
#[derive(Debug)]
pub struct Update {
    /// The provider's name (`file`, `internal`, ...).
    pub provider: String,
    /// Its whole configuration; replaces the previous one.
    pub config: Arc<Configuration>,
    /// False while some of the provider's sources cannot be read (a Kubernetes kind whose
    /// list or watch fails): the configuration, made with what those sources held last, is
    /// applied, but no reload counts as a success until the provider is complete again.
    pub complete: bool,
}

/// What does not change between compilations.
pub struct CompileEnv {
    /// Entrypoints in table order.
    pub entrypoints: Vec<EntrypointInfo>,
    /// `name@internal` services.
    pub internal: BTreeMap<String, SharedHandler>,
    /// Upstream clients, kept across reloads.
    pub transports: TransportRegistry,
    /// Server health, kept across reloads.
    pub health: HealthRegistry,
    /// From the static `serversTransport`.
    pub default_transport: TransportSettings,
    /// The metrics registry, when on.
    pub metrics: Option<Arc<weir_observe::Metrics>>,
    /// Certificate store and TLS sessions, kept across reloads.
    pub tls: TlsRegistry,
}

/// Holds the latest configuration of every provider and installs compiled tables.
pub struct Reloader {
    env: Arc<CompileEnv>,
    providers: BTreeMap<String, Arc<Configuration>>,
    /// The providers whose latest configuration is not complete ([`Update::complete`]).
    incomplete: BTreeSet<String>,
    generation: u64,
    table: SharedTable,
    report: Arc<ArcSwap<Report>>,
    published: Option<Arc<ArcSwap<weir_api::Providers>>>,
}

impl Reloader {
    /// A reloader installing tables into `table`.
    pub fn new(env: CompileEnv, table: SharedTable) -> Self {
        Self {
            env: Arc::new(env),
            providers: BTreeMap::new(),
            incomplete: BTreeSet::new(),
            generation: 0,
            table,
            report: Arc::new(ArcSwap::from_pointee(Report::default())),
            published: None,
        }
    }

    /// The latest report, updated at each compilation.
    pub fn report_handle(&self) -> Arc<ArcSwap<Report>> {
        self.report.clone()
    }

    /// Publishes each report into `report` and the providers' configurations into
    /// `providers` (what the API reads).
    pub fn publish_into(
        &mut self,
        report: Arc<ArcSwap<Report>>,
        providers: Arc<ArcSwap<weir_api::Providers>>,
    ) {
        self.report = report;
        self.published = Some(providers);
    }

    /// Records a provider's configuration without compiling.
    pub fn set(&mut self, update: Update) {
        if update.complete {
            self.incomplete.remove(&update.provider);
        } else {
            self.incomplete.insert(update.provider.clone());
        }
        self.providers.insert(update.provider, update.config);
    }

    /// Compiles the current configurations on a blocking thread and installs the result.
    pub async fn apply(&mut self) -> Arc<Report> {
        self.generation += 1;
        let env = self.env.clone();
        let providers: Vec<(String, Arc<Configuration>)> = self
            .providers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let generation = self.generation;
        let for_api = self.published.as_ref().map(|_| providers.clone());
        let previous = self.table.load_full();
        let compiled = tokio::task::spawn_blocking(move || {
            compile::compile(&Inputs {
                entrypoints: &env.entrypoints,
                providers: &providers,
                internal: &env.internal,
                transports: &env.transports,
                health: &env.health,
                tls: &env.tls,
                default_transport: &env.default_transport,
                generation,
                metrics: env.metrics.as_deref(),
                previous: Some(&previous),
            })
        })
        .await;
        let compiled = match compiled {
            Ok(c) => c,
            Err(e) => {
                // A panic while compiling is a bug; keep serving the previous table.
                tracing::error!(error = %e, "compiling the configuration failed; keeping the previous one");
                if let Some(m) = &self.env.metrics {
                    m.config_reload_failed();
                }
                return self.report.load_full();
            }
        };
        self.table.store(Arc::new(compiled.table));
        if let (Some(p), Some(v)) = (&self.published, for_api) {
            p.store(Arc::new(v));
        }
        let report = Arc::new(compiled.report);
        self.report.store(report.clone());
        if let Some(m) = &self.env.metrics {
            m.retain(
                |r| report.routers.contains_key(r),
                |s| report.services.contains_key(s),
            );
            m.set_certificates(crate::observe::cert_expiries(&report));
            // Applied, but not a success while a provider misses sources: the reload alert
            // stays on until they are read again.
            if self.incomplete.is_empty() {
                m.config_reloaded();
            }
        }
        log_report(&report, generation);
        report
    }

    /// Applies updates as they arrive until the channel closes, at most one compilation per
    /// `throttle` (Traefik's `providersThrottleDuration`); updates that arrive meanwhile are
    /// merged, and only the latest configuration of each provider is compiled.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Update>, throttle: Duration) {
        while let Some(update) = rx.recv().await {
            self.set(update);
            while let Ok(more) = rx.try_recv() {
                self.set(more);
            }
            self.apply().await;
            if !throttle.is_zero() {
                tokio::time::sleep(throttle).await;
            }
        }
    }
}

fn log_report(report: &Report, generation: u64) {
    let problems = report.problems();
    let routers = report.routers.len();
    let disabled = report
        .routers
        .values()
        .filter(|r| r.status == compile::Status::Disabled)
        .count();
    tracing::info!(generation, routers, disabled, "configuration applied");
    for p in problems {
        tracing::error!("{p}");
    }
}
