//! `weir serve`: bind the entrypoints, load the providers, keep the routing table current,
//! and shut down gracefully on SIGTERM or SIGINT.

use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use http::StatusCode;
use tokio::sync::{mpsc, watch};
use weir_proxy::entrypoint::{self, Entrypoint, Shared};
use weir_proxy::internal::ShutdownState;
use weir_proxy::service::HealthRegistry;
use weir_proxy::table::RoutingTable;
use weir_proxy::tls::TlsRegistry;
use weir_proxy::upstream::TransportRegistry;

use crate::cli::ConfigArgs;
use crate::observe;
use crate::reload::{CompileEnv, Reloader, Update};
use crate::setup::{self, internal_config};
use crate::static_load::StaticSource;

/// Runs until a termination signal has been handled.
pub async fn serve(source: StaticSource, args: &ConfigArgs) -> anyhow::Result<()> {
    let cfg = &source.config;
    // Before any entrypoint accepts: a SIGTERM from then on (a pod stopped right after it
    // became ready) is a graceful stop, not the default action that exits at once.
    let mut stop = StopSignals::listen();
    for d in &source.diagnostics {
        tracing::warn!("{d}");
    }
    let entrypoints = setup::entrypoints(cfg)?;
    let shutdown = Arc::new(ShutdownState::default());
    let table = Arc::new(ArcSwap::from_pointee(RoutingTable::empty(
        entrypoints.len(),
    )));

    // Bind everything first: a busy port should fail the start, not a later reload.
    let mut bound = Vec::with_capacity(entrypoints.len());
    for ep in &entrypoints {
        let listener = entrypoint::bind(ep.address, ep.reuse_port)
            .with_context(|| format!("entrypoint {}: binding {}", ep.settings.name, ep.address))?;
        let local = listener.local_addr()?;
        tracing::info!(entrypoint = %ep.settings.name, address = %local, "listening");
        bound.push(Entrypoint::new(listener, ep.settings.clone()));
    }

    let terminating = StatusCode::from_u16(
        cfg.ping
            .as_ref()
            .and_then(|p| u16::try_from(p.terminating_status_code).ok())
            .unwrap_or(503),
    )
    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let names: Vec<String> = entrypoints.iter().map(|e| e.info.name.clone()).collect();
    let metrics = observe::metrics(cfg, &names);
    let access = observe::access_log(cfg, metrics.clone());
    let infos: Vec<_> = entrypoints.iter().map(|e| e.info.clone()).collect();
    let observer = observe::observer(metrics.clone(), access, &infos);
    observe::reopen_on_sigusr1(observer.clone());
    let mut internal = setup::internal_services(cfg, shutdown.clone(), terminating);
    observe::internal_services(metrics.as_ref(), &mut internal);
    let api_state = Arc::new(weir_api::ApiState {
        metrics: metrics.clone(),
        ..weir_api::ApiState::empty(Arc::new(cfg.clone()))
    });
    observe::api_services(cfg, api_state.clone(), &mut internal);
    let mut reloader = Reloader::new(
        CompileEnv {
            entrypoints: infos,
            internal,
            transports: TransportRegistry::new(),
            health: HealthRegistry::new(),
            default_transport: setup::default_transport(cfg),
            metrics: metrics.clone(),
            tls: TlsRegistry::new(),
        },
        table.clone(),
    );
    reloader.publish_into(api_state.report.clone(), api_state.providers.clone());
    if let Some(m) = &metrics {
        observe::server_source(m, reloader.report_handle());
    }
    reloader.set(Update {
        provider: "internal".into(),
        config: Arc::new(internal_config(cfg, source.embedded)),
        complete: true,
    });

    // The first configuration is in place before the first connection is accepted.
    let (tx, rx) = mpsc::channel::<Update>(16);
    if let Some(file) = setup::file_provider(cfg)? {
        match setup::file_update(file.load(), metrics.as_deref()) {
            Ok(update) => reloader.set(update),
            Err(e) => tracing::error!("file provider: {e}; starting without its configuration"),
        }
        if file.config().watch {
            setup::spawn_file_watch(file, tx.clone(), metrics.clone());
        }
    }
    let manifests = crate::manifests::load(args, cfg)?;
    if manifests.is_none() {
        setup::spawn_kubernetes(cfg, &tx, metrics.clone())?;
    }
    if let Some(m) = manifests {
        for d in &m.diagnostics {
            if d.is_error() {
                tracing::error!("{d}");
            } else {
                tracing::warn!("{d}");
            }
        }
        for (provider, config) in m.providers {
            reloader.set(Update {
                provider,
                config: Arc::new(config),
                complete: true,
            });
        }
    }
    reloader.apply().await;
    let throttle = cfg
        .providers
        .providers_throttle_duration
        .to_std()
        .unwrap_or_default();
    tokio::spawn(reloader.run(rx, throttle));

    let shared = Arc::new(Shared {
        table,
        hostname: setup::hostname(),
        shutdown: shutdown.clone(),
        observer,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for ep in bound {
        tasks.spawn(ep.run(shared.clone(), stop_rx.clone()));
    }

    stop.wait().await;
    tracing::info!("shutting down: /ping now answers {terminating}");
    shutdown.begin();
    let _ = stop_tx.send(true);
    drop(tx);
    while tasks.join_next().await.is_some() {}
    if let Some(log) = shared.observer.as_ref().and_then(|o| o.access_log()) {
        log.finish();
    }
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM and SIGINT, listened for from the start (a signal is kept until waited for).
struct StopSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn listen() -> StopSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &str| {
                signal(kind)
                    .map_err(|e| tracing::error!("cannot listen for {name}: {e}"))
                    .ok()
            };
            StopSignals {
                term: listen(SignalKind::terminate(), "SIGTERM"),
                int: listen(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    /// Waits for the first of them (for ever when neither could be listened for).
    async fn wait(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.term) => {}
                () = recv(&mut self.int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
