//! One list-then-watch loop per kind (and namespace): the whole list replaces what the
//! store had from this watcher, then each watch event adds, changes or removes one object.
//! A failure backs off and lists again; the store keeps what it had meanwhile.

use std::time::Duration;

use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::client::{ApiError, Client};

/// A kind the providers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// `apiVersion` (`v1`, `networking.k8s.io/v1`).
    pub api_version: &'static str,
    /// `kind`.
    pub kind: &'static str,
    /// URL plural.
    pub plural: &'static str,
    /// Namespaced (else cluster-scoped).
    pub namespaced: bool,
    /// The provider's `labelSelector` applies to it.
    pub labelled: bool,
    /// A 404 means "not installed" (the traefik.io CRDs): read as empty.
    pub optional: bool,
    /// A label selector always applied (joined to the provider's when `labelled`).
    pub fixed_labels: &'static str,
    /// A field selector always applied.
    pub fixed_fields: &'static str,
}

const fn res(
    api_version: &'static str,
    kind: &'static str,
    plural: &'static str,
    labelled: bool,
    optional: bool,
) -> Resource {
    Resource {
        api_version,
        kind,
        plural,
        namespaced: true,
        labelled,
        optional,
        fixed_labels: "",
        fixed_fields: "",
    }
}

/// `v1` Service.
pub const SERVICE: Resource = res("v1", "Service", "services", false, false);
/// `discovery.k8s.io/v1` EndpointSlice: only those of a Service (labelled with its name),
/// the only ones the translation reads.
pub const ENDPOINT_SLICE: Resource = Resource {
    fixed_labels: "kubernetes.io/service-name",
    ..res(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        "endpointslices",
        false,
        false,
    )
};
/// `v1` Secret, without the kinds that are never TLS, CA or basic-auth material and can be
/// many and large: Helm release records (by type, and by the `owner=helm` label as Traefik
/// filters them) and legacy service account tokens.
pub const SECRET: Resource = Resource {
    fixed_labels: "owner!=helm",
    fixed_fields: "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token",
    ..res("v1", "Secret", "secrets", false, false)
};
/// `networking.k8s.io/v1` Ingress.
pub const INGRESS: Resource = res("networking.k8s.io/v1", "Ingress", "ingresses", true, false);
/// `networking.k8s.io/v1` IngressClass (cluster-scoped).
pub const INGRESS_CLASS: Resource = Resource {
    namespaced: false,
    ..res(
        "networking.k8s.io/v1",
        "IngressClass",
        "ingressclasses",
        false,
        false,
    )
};
/// The `traefik.io/v1alpha1` kinds weir reads.
pub const TRAEFIK_KINDS: [Resource; 6] = [
    res(
        "traefik.io/v1alpha1",
        "IngressRoute",
        "ingressroutes",
        true,
        true,
    ),
    res(
        "traefik.io/v1alpha1",
        "Middleware",
        "middlewares",
        true,
        true,
    ),
    res("traefik.io/v1alpha1", "TLSOption", "tlsoptions", true, true),
    res("traefik.io/v1alpha1", "TLSStore", "tlsstores", true, true),
    res(
        "traefik.io/v1alpha1",
        "ServersTransport",
        "serverstransports",
        true,
        true,
    ),
    res(
        "traefik.io/v1alpha1",
        "TraefikService",
        "traefikservices",
        true,
        true,
    ),
];

impl Resource {
    /// The collection path, for all namespaces (`None`) or one.
    pub fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }
}

/// What a watcher reports to the store.
#[derive(Debug)]
pub enum Event {
    /// A complete list: replaces everything watcher `id` gave before.
    Listed {
        /// Watcher.
        id: usize,
        /// The objects, with `apiVersion` and `kind` set.
        items: Vec<Value>,
    },
    /// Added or modified.
    Applied {
        /// Watcher.
        id: usize,
        /// The object.
        object: Value,
    },
    /// Deleted.
    Deleted {
        /// Watcher.
        id: usize,
        /// The object (its last state).
        object: Value,
    },
    /// Listing or watching failed (the API server is unreachable, refuses the
    /// credentials, ...); the watcher retries.
    Failed {
        /// Watcher.
        id: usize,
        /// What went wrong, for the provider's failure report.
        error: String,
    },
}

