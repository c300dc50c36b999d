//! Smooth weighted round robin over a precomputed schedule: picking is one atomic
//! increment, no lock.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Longest schedule kept; larger weight sums are scaled down to fit (each weight stays ≥ 1).
const MAX_SCHEDULE: u64 = 1 << 16;

/// A deterministic smooth weighted round robin (nginx's algorithm), unrolled once into a
/// schedule of length `sum(weights / gcd)`; a shared counter walks it.
#[derive(Debug)]
pub(crate) struct Wrr {
    schedule: Box<[u32]>,
    next: AtomicUsize,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Wrr {
    /// Builds the schedule; entries with weight 0 never get picked.
    pub(crate) fn new(weights: &[u32]) -> Self {
        let mut w: Vec<u64> = weights.iter().map(|&w| u64::from(w)).collect();
        let g = w.iter().copied().fold(0, gcd);
        if g > 1 {
            w.iter_mut().for_each(|x| *x /= g);
        }
        let total: u64 = w.iter().sum();
        if total > MAX_SCHEDULE {
            for x in w.iter_mut().filter(|x| **x > 0) {
                *x = (*x * MAX_SCHEDULE / total).max(1);
            }
        }
        let total: u64 = w.iter().sum();
        let mut current = vec![0i64; w.len()];
        let mut schedule = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        for _ in 0..total {
            let mut best = 0;
            for (i, &wi) in w.iter().enumerate() {
                current[i] += wi as i64;
                if current[i] > current[best] {
                    best = i;
                }
            }
            current[best] -= total as i64;
            schedule.push(u32::try_from(best).unwrap_or(u32::MAX));
        }
        Self {
            schedule: schedule.into_boxed_slice(),
            next: AtomicUsize::new(0),
        }
    }

    /// The next entry `usable` accepts. Entries it refuses are skipped by drawing the next
    /// ticket, so the others keep their relative weights.
    pub(crate) fn pick(&self, mut usable: impl FnMut(usize) -> bool) -> Option<usize> {
        let n = self.schedule.len();
        if n == 0 {
            return None;
        }
        let mut ticket = 0;
        for _ in 0..n {
            ticket = self.next.fetch_add(1, Ordering::Relaxed) % n;
            let i = self.schedule[ticket] as usize;
            if usable(i) {
                return Some(i);
            }
        }
        // Concurrent pickers may have taken the tickets of the usable entries: scan once.
        (0..n)
            .map(|k| self.schedule[(ticket + k) % n] as usize)
            .find(|&i| usable(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(wrr: &Wrr, n: usize, picks: usize, usable: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut c = vec![0; n];
        for _ in 0..picks {
            if let Some(i) = wrr.pick(&usable) {
                c[i] += 1;
            }
        }
        c
    }

    #[test]
    fn smooth_and_proportional() {
        let wrr = Wrr::new(&[5, 1, 1]);
        // nginx's example sequence: a a b a c a a
        assert_eq!(&*wrr.schedule, &[0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(counts(&wrr, 3, 700, |_| true), vec![500, 100, 100]);
        let wrr = Wrr::new(&[3, 1]);
        assert_eq!(counts(&wrr, 2, 400, |_| true), vec![300, 100]);
    }

    #[test]
    fn zero_weights_and_gcd() {
        let wrr = Wrr::new(&[0, 2, 4]);
        assert_eq!(wrr.schedule.len(), 3);
        assert_eq!(counts(&wrr, 3, 300, |_| true), vec![0, 100, 200]);
        assert!(Wrr::new(&[0, 0]).pick(|_| true).is_none());
        assert!(Wrr::new(&[]).pick(|_| true).is_none());
    }

    #[test]
    fn skipping_keeps_proportions() {
        let wrr = Wrr::new(&[1, 1, 1]);
        assert_eq!(counts(&wrr, 3, 600, |i| i != 1), vec![300, 0, 300]);
        assert!(wrr.pick(|_| false).is_none());
    }

    #[test]
    fn huge_weights_are_scaled() {
        let wrr = Wrr::new(&[1_000_000, 999_999, 1]);
        assert!(wrr.schedule.len() as u64 <= MAX_SCHEDULE + 3);
        let c = counts(&wrr, 3, wrr.schedule.len(), |_| true);
        assert!(c[2] >= 1);
    }
}
