//! A lock-free set of series sharing one set of fixed labels (one entrypoint, router or
//! service): counters and a histogram per (code, method, protocol).
//!
//! Slots are allocated when the set is created; a request finds its slot by probing a few
//! atomics and claims an empty one with a compare-and-swap. Only when every slot is taken
//! (more than [`SLOTS`] label combinations on one router) does a request take a mutex.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use crate::labels::SeriesKey;
use crate::tls_labels::{TLS_LABELS, TlsLabel};

/// Request counts by (code, method, protocol), then by the values of the configured header
/// labels (`metrics.prometheus.headerLabels`): nested so a lookup borrows the values.
type HeaderCounts = HashMap<u32, HashMap<HeaderValues, AtomicU64>>;

/// The values of the header labels of one request, in label order, joined by
/// [`VALUE_SEPARATOR`] (one allocation per request).
pub type HeaderValues = Box<str>;

/// Separates the header values in [`HeaderValues`]: NUL, which a header value cannot
/// hold.
pub const VALUE_SEPARATOR: char = '\0';

/// Label combinations held without locking, per set.
pub const SLOTS: usize = 32;

/// One (code, method, protocol) series: request count, bytes and duration histogram.
#[derive(Debug)]
pub struct Slot {
    key: AtomicU32,
    sum_nanos: AtomicU64,
    request_bytes: AtomicU64,
    response_bytes: AtomicU64,
    /// Non-cumulative counts per bucket upper bound, then the +Inf bucket: the request
    /// count is their sum (one atomic add per request fewer than a separate count).
    buckets: Box<[AtomicU64]>,
}

