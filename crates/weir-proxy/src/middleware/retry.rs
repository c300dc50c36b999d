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

/// Calls the rest of the chain up to `attempts` times in all. Between tries it waits as
/// Traefik does: `initialInterval` at first, growing by the same factor each time without
/// reaching twice it, each wait randomised by ±50% (so that clients do not retry in step).
/// With `timeout`, no new try starts later than `timeout` after the first. It tries again
/// when no server answered (connection refused, reset, timeout: the response weir wrote
/// itself, never one a server sent), or when the server's status is in `status`. Methods
/// that are not idempotent are tried again only when the server never saw the request
/// (connect failures) unless `retryNonIdempotentMethod`. A request body is kept for replay
/// when its length is known and at most `maxRequestBodyBytes`; other requests are sent
/// once.
#[derive(Debug)]
pub struct Retry {
    attempts: u32,
    initial: Duration,
    /// Growth of the wait per try: 2^(1/(attempts-1)), so the waits stay under twice
    /// `initialInterval` (Traefik's progression).
    multiplier: f64,
    timeout: Option<Duration>,
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
        if c.timeout.is_negative() {
            return Err("timeout must not be negative".into());
        }
        let max_body = u64::try_from(c.max_request_body_bytes).unwrap_or(0);
        Ok(Self {
            attempts,
            initial: c.initial_interval.to_std().unwrap_or_default(),
            multiplier: 2f64.powf(1.0 / f64::from(attempts.saturating_sub(1).max(1))),
            timeout: c.timeout.to_std().filter(|t| !t.is_zero()),
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

    /// The wait after try number `attempt` (1 for the first), before jitter.
    fn base_backoff(&self, attempt: u32) -> f64 {
        let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        // Capped at a minute, as Traefik's backoff caps each interval.
        (self.initial.as_secs_f64() * self.multiplier.powi(exp)).min(60.0)
    }

    /// The wait after try number `attempt`, randomised within ±50%.
    fn backoff(&self, attempt: u32) -> Duration {
        if self.initial.is_zero() {
            return Duration::ZERO;
        }
        let jitter = 0.5 + rand::random::<f64>();
        Duration::try_from_secs_f64(self.base_backoff(attempt) * jitter).unwrap_or_default()
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
            // Only a `timeout` needs the start.
            let started = self.timeout.map(|_| tokio::time::Instant::now());
            let mut attempt = 1;
            loop {
                let tracked = cx.observe.track();
                let body = if bytes.is_empty() {
                    body::empty()
                } else {
                    body::full(bytes.clone())
                };
                let req = super::replay(&parts, body);
                let mut resp = next.handle(req, cx).await;
                // The wait (a random draw) and the budget only matter for another try.
                let again = attempt < self.attempts && self.should_retry(&resp, &parts.method);
                let wait = if again {
                    self.backoff(attempt)
                } else {
                    Duration::ZERO
                };
                let out_of_time = match (self.timeout, started) {
                    (Some(t), Some(started)) => started.elapsed() + wait > t,
                    _ => false,
                };
                if !again || out_of_time {
                    if attempt > 1 {
                        // For `service_retries_total` and the access log's RetryAttempts.
                        resp.extensions_mut()
                            .insert(weir_observe::Retries(attempt - 1));
                    }
                    return resp;
                }
                tracing::debug!(router = ?cx.router, attempt, status = %resp.status(), "retrying");
                // The attempt counts on its service, as Traefik counts each one.
                cx.answered.discard(tracked, &resp);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                attempt += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(attempts: i64, initial_ms: i64) -> Retry {
        Retry::new(&Config {
            attempts,
            initial_interval: weir_config::Duration::from_millis(initial_ms),
            ..Config::default()
        })
        .unwrap()
    }

    #[test]
    fn waits_grow_from_the_initial_interval_to_twice_it() {
        let r = retry(5, 100);
        assert!((r.base_backoff(1) - 0.1).abs() < 1e-9);
        // 2^(3/4) × 100 ms: the waits stay under twice the first.
        assert!((r.base_backoff(4) - 0.1 * 2f64.powf(0.75)).abs() < 1e-9);
        assert!(r.base_backoff(2) > r.base_backoff(1) && r.base_backoff(4) < 0.2);
        for attempt in 1..5 {
            for _ in 0..50 {
                let w = r.backoff(attempt).as_secs_f64();
                let base = r.base_backoff(attempt);
                assert!(
                    w >= base * 0.5 - 1e-9 && w <= base * 1.5 + 1e-9,
                    "{w} vs {base}"
                );
            }
        }
        assert_eq!(retry(3, 0).backoff(2), Duration::ZERO);
        // With two attempts the multiplier is 2^(1/1): the second wait doubles the first.
        assert!((retry(2, 100).base_backoff(2) - 0.2).abs() < 1e-9);
    }

    #[test]
    fn bad_options_are_refused() {
        let bad = Config {
            attempts: 2,
            timeout: weir_config::Duration::from_millis(-1),
            ..Config::default()
        };
        assert!(Retry::new(&bad).unwrap_err().contains("timeout"));
        assert!(
            Retry::new(&Config::default())
                .unwrap_err()
                .contains("attempts")
        );
    }
}
