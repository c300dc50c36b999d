//! Host-indexed route sets: lookup cost does not grow with the number of host routers.
//!
//! Each rule is reduced to the set of hosts it *requires* (a request must carry one of them for
//! the rule to match). Rules with such a set are filed under each host, exact hosts in one map and
//! one-label wildcards (`*.example.com`) under their parent suffix in another; every other rule
//! goes to a fallback list. A lookup merges the request's exact bucket, its parent-suffix bucket
//! and the fallback list in rank order and returns the first route whose full matcher matches,
//! which is exactly the first match of a linear scan in rank order.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::ast::{Expr, MatcherKind};
use crate::host::{self, HostPattern};
use crate::request::RequestView;
use crate::rule::Rule;

/// Builder for a compiled, host-indexed set of routes.
pub struct RouteSetBuilder<T> {
    routes: Vec<Entry<T>>,
}

struct Entry<T> {
    rule: Rule,
    /// Paths one of which a matching request must have (`None`: any path), checked
    /// before the full matcher: a byte comparison instead of a tree walk for the many
    /// routes of a host that differ only by path.
    paths: Option<Box<[PathKey]>>,
    priority: i64,
    name: Box<str>,
    value: T,
}

impl<T> Entry<T> {
    fn matches(&self, req: &RequestView<'_>) -> bool {
        if let Some(paths) = &self.paths
            && !paths.iter().any(|p| p.admits(req.path))
        {
            return false;
        }
        self.rule.matches(req)
    }
}

impl<T> Default for RouteSetBuilder<T> {
    fn default() -> Self {
        RouteSetBuilder { routes: Vec::new() }
    }
}

impl<T> RouteSetBuilder<T> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a route. Order: priority descending, then `name` ascending (deterministic tie-break),
    /// then insertion order. Pass [`Rule::default_priority`] when no priority is configured.
    pub fn add(&mut self, rule: Rule, priority: i64, name: &str, value: T) {
        let paths = required_paths(rule.expr()).map(Vec::into_boxed_slice);
        self.routes.push(Entry {
            rule,
            paths,
            priority,
            name: name.into(),
            value,
        });
    }

    /// Number of routes added so far.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// True when no route was added.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Sorts the routes and builds the host index.
    pub fn build(self) -> RouteSet<T> {
        let mut routes = self.routes;
        // Stable: equal (priority, name) keep insertion order.
        routes.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then_with(|| a.name.cmp(&b.name))
        });
        let mut exact = HostMap::default();
        let mut parent = HostMap::default();
        let mut fallback = Vec::new();
        for (rank, entry) in routes.iter().enumerate() {
            let rank = u32::try_from(rank).unwrap_or(u32::MAX);
            match required_hosts(entry.rule.expr()) {
                Some(keys) => {
                    for key in keys {
                        let (map, k) = match key {
                            HostKey::Exact(k) => (&mut exact, k),
                            HostKey::Parent(k) => (&mut parent, k),
                        };
                        let bucket = map.entry(k.into_boxed_str()).or_default();
                        // Ranks are visited in increasing order, so buckets stay sorted.
                        if bucket.last() != Some(&rank) {
                            bucket.push(rank);
                        }
                    }
                }
                None => fallback.push(rank),
            }
        }
        RouteSet {
            routes,
            exact,
            parent,
            fallback,
        }
    }
}

/// A compiled, host-indexed set of routes. `Send + Sync` when `T` is.
pub struct RouteSet<T> {
    /// In rank order: priority desc, name asc, insertion order.
    routes: Vec<Entry<T>>,
    exact: HostMap,
    parent: HostMap,
    fallback: Vec<u32>,
}

impl<T> RouteSet<T> {
    /// First matching route in priority order.
    pub fn find(&self, req: &RequestView<'_>) -> Option<&T> {
        const EMPTY: &[u32] = &[];
        let key = host::index_key(req.host);
        let exact = match key.is_empty() || self.exact.is_empty() {
            true => EMPTY,
            false => self.exact.get(key).map_or(EMPTY, Vec::as_slice),
        };
        let parent = match self.parent.is_empty() {
            true => EMPTY,
            false => host::request_parent(req.host)
                .and_then(|p| self.parent.get(p))
                .map_or(EMPTY, Vec::as_slice),
        };
        let fallback = self.fallback.as_slice();
        // Common cases: only one list has candidates, so no merge is needed.
        match (exact.is_empty(), parent.is_empty(), fallback.is_empty()) {
            (_, true, true) => return self.first_match(exact, req),
            (true, false, true) => return self.first_match(parent, req),
            (true, true, false) => return self.first_match(fallback, req),
            _ => {}
        }
        let lists = [exact, parent, fallback];
        let mut at = [0usize; 3];
        loop {
            let next = lists
                .iter()
                .zip(at)
                .filter_map(|(l, i)| l.get(i).copied())
                .min()?;
            for (l, i) in lists.iter().zip(at.iter_mut()) {
                if l.get(*i) == Some(&next) {
                    *i += 1;
                }
            }
            let entry = self.routes.get(next as usize)?;
            if entry.matches(req) {
                return Some(&entry.value);
            }
        }
    }