impl Slot {
    fn new(bounds: usize) -> Self {
        Slot {
            key: AtomicU32::new(0),
            sum_nanos: AtomicU64::new(0),
            request_bytes: AtomicU64::new(0),
            response_bytes: AtomicU64::new(0),
            buckets: (0..=bounds).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn record(&self, bounds: &[u64], nanos: u64, request_bytes: u64, response_bytes: u64) {
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        if request_bytes > 0 {
            self.request_bytes
                .fetch_add(request_bytes, Ordering::Relaxed);
        }
        if response_bytes > 0 {
            self.response_bytes
                .fetch_add(response_bytes, Ordering::Relaxed);
        }
        let i = bounds
            .iter()
            .position(|&b| nanos <= b)
            .unwrap_or(bounds.len());
        if let Some(bucket) = self.buckets.get(i) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A snapshot of one series, for exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSnapshot {
    /// Its labels.
    pub key: SeriesKey,
    /// Requests.
    pub count: u64,
    /// Sum of durations in seconds.
    pub sum_seconds: f64,
    /// Request body bytes.
    pub request_bytes: u64,
    /// Response body bytes.
    pub response_bytes: u64,
    /// Cumulative bucket counts, one per bound (the +Inf bucket is `count`).
    pub cumulative: Vec<u64>,
}

/// The series of one entrypoint, router or service.
#[derive(Debug)]
pub struct SeriesSet {
    /// The fixed labels, rendered (`router="a@file",service="b@file"`).
    labels: Box<str>,
    /// Bucket upper bounds in nanoseconds.
    bounds: Box<[u64]>,
    slots: Box<[Slot]>,
    overflow: Mutex<Vec<Slot>>,
    /// HTTPS requests per (tls_version, tls_cipher), indexed by [`TlsLabel::index`].
    tls: Box<[AtomicU64]>,
    /// Retries (`service_retries_total`).
    retries: AtomicU64,
    /// With header labels configured: `requests_total` by key and header values (arbitrary
    /// strings, so a map). A request reads it under a shared lock and adds atomically;
    /// only a combination not seen before takes it exclusively.
    headers: Option<RwLock<HeaderCounts>>,
}

impl SeriesSet {
    /// A set with the rendered `labels` and histogram `bounds` (seconds, ascending).
    pub fn new(labels: String, bounds: &[f64]) -> Self {
        let bounds: Box<[u64]> = bounds.iter().map(|&s| seconds_to_nanos(s)).collect();
        SeriesSet {
            labels: labels.into_boxed_str(),
            slots: (0..SLOTS).map(|_| Slot::new(bounds.len())).collect(),
            bounds,
            overflow: Mutex::new(Vec::new()),
            tls: (0..TLS_LABELS).map(|_| AtomicU64::new(0)).collect(),
            retries: AtomicU64::new(0),
            headers: None,
        }
    }

    /// Also counts requests by header label values (`headerLabels`), when `on`.
    pub fn with_header_labels(mut self, on: bool) -> Self {
        self.headers = on.then(|| RwLock::new(HashMap::new()));
        self
    }

    /// Counts one HTTPS request.
    pub fn record_tls(&self, label: TlsLabel) {
        if let Some(c) = self.tls.get(label.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts `n` retries.
    pub fn add_retries(&self, n: u64) {
        self.retries.fetch_add(n, Ordering::Relaxed);
    }

    /// Retries so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Counts one request with its header label values (no-op without header labels).
    pub fn record_headers(&self, key: SeriesKey, values: &str) {
        let Some(map) = &self.headers else { return };
        if let Some(n) = map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key.0)
            .and_then(|counts| counts.get(values))
        {
            n.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // A combination not seen before: allocate its key under the exclusive lock (another
        // request may have added it meanwhile).
        map.write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.0)
            .or_default()
            .entry(Box::from(values))
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Whether requests are counted by header label values.
    pub fn has_header_labels(&self) -> bool {
        self.headers.is_some()
    }

    /// Request counts by key and header label values, ordered.
    pub fn header_snapshot(&self) -> Vec<(SeriesKey, HeaderValues, u64)> {
        let Some(map) = &self.headers else {
            return Vec::new();
        };
        let mut out: Vec<_> = map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .flat_map(|(k, counts)| {
                counts
                    .iter()
                    .map(|(v, n)| (SeriesKey(*k), v.clone(), n.load(Ordering::Relaxed)))
            })
            .collect();
        out.sort_by(|a, b| (a.0.0, &a.1).cmp(&(b.0.0, &b.1)));
        out
    }

    /// HTTPS request counts by (tls_version, tls_cipher), non-zero ones only.
    pub fn tls_snapshot(&self) -> Vec<((&'static str, &'static str), u64)> {
        self.tls
            .iter()
            .enumerate()
            .map(|(i, c)| (TlsLabel::labels(i), c.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The rendered fixed labels.
    pub fn labels(&self) -> &str {
        &self.labels
    }

    /// Records one request.
    pub fn record(
        &self,
        key: SeriesKey,
        duration: Duration,
        request_bytes: u64,
        response_bytes: u64,
    ) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        let start = (key.0.wrapping_mul(0x9E37_79B9) >> 27) as usize % SLOTS;
        for step in 0..SLOTS {
            let slot = &self.slots[(start + step) % SLOTS];
            let current = slot.key.load(Ordering::Acquire);
            if current == key.0 {
                slot.record(&self.bounds, nanos, request_bytes, response_bytes);
                return;
            }
            if current == 0 {
                match slot
                    .key
                    .compare_exchange(0, key.0, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        slot.record(&self.bounds, nanos, request_bytes, response_bytes);
                        return;
                    }
                    Err(taken) if taken == key.0 => {
                        slot.record(&self.bounds, nanos, request_bytes, response_bytes);
                        return;
                    }
                    Err(_) => continue,
                }
            }
        }
        let mut overflow = self.overflow.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = overflow
            .iter()
            .find(|s| s.key.load(Ordering::Relaxed) == key.0)
        {
            slot.record(&self.bounds, nanos, request_bytes, response_bytes);
            return;
        }
        let slot = Slot::new(self.bounds.len());
        slot.key.store(key.0, Ordering::Relaxed);
        slot.record(&self.bounds, nanos, request_bytes, response_bytes);
        overflow.push(slot);
    }

    /// Every series with at least one request, ordered by key.
    pub fn snapshot(&self) -> Vec<SeriesSnapshot> {
        let mut out = Vec::new();
        let mut take = |slot: &Slot| {
            let key = slot.key.load(Ordering::Acquire);
            if key == 0 {
                return;
            }
            let mut running = 0;
            let mut cumulative: Vec<u64> = slot
                .buckets
                .iter()
                .map(|b| {
                    running += b.load(Ordering::Relaxed);
                    running
                })
                .collect();
            // The last is the +Inf bucket: every request.
            let count = cumulative.pop().unwrap_or(0);
            out.push(SeriesSnapshot {
                key: SeriesKey(key),
                count,
                sum_seconds: slot.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
                request_bytes: slot.request_bytes.load(Ordering::Relaxed),
                response_bytes: slot.response_bytes.load(Ordering::Relaxed),
                cumulative,
            });
        };
        for slot in self.slots.iter() {
            take(slot);
        }
        for slot in self
            .overflow
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            take(slot);
        }
        out.retain(|s| s.count > 0);
        out.sort_by_key(|s| s.key.0);
        out
    }
}

fn seconds_to_nanos(s: f64) -> u64 {
    if s.is_nan() || s <= 0.0 {
        0
    } else if s >= 1.8e10 {
        u64::MAX
    } else {
        (s * 1e9) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_label_counts_add_up_across_threads() {
        let set = SeriesSet::new(String::new(), &[1.0]).with_header_labels(true);
        let k = SeriesKey::new(200, 0, 0);
        // Four threads, each recording the same ten combinations 100 times: new ones race
        // for the exclusive lock, known ones add under the shared one.
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for round in 0..100 {
                        for ua in 0..10 {
                            set.record_headers(k, &format!("ua-{ua}\0host-{}", round % 2));
                        }
                    }
                });
            }
        });
        let snapshot = set.header_snapshot();
        assert_eq!(snapshot.len(), 20);
        assert!(snapshot.iter().all(|(key, _, n)| *key == k && *n == 200));
        assert_eq!(&*snapshot[0].1, "ua-0\0host-0");
    }

    #[test]
    fn records_into_buckets_and_overflows() {
        let set = SeriesSet::new(String::new(), &[0.1, 0.3, 1.2, 5.0]);
        let k = SeriesKey::new(200, 0, 0);
        set.record(k, Duration::from_millis(50), 10, 20);
        set.record(k, Duration::from_millis(200), 0, 5);
        set.record(k, Duration::from_secs(9), 0, 0);
        for code in 0..(SLOTS as u16 + 5) {
            set.record(SeriesKey::new(300 + code, 1, 0), Duration::ZERO, 0, 0);
        }
        let snap = set.snapshot();
        assert_eq!(snap.len(), SLOTS + 6);
        let s = snap.iter().find(|s| s.key == k).cloned();
        let s = s.unwrap_or_else(|| panic!("series missing"));
        assert_eq!(s.count, 3);
        assert_eq!(s.cumulative, vec![1, 2, 2, 2]);
        assert_eq!((s.request_bytes, s.response_bytes), (10, 25));
        assert!((s.sum_seconds - 9.25).abs() < 1e-9);
    }
}
