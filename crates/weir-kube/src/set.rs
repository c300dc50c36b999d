//! The set of objects a translation reads, keyed by kind, namespace and name; adding an
//! object with the same key replaces the earlier one, as `kubectl apply` would.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::objects::{
    EndpointSliceData, IngressClassSpec, IngressSpec, ObjectMeta, SecretData, ServiceSpec,
};

/// The kinds the translation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `traefik.io/v1alpha1` IngressRoute.
    IngressRoute,
    /// `traefik.io/v1alpha1` Middleware.
    Middleware,
    /// `traefik.io/v1alpha1` TLSOption.
    TlsOption,
    /// `traefik.io/v1alpha1` TLSStore.
    TlsStore,
    /// `traefik.io/v1alpha1` ServersTransport.
    ServersTransport,
    /// `traefik.io/v1alpha1` TraefikService.
    TraefikService,
    /// `networking.k8s.io/v1` Ingress.
    Ingress,
    /// `networking.k8s.io/v1` IngressClass (cluster-scoped).
    IngressClass,
    /// `v1` Service.
    Service,
    /// `discovery.k8s.io/v1` EndpointSlice.
    EndpointSlice,
    /// `v1` Secret.
    Secret,
}

impl Kind {
    /// The API kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::IngressRoute => "IngressRoute",
            Kind::Middleware => "Middleware",
            Kind::TlsOption => "TLSOption",
            Kind::TlsStore => "TLSStore",
            Kind::ServersTransport => "ServersTransport",
            Kind::TraefikService => "TraefikService",
            Kind::Ingress => "Ingress",
            Kind::IngressClass => "IngressClass",
            Kind::Service => "Service",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::Secret => "Secret",
        }
    }

    /// Cluster-scoped kinds have no namespace.
    pub fn cluster_scoped(self) -> bool {
        self == Kind::IngressClass
    }
}

/// Identifies one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// Kind.
    pub kind: Kind,
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind.as_str(), self.name)
        } else {
            write!(f, "{} {}/{}", self.kind.as_str(), self.namespace, self.name)
        }
    }
}

/// An object's content by kind. Traefik CRD specs stay JSON: they are read field by field
/// so a wrong value is reported with its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A `traefik.io` CRD's `spec`.
    Crd(Value),
    /// Ingress spec.
    Ingress(IngressSpec),
    /// IngressClass spec.
    IngressClass(IngressClassSpec),
    /// Service spec.
    Service(ServiceSpec),
    /// EndpointSlice content.
    EndpointSlice(EndpointSliceData),
    /// Secret content.
    Secret(SecretData),
}

/// One object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Metadata (namespace defaulted to `default` for namespaced kinds).
    pub meta: ObjectMeta,
    /// Content.
    pub body: Body,
}

/// What [`ObjectSet::insert_json`] did with a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored under this key (`replaced` when an object with the same key was there).
    Stored {
        /// Key.
        key: ObjectRef,
        /// An earlier object with the same key was replaced.
        replaced: bool,
    },
    /// A kind the translation does not read (Deployment, ConfigMap...): skipped.
    Skipped {
        /// `apiVersion`.
        api_version: String,
        /// `kind`.
        kind: String,
    },
    /// A Traefik kind weir does not support yet (IngressRouteTCP...).
    Unsupported {
        /// `kind`.
        kind: String,
        /// Why.
        reason: String,
    },
}

/// Why a document is not a usable object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InsertError {
    /// Field path, e.g. `metadata.name`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> InsertError {
    InsertError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The objects a translation reads.
#[derive(Debug, Clone, Default)]
pub struct ObjectSet {
    objects: BTreeMap<ObjectRef, Object>,
    /// EndpointSlices by (namespace, `kubernetes.io/service-name`), built on first use and
    /// dropped when an EndpointSlice changes: a Service's lookup must not scan every slice
    /// (5,000 Services would make it quadratic).
    slices: std::sync::OnceLock<BTreeMap<(String, String), Vec<ObjectRef>>>,
}

impl ObjectSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Adds (or replaces) an object.
    pub fn insert(&mut self, key: ObjectRef, object: Object) -> bool {
        self.slices_changed(&key);
        self.objects.insert(key, object).is_some()
    }

    /// Removes an object.
    pub fn remove(&mut self, key: &ObjectRef) -> Option<Object> {
        self.slices_changed(key);
        self.objects.remove(key)
    }

    /// Drops the EndpointSlice index when `key` is in it (only slices are).
    fn slices_changed(&mut self, key: &ObjectRef) {
        if key.kind == Kind::EndpointSlice {
            self.slices = std::sync::OnceLock::new();
        }
    }

    /// The EndpointSlices of Service `namespace/name` (labelled
    /// `kubernetes.io/service-name: name`), in name order.
    pub fn slices_of(&self, namespace: &str, name: &str) -> impl Iterator<Item = &Object> {
        let index = self.slices.get_or_init(|| {
            let mut index: BTreeMap<(String, String), Vec<ObjectRef>> = BTreeMap::new();
            for (key, obj) in self.of_kind(Kind::EndpointSlice) {
                if let Some(svc) = obj.meta.labels.get("kubernetes.io/service-name") {
                    index
                        .entry((key.namespace.clone(), svc.clone()))
                        .or_default()
                        .push(key.clone());
                }
            }
            index
        });
        index
            .get(&(namespace.to_owned(), name.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(k))
    }

    /// One object.
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Object> {
        self.objects.get(&ObjectRef {
            kind,
            namespace: if kind.cluster_scoped() {
                String::new()
            } else {
                namespace.to_owned()
            },
            name: name.to_owned(),
        })
    }

    /// Every object of a kind, in namespace then name order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = (&ObjectRef, &Object)> {
        let start = ObjectRef {
            kind,
            namespace: String::new(),
            name: String::new(),
        };
        self.objects
            .range(start..)
            .take_while(move |(k, _)| k.kind == kind)
    }

    /// Adds a whole object as JSON (`apiVersion`, `kind`, `metadata`, ...). A `List` is
    /// not handled here; the caller splits it.
    pub fn insert_json(&mut self, doc: Value) -> Result<Inserted, InsertError> {
        let (key, object) = match parse_object(doc)? {
            Parsed::Object(k, o) => (k, o),
            Parsed::Other(i) => return Ok(i),
        };
        let replaced = self.insert(key.clone(), *object);
        Ok(Inserted::Stored { key, replaced })
    }
}

