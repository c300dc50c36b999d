//! `providers.kubernetesIngress.ingressEndpoint`: the address written into
//! `status.loadBalancer.ingress` of every Ingress weir serves, so `kubectl get ingress`,
//! external-dns and Argo CD see where it is reachable.
//!
//! - `ip` and/or `hostname`: that one entry, as in Traefik.
//! - `publishedService: NS/NAME`: the Service's address. A `LoadBalancer` Service gives its
//!   `status.loadBalancer.ingress` (nothing is written until the cloud has assigned one, as
//!   in Traefik). A `ClusterIP` or `NodePort` Service gives its `externalIPs`, else a
//!   `ClusterIP` Service gives its cluster IPs; an `ExternalName` Service its name.
//!
//! An Ingress is patched (merge patch on the `status` subresource) only when its current
//! addresses differ from these, compared as a set of (ip, hostname) as Traefik does; the
//! watch then brings the new status back, so the loop settles. A write that fails for a
//! reason that may pass (the API server unreachable, 5xx, 429) is tried again after 1 s,
//! then twice as long each time up to 30 s, until it succeeds or a newer decision for the
//! same Ingress replaces it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use weir_config::static_config::IngressEndpoint;

use crate::client::{ApiError, Client};

/// Where the published address comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `ip`/`hostname` as configured.
    Fixed {
        /// IP.
        ip: String,
        /// Hostname.
        hostname: String,
    },
    /// `publishedService`.
    Service {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
}

impl Source {
    /// From the options.
    pub fn from_options(e: &IngressEndpoint) -> Result<Source, ApiError> {
        if !e.published_service.is_empty() {
            let parts: Vec<&str> = e.published_service.split('/').collect();
            return match parts.as_slice() {
                [ns, name] if !ns.is_empty() && !name.is_empty() => Ok(Source::Service {
                    namespace: (*ns).to_owned(),
                    name: (*name).to_owned(),
                }),
                _ => Err(ApiError::Config(format!(
                    "providers.kubernetesIngress.ingressEndpoint.publishedService {:?}: \
                     expected namespace/name",
                    e.published_service
                ))),
            };
        }
        if e.ip.is_empty() && e.hostname.is_empty() {
            return Err(ApiError::Config(
                "providers.kubernetesIngress.ingressEndpoint: set publishedService, ip or \
                 hostname"
                    .into(),
            ));
        }
        Ok(Source::Fixed {
            ip: e.ip.clone(),
            hostname: e.hostname.clone(),
        })
    }
}

/// The `status.loadBalancer.ingress` entries to publish; `None`: nothing to publish yet
/// (the Service is missing or has no address).
pub fn desired(source: &Source, published: Option<&Value>) -> Option<Vec<Value>> {
    match source {
        Source::Fixed { ip, hostname } => Some(vec![entry(ip, hostname)]),
        Source::Service { .. } => from_service(published?),
    }
}

fn entry(ip: &str, hostname: &str) -> Value {
    let mut e = serde_json::Map::new();
    if !ip.is_empty() {
        e.insert("ip".into(), Value::String(ip.to_owned()));
    }
    if !hostname.is_empty() {
        e.insert("hostname".into(), Value::String(hostname.to_owned()));
    }
    Value::Object(e)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty() && *s != "None")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn from_service(svc: &Value) -> Option<Vec<Value>> {
    let spec = svc.get("spec");
    let kind = spec
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    let external = strings(spec.and_then(|s| s.get("externalIPs")));
    let out: Vec<Value> = match kind {
        "LoadBalancer" => svc
            .pointer("/status/loadBalancer/ingress")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|i| {
                        let mut e = entry(
                            i.get("ip").and_then(Value::as_str).unwrap_or_default(),
                            i.get("hostname")
                                .and_then(Value::as_str)
                                .unwrap_or_default(),
                        );
                        if let (Some(ports), Some(m)) = (i.get("ports"), e.as_object_mut()) {
                            m.insert("ports".into(), ports.clone());
                        }
                        e
                    })
                    .filter(|e| e.as_object().is_some_and(|m| !m.is_empty()))
                    .collect()
            })
            .unwrap_or_default(),
        "ExternalName" => spec
            .and_then(|s| s.get("externalName"))
            .and_then(Value::as_str)
            .map(|h| vec![entry("", h)])
            .unwrap_or_default(),
        _ if !external.is_empty() => external.iter().map(|ip| entry(ip, "")).collect(),
        "ClusterIP" => {
            let mut ips = strings(spec.and_then(|s| s.get("clusterIPs")));
            if ips.is_empty() {
                ips = strings(
                    spec.and_then(|s| s.get("clusterIP"))
                        .map(|v| json!([v]))
                        .as_ref(),
                );
            }
            ips.iter().map(|ip| entry(ip, "")).collect()
        }
        // NodePort without externalIPs: the node addresses are not watched.
        _ => Vec::new(),
    };
    (!out.is_empty()).then_some(out)
}

