//! The live Kubernetes providers (`providers.kubernetesCRD`, `providers.kubernetesIngress`).
//!
//! Each provider runs one list-then-watch loop per kind and namespace ([`watch`]) against
//! the API server ([`client`]). Every event updates a store of the objects' JSON; once
//! every kind has been listed, each change (after `throttleDuration`) rebuilds a
//! [`weir_kube::ObjectSet`] from the store, translates it with the same code as
//! `weir check -f`, and publishes the provider's configuration. While a list or watch
//! fails (the API server unreachable, credentials refused, a kind RBAC does not allow),
//! the failing kinds keep what they held when they last answered and changes seen by the
//! others are still published, marked incomplete; the outage is reported once (weir counts
//! a failed reload and counts no success while incomplete) and, once every failed watcher
//! has listed again, the configuration is published complete even if unchanged (a
//! successful reload).
//!
//! A crate of its own, not part of `weir-kube`: the translation stays synchronous and free
//! of tokio and HTTP, and `weir-kube`'s tests and `check -f` do not build a client.

pub mod client;
pub mod connect;
pub mod kubeconfig;
pub mod status;
mod store;
mod tls;
pub mod watch;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use weir_config::dynamic::Configuration;
use weir_config::static_config::{KubernetesCrdConfig, KubernetesIngressConfig};
use weir_kube::{CrdOptions, IngressOptions, ObjectSet, Options, Problem, translate};

pub use client::{ApiConfig, ApiError, Client};
use watch::{Event, Resource, Watch};

/// What a provider reports.
#[derive(Debug, Clone)]
pub enum Report {
    /// Its new configuration.
    Config(Box<Publication>),
    /// Reading the API server failed (the message says how): once per outage. The
    /// configurations published meanwhile are incomplete; the configuration is reported
    /// complete when every failed watcher has listed again, changed or not, so a reload
    /// failure is always followed by a success when it recovers.
    Failing(String),
}

/// A provider's new configuration.
#[derive(Debug, Clone)]
pub struct Publication {
    /// Provider name (`kubernetescrd` or `kubernetes`).
    pub provider: &'static str,
    /// Its whole configuration.
    pub config: Configuration,
    /// What could not be translated.
    pub problems: Vec<Problem>,
    /// False while a list or watch fails: the configuration is made with what the failing
    /// kinds held when they last answered.
    pub complete: bool,
}

/// The kinds both providers watch besides their own: backends, their endpoints and TLS
/// secrets.
const SHARED_RESOURCES: [Resource; 3] = [watch::SERVICE, watch::ENDPOINT_SLICE, watch::SECRET];

/// Resolves the API server and credentials from a provider's connection options.
fn connection(
    endpoint: &str,
    token: &str,
    cert_auth_file_path: &str,
    kubeconfig: &str,
) -> Result<ApiConfig, ApiError> {
    connect::resolve(
        &connect::Options {
            endpoint,
            token,
            cert_auth_file_path,
            kubeconfig,
        },
        &connect::Env::current(),
    )
}

/// One configured live provider.
#[derive(Debug, Clone)]
pub struct Provider {
    name: &'static str,
    api: ApiConfig,
    options: Options,
    resources: Vec<Resource>,
    namespaces: Vec<String>,
    label_selector: String,
    throttle: Duration,
    /// `ingressEndpoint`: the address written into served Ingresses' status.
    status: Option<status::Source>,
}

/// Sends the failure that began an outage, if one did since the last call; false when
/// nobody listens any more. (The next publication goes out even if unchanged: it is
/// incomplete where the last was not.)
async fn report_outage(store: &mut store::Store, out: &mpsc::Sender<Report>) -> bool {
    let Some(error) = store.take_failure() else {
        return true;
    };
    out.send(Report::Failing(error)).await.is_ok()
}

impl Provider {
    /// `providers.kubernetesIngress`.
    pub fn ingress(c: &KubernetesIngressConfig) -> Result<Self, ApiError> {
        let mut resources = vec![watch::INGRESS];
        if !c.disable_cluster_scope_resources {
            resources.push(watch::INGRESS_CLASS);
        }
        resources.extend(SHARED_RESOURCES);
        Ok(Provider {
            name: weir_kube::INGRESS_PROVIDER,
            api: connection(&c.endpoint, &c.token, &c.cert_auth_file_path, &c.kubeconfig)?,
            options: Options {
                ingress: Some(IngressOptions::from_static(c)),
                ..Options::default()
            },
            resources,
            namespaces: c.namespaces.clone(),
            label_selector: c.label_selector.clone(),
            throttle: c.throttle_duration.to_std().unwrap_or_default(),
            status: c
                .ingress_endpoint
                .as_ref()
                .map(status::Source::from_options)
                .transpose()?,
        })
    }

    /// `providers.kubernetesCRD`.
    pub fn crd(c: &KubernetesCrdConfig) -> Result<Self, ApiError> {
        let mut resources = watch::TRAEFIK_KINDS.to_vec();
        resources.extend(SHARED_RESOURCES);
        Ok(Provider {
            name: weir_kube::CRD_PROVIDER,
            api: connection(&c.endpoint, &c.token, &c.cert_auth_file_path, &c.kubeconfig)?,
            options: Options {
                crd: Some(CrdOptions::from_static(c)),
                ..Options::default()
            },
            resources,
            namespaces: c.namespaces.clone(),
            label_selector: c.label_selector.clone(),
            throttle: c.throttle_duration.to_std().unwrap_or_default(),
            status: None,
        })
    }

    /// The provider's name (`kubernetescrd` or `kubernetes`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The API server's base URL.
    pub fn endpoint(&self) -> &str {
        &self.api.base
    }

