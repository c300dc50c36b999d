//! `ping@internal`: the health endpoint probes hit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{Method, Request, Response, StatusCode};

use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Whether weir is shutting down; shared by `/ping` and the entrypoints.
#[derive(Debug, Default)]
pub struct ShutdownState {
    terminating: AtomicBool,
}

impl ShutdownState {
    /// Marks the process as terminating: `/ping` answers the terminating status from now on.
    pub fn begin(&self) {
        self.terminating.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_terminating(&self) -> bool {
        self.terminating.load(Ordering::SeqCst)
    }
}

/// Answers `GET`/`HEAD` with `200 OK`, or the terminating status (503 by default) once
/// shutdown began, so load balancers stop sending traffic before listeners close.
pub struct Ping {
    state: Arc<ShutdownState>,
    terminating_status: StatusCode,
}

impl Ping {
    /// A ping handler reading `state`.
    pub fn new(state: Arc<ShutdownState>, terminating_status: StatusCode) -> Self {
        Self {
            state,
            terminating_status,
        }
    }
}

impl Handler for Ping {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        _cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return super::text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            }
            let (status, text) = if self.state.is_terminating() {
                (self.terminating_status, "Service Unavailable")
            } else {
                (StatusCode::OK, "OK")
            };
            let mut resp = Response::new(body::full(text));
            *resp.status_mut() = status;
            resp
        })
    }
}
