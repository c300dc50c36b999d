//! `traefik.io/v1alpha1` objects: IngressRoute, Middleware, TLSOption, TLSStore,
//! ServersTransport, TraefikService, translated as Traefik's `kubernetesCRD` provider does,
//! with the same generated names.

mod ingressroute;
mod middleware;
mod others;
pub mod schema;
mod spec;

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use weir_config::dynamic::{CertAndStores, Configuration, ServersLoadBalancer};

use crate::backend::{self, Want};
use crate::names::{normalize, object_id};
use crate::objects::IntOrString;
use crate::options::{CrdOptions, Options};
use crate::problem::{Problem, Sink};
use crate::set::{Kind, Object, ObjectRef, ObjectSet};

use spec::LoadBalancerSpec;

/// The annotation Traefik filters CRDs by.
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Translates the CRD objects of `set` into `out`.
pub(crate) fn translate(
    set: &ObjectSet,
    opts: &Options,
    crd: &CrdOptions,
    out: &mut Configuration,
    problems: &mut Vec<Problem>,
) {
    let mut cx = Cx {
        set,
        opts,
        crd,
        out,
        problems,
        certs: BTreeSet::new(),
    };
    others::tls_options(&mut cx);
    others::tls_stores(&mut cx);
    others::servers_transports(&mut cx);
    middleware::middlewares(&mut cx);
    others::traefik_services(&mut cx);
    ingressroute::ingress_routes(&mut cx);
}

/// Translation state for the CRD provider.
pub(crate) struct Cx<'a> {
    pub set: &'a ObjectSet,
    pub opts: &'a Options,
    pub crd: &'a CrdOptions,
    pub out: &'a mut Configuration,
    pub problems: &'a mut Vec<Problem>,
    /// Secrets already added to `tls.certificates`.
    pub certs: BTreeSet<(String, String)>,
}

impl<'a> Cx<'a> {
    /// The objects of a kind this provider reads (namespace and class filters applied).
    pub fn objects(&self, kind: Kind) -> Vec<(&'a ObjectRef, &'a Object)> {
        self.set
            .of_kind(kind)
            .filter(|(k, o)| {
                (self.crd.namespaces.is_empty() || self.crd.namespaces.contains(&k.namespace))
                    && self.class_matches(o)
            })
            .collect()
    }

    fn class_matches(&self, o: &Object) -> bool {
        let class = o
            .meta
            .annotations
            .get(CLASS_ANNOTATION)
            .map_or("", String::as_str);
        class == self.crd.ingress_class || (self.crd.ingress_class.is_empty() && class == "traefik")
    }