/// Same addresses, whatever the order and the other fields (Traefik's comparison).
pub fn same(current: Option<&Value>, desired: &[Value]) -> bool {
    let key = |e: &Value| {
        let f = |k: &str| {
            e.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        (f("ip"), f("hostname"))
    };
    let current: Vec<&Value> = current
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    current.len() == desired.len()
        && current.iter().map(|e| key(e)).collect::<BTreeSet<_>>()
            == desired.iter().map(key).collect::<BTreeSet<_>>()
}

/// One Ingress to patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The Ingress' resourceVersion when the patch was decided.
    pub version: String,
    /// `status.loadBalancer.ingress`.
    pub ingress: Vec<Value>,
}

/// Patches sent but not seen back yet, by namespace and name: the version they were
/// decided on and the addresses. Until the watch brings a newer version of the Ingress,
/// its (old) status is not compared again, so other events do not write it twice.
pub type InFlight = Arc<Mutex<BTreeMap<(String, String), (String, Vec<Value>)>>>;

/// Whether `p` is already on its way (see [`InFlight`]).
pub fn in_flight(inflight: &InFlight, p: &Patch) -> bool {
    inflight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(p.namespace.clone(), p.name.clone()))
        .is_some_and(|(v, ingress)| *v == p.version && *ingress == p.ingress)
}

/// Records `p` as sent.
pub fn sent(inflight: &InFlight, p: &Patch) {
    inflight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            (p.namespace.clone(), p.name.clone()),
            (p.version.clone(), p.ingress.clone()),
        );
}

/// The first wait before a failed write is tried again, and the longest.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// A failed write waiting for another try.
struct Retry {
    patch: Patch,
    at: tokio::time::Instant,
    /// The wait after this try if it fails too.
    next_wait: Duration,
}

