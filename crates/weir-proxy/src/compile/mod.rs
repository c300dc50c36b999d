//! Compile: turn the dynamic configuration of every provider into a [`RoutingTable`] and a
//! [`Report`]. Rules are parsed and indexed, services instantiated once and shared by the
//! routers that use them. An element with an error is disabled and reported; nothing else
//! is.

mod middlewares;
mod models;
mod names;
mod report;
mod services;
mod tls;
mod transport;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use weir_config::dynamic::{Configuration, Router, RouterTlsConfig};
use weir_rules::{RouteSetBuilder, Rule};

use crate::handler::SharedHandler;
use crate::middleware::compose;
use crate::service::HealthRegistry;
use crate::table::{EntrypointRoutes, Route, RoutingTable};
use crate::upstream::{TransportRegistry, TransportSettings};

pub use names::{provider_of, qualify, resolve};
pub use report::{ElementReport, Report, RouterReport, Status};
pub use transport::transport_settings;

/// Priorities above this are reserved for weir's internal routers (as in Traefik).
pub const MAX_USER_PRIORITY: i64 = i64::MAX - 1000;

/// An entrypoint as the compiler sees it.
#[derive(Debug, Clone, Default)]
pub struct EntrypointInfo {
    /// Its name.
    pub name: String,
    /// `asDefault`: routers without `entryPoints` attach to the default entrypoints.
    pub as_default: bool,
    /// `http.tls`: TLS for every router on this entrypoint that has no `tls` of its own.
    pub tls: Option<RouterTlsConfig>,
    /// `http.middlewares`: put in front of the middlewares of every router on it.
    pub middlewares: Vec<String>,
    /// `observability`, when written: the default of its routers' switches.
    pub observability: Option<weir_config::static_config::ObservabilityConfig>,
}

impl EntrypointInfo {
    /// Whether its routers are copied for it, as Traefik does for an entrypoint with
    /// default middlewares, TLS or observability (its "model").
    pub fn has_model(&self) -> bool {
        !self.middlewares.is_empty() || self.tls.is_some() || self.observability.is_some()
    }
}

/// Everything a compilation reads.
pub struct Inputs<'a> {
    /// Entrypoints in static-configuration order (their index is their table slot).
    pub entrypoints: &'a [EntrypointInfo],
    /// Each provider's configuration, by provider name (`file`, `internal`, ...).
    pub providers: &'a [(String, Arc<Configuration>)],
    /// Internal services (`whoami@internal`, `ping@internal`, ...).
    pub internal: &'a BTreeMap<String, SharedHandler>,
    /// Upstream clients that outlive reloads.
    pub transports: &'a TransportRegistry,
    /// Server health that outlives reloads.
    pub health: &'a HealthRegistry,
    /// Certificate store and TLS session state that outlive reloads.
    pub tls: &'a crate::tls::TlsRegistry,
    /// The static `serversTransport`, for services that name none.
    pub default_transport: &'a TransportSettings,
    /// The table's generation number.
    pub generation: u64,
    /// The metrics registry routes record into, when metrics are on.
    pub metrics: Option<&'a weir_observe::Metrics>,
    /// The table being replaced, whose middleware states (rate limits, in-flight counts)
    /// carry over where the middleware did not change; `None` on the first compilation.
    pub previous: Option<&'a RoutingTable>,
}

/// A compiled configuration.
pub struct Compiled {
    /// The table to install.
    pub table: RoutingTable,
    /// What was found.
    pub report: Report,
}

