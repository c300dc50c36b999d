//! Nonces this middleware handed out, with the highest nonce count seen for each, so a
//! captured `Authorization` header cannot be replayed.
//!
//! Memory is bounded by two generations of at most [`GENERATION`] nonces each: when the
//! current generation is full (or older than [`LIFETIME`]) it becomes the previous one and
//! the previous one is dropped. A nonce therefore lives between one and two generations;
//! a client whose nonce was dropped gets `stale=true` and retries without asking its user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Nonces per generation.
const GENERATION: usize = 4096;
/// The longest a generation stays current.
const LIFETIME: Duration = Duration::from_secs(300);

/// What a request's nonce and nonce count amount to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Check {
    /// Known, and the count is higher than any seen before: accepted (and recorded).
    Fresh,
    /// Known, but the count was already used: a replay.
    Replayed,
    /// Not handed out, or dropped since.
    Unknown,
}

struct Generations {
    current: HashMap<String, u32>,
    previous: HashMap<String, u32>,
    started: Instant,
}

/// The nonce store of one digestAuth middleware.
pub(super) struct Nonces {
    inner: Mutex<Generations>,
}

impl Nonces {
    pub(super) fn new() -> Self {
        Self {
            inner: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
                started: Instant::now(),
            }),
        }
    }

    /// A new random nonce, remembered.
    pub(super) fn issue(&self) -> String {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.current.len() >= GENERATION || g.started.elapsed() >= LIFETIME {
            g.previous = std::mem::take(&mut g.current);
            g.started = Instant::now();
        }
        g.current.insert(nonce.clone(), 0);
        nonce
    }

    /// Checks `nonce` with count `nc` and records the count when accepted.
    pub(super) fn check(&self, nonce: &str, nc: u32) -> Check {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let g = &mut *g;
        let Some(seen) = g
            .current
            .get_mut(nonce)
            .or_else(|| g.previous.get_mut(nonce))
        else {
            return Check::Unknown;
        };
        if nc <= *seen {
            return Check::Replayed;
        }
        *seen = nc;
        Check::Fresh
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.current.len() + g.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_must_grow_and_memory_is_bounded() {
        let n = Nonces::new();
        let a = n.issue();
        assert_eq!(n.check(&a, 1), Check::Fresh);
        assert_eq!(n.check(&a, 1), Check::Replayed);
        assert_eq!(n.check(&a, 3), Check::Fresh);
        assert_eq!(n.check(&a, 2), Check::Replayed);
        assert_eq!(n.check("not-issued", 1), Check::Unknown);
        for _ in 0..3 * GENERATION {
            n.issue();
        }
        assert!(n.len() <= 2 * GENERATION);
        assert_eq!(
            n.check(&a, 4),
            Check::Unknown,
            "dropped after two generations"
        );
    }
}
