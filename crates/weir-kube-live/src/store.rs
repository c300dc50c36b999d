//! What the watches have seen: every object's JSON by watch, namespace and name, and the
//! [`ObjectSet`] the translation reads, kept up to date event by event. Rebuilding the set
//! from the JSON on every change cost half of a change's work at 5,000 Ingresses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use weir_kube::{Inserted, ObjectRef, ObjectSet};

use crate::watch::Event;

/// An object's place in the store: watch, namespace, name.
pub(crate) type Key = (usize, String, String);

/// The watches' objects and the set made of them.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Every object's JSON.
    pub objects: BTreeMap<Key, Value>,
    /// The watch whose objects are read for the Ingress status only, not translated.
    status_watch: Option<usize>,
    set: ObjectSet,
    /// The set entry each stored object made.
    refs: HashMap<Key, ObjectRef>,
    /// The stored objects behind each set entry: one, unless two watches see the same
    /// object; the one applied last is in the set.
    providers: HashMap<ObjectRef, Vec<Key>>,
    /// The watchers whose last list or watch failed and that have not listed since.
    failing: BTreeSet<usize>,
    /// The failure that began the current outage, until taken.
    failure: Option<String>,
}

impl Store {
    /// An empty store; `status_watch`'s objects stay out of the set.
    pub(crate) fn new(status_watch: Option<usize>) -> Self {
        Store {
            status_watch,
            ..Store::default()
        }
    }

    /// The set the translation reads.
    pub(crate) fn set(&self) -> &ObjectSet {
        &self.set
    }

    /// Applies a watch event; a list marks its watch as `listed`.
    pub(crate) fn apply(&mut self, ev: Event, listed: &mut [bool]) {
        match ev {
            Event::Listed { id, items } => {
                let gone: Vec<Key> = self
                    .objects
                    .keys()
                    .filter(|(w, _, _)| *w == id)
                    .cloned()
                    .collect();
                for k in gone {
                    self.remove(&k);
                }
                for o in items {
                    self.put(key(id, &o), o);
                }
                if let Some(l) = listed.get_mut(id) {
                    *l = true;
                }
                self.failing.remove(&id);
            }
            Event::Applied { id, object } => self.put(key(id, &object), object),
            Event::Deleted { id, object } => self.remove(&key(id, &object)),
            Event::Failed { id, error } => {
                if self.failing.is_empty() {
                    self.failure = Some(error);
                }
                self.failing.insert(id);
            }
        }
    }

    /// The failure that began an outage (every watcher fine before it), once.
    pub(crate) fn take_failure(&mut self) -> Option<String> {
        self.failure.take()
    }

    /// Whether a watcher failed and has not listed again since.
    pub(crate) fn failing(&self) -> bool {
        !self.failing.is_empty()
    }

    fn put(&mut self, k: Key, object: Value) {
        self.unlink(&k);
        if Some(k.0) != self.status_watch {
            match self.set.insert_json(object.clone()) {
                Ok(Inserted::Stored { key: r, .. }) => {
                    self.providers.entry(r.clone()).or_default().push(k.clone());
                    self.refs.insert(k.clone(), r);
                }
                Ok(_) => {}
                Err(e) => {
                    let kind = object
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    tracing::warn!("kubernetes: {kind} {}/{}: {e}; ignored", k.1, k.2);
                }
            }
        }
        self.objects.insert(k, object);
    }

    fn remove(&mut self, k: &Key) {
        self.unlink(k);
        self.objects.remove(k);
    }

    /// Takes `k`'s object out of the set: the entry goes, or falls back to another stored
    /// object that makes the same entry.
    fn unlink(&mut self, k: &Key) {
        let Some(r) = self.refs.remove(k) else {
            return;
        };
        let Some(keys) = self.providers.get_mut(&r) else {
            return;
        };
        keys.retain(|p| p != k);
        match keys.last() {
            None => {
                self.providers.remove(&r);
                self.set.remove(&r);
            }
            Some(other) => {
                if let Some(json) = self.objects.get(other) {
                    let _ = self.set.insert_json(json.clone());
                }
            }
        }
    }
}

fn key(id: usize, o: &Value) -> Key {
    let field = |f: &str| {
        o.pointer(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (id, field("/metadata/namespace"), field("/metadata/name"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use weir_kube::Kind;

    fn ingress(ns: &str, name: &str, host: &str) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"rules": [{"host": host}]}})
    }

    /// The set made from scratch out of the stored JSON, as each change used to.
    fn rebuilt(store: &Store) -> ObjectSet {
        let mut set = ObjectSet::new();
        for ((id, _, _), v) in &store.objects {
            if Some(*id) != store.status_watch {
                let _ = set.insert_json(v.clone());
            }
        }
        set
    }

    fn hosts(set: &ObjectSet) -> Vec<String> {
        set.of_kind(Kind::Ingress)
            .map(|(k, o)| format!("{k} {:?}", o.body))
            .collect()
    }

    #[test]
    fn events_keep_the_set_equal_to_a_rebuild() {
        let mut store = Store::new(Some(2));
        let mut listed = vec![false; 3];
        let steps = vec![
            Event::Listed {
                id: 0,
                items: vec![ingress("a", "one", "1.test"), ingress("a", "two", "2.test")],
            },
            Event::Applied {
                id: 0,
                object: ingress("a", "one", "1b.test"),
            },
            // The same object from a second watch (a namespace listed twice), then gone
            // from the first: the second one's copy stays in the set.
            Event::Applied {
                id: 1,
                object: ingress("a", "two", "2.test"),
            },
            Event::Deleted {
                id: 0,
                object: ingress("a", "two", "2.test"),
            },
            // The status watch's objects are stored but never translated.
            Event::Applied {
                id: 2,
                object: ingress("b", "status-only", "s.test"),
            },
            // Invalid now: it leaves the set, as a rebuild would skip it.
            Event::Applied {
                id: 0,
                object: json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                               "metadata": {"name": "one", "namespace": "a"}, "spec": 7}),
            },
            // A new list of watch 0 replaces everything it gave before.
            Event::Listed {
                id: 0,
                items: vec![ingress("c", "three", "3.test")],
            },
        ];
        for ev in steps {
            store.apply(ev, &mut listed);
            assert_eq!(hosts(store.set()), hosts(&rebuilt(&store)));
        }
        let names: Vec<String> = store
            .set()
            .of_kind(Kind::Ingress)
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(names, ["Ingress a/two", "Ingress c/three"]);
        assert_eq!(listed, [true, false, false]);
    }
}
