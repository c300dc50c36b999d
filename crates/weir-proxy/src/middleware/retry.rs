//! `retry`: send the request again when no server answered.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Body as _;
use http_body_util::BodyExt as _;
use weir_config::dynamic::Retry as Config;

use super::Middleware;
use super::errors::parse_status_ranges;
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::{UpstreamErrorKind, UpstreamFailure};

/// Calls the rest of the chain up to `attempts` times in all, waiting `initialInterval`,
/// then twice as long each time, between tries. It tries again when no server answered
/// (connection refused, reset, timeout: the response weir wrote itself, never one a server
/// sent), or when the server's status is in `status`. Methods that are not idempotent are
/// tried again only when the server never saw the request (connect failures) unless
/// `retryNonIdempotentMethod`. A request body is kept for replay when its length is known
/// and at most `maxRequestBodyBytes`; other requests are sent once.
pub struct Retry {
    attempts: u32,
    initial: Duration,
    max_body: u64,
    statuses: Vec<(u16, u16)>,
    on_network: bool,
    non_idempotent: bool,
}

impl Retry {
    /// Checks the options.
    pub fn new(c: &Config) -> Result<Self, String> {
        let attempts = u32::try_from(c.attempts)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| format!("attempts {} must be positive", c.attempts))?;
        if c.initial_interval.is_negative() {
            return Err("initialInterval must not be negative".into());
        }
        let max_body = u64::try_from(c.max_request_body_bytes).unwrap_or(0);
        Ok(Self {
            attempts,
            initial: c.initial_interval.to_std().unwrap_or_default(),
            max_body,
            statuses: parse_status_ranges("status", &c.status)?,
            on_network: !c.disable_retry_on_network_error,
            non_idempotent: c.retry_non_idempotent_method,
        })
    }

    fn should_retry(&self, resp: &Response<Body>, method: &Method) -> bool {
        let idempotent = self.non_idempotent || method.is_idempotent();
        if let Some(f) = resp.extensions().get::<UpstreamFailure>() {
            return self.on_network && (idempotent || f.kind == UpstreamErrorKind::Connect);
        }
        let code = resp.status().as_u16();
        idempotent && self.statuses.iter().any(|(a, b)| (*a..=*b).contains(&code))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.initial.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        )
    }
}

impl Middleware for Retry {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        if self.attempts <= 1 {
            return next.handle(req, cx);
        }
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let replayable = body.is_end_stream()
                || body.size_hint().exact().is_some_and(|n| n <= self.max_body);
            if !replayable {
                return next.handle(Request::from_parts(parts, body), cx).await;
            }
            let bytes: Bytes = match body.collect().await {
                Ok(c) => c.to_bytes(),
                Err(_) => return crate::upstream::status_response(http::StatusCode::BAD_REQUEST),
            };
            let mut attempt = 1;
            loop {
                let mut req = Request::new(if bytes.is_empty() {
                    body::empty()
                } else {
                    body::full(bytes.clone())
                });
                *req.method_mut() = parts.method.clone();
                *req.uri_mut() = parts.uri.clone();
                *req.version_mut() = parts.version;
                *req.headers_mut() = parts.headers.clone();
                let mut resp = next.handle(req, cx).await;
                if attempt >= self.attempts || !self.should_retry(&resp, &parts.method) {
                    if attempt > 1 {
                        // For `service_retries_total` and the access log's RetryAttempts.
                        resp.extensions_mut()
                            .insert(weir_observe::Retries(attempt - 1));
                    }
                    return resp;
                }
                tracing::debug!(router = ?cx.router, attempt, status = %resp.status(), "retrying");
                let wait = self.backoff(attempt);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                attempt += 1;
            }
        })
    }
}
