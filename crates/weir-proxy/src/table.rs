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
}

impl RoutingTable {
    /// A table from per-entrypoint routes, in entrypoint index order.
    pub fn new(entrypoints: Vec<EntrypointRoutes>, generation: u64) -> Self {
        Self {
            entrypoints,
            generation,
        }
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
        }
    }

    /// The routes of entrypoint `index`.
    pub fn entrypoint(&self, index: usize) -> Option<&EntrypointRoutes> {
        self.entrypoints.get(index)
    }
}

/// The swappable handle the entrypoints read from.
pub type SharedTable = Arc<arc_swap::ArcSwap<RoutingTable>>;
