//! `loadBalancer` services: servers picked by weighted round robin.

use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};

use super::Availability;
use super::health::{HealthCheckConfig, HealthRegistry, ServerHealth};
use super::sticky::{Sticky, StickyCookie};
use super::wrr::Wrr;
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::{ServerTarget, UpstreamClient, status_response};

/// One server of a load balancer.
#[derive(Debug, Clone)]
pub struct Server {
    /// Where it is.
    pub target: ServerTarget,
    /// Its share of the traffic (Traefik: 1); 0 takes no new traffic.
    pub weight: u32,
}

#[derive(Debug)]
struct Slot {
    target: ServerTarget,
    /// `Host` sent when `passHostHeader` is false: the URL's authority.
    host: Option<HeaderValue>,
    health: Option<Arc<ServerHealth>>,
}

impl Slot {
    fn is_up(&self) -> bool {
        self.health.as_ref().is_none_or(|h| h.is_healthy())
    }
}

/// A Traefik `loadBalancer` service.
///
/// Picks a healthy server by smooth weighted round robin (or the one the sticky cookie
/// names), sets `Host` to the server's authority unless `passHostHeader`, and forwards
/// through the transport's [`UpstreamClient`]. No server available: 503
/// `Service Unavailable`; upstream failures: 502 / 504.
///
/// ```ignore
/// let lb = LoadBalancer::new("whoami@file", servers, client, true)
///     .with_sticky(StickyCookie::new(None, "whoami@file"))
///     .with_health_check(&health_registry, &HealthCheckConfig { path: "/health".into(), ..Default::default() });
/// ```
#[derive(Debug)]
pub struct LoadBalancer {
    slots: Box<[Slot]>,
    weights: Box<[u32]>,
    wrr: Wrr,
    client: Arc<UpstreamClient>,
    pass_host_header: bool,
    sticky: Option<Sticky>,
    /// Its name (the qualified service name) and where its requests are counted.
    observed: Arc<weir_observe::ServiceHandle>,
}

impl LoadBalancer {
    /// A balancer named `name` (the qualified service name, used for logs, the default
    /// cookie name and health state) over `servers`, forwarding through `client`.
    pub fn new(
        name: &str,
        servers: Vec<Server>,
        client: Arc<UpstreamClient>,
        pass_host_header: bool,
    ) -> Self {
        let weights: Box<[u32]> = servers.iter().map(|s| s.weight).collect();
        let slots = servers
            .into_iter()
            .map(|s| Slot {
                host: HeaderValue::from_str(s.target.authority().as_str()).ok(),
                target: s.target,
                health: None,
            })
            .collect();
        Self {
            wrr: Wrr::new(&weights),
            weights,
            slots,
            client,
            pass_host_header,
            sticky: None,
            observed: weir_observe::ServiceHandle::unrecorded(name),
        }
    }

    /// Counts its requests in `observed` (metrics on).
    pub fn with_observed(mut self, observed: Arc<weir_observe::ServiceHandle>) -> Self {
        self.observed = observed;
        self
    }

    /// Pins clients to servers with `cookie`.
    pub fn with_sticky(mut self, cookie: StickyCookie) -> Self {
        self.sticky = Some(Sticky::new(
            cookie,
            self.slots.iter().map(|s| &**s.target.url()),
        ));
        self
    }

    /// Checks every server with `config`, taking failing ones out of rotation until they
    /// pass again. State comes from (and stays in) `registry`, see [`HealthRegistry`].
    pub fn with_health_check(
        mut self,
        registry: &HealthRegistry,
        config: &HealthCheckConfig,
    ) -> Self {
        for slot in self.slots.iter_mut() {
            slot.health =
                Some(registry.watch(&self.observed.name, &slot.target, &self.client, config));
        }
        self
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.observed.name
    }

    /// Whether its servers are health-checked.
    pub fn health_checked(&self) -> bool {
        self.slots.iter().any(|s| s.health.is_some())
    }

    /// Each server with whether it is currently in rotation (for the API).
    pub fn server_status(&self) -> impl Iterator<Item = (&ServerTarget, bool)> {
        self.slots.iter().map(|s| (&s.target, s.is_up()))
    }

    fn pick(&self, req: &Request<Body>) -> Option<(usize, bool)> {
        if let Some(sticky) = &self.sticky
            && let Some(i) = sticky.pinned(req.headers())
            && self.slots[i].is_up()
        {
            return Some((i, false));
        }
        let i = self.wrr.pick(|i| self.slots[i].is_up())?;
        Some((i, self.sticky.is_some()))
    }
}

impl Availability for LoadBalancer {
    fn is_available(&self) -> bool {
        self.slots
            .iter()
            .zip(self.weights.iter())
            .any(|(s, &w)| w > 0 && s.is_up())
    }
}

impl Handler for LoadBalancer {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let Some((i, set_cookie)) = self.pick(&req) else {
                tracing::debug!(service = %self.observed.name, "no available server");
                return status_response(StatusCode::SERVICE_UNAVAILABLE);
            };
            let slot = &self.slots[i];
            if !self.pass_host_header
                && let Some(host) = &slot.host
            {
                req.headers_mut().insert(header::HOST, host.clone());
            }
            let started = cx.observe.log.then(std::time::Instant::now);
            let mut resp = match self.client.forward(req, &slot.target).await {
                Ok(resp) => resp,
                Err(e) => {
                    tracing::debug!(service = %self.observed.name, server = %slot.target.url(), error = %e, "forwarding failed");
                    e.to_response()
                }
            };
            let status = resp.status().as_u16();
            if cx.observe.origin {
                let headers = cx
                    .observe
                    .log_headers
                    .then(|| Box::new(resp.headers().clone()));
                cx.answered.set(weir_observe::Origin {
                    url: slot.target.url().clone(),
                    service: self.observed.clone(),
                    status,
                    started,
                    headers,
                });
            }
            if set_cookie && let Some(sticky) = &self.sticky {
                sticky.set(resp.headers_mut(), i);
            }
            resp
        })
    }
}