/// Compiles `inputs`. Never fails: problems are recorded in the report and the elements
/// concerned are left out of the table.
pub fn compile(inputs: &Inputs<'_>) -> Compiled {
    let mut report = Report::default();
    let mut services = services::ServiceBuilder::new(inputs);
    let mut middlewares = middlewares::MiddlewareBuilder::new(inputs);
    let defaults = default_entrypoints(inputs.entrypoints);
    let mut builders: Vec<RouteSetBuilder<Arc<Route>>> = inputs
        .entrypoints
        .iter()
        .map(|_| RouteSetBuilder::new())
        .collect();
    let mut tls_builders: Vec<RouteSetBuilder<Arc<Route>>> = inputs
        .entrypoints
        .iter()
        .map(|_| RouteSetBuilder::new())
        .collect();
    let mut tls_compiled = crate::tls::compile_tls(inputs.providers, inputs.tls);
    let mut tls_hosts: tls::HostOptions =
        inputs.entrypoints.iter().map(|_| BTreeMap::new()).collect();

    for (provider, config) in inputs.providers {
        let expanded =
            config.http.routers.iter().flat_map(|(name, router)| {
                models::expand(name, router, inputs.entrypoints, &defaults)
            });
        for models::Expanded {
            name,
            router: expanded_router,
        } in expanded
        {
            let router = expanded_router.as_ref();
            let qualified = qualify(&name, provider);
            let compiled = compile_router(
                router,
                &qualified,
                provider,
                &defaults,
                inputs,
                &tls_compiled,
                &mut services,
                &mut middlewares,
            );
            let mut entry = RouterReport {
                entry_points: compiled
                    .entrypoints
                    .iter()
                    .map(|&i| inputs.entrypoints[i].name.clone())
                    .collect(),
                rule: router.rule.clone(),
                priority: compiled.priority,
                service: resolve(&router.service, provider),
                middlewares: router
                    .middlewares
                    .iter()
                    .map(|m| resolve(m, provider))
                    .collect(),
                tls: compiled.tls.iter().any(Option::is_some),
                status: Status::Enabled,
                errors: compiled.warnings,
                provider: provider.clone(),
                applied: None,
                observability: weir_observe::RouteObservability::of_router(
                    router.observability.as_ref(),
                ),
                tracing: router
                    .observability
                    .as_ref()
                    .and_then(|o| o.tracing)
                    .unwrap_or(true),
            };
            if !entry.errors.is_empty() {
                entry.status = Status::Warning;
            }
            match compiled.result {
                Ok((rule, handler)) => {
                    let internal = provider == "internal";
                    let observability = entry.observability;
                    let metrics = match inputs.metrics {
                        Some(m) => {
                            m.route_handles(&qualified, &entry.service, internal, observability)
                        }
                        None => Arc::new(weir_observe::RouteHandles {
                            internal,
                            skip_access_log: !observability.access_log,
                            ..Default::default()
                        }),
                    };
                    let route = Arc::new(Route {
                        name: Arc::from(qualified.as_str()),
                        handler,
                        metrics,
                    });
                    for (&ep, opt) in compiled.entrypoints.iter().zip(&compiled.tls) {
                        let Some(opt) = opt else {
                            builders[ep].add(
                                rule.clone(),
                                compiled.priority,
                                &qualified,
                                route.clone(),
                            );
                            continue;
                        };
                        for host in rule.hosts() {
                            tls_hosts[ep]
                                .entry(host)
                                .or_default()
                                .push((opt.clone(), qualified.clone()));
                        }
                        tls_builders[ep].add(
                            rule.clone(),
                            compiled.priority,
                            &qualified,
                            route.clone(),
                        );
                    }
                }
                Err(errors) => {
                    entry.status = Status::Disabled;
                    entry.errors.extend(errors);
                }
            }
            // The API shows a router as it is after its entrypoint's defaults.
            if let Cow::Owned(r) = expanded_router {
                entry.applied = Some(r);
            }
            report.routers.insert(qualified, entry);
        }
    }
    let middleware_state = middlewares.finish(&mut report, &mut services);
    services.finish(&mut report);
    let ep_tls = tls::entrypoint_tls(tls_hosts, &mut tls_compiled, &mut report);
    report.tls_options = tls_compiled.option_reports;
    report.certificates = tls_compiled.certificates;
    let table = RoutingTable::new(
        builders
            .into_iter()
            .zip(tls_builders)
            .zip(ep_tls)
            .map(|((b, t), tls)| EntrypointRoutes {
                routes: b.build(),
                tls_routes: t.build(),
                tls,
            })
            .collect(),
        inputs.generation,
    )
    .with_middleware_state(middleware_state);
    Compiled { table, report }
}

