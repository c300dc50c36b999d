//! State of middlewares that must outlive a reload: rate-limit buckets, in-flight counters.
//!
//! A reload compiles a new table and rebuilds every middleware. A rate limit that an
//! attacker is hitting must not start afresh because an unrelated router changed, so a
//! middleware's state is kept under a key made of its qualified name, the router it serves
//! and a hash of its options. Each table holds the registry its compilation filled; the
//! next compilation reads the previous table's registry and takes over every state whose
//! key it asks for again. States no longer asked for (middleware removed, options changed,
//! router gone) are simply not carried over and die with the old table, once its
//! in-flight requests are done.

use std::any::Any;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

type AnyState = Arc<dyn Any + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    middleware: Arc<str>,
    router: String,
    options: u64,
}

/// The middleware states a table's compilation created or took over.
#[derive(Default)]
pub struct StateRegistry {
    entries: Mutex<HashMap<Key, AnyState>>,
}

impl std::fmt::Debug for StateRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateRegistry")
            .field("entries", &self.len())
            .finish()
    }
}

impl StateRegistry {
    /// Number of states held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no state is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, AnyState>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where one middleware finds and records its state during a compilation.
#[derive(Clone)]
pub struct StateScope {
    previous: Option<Arc<StateRegistry>>,
    current: Arc<StateRegistry>,
    middleware: Arc<str>,
    options: u64,
}

impl StateScope {
    /// The scope of middleware `name` (qualified), whose configuration hashes to
    /// `options` (see [`options_hash`]), taking over states from `previous` and recording
    /// them in `current`.
    pub fn new(
        previous: Option<Arc<StateRegistry>>,
        current: Arc<StateRegistry>,
        name: &str,
        options: u64,
    ) -> Self {
        Self {
            previous,
            current,
            middleware: Arc::from(name),
            options,
        }
    }

    /// A scope that remembers nothing from before (a single compilation: tests, `check`).
    pub fn detached() -> Self {
        Self::new(None, Arc::default(), "", 0)
    }

    /// The state of this middleware for `router`: the previous table's when it had one
    /// under the same key, else `make()`'s.
    pub fn get<T: Any + Send + Sync>(&self, router: &str, make: impl FnOnce() -> T) -> Arc<T> {
        let key = Key {
            middleware: self.middleware.clone(),
            router: router.to_owned(),
            options: self.options,
        };
        let mut current = self.current.lock();
        if let Some(state) = current.get(&key).cloned()
            && let Ok(state) = state.downcast::<T>()
        {
            return state;
        }
        let kept = self
            .previous
            .as_ref()
            .and_then(|p| p.lock().get(&key).cloned())
            .and_then(|s| s.downcast::<T>().ok());
        let state = kept.unwrap_or_else(|| Arc::new(make()));
        current.insert(key, state.clone());
        state
    }
}

/// A hash of a middleware's configuration, for [`StateScope::new`]: equal options give
/// equal hashes within a process.
pub fn options_hash(config: &impl serde::Serialize) -> u64 {
    let mut h = DefaultHasher::new();
    serde_json::to_string(config)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn same_key_is_taken_over_other_keys_are_dropped() {
        let first = Arc::new(StateRegistry::default());
        let s = StateScope::new(None, first.clone(), "rl@file", 1);
        s.get("r1@file", || AtomicU32::new(7))
            .fetch_add(1, Ordering::SeqCst);
        s.get("r2@file", || AtomicU32::new(0));
        StateScope::new(None, first.clone(), "gone@file", 1).get("r1@file", || 0u8);
        assert_eq!(first.len(), 3);

        // The next compilation asks for r1 with the same options, and r2 with other ones.
        let second = Arc::new(StateRegistry::default());
        let same = StateScope::new(Some(first.clone()), second.clone(), "rl@file", 1);
        assert_eq!(
            same.get("r1@file", || AtomicU32::new(0))
                .load(Ordering::SeqCst),
            8
        );
        let changed = StateScope::new(Some(first.clone()), second.clone(), "rl@file", 2);
        assert_eq!(
            changed
                .get("r2@file", || AtomicU32::new(0))
                .load(Ordering::SeqCst),
            0
        );
        // Asking twice in one compilation gives the same state.
        assert!(Arc::ptr_eq(
            &same.get("r1@file", || AtomicU32::new(0)),
            &same.get("r1@file", || AtomicU32::new(0))
        ));
        // Only what was asked for is carried: the removed middleware is gone.
        assert_eq!(second.len(), 2);
    }

    #[test]
    fn options_hash_follows_the_options() {
        let a = weir_config::dynamic::InFlightReq {
            amount: 1,
            source_criterion: None,
        };
        let mut b = a.clone();
        assert_eq!(options_hash(&a), options_hash(&b));
        b.amount = 2;
        assert_ne!(options_hash(&a), options_hash(&b));
    }
}
