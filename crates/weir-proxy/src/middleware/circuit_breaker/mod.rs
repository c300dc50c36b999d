//! `circuitBreaker`: stops calling a service that the expression calls unhealthy, answers
//! `responseCode` (503) instead for `fallbackDuration`, then lets traffic back in over
//! `recoveryDuration`. One instance per router, as in Traefik; it only sees what happens
//! after it in the chain.

mod expr;
mod state;
mod stats;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use weir_config::dynamic::CircuitBreaker as Config;

use super::chain::Spec;
use super::{Middleware, SharedMiddleware, StateScope};
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::{UpstreamFailure, status_response};
use expr::Expr;
use state::{State, Timing};

/// The longest duration option kept (longer ones are this).
const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Duration option `name`, capped at ten years so that `now + duration` cannot overflow an
/// Instant.
fn duration(name: &str, d: weir_config::Duration) -> Result<Duration, String> {
    d.to_std()
        .map(|d| d.min(MAX_DURATION))
        .ok_or_else(|| format!("{name} must not be negative"))
}

/// Checks the options and gives one fresh breaker per router.
pub fn spec(c: &Config, scope: &StateScope) -> Result<Spec, String> {
    let expr = Arc::new(expr::parse(&c.expression).map_err(|e| format!("expression: {e}"))?);
    let timing = Timing {
        check_period: duration("checkPeriod", c.check_period)?,
        fallback: duration("fallbackDuration", c.fallback_duration)?,
        recovery: duration("recoveryDuration", c.recovery_duration)?,
    };
    let code = if c.response_code == 0 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        u16::try_from(c.response_code)
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
            .filter(|s| (200..600).contains(&s.as_u16()))
            .ok_or_else(|| format!("responseCode {} is not an HTTP status", c.response_code))?
    };
    let scope = scope.clone();
    Ok(Spec::PerRouter(Arc::new(move |router: &str| {
        // The window and the breaker's state outlive reloads that keep its options.
        let state = scope.get(router, || {
            Mutex::new(State::new(Instant::now(), expr::uses_latency(&expr)))
        });
        Arc::new(CircuitBreaker {
            expr: expr.clone(),
            timing,
            code,
            state,
        }) as SharedMiddleware
    })))
}

/// One router's circuit breaker.
pub struct CircuitBreaker {
    expr: Arc<Expr>,
    timing: Timing,
    code: StatusCode,
    state: Arc<Mutex<State>>,
}

impl CircuitBreaker {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Middleware for CircuitBreaker {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let start = Instant::now();
        if !self.state().admit(start, &self.expr, &self.timing) {
            let code = self.code;
            return Box::pin(async move { status_response(code) });
        }
        Box::pin(async move {
            let resp = next.handle(req, cx).await;
            let status = resp.status().as_u16();
            // Network errors as Traefik counts them: the proxy's own 502 and 504 answers.
            let network = resp.extensions().get::<UpstreamFailure>().is_some()
                || status == 502
                || status == 504;
            let now = Instant::now();
            let latency: Duration = now.saturating_duration_since(start);
            self.state().stats.record(now, status, network, latency);
            resp
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(expression: &str, fallback: &str, code: i64) -> Config {
        Config {
            expression: expression.into(),
            fallback_duration: weir_config::Duration::parse(fallback)
                .unwrap_or_else(|e| panic!("{e}")),
            response_code: code,
            ..Config::default()
        }
    }

    #[test]
    fn options_are_checked() {
        assert!(
            spec(
                &config("NetworkErrorRatio() > 0.5", "10s", 503),
                &StateScope::detached()
            )
            .is_ok()
        );
        // Huge durations are capped rather than overflowing later.
        assert!(
            spec(
                &config("NetworkErrorRatio() > 0.5", "2000000h", 0),
                &StateScope::detached()
            )
            .is_ok()
        );
        let huge = config("NetworkErrorRatio() > 0.5", "2000000h", 0).fallback_duration;
        assert_eq!(duration("fallbackDuration", huge), Ok(MAX_DURATION));
        let err = |c: Config| match spec(&c, &StateScope::detached()) {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert!(err(config("NetworkErrorRatio() > 0.5", "-1s", 503)).contains("fallbackDuration"));
        assert!(err(config("NetworkErrorRatio() > 0.5", "1s", 99)).contains("responseCode 99"));
        assert!(err(config("NetworkErrorRatio() >", "1s", 503)).starts_with("expression: column"));
    }
}
