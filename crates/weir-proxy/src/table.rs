//! The immutable routing table: what one configuration compiles to. The data plane holds it
//! behind an `ArcSwap`; each request loads it once and keeps that version to the end.

use std::sync::Arc;

use weir_rules::RouteSet;

use crate::handler::SharedHandler;

/// A compiled router: its qualified name and the handler chain (middlewares, then service).
pub struct Route {
    /// Qualified router name, e.g. `whoami@file`.
    pub name: Arc<str>,
    /// Middlewares then service, built once for this table.
    pub handler: SharedHandler,
    /// Metric handles, resolved when the table was compiled.
    pub metrics: Arc<weir_observe::RouteHandles>,
}

/// The routes of one entrypoint.
pub struct EntrypointRoutes {
    /// Host-indexed routes for plain HTTP connections, in priority order.
    pub routes: RouteSet<Arc<Route>>,
    /// Routes for TLS connections (routers with a `tls` section).
    pub tls_routes: RouteSet<Arc<Route>>,
    /// How TLS connections are terminated (certificates and options by SNI); `None` refuses
    /// TLS.
    pub tls: Option<Arc<crate::tls::EntrypointTls>>,
}

/// Every entrypoint's routes, indexed like the static configuration's entrypoint list.
pub struct RoutingTable {
    entrypoints: Vec<EntrypointRoutes>,
    /// Increases with each compiled configuration; for logs and the API.
    pub generation: u64,
    /// Middleware states the next compilation takes over (see [`StateScope`]).
    ///
    /// [`StateScope`]: crate::middleware::StateScope
    middleware_state: Arc<crate::middleware::StateRegistry>,
}

impl RoutingTable {
    /// A table from per-entrypoint routes, in entrypoint index order.
    pub fn new(entrypoints: Vec<EntrypointRoutes>, generation: u64) -> Self {
        Self {
            entrypoints,
            generation,
            middleware_state: Arc::default(),
        }
    }

    /// `self` holding `state`, the middleware states its compilation used.
    pub fn with_middleware_state(mut self, state: Arc<crate::middleware::StateRegistry>) -> Self {
        self.middleware_state = state;
        self
    }

    /// The middleware states of this table.
    pub fn middleware_state(&self) -> &Arc<crate::middleware::StateRegistry> {
        &self.middleware_state
    }

    /// A table that routes nothing (every request gets 404) for `n` entrypoints.
    pub fn empty(n: usize) -> Self {
        let entrypoints = (0..n)
            .map(|_| EntrypointRoutes {
                routes: weir_rules::RouteSetBuilder::new().build(),
                tls_routes: weir_rules::RouteSetBuilder::new().build(),
                tls: None,
            })
            .collect();
        Self {
            entrypoints,
            generation: 0,
            middleware_state: Arc::default(),
        }
    }

    /// The routes of entrypoint `index`.
    pub fn entrypoint(&self, index: usize) -> Option<&EntrypointRoutes> {
        self.entrypoints.get(index)
    }
}

/// The swappable handle the entrypoints read from.
pub type SharedTable = Arc<arc_swap::ArcSwap<RoutingTable>>;