enum Parsed {
    Object(ObjectRef, Box<Object>),
    Other(Inserted),
}

const TRAEFIK_GROUPS: [&str; 2] = ["traefik.io/", "traefik.containo.us/"];

fn parse_object(mut doc: Value) -> Result<Parsed, InsertError> {
    let Some(map) = doc.as_object_mut() else {
        return Err(err("", "a Kubernetes object must be a mapping"));
    };
    let text = |v: Option<&Value>, field: &str| -> Result<String, InsertError> {
        match v {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::String(_)) | None => Err(err(field, "missing")),
            Some(_) => Err(err(field, "must be a string")),
        }
    };
    let api_version = text(map.get("apiVersion"), "apiVersion")?;
    let kind_name = text(map.get("kind"), "kind")?;
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let traefik = TRAEFIK_GROUPS.iter().any(|g| api_version.starts_with(g));
    let kind = match (group, kind_name.as_str()) {
        (_, "IngressRoute") if traefik => Kind::IngressRoute,
        (_, "Middleware") if traefik => Kind::Middleware,
        (_, "TLSOption") if traefik => Kind::TlsOption,
        (_, "TLSStore") if traefik => Kind::TlsStore,
        (_, "ServersTransport") if traefik => Kind::ServersTransport,
        (_, "TraefikService") if traefik => Kind::TraefikService,
        (_, k) if traefik => {
            return Ok(Parsed::Other(Inserted::Unsupported {
                kind: k.to_owned(),
                reason: "TCP and UDP routing from Kubernetes is not supported by weir yet".into(),
            }));
        }
        ("networking.k8s.io", "Ingress") => Kind::Ingress,
        ("networking.k8s.io", "IngressClass") => Kind::IngressClass,
        ("extensions", "Ingress") => {
            return Ok(Parsed::Other(Inserted::Unsupported {
                kind: kind_name,
                reason: format!(
                    "{api_version} Ingress was removed in Kubernetes 1.22; use networking.k8s.io/v1"
                ),
            }));
        }
        ("", "Service") => Kind::Service,
        ("", "Secret") => Kind::Secret,
        ("discovery.k8s.io", "EndpointSlice") => Kind::EndpointSlice,
        _ => {
            return Ok(Parsed::Other(Inserted::Skipped {
                api_version,
                kind: kind_name,
            }));
        }
    };
    if traefik && group == "traefik.containo.us" {
        return Ok(Parsed::Other(Inserted::Unsupported {
            kind: kind_name,
            reason: "the traefik.containo.us API group was removed in Traefik v3; use traefik.io/v1alpha1"
                .into(),
        }));
    }
    if kind == Kind::Ingress && api_version != "networking.k8s.io/v1" {
        return Ok(Parsed::Other(Inserted::Unsupported {
            kind: kind_name,
            reason: format!("{api_version} Ingress is not served; use networking.k8s.io/v1"),
        }));
    }
    let meta_value = map.remove("metadata").unwrap_or(Value::Null);
    let mut meta: ObjectMeta = typed(meta_value, "metadata")?;
    if meta.name.is_empty() {
        return Err(err("metadata.name", "missing"));
    }
    if kind.cluster_scoped() {
        meta.namespace.clear();
    } else if meta.namespace.is_empty() {
        "default".clone_into(&mut meta.namespace);
    }
    let take = |map: &mut serde_json::Map<String, Value>, k: &str| map.remove(k);
    let body = match kind {
        Kind::Ingress => Body::Ingress(typed(take(map, "spec").unwrap_or_default(), "spec")?),
        Kind::IngressClass => {
            Body::IngressClass(typed(take(map, "spec").unwrap_or_default(), "spec")?)
        }
        Kind::Service => Body::Service(typed(take(map, "spec").unwrap_or_default(), "spec")?),
        Kind::EndpointSlice => Body::EndpointSlice(typed(doc, "")?),
        Kind::Secret => Body::Secret(typed(doc, "")?),
        _ => Body::Crd(take(map, "spec").unwrap_or(Value::Object(Default::default()))),
    };
    let key = ObjectRef {
        kind,
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
    };
    Ok(Parsed::Object(key, Box::new(Object { meta, body })))
}

fn typed<T: DeserializeOwned + Default>(v: Value, field: &str) -> Result<T, InsertError> {
    if v.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(v).map_err(|e| err(field, e.to_string()))
}
