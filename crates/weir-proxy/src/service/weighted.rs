//! `weighted` services: child services picked by weighted round robin.

use std::sync::Arc;

use http::{Request, Response, StatusCode};

use super::Availability;
use super::sticky::{Sticky, StickyCookie};
use super::wrr::Wrr;
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext, SharedHandler};
use crate::upstream::status_response;

/// One child of a [`Weighted`] service.
pub struct WeightedChild {
    /// The child's qualified service name (the sticky cookie value is derived from it).
    pub name: String,
    /// The child service.
    pub handler: SharedHandler,
    /// Its share of the traffic (Traefik: 1).
    pub weight: u32,
    /// When set (the child has health checks, or `healthCheck: {}` propagates them), the
    /// child is skipped while unavailable.
    pub health: Option<Arc<dyn Availability>>,
}

struct Child {
    handler: SharedHandler,
    health: Option<Arc<dyn Availability>>,
}

impl Child {
    fn is_up(&self) -> bool {
        self.health.as_ref().is_none_or(|h| h.is_available())
    }
}

/// A Traefik `weighted` service. All children unavailable (or all weights 0): 503.
pub struct Weighted {
    name: Arc<str>,
    children: Box<[Child]>,
    weights: Box<[u32]>,
    wrr: Wrr,
    sticky: Option<Sticky>,
}

impl std::fmt::Debug for Weighted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Weighted")
            .field("name", &self.name)
            .field("weights", &self.weights)
            .finish_non_exhaustive()
    }
}

impl Weighted {
    /// A weighted service named `name` over `children`, optionally sticky.
    pub fn new(name: &str, children: Vec<WeightedChild>, sticky: Option<StickyCookie>) -> Self {
        let weights: Box<[u32]> = children.iter().map(|c| c.weight).collect();
        let sticky =
            sticky.map(|cookie| Sticky::new(cookie, children.iter().map(|c| c.name.as_str())));
        Self {
            name: Arc::from(name),
            wrr: Wrr::new(&weights),
            weights,
            children: children
                .into_iter()
                .map(|c| Child {
                    handler: c.handler,
                    health: c.health,
                })
                .collect(),
            sticky,
        }
    }
}

impl Availability for Weighted {
    fn is_available(&self) -> bool {
        self.children
            .iter()
            .zip(self.weights.iter())
            .any(|(c, &w)| w > 0 && c.is_up())
    }
}

impl Handler for Weighted {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let pinned = self
                .sticky
                .as_ref()
                .and_then(|s| s.pinned(req.headers()))
                .filter(|&i| self.children[i].is_up());
            let (i, set_cookie) = match pinned {
                Some(i) => (i, false),
                None => match self.wrr.pick(|i| self.children[i].is_up()) {
                    Some(i) => (i, self.sticky.is_some()),
                    None => {
                        tracing::debug!(service = %self.name, "no available child service");
                        return status_response(StatusCode::SERVICE_UNAVAILABLE);
                    }
                },
            };
            let mut resp = self.children[i].handler.handle(req, cx).await;
            if set_cookie && let Some(sticky) = &self.sticky {
                sticky.set(resp.headers_mut(), i);
            }
            resp
        })
    }
}
