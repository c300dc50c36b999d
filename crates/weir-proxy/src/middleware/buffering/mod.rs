//! `buffering`: read requests (and responses) whole before passing them on, with size
//! limits, and optionally try again.

mod capped;
mod expr;
mod spool;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING, UPGRADE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body as _;
use weir_config::dynamic::Buffering as Config;

pub use expr::RetryExpr;

use super::Middleware;
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::status_response;
use capped::Capped;
use spool::ReadError;

/// Tries in all, whatever `retryExpression` says (Traefik stops after ten as well).
const MAX_ATTEMPTS: u32 = 10;

/// Traefik's `buffering`.
///
/// The request body is read whole before the service sees it: up to
/// `memRequestBodyBytes` in memory, all of it in a temporary file beyond that. The service
/// then gets it with a `Content-Length`, however the client sent it (chunked included). A
/// request longer than `maxRequestBodyBytes` gets 413: at once when its `Content-Length`
/// says so, else as soon as the bytes read pass the limit. The response is read whole the
/// same way (`memResponseBodyBytes`, `maxResponseBodyBytes`: a longer one becomes 500)
/// and sent with a `Content-Length`. `retryExpression` sends the buffered request again
/// while it holds for the answer just received (at most [`MAX_ATTEMPTS`] tries).
///
/// weir extensions, for translations of ingress-nginx's `proxy-request-buffering` and
/// `proxy-buffering`: `requestBuffering: false` streams the request body on, still cut at
/// the limit (413 when the service has not answered yet); `responseBuffering: false`
/// streams the response, cut at its limit (a `Content-Length` over it is 500, a longer
/// streamed body is aborted). Upgrades (WebSocket), `HEAD` answers and answers without a
/// body pass through untouched.
pub struct Buffering {
    max_request: Option<u64>,
    mem_request: u64,
    max_response: Option<u64>,
    mem_response: u64,
    retry: Option<RetryExpr>,
    buffer_requests: bool,
    buffer_responses: bool,
}

fn non_negative(name: &str, v: i64) -> Result<u64, String> {
    u64::try_from(v).map_err(|_| format!("{name} {v} must not be negative"))
}

impl Buffering {
    /// Checks the options: sizes must not be negative (0 means no limit for the
    /// maximums), and `retryExpression` must parse.
    pub fn new(c: &Config) -> Result<Self, String> {
        let limit = |name, v| non_negative(name, v).map(|n| (n > 0).then_some(n));
        let retry = if c.retry_expression.trim().is_empty() {
            None
        } else {
            Some(
                RetryExpr::parse(&c.retry_expression)
                    .map_err(|e| format!("retryExpression {:?}: {e}", c.retry_expression))?,
            )
        };
        Ok(Self {
            max_request: limit("maxRequestBodyBytes", c.max_request_body_bytes)?,
            mem_request: non_negative("memRequestBodyBytes", c.mem_request_body_bytes)?,
            max_response: limit("maxResponseBodyBytes", c.max_response_body_bytes)?,
            mem_response: non_negative("memResponseBodyBytes", c.mem_response_body_bytes)?,
            retry,
            buffer_requests: c.request_buffering.unwrap_or(true),
            buffer_responses: c.response_buffering.unwrap_or(true),
        })
    }

    /// Sends the request made by `make` (a fresh body each time) until the answer does
    /// not call for another try.
    async fn send(
        &self,
        parts: Parts,
        make: impl Fn() -> Body,
        cx: &RequestContext,
        next: &dyn Handler,
    ) -> Response<Body> {
        // Without a retryExpression there is one try: the head goes on as it is.
        let Some(retry) = &self.retry else {
            return next.handle(Request::from_parts(parts, make()), cx).await;
        };
        let mut attempt = 1;
        loop {
            let tracked = cx.observe.track();
            let resp = next.handle(super::replay(&parts, make()), cx).await;
            let again = retry.eval(&(attempt, resp.status().as_u16()));
            if !again || attempt >= MAX_ATTEMPTS {
                return resp;
            }
            tracing::debug!(router = ?cx.router, attempt, status = %resp.status(), "buffering: trying again");
            // The attempt counts on its service, as the retry middleware's do.
            cx.answered.discard(tracked, &resp);
            attempt += 1;
        }
    }

    async fn request(
        &self,
        req: Request<Body>,
        cx: &RequestContext,
        next: &dyn Handler,
    ) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        if let Some(max) = self.max_request
            && declared_length(&parts.headers).is_some_and(|n| n > max)
        {
            capped::linger(body);
            return too_large();
        }
        if body.is_end_stream() {
            return self.send(parts, body::empty, cx, next).await;
        }
        if self.buffer_requests && !parts.headers.contains_key(UPGRADE) {
            let stored = match spool::read(body, self.mem_request, self.max_request).await {
                Ok(s) => s,
                Err(ReadError::TooLarge(rest)) => {
                    capped::linger(rest);
                    return too_large();
                }
                Err(ReadError::Body(e)) => {
                    tracing::debug!(router = ?cx.router, error = %e, "buffering: reading the request body failed");
                    return status_response(StatusCode::BAD_REQUEST);
                }
                Err(ReadError::Io(e)) => {
                    tracing::warn!(router = ?cx.router, error = %e, "buffering: cannot store the request body");
                    return status_response(StatusCode::INTERNAL_SERVER_ERROR);
                }
            };
            parts.headers.remove(TRANSFER_ENCODING);
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(stored.len()));
            return self.send(parts, || stored.body(), cx, next).await;
        }
        let Some(max) = self.max_request else {
            return next.handle(Request::from_parts(parts, body), cx).await;
        };
        let exceeded = Arc::new(AtomicBool::new(false));
        let body = body::boxed(Capped::new(body, max, Some(exceeded.clone())));
        let resp = next.handle(Request::from_parts(parts, body), cx).await;
        if exceeded.load(Ordering::Acquire) {
            // weir answers: Traefik reads the whole body first and never forwards it.
            cx.answered.take();
            return too_large();
        }
        resp
    }

    async fn response(&self, resp: Response<Body>, head: bool) -> Response<Body> {
        let status = resp.status();
        if head
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return resp;
        }
        if let Some(max) = self.max_response
            && declared_length(resp.headers()).is_some_and(|n| n > max)
        {
            return status_response(StatusCode::INTERNAL_SERVER_ERROR);
        }
        if !self.buffer_responses {
            return match self.max_response {
                Some(max) => resp.map(|b| body::boxed(Capped::new(b, max, None))),
                None => resp,
            };
        }
        let (mut parts, body) = resp.into_parts();
        match spool::read(body, self.mem_response, self.max_response).await {
            Ok(stored) => {
                parts.headers.remove(TRANSFER_ENCODING);
                parts
                    .headers
                    .insert(CONTENT_LENGTH, HeaderValue::from(stored.len()));
                Response::from_parts(parts, stored.body())
            }
            Err(ReadError::TooLarge(_)) => status_response(StatusCode::INTERNAL_SERVER_ERROR),
            Err(ReadError::Body(e)) => {
                tracing::debug!(error = %e, "buffering: reading the response body failed");
                status_response(StatusCode::BAD_GATEWAY)
            }
            Err(ReadError::Io(e)) => {
                tracing::warn!(error = %e, "buffering: cannot store the response body");
                status_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

impl Middleware for Buffering {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let head = req.method() == Method::HEAD;
            let resp = self.request(req, cx, next).await;
            self.response(resp, head).await
        })
    }
}

/// The `Content-Length` a message declares, if it is a valid one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn too_large() -> Response<Body> {
    status_response(StatusCode::PAYLOAD_TOO_LARGE)
}
