//! `prometheus@internal`: the metrics in Prometheus' text exposition format.

use std::sync::Arc;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use weir_observe::Metrics;

use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Serves the registry's exposition on every GET or HEAD.
pub struct Prometheus {
    metrics: Arc<Metrics>,
}

impl Prometheus {
    /// A handler exposing `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl Handler for Prometheus {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        _cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return super::text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            }
            let mut resp = Response::new(body::full(self.metrics.encode()));
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            resp
        })
    }
}
