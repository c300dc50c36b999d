//! `chain`, and how a router's middlewares are put in front of its service.

use std::sync::Arc;

use super::{Layer, SharedMiddleware};
use crate::handler::SharedHandler;

/// Makes a middleware instance for a router.
pub type PerRouter = Arc<dyn Fn(&str) -> SharedMiddleware + Send + Sync>;

/// A built middleware as the compiler keeps it, ready to be put in front of handlers.
#[derive(Clone)]
pub enum Spec {
    /// One instance shared by every router that uses it (no state of its own).
    Shared(SharedMiddleware),
    /// One instance per router, given the router's qualified name: middlewares with state
    /// (rate limits, circuit breakers) keep it per router, as Traefik does.
    PerRouter(PerRouter),
    /// `chain`: its middlewares in order.
    Chain(Vec<Spec>),
}

impl Spec {
    /// `self` in front of `next`, for `router`.
    pub fn wrap(&self, next: SharedHandler, router: &str) -> SharedHandler {
        match self {
            Spec::Shared(m) => Arc::new(Layer::new(m.clone(), next)),
            Spec::PerRouter(make) => Arc::new(Layer::new(make(router), next)),
            Spec::Chain(items) => compose(items, next, router),
        }
    }
}

/// Puts `specs` in front of `service` so that the first one sees requests first, as a
/// router's `middlewares: [a, b]` says.
pub fn compose(specs: &[Spec], service: SharedHandler, router: &str) -> SharedHandler {
    specs
        .iter()
        .rev()
        .fold(service, |next, spec| spec.wrap(next, router))
}