/// Indexes of the default entrypoints: those marked `asDefault`, else every entrypoint but
/// `traefik` (which only carries weir's own endpoints unless a router names it).
fn default_entrypoints(eps: &[EntrypointInfo]) -> Vec<usize> {
    let marked: Vec<usize> = eps
        .iter()
        .enumerate()
        .filter(|(_, e)| e.as_default)
        .map(|(i, _)| i)
        .collect();
    if !marked.is_empty() {
        return marked;
    }
    eps.iter()
        .enumerate()
        .filter(|(_, e)| e.name != "traefik")
        .map(|(i, _)| i)
        .collect()
}

struct CompiledRouter {
    entrypoints: Vec<usize>,
    /// Per entrypoint (same order): the TLS option set, or `None` for plain HTTP.
    tls: Vec<Option<String>>,
    priority: i64,
    warnings: Vec<String>,
    result: Result<(Rule, SharedHandler), Vec<String>>,
}

// Each argument is a separate piece of compile state; bundling them would only hide that.
#[allow(clippy::too_many_arguments)]
fn compile_router(
    router: &Router,
    qualified: &str,
    provider: &str,
    defaults: &[usize],
    inputs: &Inputs<'_>,
    tls_compiled: &crate::tls::TlsCompiled,
    services: &mut services::ServiceBuilder<'_>,
    middlewares: &mut middlewares::MiddlewareBuilder<'_>,
) -> CompiledRouter {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    let rule = match Rule::parse(&router.rule) {
        Ok(rule) => Some(rule),
        Err(e) => {
            errors.push(format!("invalid rule {:?}: {e}", router.rule));
            None
        }
    };
    let priority = match (&rule, router.priority) {
        (Some(rule), 0) => rule.default_priority(),
        (_, p) => p,
    };
    if priority > MAX_USER_PRIORITY && provider != "internal" {
        errors.push(format!(
            "priority {priority} is above the maximum {MAX_USER_PRIORITY}"
        ));
    }

    let mut entrypoints = BTreeSet::new();
    if router.entry_points.is_empty() {
        entrypoints.extend(defaults.iter().copied());
    } else {
        for name in &router.entry_points {
            match inputs.entrypoints.iter().position(|e| &e.name == name) {
                Some(i) => {
                    entrypoints.insert(i);
                }
                None => warnings.push(format!("entryPoint {name:?} doesn't exist")),
            }
        }
    }
    if entrypoints.is_empty() {
        errors.push("no valid entryPoint for this router".to_owned());
    }

    let entrypoints: Vec<usize> = entrypoints.into_iter().collect();
    let tls = tls::router_options(
        router,
        provider,
        &entrypoints,
        inputs,
        tls_compiled,
        &mut errors,
    );
    let mut chain = Vec::with_capacity(router.middlewares.len());
    for m in &router.middlewares {
        let name = resolve(m, provider);
        match middlewares.get(&name, qualified, services) {
            Ok(spec) => chain.push(spec),
            Err(e) => errors.push(format!("middleware {name:?}: {e}")),
        }
    }

    let service_name = resolve(&router.service, provider);
    let handler = if router.service.is_empty() {
        errors.push("no service set".to_owned());
        None
    } else {
        match services.get(&service_name, qualified) {
            Ok(h) => Some(h),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };

    let result = match (rule, handler) {
        (Some(rule), Some(handler)) if errors.is_empty() => {
            Ok((rule, compose(&chain, handler, qualified)))
        }
        _ => Err(errors),
    };
    CompiledRouter {
        entrypoints,
        tls,
        priority,
        warnings,
        result,
    }
}