    fn first_match(&self, ranks: &[u32], req: &RequestView<'_>) -> Option<&T> {
        ranks
            .iter()
            .filter_map(|&r| self.routes.get(r as usize))
            .find(|e| e.matches(req))
            .map(|e| &e.value)
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// True when the set holds no route.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Routes in evaluation order: `(rule, priority, name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&Rule, i64, &str, &T)> {
        self.routes
            .iter()
            .map(|e| (&e.rule, e.priority, &*e.name, &e.value))
    }

    /// Number of routes that could not be indexed by host and are tried for every request.
    pub fn fallback_len(&self) -> usize {
        self.fallback.len()
    }
}

impl<T> Default for RouteSet<T> {
    fn default() -> Self {
        RouteSetBuilder::new().build()
    }
}

impl<T> fmt::Debug for RouteSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteSet")
            .field("routes", &self.routes.len())
            .field("exact_hosts", &self.exact.len())
            .field("wildcard_parents", &self.parent.len())
            .field("fallback", &self.fallback.len())
            .finish()
    }
}

/// A host bucket key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostKey {
    /// Exact host, lower-cased, trailing dots trimmed.
    Exact(String),
    /// Parent suffix of a one-label wildcard.
    Parent(String),
}

/// The finite set of hosts one of which a matching request must carry, or `None` when the rule
/// can match requests for an unbounded set of hosts.
fn required_hosts(expr: &Expr) -> Option<Vec<HostKey>> {
    match expr {
        Expr::Matcher(call) if call.kind == MatcherKind::Host => {
            match HostPattern::new(call.args.first()?) {
                HostPattern::Any => None,
                HostPattern::Exact(v) => {
                    let k = host::index_key(&v);
                    (!k.is_empty()).then(|| vec![HostKey::Exact(k.to_owned())])
                }
                HostPattern::Wildcard(v) => {
                    host::wildcard_parent(&v).map(|p| vec![HostKey::Parent(p.to_owned())])
                }
            }
        }
        Expr::Matcher(_) | Expr::Not(_) => None,
        // Either side's requirement is enough; keep the narrower one.
        Expr::And(l, r) => match (required_hosts(l), required_hosts(r)) {
            (Some(a), Some(b)) => Some(if b.len() < a.len() { b } else { a }),
            (a, b) => a.or(b),
        },
        Expr::Or(l, r) => {
            let mut a = required_hosts(l)?;
            let b = required_hosts(r)?;
            for k in b {
                if !a.contains(&k) {
                    a.push(k);
                }
            }
            Some(a)
        }
    }
}

/// A path requirement: the request path equals it, or starts with it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathKey {
    Exact(String),
    Prefix(String),
}

impl PathKey {
    fn admits(&self, path: &str) -> bool {
        match self {
            PathKey::Exact(p) => path == p,
            PathKey::Prefix(p) => path.starts_with(p.as_str()),
        }
    }
}

/// The paths one of which a matching request must have, or `None` when the rule can match
/// any path. Same reasoning as [`required_hosts`].
fn required_paths(expr: &Expr) -> Option<Vec<PathKey>> {
    match expr {
        Expr::Matcher(call) => {
            let arg = call.args.first()?;
            match call.kind {
                MatcherKind::Path => Some(vec![PathKey::Exact(arg.clone())]),
                MatcherKind::PathPrefix => Some(vec![PathKey::Prefix(arg.clone())]),
                _ => None,
            }
        }
        Expr::Not(_) => None,
        Expr::And(l, r) => match (required_paths(l), required_paths(r)) {
            (Some(a), Some(b)) => Some(if b.len() < a.len() { b } else { a }),
            (a, b) => a.or(b),
        },
        Expr::Or(l, r) => {
            let mut a = required_paths(l)?;
            a.extend(required_paths(r)?);
            Some(a)
        }
    }
}

/// Host buckets. Keys come from configuration, never from requests, so a fast non-keyed hash is
/// fine: a request can only probe the map, not grow its chains.
type HostMap = HashMap<Box<str>, Vec<u32>, BuildHasherDefault<FxHasher>>;

/// Multiply-rotate hash (the rustc "Fx" scheme), a few cycles per 8 bytes.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        // Fold high bits down: hashbrown uses the top 7 bits for tags and low bits for buckets.
        self.0.rotate_left(26)
    }
}
