//! What the circuit breaker's expression reads: request outcomes over a rolling window of
//! 10 seconds in 100 ms buckets (status codes, network errors, and latencies when the
//! expression asks for them). Time is passed in, so tests drive it.

use std::time::{Duration, Instant};

use super::expr::Metrics;

/// Buckets in the window.
const BUCKETS: usize = 100;
/// Width of one bucket.
const RESOLUTION: Duration = Duration::from_millis(100);
/// Latency histogram bins: bin `i` holds latencies up to `FIRST_BOUND_MS * GROWTH^i`.
const LATENCY_BINS: usize = 160;
const FIRST_BOUND_MS: f64 = 0.1;
const GROWTH: f64 = 1.1;

#[derive(Debug, Clone, Default)]
struct Bucket {
    /// Which tick (100 ms since the start) this bucket holds; stale ones are skipped.
    tick: u64,
    total: u64,
    network_errors: u64,
    /// (status code, count), a handful of codes per bucket.
    codes: Vec<(u16, u64)>,
    latency: Vec<u32>,
}

/// The rolling statistics of one circuit breaker instance.
#[derive(Debug)]
pub struct Stats {
    start: Instant,
    buckets: Vec<Bucket>,
    latency: bool,
    /// The tick the window ends at, for the reads.
    now_tick: u64,
}

impl Stats {
    /// Empty statistics from `start`; latencies are kept only when `latency`.
    pub fn new(start: Instant, latency: bool) -> Self {
        Stats {
            start,
            buckets: vec![Bucket::default(); BUCKETS],
            latency,
            now_tick: 0,
        }
    }

    fn tick(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.start);
        u64::try_from(d.as_millis() / RESOLUTION.as_millis()).unwrap_or(u64::MAX)
    }

    /// Records one response: its status, whether it was a network error, its latency.
    pub fn record(&mut self, now: Instant, status: u16, network_error: bool, latency: Duration) {
        let tick = self.tick(now);
        let latency_on = self.latency;
        let b = &mut self.buckets[(tick % BUCKETS as u64) as usize];
        if b.tick != tick {
            b.tick = tick;
            b.total = 0;
            b.network_errors = 0;
            b.codes.clear();
            b.latency.clear();
        }
        b.total += 1;
        if network_error {
            b.network_errors += 1;
        }
        match b.codes.iter_mut().find(|(c, _)| *c == status) {
            Some((_, n)) => *n += 1,
            None => b.codes.push((status, 1)),
        }
        if latency_on {
            if b.latency.len() != LATENCY_BINS {
                b.latency.resize(LATENCY_BINS, 0);
            }
            let bin = latency_bin(latency);
            b.latency[bin] = b.latency[bin].saturating_add(1);
        }
    }

    /// Forgets everything (entering recovery).
    pub fn reset(&mut self) {
        for b in &mut self.buckets {
            *b = Bucket::default();
        }
    }

    /// A view of the window ending at `now`, for the expression.
    pub fn at(&mut self, now: Instant) -> Window<'_> {
        self.now_tick = self.tick(now);
        Window { stats: self }
    }

    fn live(&self) -> impl Iterator<Item = &Bucket> {
        let now = self.now_tick;
        self.buckets
            .iter()
            .filter(move |b| b.total > 0 && b.tick <= now && now - b.tick < BUCKETS as u64)
    }
}

/// The statistics as of one instant.
pub struct Window<'a> {
    stats: &'a Stats,
}

impl Metrics for Window<'_> {
    fn network_error_ratio(&self) -> f64 {
        let (mut errors, mut total) = (0u64, 0u64);
        for b in self.stats.live() {
            errors += b.network_errors;
            total += b.total;
        }
        ratio(errors, total)
    }

    fn response_code_ratio(&self, from: u16, to: u16, dfrom: u16, dto: u16) -> f64 {
        let (mut num, mut den) = (0u64, 0u64);
        for b in self.stats.live() {
            for &(code, n) in &b.codes {
                if (from..to).contains(&code) {
                    num += n;
                }
                if (dfrom..dto).contains(&code) {
                    den += n;
                }
            }
        }
        ratio(num, den)
    }

    fn latency_at_quantile_ms(&self, quantile: f64) -> f64 {
        let mut bins = vec![0u64; LATENCY_BINS];
        for b in self.stats.live() {
            for (acc, n) in bins.iter_mut().zip(&b.latency) {
                *acc += u64::from(*n);
            }
        }
        let total: u64 = bins.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = ((quantile / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in bins.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bin_value_ms(i);
            }
        }
        bin_value_ms(LATENCY_BINS - 1)
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn latency_bin(latency: Duration) -> usize {
    let ms = latency.as_secs_f64() * 1000.0;
    if ms <= FIRST_BOUND_MS {
        return 0;
    }
    let i = ((ms / FIRST_BOUND_MS).ln() / GROWTH.ln()).ceil();
    (i as usize).min(LATENCY_BINS - 1)
}

/// A bin's representative latency: the geometric middle of its bounds (within 5%).
fn bin_value_ms(i: usize) -> f64 {
    if i == 0 {
        return FIRST_BOUND_MS;
    }
    let upper = FIRST_BOUND_MS * GROWTH.powi(i32::try_from(i).unwrap_or(i32::MAX));
    upper / GROWTH.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_over_the_rolling_window() {
        let t0 = Instant::now();
        let mut s = Stats::new(t0, false);
        for i in 0..10 {
            let code = if i < 3 { 502 } else { 200 };
            s.record(t0, code, code == 502, Duration::ZERO);
        }
        s.record(t0 + Duration::from_secs(5), 503, false, Duration::ZERO);
        let w = s.at(t0 + Duration::from_secs(5));
        assert!((w.network_error_ratio() - 3.0 / 11.0).abs() < 1e-9);
        assert!((w.response_code_ratio(500, 600, 0, 600) - 4.0 / 11.0).abs() < 1e-9);
        assert!((w.response_code_ratio(200, 300, 500, 600) - 7.0 / 4.0).abs() < 1e-9);
        // 10 s later the first second has left the window; only the 503 remains.
        let w = s.at(t0 + Duration::from_millis(10_050));
        assert_eq!(w.network_error_ratio(), 0.0);
        assert_eq!(w.response_code_ratio(500, 600, 0, 600), 1.0);
        // Much later, nothing.
        let w = s.at(t0 + Duration::from_secs(60));
        assert_eq!(w.response_code_ratio(500, 600, 0, 600), 0.0);
        s.reset();
        assert_eq!(s.at(t0 + Duration::from_secs(5)).network_error_ratio(), 0.0);
    }

    #[test]
    fn latency_quantiles() {
        let t0 = Instant::now();
        let mut s = Stats::new(t0, true);
        for ms in 1..=100u64 {
            s.record(t0, 200, false, Duration::from_millis(ms));
        }
        let w = s.at(t0);
        for (q, want) in [(50.0, 50.0), (90.0, 90.0), (99.0, 99.0), (100.0, 100.0)] {
            let got = w.latency_at_quantile_ms(q);
            assert!((got - want).abs() / want < 0.06, "q{q}: {got}");
        }
        assert_eq!(
            Stats::new(t0, true).at(t0).latency_at_quantile_ms(50.0),
            0.0
        );
    }
}