    /// Where the API server and credentials came from (`in-cluster service account`,
    /// `kubeconfig PATH (context C)`, `endpoint`).
    pub fn source(&self) -> &str {
        &self.api.source
    }

    /// Runs the watches and reports into `out` until `out` is closed.
    pub async fn run(self, out: mpsc::Sender<Report>) -> Result<(), ApiError> {
        let client = Client::new(self.api.clone())?;
        let (tx, mut rx) = mpsc::channel::<Event>(256);
        let mut watches = Vec::new();
        for r in &self.resources {
            let scopes: Vec<Option<String>> = if self.namespaces.is_empty() || !r.namespaced {
                vec![None]
            } else {
                self.namespaces.iter().cloned().map(Some).collect()
            };
            for ns in scopes {
                watches.push(Watch {
                    id: watches.len(),
                    resource: *r,
                    namespace: ns,
                    label_selector: self.label_selector.clone(),
                    field_selector: String::new(),
                });
            }
        }
        // The published Service is watched on its own (by name), whatever `namespaces`
        // says: it is read for the status only, never translated.
        let status_watch = match &self.status {
            Some(status::Source::Service { namespace, name }) => {
                watches.push(Watch {
                    id: watches.len(),
                    resource: watch::SERVICE,
                    namespace: Some(namespace.clone()),
                    label_selector: String::new(),
                    field_selector: format!("metadata.name={name}"),
                });
                Some(watches.len() - 1)
            }
            _ => None,
        };
        let (status_tx, status_rx) = mpsc::unbounded_channel();
        let inflight = status::InFlight::default();
        if self.status.is_some() {
            tokio::spawn(status::run(client.clone(), status_rx, inflight.clone()));
        }
        let mut listed = vec![false; watches.len()];
        let mut tasks = tokio::task::JoinSet::new();
        for w in watches {
            tasks.spawn(watch::run(client.clone(), w, tx.clone()));
        }
        drop(tx);
        let mut store = store::Store::new(status_watch);
        // The last publication: its configuration and whether it was complete.
        let mut last: Option<(Configuration, bool)> = None;
        while let Some(ev) = rx.recv().await {
            store.apply(ev, &mut listed);
            if !report_outage(&mut store, &out).await {
                return Ok(());
            }
            // Nothing is published before every kind has been listed once; after that, a
            // failing kind keeps what it held while the others go on.
            if !listed.iter().all(|l| *l) {
                continue;
            }
            // Let a burst of events settle: everything arriving within `throttle` is taken
            // together (what is already queued is always taken).
            let deadline = tokio::time::Instant::now() + self.throttle;
            loop {
                match rx.try_recv() {
                    Ok(ev) => store.apply(ev, &mut listed),
                    Err(mpsc::error::TryRecvError::Disconnected) => return Ok(()),
                    Err(mpsc::error::TryRecvError::Empty) => {
                        match tokio::time::timeout_at(deadline, rx.recv()).await {
                            Ok(Some(ev)) => store.apply(ev, &mut listed),
                            Ok(None) => return Ok(()),
                            Err(_) => break,
                        }
                    }
                }
            }
            if !report_outage(&mut store, &out).await {
                return Ok(());
            }
            let set = store.set();
            if let Some(source) = &self.status {
                for p in self.status_patches(&store, set, source, status_watch) {
                    if !status::in_flight(&inflight, &p) {
                        status::sent(&inflight, &p);
                        let _ = status_tx.send(p);
                    }
                }
            }
            let publication = self.translate(set, !store.failing());
            if last.as_ref().is_some_and(|(c, complete)| {
                *c == publication.config && *complete == publication.complete
            }) {
                continue;
            }
            last = Some((publication.config.clone(), publication.complete));
            if out
                .send(Report::Config(Box::new(publication)))
                .await
                .is_err()
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The served Ingresses whose status differs from what `source` says.
    fn status_patches(
        &self,
        store: &store::Store,
        set: &ObjectSet,
        source: &status::Source,
        status_watch: Option<usize>,
    ) -> Vec<status::Patch> {
        let Some(ing) = &self.options.ingress else {
            return Vec::new();
        };
        let published = status_watch.and_then(|id| {
            let status::Source::Service { namespace, name } = source else {
                return None;
            };
            store.objects.get(&(id, namespace.clone(), name.clone()))
        });
        let Some(desired) = status::desired(source, published) else {
            return Vec::new();
        };
        let ingresses: BTreeMap<(&str, &str), &Value> = store
            .objects
            .iter()
            .filter(|(_, v)| v.get("kind").and_then(Value::as_str) == Some("Ingress"))
            .map(|((_, ns, name), v)| ((ns.as_str(), name.as_str()), v))
            .collect();
        weir_kube::served_ingresses(set, ing)
            .into_iter()
            .filter_map(|r| {
                let v = ingresses.get(&(r.namespace.as_str(), r.name.as_str()))?;
                if status::same(v.pointer("/status/loadBalancer/ingress"), &desired) {
                    return None;
                }
                let version = v
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                Some(status::Patch {
                    namespace: r.namespace,
                    name: r.name,
                    version,
                    ingress: desired.clone(),
                })
            })
            .collect()
    }

    fn translate(&self, set: &ObjectSet, complete: bool) -> Publication {
        let mut t = translate(set, &self.options);
        let config = if self.options.crd.is_some() {
            std::mem::take(&mut t.crd)
        } else {
            std::mem::take(&mut t.ingress)
        };
        Publication {
            provider: self.name,
            config,
            problems: t.problems,
            complete,
        }
    }
}
