//! `inFlightReq`: at most `amount` simultaneous requests per source.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Frame, SizeHint};
use weir_config::dynamic::InFlightReq as Config;

use super::Middleware;
use super::ip::SourceCriterion;
use crate::body::{Body, BoxError};
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::status_response;

/// Counts requests per source (`sourceCriterion`, default the client IP) from the moment
/// they arrive until their response body is done (or dropped), and answers 429 to a
/// request that would exceed `amount`. Counters exist only while a source has requests in
/// flight, so memory follows the concurrency, not the number of sources ever seen.
pub struct InFlightReq {
    amount: u64,
    criterion: SourceCriterion,
    counts: Arc<Mutex<HashMap<String, u64>>>,
}

impl InFlightReq {
    /// `amount` must be positive.
    pub fn new(c: &Config) -> Result<Self, String> {
        let amount = u64::try_from(c.amount)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| format!("amount {} must be positive", c.amount))?;
        Ok(Self {
            amount,
            criterion: SourceCriterion::new(c.source_criterion.as_ref())?,
            counts: Arc::default(),
        })
    }
}

impl InFlightReq {
    /// The same limits counting in `counts` (one router's counters, which outlive reloads:
    /// see [`super::StateScope`]).
    pub fn with_counts(&self, counts: Arc<Mutex<HashMap<String, u64>>>) -> Self {
        Self {
            amount: self.amount,
            criterion: self.criterion.clone(),
            counts,
        }
    }
}

/// Holds one in-flight slot; gives it back when dropped.
struct Slot {
    counts: Arc<Mutex<HashMap<String, u64>>>,
    key: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps a value (a slot, a permit) alive until it ends.
    pub(super) struct Guarded<G> {
        #[pin]
        inner: Body,
        guard: Option<G>,
    }
}

impl<G: Send + 'static> Guarded<G> {
    /// `resp` with `guard` released when its body ends or is dropped.
    pub(super) fn wrap(resp: Response<Body>, guard: G) -> Response<Body> {
        resp.map(|inner| {
            crate::body::boxed(Guarded {
                inner,
                guard: Some(guard),
            })
        })
    }
}

impl<G> http_body::Body for Guarded<G> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(None | Some(Err(_))) = &polled {
            this.guard.take();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Middleware for InFlightReq {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let key = self.criterion.key(&req, cx).unwrap_or_default();
        {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            let n = counts.entry(key.clone()).or_insert(0);
            if *n >= self.amount {
                drop(counts);
                let resp = status_response(StatusCode::TOO_MANY_REQUESTS);
                return Box::pin(async move { resp });
            }
            *n += 1;
        }
        let slot = Slot {
            counts: self.counts.clone(),
            key,
        };
        Box::pin(async move {
            let resp = next.handle(req, cx).await;
            Guarded::wrap(resp, slot)
        })
    }
}