/// One watcher's job.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Index reported in events.
    pub id: usize,
    /// Kind.
    pub resource: Resource,
    /// Namespace (`None`: all).
    pub namespace: Option<String>,
    /// Label selector (empty: none); applied to kinds that are `labelled`.
    pub label_selector: String,
    /// Field selector (empty: none), e.g. `metadata.name=weir`.
    pub field_selector: String,
}

/// Server-side watch timeout; the watch is then resumed from the last resourceVersion.
const WATCH_TIMEOUT_SECS: u64 = 290;
/// A watch that sends nothing (not even the server closing it) for this long is dead.
const IDLE: Duration = Duration::from_secs(WATCH_TIMEOUT_SECS + 40);
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How often an optional kind that is not installed is asked for again.
const NOT_INSTALLED_RETRY: Duration = Duration::from_secs(60);

/// Runs until the receiver is gone.
pub async fn run(client: Client, w: Watch, tx: mpsc::Sender<Event>) {
    let path = w.resource.path(w.namespace.as_deref());
    let selector = query(&w);
    let list_url = if selector.is_empty() {
        path.clone()
    } else {
        format!("{path}?{selector}")
    };
    let mut backoff = BACKOFF_MIN;
    loop {
        let listed = client.get_json(&list_url).await;
        let mut rv = match listed {
            Ok(mut list) => {
                let rv = list
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let items = match list.get_mut("items").map(Value::take) {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                let items = items
                    .into_iter()
                    .map(|o| with_type(o, &w.resource))
                    .collect();
                if tx.send(Event::Listed { id: w.id, items }).await.is_err() {
                    return;
                }
                backoff = BACKOFF_MIN;
                rv
            }
            Err(e) if e.is_not_found() && w.resource.optional => {
                tracing::warn!(
                    "kubernetes: {} ({}) is not installed; read as empty",
                    w.resource.kind,
                    w.resource.api_version
                );
                if tx
                    .send(Event::Listed {
                        id: w.id,
                        items: Vec::new(),
                    })
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(NOT_INSTALLED_RETRY).await;
                continue;
            }
            Err(e) => {
                let error = format!("listing {path}: {e}");
                tracing::warn!(
                    "kubernetes: {error}; keeping the last configuration, retrying in {backoff:?}"
                );
                if tx.send(Event::Failed { id: w.id, error }).await.is_err() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        // Watch from the list's version until the server says it is too old (410) or fails.
        loop {
            let url = format!(
                "{path}?{selector}{amp}watch=1&allowWatchBookmarks=true&timeoutSeconds={WATCH_TIMEOUT_SECS}&resourceVersion={}",
                encode(&rv),
                amp = if selector.is_empty() { "" } else { "&" },
            );
            match watch_once(&client, &url, &w, &mut rv, &tx).await {
                Ok(true) => continue,
                Ok(false) => return,
                Err(e) if e.is_gone() => {
                    tracing::debug!(
                        "kubernetes: {path}: resourceVersion {rv} is gone; listing again"
                    );
                    break;
                }
                Err(e) => {
                    let error = format!("watching {path}: {e}");
                    tracing::warn!(
                        "kubernetes: {error}; keeping the last configuration, retrying in {backoff:?}"
                    );
                    if tx.send(Event::Failed { id: w.id, error }).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    break;
                }
            }
        }
    }
}

/// Reads one watch response. `Ok(true)`: it ended normally (resume from `rv`);
/// `Ok(false)`: the store is gone.
async fn watch_once(
    client: &Client,
    url: &str,
    w: &Watch,
    rv: &mut String,
    tx: &mpsc::Sender<Event>,
) -> Result<bool, ApiError> {
    let mut body = client.get(url).await?;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let frame = match tokio::time::timeout(IDLE, body.frame()).await {
            Err(_) => return Err(ApiError::Transport("watch idle for too long".into())),
            Ok(None) => return Ok(true),
            Ok(Some(Err(e))) => return Err(ApiError::Transport(e.to_string())),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let ev: Value = serde_json::from_slice(&line)
                .map_err(|e| ApiError::Transport(format!("watch event is not JSON: {e}")))?;
            if !handle_event(ev, w, rv, tx).await? {
                return Ok(false);
            }
        }
    }
}

async fn handle_event(
    mut ev: Value,
    w: &Watch,
    rv: &mut String,
    tx: &mpsc::Sender<Event>,
) -> Result<bool, ApiError> {
    let kind = ev
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let object = ev.get_mut("object").map(Value::take).unwrap_or(Value::Null);
    if kind == "ERROR" {
        let code = object.get("code").and_then(Value::as_u64).unwrap_or(0);
        let message = object
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Err(ApiError::Status {
            status: http::StatusCode::from_u16(u16::try_from(code).unwrap_or(500))
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
            path: w.resource.path(w.namespace.as_deref()),
            body: message,
        });
    }
    if let Some(v) = object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        v.clone_into(rv);
    }
    let object = with_type(object, &w.resource);
    let event = match kind.as_str() {
        "ADDED" | "MODIFIED" => Event::Applied { id: w.id, object },
        "DELETED" => Event::Deleted { id: w.id, object },
        _ => return Ok(true), // BOOKMARK: only the version moves.
    };
    Ok(tx.send(event).await.is_ok())
}

/// List items come without `apiVersion`/`kind`; the translation needs them.
fn with_type(mut o: Value, r: &Resource) -> Value {
    if let Some(map) = o.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(r.api_version.into()));
        map.insert("kind".into(), Value::String(r.kind.into()));
    }
    o
}

