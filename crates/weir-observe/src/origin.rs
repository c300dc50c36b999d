//! Which server answered a request: the load balancer that forwarded it leaves an
//! [`Origin`] in the request's [`Answered`], the probe takes it when the response head is
//! ready, and a middleware that discards a response takes it out first.
//!
//! The slot travels with the request's context, not in the response's extensions: an
//! extension cost three allocations and two hash lookups on every observed request (a
//! tenth of the access log's cost, `scripts/bench-instructions`).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::Response;

use crate::labels::{SeriesKey, is_grpc};
use crate::metrics::ServiceHandle;
use crate::probe::{GRPC_UNKNOWN, RequestLabels, grpc_status};

/// The server that answered, left in the request's [`Answered`] by the load balancer that
/// forwarded to it: the service series the request counts in, and the access log's
/// `ServiceName`, `ServiceURL`, `OriginStatus`, `OriginDuration` and `Overhead`.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The server's URL.
    pub url: Arc<str>,
    /// The load balancer's service.
    pub service: Arc<ServiceHandle>,
    /// The status the server answered (before any middleware changed it).
    pub status: u16,
    /// When the load balancer began forwarding; taken only for an access log
    /// ([`crate::Wanted::log`]).
    pub started: Option<Instant>,
    /// The server's response headers before any middleware changed them (the access
    /// log's `origin_<Name>`); kept only when the log writes headers
    /// ([`crate::Wanted::log_headers`]).
    pub headers: Option<Box<http::HeaderMap>>,
}

/// The [`Origin`] of the response a request's handlers are about to return; empty when
/// weir answered itself (no route, an internal handler, no server available).
///
/// A clone is empty: a context is cloned for another request (a mirror's copy), whose
/// answer must not become this one's.
#[derive(Debug, Default)]
pub struct Answered(Mutex<Option<Origin>>);

impl Clone for Answered {
    fn clone(&self) -> Self {
        Answered::default()
    }
}

impl Answered {
    /// A load balancer returns a response `origin` answered (replacing an earlier one).
    pub fn set(&self, origin: Origin) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(origin);
    }

    /// The origin of the response returned last, taken out.
    pub fn take(&self) -> Option<Origin> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// `resp` will not reach the client (an attempt the retry middleware tries again, a
    /// failure the errors middleware replaces by a page, a mirror's answer): its origin is
    /// taken out, and counted on its service when `tracked` (the route records metrics),
    /// as Traefik counts every response its load balancers' servers give. Its bytes are not
    /// read.
    pub fn discard<B>(&self, tracked: Option<Tracked>, resp: &Response<B>) {
        let origin = self.take();
        if let (Some(t), Some(origin)) = (tracked, origin) {
            t.count(&origin, resp);
        }
    }
}

/// A response being timed that weir may discard ([`crate::Wanted::track`]).
#[derive(Debug, Clone, Copy)]
pub struct Tracked {
    pub(crate) labels: RequestLabels,
    pub(crate) started: Instant,
}

impl Tracked {
    fn count<B>(self, origin: &Origin, resp: &Response<B>) {
        let Some(set) = &origin.service.series else {
            return;
        };
        let RequestLabels { method, protocol } = self.labels;
        let code = if is_grpc(protocol) {
            grpc_status(resp.headers()).unwrap_or(GRPC_UNKNOWN)
        } else {
            origin.status
        };
        set.record(
            SeriesKey::new(code, method, protocol),
            self.started.elapsed(),
            0,
            0,
        );
    }
}
