//! The series sets of routers or services by name, across reloads. A set a new
//! configuration no longer has is retired, not dropped: it is still scraped once, so what
//! it counted since the last scrape is not lost, then it leaves the output (as Traefik
//! removes deleted routers' and services' series after the next scrape).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{SeriesSet, lock};

/// Retired sets kept at most: without scrapes, reloads that keep removing routers would
/// otherwise pile them up.
const RETIRED_MAX: usize = 4096;

/// Named series sets, live and retired.
#[derive(Debug, Default)]
pub(crate) struct Sets(Mutex<Inner>);

#[derive(Debug, Default)]
struct Inner {
    live: HashMap<String, Arc<SeriesSet>>,
    /// Removed by the last reloads, scraped once more; by name and labels, since a name
    /// may leave several sets behind (a router that changed services twice).
    retired: HashMap<(String, Box<str>), Arc<SeriesSet>>,
}

impl Inner {
    fn retire(&mut self, name: String, set: Arc<SeriesSet>) {
        self.retired.insert((name, set.labels().into()), set);
    }
}

impl Sets {
    /// The set named `name` with rendered `labels`: the live one if its labels are the
    /// same, a retired one brought back if its labels are (the name came back before a
    /// scrape), else a new one from `make`.
    pub(crate) fn get(
        &self,
        name: &str,
        labels: &str,
        make: impl FnOnce() -> SeriesSet,
    ) -> Arc<SeriesSet> {
        let mut inner = lock(&self.0);
        if let Some(set) = inner.live.get(name).filter(|s| s.labels() == labels) {
            return set.clone();
        }
        // Another set under the name (the router now uses another service): the old one
        // is scraped once more.
        if let Some(old) = inner.live.remove(name) {
            inner.retire(name.to_owned(), old);
        }
        let set = inner
            .retired
            .remove(&(name.to_owned(), labels.into()))
            .unwrap_or_else(|| Arc::new(make()));
        inner.live.insert(name.to_owned(), set.clone());
        set
    }

    /// Retires the sets whose names `keep` refuses.
    pub(crate) fn retain(&self, keep: impl Fn(&str) -> bool) {
        let mut inner = lock(&self.0);
        let gone: Vec<String> = inner.live.keys().filter(|k| !keep(k)).cloned().collect();
        if inner.retired.len() + gone.len() > RETIRED_MAX {
            inner.retired.clear();
        }
        for name in gone {
            if let Some(set) = inner.live.remove(&name) {
                inner.retire(name, set);
            }
        }
    }

    /// The live sets by name (for the dashboard).
    pub(crate) fn live(&self) -> Vec<(String, Arc<SeriesSet>)> {
        let mut v: Vec<_> = lock(&self.0)
            .live
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Every set to scrape, by name: the live ones and, this once, the retired ones.
    pub(crate) fn for_scrape(&self) -> Vec<Arc<SeriesSet>> {
        let mut inner = lock(&self.0);
        let retired = std::mem::take(&mut inner.retired);
        let mut v: Vec<(String, Arc<SeriesSet>)> = inner
            .live
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(retired.into_iter().map(|((name, _), set)| (name, set)))
            .collect();
        v.sort_by(|a, b| (&a.0, a.1.labels()).cmp(&(&b.0, b.1.labels())));
        v.into_iter().map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(labels: &str) -> SeriesSet {
        SeriesSet::new(labels.to_owned(), &[1.0])
    }

    fn labels(sets: &[Arc<SeriesSet>]) -> Vec<&str> {
        sets.iter().map(|s| s.labels()).collect()
    }

    #[test]
    fn a_removed_set_is_scraped_once_more() {
        let sets = Sets::default();
        let a = sets.get("a", "router=\"a\"", || set("router=\"a\""));
        sets.get("b", "router=\"b\"", || set("router=\"b\""));
        // Same name and labels: the same set.
        assert!(Arc::ptr_eq(&a, &sets.get("a", "router=\"a\"", || set("x"))));
        sets.retain(|name| name == "b");
        assert_eq!(labels(&sets.for_scrape()), ["router=\"a\"", "router=\"b\""]);
        assert_eq!(labels(&sets.for_scrape()), ["router=\"b\""]);
        // Removed, then back before a scrape: counting goes on in the same set.
        let b = sets.get("b", "router=\"b\"", || set("router=\"b\""));
        sets.retain(|_| false);
        let back = sets.get("b", "router=\"b\"", || set("router=\"b\""));
        assert!(Arc::ptr_eq(&b, &back));
        // New labels under a name: the old set is scraped once more beside the new.
        sets.get("b", "router=\"b\",service=\"s\"", || {
            set("router=\"b\",service=\"s\"")
        });
        assert_eq!(
            labels(&sets.for_scrape()),
            ["router=\"b\"", "router=\"b\",service=\"s\""]
        );
        assert_eq!(
            labels(&sets.live().into_iter().map(|(_, s)| s).collect::<Vec<_>>()),
            ["router=\"b\",service=\"s\""]
        );
    }

    #[test]
    fn several_changes_before_a_scrape_keep_every_set() {
        let sets = Sets::default();
        let l = |s: &str| format!("router=\"r\",service=\"{s}\"");
        let a = sets.get("r", &l("a"), || set(&l("a")));
        sets.get("r", &l("b"), || set(&l("b")));
        // Back to a: the same set, b waits for the scrape.
        assert!(Arc::ptr_eq(&a, &sets.get("r", &l("a"), || set("x"))));
        sets.get("r", &l("c"), || set(&l("c")));
        sets.retain(|_| false);
        let scraped = sets.for_scrape();
        assert_eq!(labels(&scraped), [l("a"), l("b"), l("c")]);
        assert!(sets.for_scrape().is_empty());
    }
}