    pub fn sink(&mut self, key: &ObjectRef) -> Sink<'_> {
        Sink {
            object: key.clone(),
            out: self.problems,
        }
    }

    /// A spec read into a typed form; a wrong type is an error on the object.
    pub fn spec<T: DeserializeOwned + Default>(
        &mut self,
        key: &ObjectRef,
        o: &Object,
    ) -> Option<T> {
        let crate::set::Body::Crd(v) = &o.body else {
            return None;
        };
        match serde_json::from_value(v.clone()) {
            Ok(s) => Some(s),
            Err(e) => {
                self.sink(key).error("spec", e.to_string());
                None
            }
        }
    }

    /// The namespace a reference points to, refusing other namespaces unless
    /// `allowCrossNamespace`.
    pub fn ref_namespace(&self, own: &str, given: &str) -> Result<String, String> {
        let ns = if given.is_empty() { own } else { given };
        if ns != own && !self.crd.allow_cross_namespace {
            return Err(format!(
                "namespace {ns:?} is not allowed: references across namespaces are off (allowCrossNamespace)"
            ));
        }
        Ok(ns.to_owned())
    }

    /// A reference to a Middleware or TraefikService: `name@provider` is kept; otherwise
    /// `Normalize(namespace-name)`.
    pub fn ref_name(&self, own: &str, name: &str, namespace: &str) -> Result<String, String> {
        if name.contains('@') {
            if !self.crd.allow_cross_namespace && name.ends_with("@kubernetescrd") {
                return Err(format!(
                    "{name:?}: a @kubernetescrd reference may name another namespace, which is off (allowCrossNamespace)"
                ));
            }
            return Ok(name.to_owned());
        }
        let ns = self.ref_namespace(own, namespace)?;
        Ok(object_id(&ns, name))
    }

    /// Adds a `kubernetes.io/tls` Secret to `tls.certificates` (once).
    pub fn add_certificate(&mut self, namespace: &str, secret: &str) -> Result<(), String> {
        let key = (namespace.to_owned(), secret.to_owned());
        if self.certs.contains(&key) {
            return Ok(());
        }
        let (cert, key_pem) = crate::secrets::tls_pair(self.set, namespace, secret)?;
        self.out.tls.certificates.push(CertAndStores {
            cert_file: cert,
            key_file: key_pem,
            stores: Vec::new(),
        });
        self.certs.insert(key);
        Ok(())
    }

    /// A load balancer over a Service's endpoints, from a route's service entry.
    pub fn load_balancer(
        &self,
        own_ns: &str,
        spec: &LoadBalancerSpec,
    ) -> Result<(ServersLoadBalancer, Option<String>), String> {
        let ns = self.ref_namespace(own_ns, &spec.namespace)?;
        let port = spec.port.clone().unwrap_or(IntOrString::Int(0));
        if matches!(&port, IntOrString::Int(0))
            || matches!(&port, IntOrString::String(s) if s.is_empty())
        {
            return Err(format!("service {ns}/{}: port is required", spec.name));
        }
        let resolved = backend::resolve(
            self.set,
            self.opts,
            &self.crd.backends,
            &ns,
            &spec.name,
            &port,
            &Want {
                scheme: Some(spec.scheme.as_str()).filter(|s| !s.is_empty()),
                native_lb: spec.native_lb,
            },
        )?;
        let mut lb = ServersLoadBalancer {
            servers: resolved.servers,
            sticky: spec.sticky.clone(),
            health_check: spec.health_check.clone(),
            passive_health_check: spec.passive_health_check.clone(),
            pass_host_header: spec.pass_host_header.unwrap_or(true),
            ..ServersLoadBalancer::default()
        };
        if !spec.strategy.is_empty() {
            lb.strategy = match spec.strategy.as_str() {
                // Traefik's CRD spelling of the default strategy.
                "RoundRobin" => "wrr".to_owned(),
                s => s.to_owned(),
            };
        }
        if let Some(rf) = &spec.response_forwarding {
            lb.response_forwarding = rf.clone();
        }
        if !spec.servers_transport.is_empty() {
            lb.servers_transport = if spec.servers_transport.contains('@') {
                spec.servers_transport.clone()
            } else {
                object_id(&ns, &spec.servers_transport)
            };
        }
        Ok((lb, resolved.warning))
    }

    /// Traefik's `fullServiceName`: `Normalize(namespace-name-port)`.
    pub fn full_service_name(&self, own_ns: &str, spec: &LoadBalancerSpec) -> String {
        let ns = if spec.namespace.is_empty() {
            own_ns
        } else {
            &spec.namespace
        };
        let port = spec
            .port
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        normalize(&format!("{ns}-{}-{port}", spec.name))
    }
}

impl Cx<'_> {
    /// A service entry used as a child (of a weighted route or TraefikService): a
    /// TraefikService reference is returned as its name; a Service becomes a load balancer
    /// named `Normalize(namespace-name-port)`. Warnings go to `key`.
    pub fn child_service(
        &mut self,
        key: &ObjectRef,
        field: &str,
        own_ns: &str,
        spec: &LoadBalancerSpec,
    ) -> Result<String, String> {
        if spec.is_traefik_service() {
            return self.ref_name(own_ns, &spec.name, &spec.namespace);
        }
        let (lb, warning) = self.load_balancer(own_ns, spec)?;
        if let Some(w) = warning {
            self.sink(key).warning(field, w);
        }
        let name = self.full_service_name(own_ns, spec);
        self.out.http.services.insert(
            name.clone(),
            weir_config::dynamic::Service {
                load_balancer: Some(lb),
                ..Default::default()
            },
        );
        Ok(name)
    }
}
