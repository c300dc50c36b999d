//! The circuit breaker's states, Traefik's: `standby` (requests pass; the expression is
//! checked every `checkPeriod`), `tripped` (every request gets the fallback answer for
//! `fallbackDuration`), `recovering` (a growing share of requests passes over
//! `recoveryDuration`, the rest get the fallback; the expression still trips it again),
//! then standby. Time is passed in, so tests drive it.

use std::time::{Duration, Instant};

use super::expr::Expr;
use super::stats::Stats;

/// The timing options.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How often the expression is checked.
    pub check_period: Duration,
    /// How long it stays tripped.
    pub fallback: Duration,
    /// How long the recovery ramp lasts.
    pub recovery: Duration,
}

/// Where the breaker is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Closed: requests pass.
    Standby,
    /// Open until the instant.
    Tripped(Instant),
    /// Ramping traffic back up from `start` until `until`.
    Recovering {
        /// When recovery began.
        start: Instant,
        /// When it ends.
        until: Instant,
    },
}

/// The state of one circuit breaker instance (one per router).
#[derive(Debug)]
pub struct State {
    phase: Phase,
    last_check: Instant,
    /// Requests let through and turned away during the current recovery.
    allowed: u64,
    denied: u64,
    /// The outcomes the expression reads.
    pub stats: Stats,
}

impl State {
    /// A breaker in standby at `now`.
    pub fn new(now: Instant, latency: bool) -> Self {
        State {
            phase: Phase::Standby,
            last_check: now,
            allowed: 0,
            denied: 0,
            stats: Stats::new(now, latency),
        }
    }

    /// Its phase.
    #[cfg(test)]
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether a request arriving at `now` goes to the service (`true`) or gets the
    /// fallback answer.
    pub fn admit(&mut self, now: Instant, expr: &Expr, t: &Timing) -> bool {
        if let Phase::Tripped(until) = self.phase {
            if now < until {
                return false;
            }
            self.phase = Phase::Recovering {
                start: now,
                until: now + t.recovery,
            };
            self.allowed = 0;
            self.denied = 0;
            self.stats.reset();
        }
        if now.saturating_duration_since(self.last_check) >= t.check_period {
            self.last_check = now;
            if expr.eval(&self.stats.at(now)) {
                self.phase = Phase::Tripped(now + t.fallback);
                return false;
            }
        }
        match self.phase {
            Phase::Standby => true,
            Phase::Recovering { until, .. } if now >= until => {
                self.phase = Phase::Standby;
                true
            }
            Phase::Recovering { start, until } => {
                let total = until.saturating_duration_since(start).as_secs_f64();
                let share = if total > 0.0 {
                    now.saturating_duration_since(start).as_secs_f64() / total
                } else {
                    1.0
                };
                // Let through as many as keeps the let-through share at the ramp's level.
                let pass =
                    (self.allowed + 1) as f64 <= share * (self.allowed + self.denied + 1) as f64;
                if pass {
                    self.allowed += 1;
                } else {
                    self.denied += 1;
                }
                pass
            }
            Phase::Tripped(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::parse;
    use super::*;

    const T: Timing = Timing {
        check_period: Duration::from_millis(100),
        fallback: Duration::from_secs(10),
        recovery: Duration::from_secs(10),
    };

    #[test]
    fn standby_trips_falls_back_recovers_and_closes() {
        let expr = parse("NetworkErrorRatio() > 0.5").unwrap_or_else(|e| panic!("{e}"));
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut s = State::new(t0, false);
        assert!(s.admit(ms(0), &expr, &T));
        for _ in 0..4 {
            s.stats.record(ms(10), 502, true, Duration::ZERO);
        }
        s.stats.record(ms(10), 200, false, Duration::ZERO);
        // Not checked again before checkPeriod has passed.
        assert!(s.admit(ms(50), &expr, &T));
        assert_eq!(s.phase(), Phase::Standby);
        // Checked at 100 ms: 80% network errors trips it.
        assert!(!s.admit(ms(100), &expr, &T));
        assert_eq!(s.phase(), Phase::Tripped(ms(10_100)));
        assert!(!s.admit(ms(5_000), &expr, &T));
        assert!(!s.admit(ms(10_099), &expr, &T));
        // Fallback over: recovering, with fresh statistics, ramping up.
        assert!(
            !s.admit(ms(10_100), &expr, &T),
            "nothing passes at the start of the ramp"
        );
        assert!(matches!(s.phase(), Phase::Recovering { .. }));
        let mut passed = 0;
        for i in 0..100u64 {
            // 100 requests over the first half of the ramp: the share let through so far
            // follows the ramp, so by its middle about half have passed.
            if s.admit(ms(10_100 + i * 50), &expr, &T) {
                passed += 1;
            }
        }
        assert!((40..=55).contains(&passed), "{passed}");
        let mut late = 0;
        for i in 0..20u64 {
            if s.admit(ms(19_000 + i * 10), &expr, &T) {
                late += 1;
            }
        }
        assert!(late >= 14, "near the end most pass: {late}");
        assert!(s.admit(ms(20_100), &expr, &T));
        assert_eq!(s.phase(), Phase::Standby);
    }

    #[test]
    fn failures_during_recovery_trip_it_again() {
        let expr =
            parse("ResponseCodeRatio(500, 600, 0, 600) > 0.5").unwrap_or_else(|e| panic!("{e}"));
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut s = State::new(t0, false);
        s.stats.record(ms(1), 500, false, Duration::ZERO);
        assert!(!s.admit(ms(100), &expr, &T));
        assert!(!s.admit(ms(10_100), &expr, &T));
        assert!(matches!(s.phase(), Phase::Recovering { .. }));
        s.stats.record(ms(12_000), 503, false, Duration::ZERO);
        assert!(!s.admit(ms(12_100), &expr, &T));
        assert_eq!(s.phase(), Phase::Tripped(ms(22_100)));
    }

    #[test]
    fn healthy_traffic_never_trips() {
        let expr = parse("NetworkErrorRatio() > 0.1").unwrap_or_else(|e| panic!("{e}"));
        let t0 = Instant::now();
        let mut s = State::new(t0, false);
        for i in 0..1000u64 {
            let now = t0 + Duration::from_millis(i * 7);
            assert!(s.admit(now, &expr, &T));
            s.stats.record(now, 200, false, Duration::ZERO);
        }
    }
}