/// Applies the patches in the order they were decided (so the newest wins), and tries a
/// write that failed for a passing reason again with a growing wait.
pub async fn run(client: Client, mut rx: mpsc::UnboundedReceiver<Patch>, inflight: InFlight) {
    let mut retries: BTreeMap<(String, String), Retry> = BTreeMap::new();
    loop {
        let due = retries.values().map(|r| r.at).min();
        let (p, wait) = tokio::select! {
            p = rx.recv() => {
                let Some(p) = p else { return };
                // A newer decision replaces a pending retry of the same Ingress.
                retries.remove(&(p.namespace.clone(), p.name.clone()));
                (p, FIRST_RETRY)
            }
            () = sleep_until(due) => {
                let now = tokio::time::Instant::now();
                let Some(key) = retries.iter().find(|(_, r)| r.at <= now).map(|(k, _)| k.clone())
                else {
                    continue;
                };
                let Some(r) = retries.remove(&key) else { continue };
                (r.patch, r.next_wait)
            }
        };
        if let Err(e) = write(&client, &p).await {
            if e.is_transient() {
                // Still in flight: other events do not send it again and reset the wait;
                // a newer decision for the Ingress is not in flight and replaces it.
                tracing::warn!(
                    "kubernetes: Ingress {}/{}: writing its status: {e}; trying again in {}s",
                    p.namespace,
                    p.name,
                    wait.as_secs()
                );
                retries.insert(
                    (p.namespace.clone(), p.name.clone()),
                    Retry {
                        at: tokio::time::Instant::now() + wait,
                        next_wait: (wait * 2).min(LAST_RETRY),
                        patch: p,
                    },
                );
            } else {
                inflight
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&(p.namespace.clone(), p.name.clone()));
                tracing::warn!(
                    "kubernetes: Ingress {}/{}: writing its status: {e}",
                    p.namespace,
                    p.name
                );
            }
        }
    }
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One merge patch of an Ingress' status.
async fn write(client: &Client, p: &Patch) -> Result<(), ApiError> {
    let path = format!(
        "/apis/networking.k8s.io/v1/namespaces/{}/ingresses/{}/status",
        p.namespace, p.name
    );
    let body = json!({"status": {"loadBalancer": {"ingress": p.ingress}}});
    client.merge_patch(&path, &body).await?;
    tracing::info!(
        "kubernetes: Ingress {}/{}: status.loadBalancer.ingress set to {}",
        p.namespace,
        p.name,
        serde_json::to_string(&p.ingress).unwrap_or_default(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn svc(v: Value) -> Option<Vec<Value>> {
        desired(
            &Source::Service {
                namespace: "ns".into(),
                name: "weir".into(),
            },
            Some(&v),
        )
    }

    #[test]
    fn from_each_service_type() {
        assert_eq!(
            svc(json!({"spec": {"type": "LoadBalancer"},
                       "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7", "ipMode": "VIP"}, {"hostname": "lb.example"}]}}})),
            Some(vec![
                json!({"ip": "203.0.113.7"}),
                json!({"hostname": "lb.example"})
            ])
        );
        assert_eq!(
            svc(json!({"spec": {"type": "LoadBalancer"}, "status": {}})),
            None
        );
        assert_eq!(
            svc(
                json!({"spec": {"type": "ClusterIP", "clusterIP": "10.0.0.9", "clusterIPs": ["10.0.0.9", "fd00::9"]}})
            ),
            Some(vec![json!({"ip": "10.0.0.9"}), json!({"ip": "fd00::9"})])
        );
        assert_eq!(
            svc(json!({"spec": {"clusterIP": "10.0.0.9"}})),
            Some(vec![json!({"ip": "10.0.0.9"})])
        );
        assert_eq!(svc(json!({"spec": {"clusterIP": "None"}})), None);
        assert_eq!(
            svc(json!({"spec": {"type": "NodePort", "externalIPs": ["198.51.100.1"]}})),
            Some(vec![json!({"ip": "198.51.100.1"})])
        );
        assert_eq!(svc(json!({"spec": {"type": "NodePort"}})), None);
        assert_eq!(
            svc(json!({"spec": {"type": "ExternalName", "externalName": "edge.example"}})),
            Some(vec![json!({"hostname": "edge.example"})])
        );
        let none = desired(
            &Source::Service {
                namespace: "ns".into(),
                name: "weir".into(),
            },
            None,
        );
        assert_eq!(none, None);
    }

    #[test]
    fn options_and_comparison() {
        let e = IngressEndpoint {
            published_service: "kube-system/weir".into(),
            ..IngressEndpoint::default()
        };
        assert_eq!(
            Source::from_options(&e).unwrap(),
            Source::Service {
                namespace: "kube-system".into(),
                name: "weir".into()
            }
        );
        let bad = IngressEndpoint {
            published_service: "weir".into(),
            ..IngressEndpoint::default()
        };
        assert!(Source::from_options(&bad).is_err());
        assert!(Source::from_options(&IngressEndpoint::default()).is_err());
        let fixed = IngressEndpoint {
            ip: "192.0.2.1".into(),
            ..IngressEndpoint::default()
        };
        let s = Source::from_options(&fixed).unwrap();
        assert_eq!(desired(&s, None), Some(vec![json!({"ip": "192.0.2.1"})]));

        let want = vec![json!({"ip": "1.1.1.1"}), json!({"hostname": "h"})];
        let cur = json!([{"hostname": "h"}, {"ip": "1.1.1.1", "ports": []}]);
        assert!(same(Some(&cur), &want));
        assert!(!same(Some(&json!([{"ip": "1.1.1.1"}])), &want));
        assert!(!same(None, &want));
    }
}