/// `labelSelector=...&fieldSelector=...` for a watch: the kind's fixed selectors, the
/// provider's `labelSelector` (for the kinds it applies to) and the watch's own.
pub fn query(w: &Watch) -> String {
    let join = |parts: &[&str]| {
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(",")
    };
    let provider_labels = if w.resource.labelled {
        w.label_selector.as_str()
    } else {
        ""
    };
    let labels = join(&[w.resource.fixed_labels, provider_labels]);
    let fields = join(&[w.resource.fixed_fields, &w.field_selector]);
    let mut params = Vec::new();
    if !labels.is_empty() {
        params.push(format!("labelSelector={}", encode(&labels)));
    }
    if !fields.is_empty() {
        params.push(format!("fieldSelector={}", encode(&fields)));
    }
    params.join("&")
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(SERVICE.path(None), "/api/v1/services");
        assert_eq!(
            INGRESS.path(Some("shop")),
            "/apis/networking.k8s.io/v1/namespaces/shop/ingresses"
        );
        assert_eq!(
            INGRESS_CLASS.path(Some("shop")),
            "/apis/networking.k8s.io/v1/ingressclasses"
        );
        assert_eq!(encode("app in (a,b)"), "app%20in%20%28a%2Cb%29");
    }

    #[test]
    fn selectors() {
        let w = |resource, labels: &str, fields: &str| Watch {
            id: 0,
            resource,
            namespace: None,
            label_selector: labels.to_owned(),
            field_selector: fields.to_owned(),
        };
        assert_eq!(query(&w(INGRESS, "team=a", "")), "labelSelector=team%3Da");
        // The provider's selector is for Ingresses and CRDs, not for what they point at.
        assert_eq!(
            query(&w(SECRET, "team=a", "")),
            "labelSelector=owner%21%3Dhelm&fieldSelector=type%21%3Dhelm.sh%2Frelease.v1%2Ctype%21%3Dkubernetes.io%2Fservice-account-token"
        );
        assert_eq!(
            query(&w(ENDPOINT_SLICE, "team=a", "")),
            "labelSelector=kubernetes.io%2Fservice-name"
        );
        assert_eq!(
            query(&w(SERVICE, "team=a", "metadata.name=weir")),
            "fieldSelector=metadata.name%3Dweir"
        );
        assert_eq!(query(&w(INGRESS, "", "")), "");
    }
}
