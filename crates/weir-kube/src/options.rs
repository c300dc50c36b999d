//! Translation options: Traefik's provider options, plus what the offline `manifests`
//! source adds (endpoints given on the command line).

use std::collections::BTreeMap;

use weir_config::static_config::{KubernetesCrdConfig, KubernetesIngressConfig};

/// The IngressClass controller value Traefik's Ingress provider answers to; weir answers
/// to it too, so existing classes keep working.
pub const TRAEFIK_CONTROLLER: &str = "traefik.io/ingress-controller";

/// weir's own IngressClass controller value.
pub const WEIR_CONTROLLER: &str = "weir.dev/ingress-controller";

/// The controller value of ingress-nginx' classes.
pub const NGINX_CONTROLLER: &str = "k8s.io/ingress-nginx";

/// Options shared by both providers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendOptions {
    /// Allow `ExternalName` services.
    pub allow_external_name_services: bool,
    /// Keep services without endpoints (they answer 503) instead of disabling the route.
    pub allow_empty_services: bool,
    /// Use the Service's ClusterIP instead of its endpoints unless a route says otherwise.
    pub native_lb_by_default: bool,
}

/// `providers.kubernetesCRD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrdOptions {
    /// Only objects whose `kubernetes.io/ingress.class` annotation has this value (empty:
    /// objects without the annotation or with `traefik`).
    pub ingress_class: String,
    /// Allow references to other namespaces (default false).
    pub allow_cross_namespace: bool,
    /// Namespaces read (empty: all).
    pub namespaces: Vec<String>,
    /// Backend options.
    pub backends: BackendOptions,
}

impl CrdOptions {
    /// From the static configuration.
    pub fn from_static(c: &KubernetesCrdConfig) -> Self {
        CrdOptions {
            ingress_class: c.ingress_class.clone(),
            allow_cross_namespace: c.allow_cross_namespace,
            namespaces: c.namespaces.clone(),
            backends: BackendOptions {
                allow_external_name_services: c.allow_external_name_services,
                allow_empty_services: c.allow_empty_services,
                native_lb_by_default: c.native_lb_by_default,
            },
        }
    }
}

/// `providers.kubernetesIngress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressOptions {
    /// The IngressClass name weir serves. Set it to take over an existing class (such as
    /// `nginx`): Ingresses naming it are served whatever the class' controller value.
    /// Empty: classes whose controller is one of `controllers`, Ingresses with the legacy
    /// annotation `traefik`, and Ingresses with no class at all.
    pub ingress_class: String,
    /// Controller values weir answers to.
    pub controllers: Vec<String>,
    /// Namespaces read (empty: all).
    pub namespaces: Vec<String>,
    /// Backend options.
    pub backends: BackendOptions,
}

impl Default for IngressOptions {
    fn default() -> Self {
        IngressOptions {
            ingress_class: String::new(),
            controllers: vec![TRAEFIK_CONTROLLER.into(), WEIR_CONTROLLER.into()],
            namespaces: Vec::new(),
            backends: BackendOptions::default(),
        }
    }
}

impl IngressOptions {
    /// From the static configuration.
    pub fn from_static(c: &KubernetesIngressConfig) -> Self {
        IngressOptions {
            ingress_class: c.ingress_class.clone(),
            namespaces: c.namespaces.clone(),
            backends: BackendOptions {
                allow_external_name_services: c.allow_external_name_services,
                allow_empty_services: c.allow_empty_services,
                native_lb_by_default: c.native_lb_by_default,
            },
            ..IngressOptions::default()
        }
    }
}

/// A Service port, for endpoint overrides: namespace, service name, and the port as
/// written (a number or a port name).
pub type ServicePortKey = (String, String, String);

/// Everything the translation is told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The CRD provider, when enabled.
    pub crd: Option<CrdOptions>,
    /// The Ingress provider, when enabled.
    pub ingress: Option<IngressOptions>,
    /// Endpoints standing in for a Service port's (`--endpoint NS/SVC:PORT=HOST:PORT`):
    /// `host:port` values.
    pub endpoints: BTreeMap<ServicePortKey, Vec<String>>,
    /// Objects come from files, not a cluster: a Service without any EndpointSlice is
    /// reached by its cluster DNS name (with a warning) rather than disabled.
    pub offline: bool,
}

impl Options {
    /// Both providers with default options.
    pub fn both() -> Self {
        Options {
            crd: Some(CrdOptions::default()),
            ingress: Some(IngressOptions::default()),
            ..Options::default()
        }
    }
}
