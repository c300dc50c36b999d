//! `rateLimit`: a token bucket per source.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderValue, Request, Response, StatusCode};
use weir_config::dynamic::RateLimit as Config;

use super::ip::SourceCriterion;
use super::{Middleware, PerRouter, Spec, StateScope};
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

const SHARDS: usize = 16;
/// Sources tracked per shard before eviction (65 536 in all per router).
const SHARD_CAP: usize = 4096;

/// Options checked once; each router gets its own [`RateLimit`] from them.
#[derive(Clone)]
struct Settings {
    /// Tokens per second.
    rate: f64,
    burst: f64,
    max_delay: Duration,
    criterion: Arc<SourceCriterion>,
}

/// Builds the `rateLimit` spec. `average: 0` means no limit (the middleware passes
/// everything through).
pub fn spec(c: &Config, state: &StateScope) -> Result<Spec, String> {
    if c.redis.is_some() {
        return Err("rateLimit.redis is not supported in this build".into());
    }
    if c.average < 0 {
        return Err(format!("average {} must not be negative", c.average));
    }
    if c.period.is_negative() {
        return Err("period must not be negative".into());
    }
    let criterion = Arc::new(SourceCriterion::new(c.source_criterion.as_ref())?);
    if c.average == 0 {
        return Ok(Spec::Shared(Arc::new(super::Passthrough)));
    }
    let period = c
        .period
        .to_std()
        .filter(|p| !p.is_zero())
        .unwrap_or(Duration::from_secs(1));
    #[allow(clippy::cast_precision_loss)]
    let rate = c.average as f64 / period.as_secs_f64();
    // Traefik: requests may wait up to half the interval between two tokens (500 ms below
    // one token per second) rather than be refused.
    let max_delay = if rate < 1.0 {
        Duration::from_millis(500)
    } else {
        Duration::from_secs_f64(1.0 / (rate.trunc() * 2.0))
    };
    #[allow(clippy::cast_precision_loss)]
    let settings = Settings {
        rate,
        burst: c.burst.max(1) as f64,
        max_delay,
        criterion,
    };
    let state = state.clone();
    let make: PerRouter = Arc::new(move |router: &str| {
        Arc::new(RateLimit {
            settings: settings.clone(),
            buckets: state.get(router, Buckets::new),
        }) as super::SharedMiddleware
    });
    Ok(Spec::PerRouter(make))
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// One router's limiter: `average` requests per `period` per source with bursts of
/// `burst`, like Go's `rate.Limiter` that Traefik uses. A request that would have to wait
/// longer than the maximum delay gets 429 with `Retry-After`; a shorter wait is served
/// late.
///
/// Memory is bounded: a bucket that has refilled to `burst` is the same as no bucket, so
/// such buckets are dropped whenever a shard is full; if a shard is still full (a flood of
/// distinct sources), its least recently used eighth is dropped, which at worst forgets
/// some sources' debt.
pub struct RateLimit {
    settings: Settings,
    /// Outlives reloads that keep the middleware's options (see [`StateScope`]).
    buckets: Arc<Buckets>,
}

/// One router's buckets, by source, sharded to keep lock contention low.
struct Buckets {
    shards: Box<[Mutex<HashMap<String, Bucket>>]>,
}

impl Buckets {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl RateLimit {
    /// Takes one token for `key` at `now`: `Ok(delay)` to wait before serving, or
    /// `Err(delay)` when that wait is too long (nothing is taken).
    fn reserve(&self, key: String, now: Instant) -> Result<Duration, Duration> {
        let s = &self.settings;
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let shard = &self.buckets.shards[(h.finish() as usize) % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SHARD_CAP && !map.contains_key(&key) {
            prune(&mut map, s, now);
        }
        let bucket = map.entry(key).or_insert(Bucket {
            tokens: s.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        let tokens = (bucket.tokens + elapsed * s.rate).min(s.burst) - 1.0;
        let delay = if tokens < 0.0 {
            Duration::from_secs_f64(-tokens / s.rate)
        } else {
            Duration::ZERO
        };
        if delay > s.max_delay {
            return Err(delay);
        }
        bucket.tokens = tokens;
        bucket.last = now;
        Ok(delay)
    }
}

fn prune(map: &mut HashMap<String, Bucket>, s: &Settings, now: Instant) {
    map.retain(|_, b| {
        b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * s.rate < s.burst
    });
    if map.len() >= SHARD_CAP {
        let mut ages: Vec<Instant> = map.values().map(|b| b.last).collect();
        ages.sort_unstable();
        let cutoff = ages[ages.len() / 8];
        map.retain(|_, b| b.last > cutoff);
    }
}

fn too_many(delay: Duration) -> Response<Body> {
    let mut resp = Response::new(body::full("Too Many Requests"));
    *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let h = resp.headers_mut();
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    h.insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    if let Ok(v) = HeaderValue::from_str(&format!("{delay:?}")) {
        h.insert("x-retry-in", v);
    }
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

impl Middleware for RateLimit {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let key = self.settings.criterion.key(&req, cx).unwrap_or_default();
        match self.reserve(key, Instant::now()) {
            Ok(delay) if delay.is_zero() => next.handle(req, cx),
            Ok(delay) => Box::pin(async move {
                tokio::time::sleep(delay).await;
                next.handle(req, cx).await
            }),
            Err(delay) => {
                let resp = too_many(delay);
                Box::pin(async move { resp })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(average: i64, period_secs: i64, burst: i64) -> RateLimit {
        let c = Config {
            average,
            period: weir_config::Duration::from_secs(period_secs),
            burst,
            ..Config::default()
        };
        let Ok(Spec::PerRouter(make)) = spec(&c, &StateScope::detached()) else {
            panic!("expected a per-router spec");
        };
        drop(make("r"));
        RateLimit {
            settings: Settings {
                rate: c.average as f64 / period_secs as f64,
                burst: burst as f64,
                max_delay: Duration::from_millis(500),
                criterion: Arc::new(SourceCriterion::Host),
            },
            buckets: Arc::new(Buckets::new()),
        }
    }

    #[test]
    fn bursts_then_refills() {
        let rl = limiter(1, 60, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(rl.reserve("a".into(), t0), Ok(Duration::ZERO));
        }
        assert!(rl.reserve("a".into(), t0).is_err());
        assert_eq!(rl.reserve("b".into(), t0), Ok(Duration::ZERO));
        assert_eq!(
            rl.reserve("a".into(), t0 + Duration::from_secs(60)),
            Ok(Duration::ZERO)
        );
    }

    #[test]
    fn memory_is_bounded() {
        let rl = limiter(1, 60, 1);
        let t0 = Instant::now();
        for i in 0..(SHARDS * SHARD_CAP * 3) {
            let _ = rl.reserve(format!("src-{i}"), t0 + Duration::from_micros(i as u64));
        }
        let total: usize = rl
            .buckets
            .shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum();
        assert!(total <= SHARDS * SHARD_CAP, "{total}");
    }
}
