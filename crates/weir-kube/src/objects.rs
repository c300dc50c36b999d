//! The Kubernetes objects weir reads, as serde types holding only the fields it uses.
//!
//! The field names are the API's JSON names, so the same types read a manifest on disk
//! (YAML turned into JSON) and an object served by the API server. Unknown fields are
//! ignored, as a client of a newer API server must; CRD specs are kept as JSON and read
//! field by field in `crd/`, where wrong values are reported with their field path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Name.
    pub name: String,
    /// Namespace (empty for cluster-scoped objects; `default` is applied when read).
    pub namespace: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

/// An integer or a name (`intstr.IntOrString`), e.g. a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A number.
    Int(i64),
    /// A name.
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl std::fmt::Display for IntOrString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

// ------------------------------------------------------------------ networking.k8s.io/v1

/// `Ingress.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressSpec {
    /// Name of the IngressClass.
    pub ingress_class_name: Option<String>,
    /// Backend for requests no rule matches.
    pub default_backend: Option<IngressBackend>,
    /// TLS hosts and secrets.
    pub tls: Vec<IngressTls>,
    /// Host rules.
    pub rules: Vec<IngressRule>,
}

/// `Ingress.spec.tls[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressTls {
    /// Hosts covered.
    pub hosts: Vec<String>,
    /// A `kubernetes.io/tls` Secret in the Ingress' namespace.
    pub secret_name: Option<String>,
}

/// `Ingress.spec.rules[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressRule {
    /// Host, exact or `*.` wildcard; empty for every host.
    pub host: Option<String>,
    /// HTTP paths.
    pub http: Option<HttpIngressRuleValue>,
}

/// `Ingress.spec.rules[].http`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpIngressRuleValue {
    /// Paths.
    pub paths: Vec<HttpIngressPath>,
}

/// `Ingress.spec.rules[].http.paths[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpIngressPath {
    /// Path (absolute; a regex under ingress-nginx `use-regex`).
    pub path: Option<String>,
    /// `Exact`, `Prefix` or `ImplementationSpecific` (required by the API).
    pub path_type: Option<String>,
    /// Where matching requests go.
    pub backend: IngressBackend,
}

/// An Ingress backend: a Service port or a typed resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressBackend {
    /// A Service in the Ingress' namespace.
    pub service: Option<IngressServiceBackend>,
    /// A resource (`apiGroup`, `kind`, `name`).
    pub resource: Option<serde_json::Value>,
}

/// `backend.service`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressServiceBackend {
    /// Service name.
    pub name: String,
    /// Port by number or name.
    pub port: ServiceBackendPort,
}

/// `backend.service.port`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceBackendPort {
    /// Port name.
    pub name: Option<String>,
    /// Port number.
    pub number: Option<i64>,
}

/// `IngressClass.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressClassSpec {
    /// The controller that handles the class.
    pub controller: String,
}

// ------------------------------------------------------------------ core/v1, discovery/v1

/// `Service.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `ClusterIP` (default), `NodePort`, `LoadBalancer`, `ExternalName`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Cluster IP (`None` for headless services).
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    /// DNS name for `ExternalName` services.
    pub external_name: Option<String>,
    /// Ports.
    pub ports: Vec<ServicePort>,
}

/// `Service.spec.ports[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServicePort {
    /// Name (required when there are several ports).
    pub name: Option<String>,
    /// Service port.
    pub port: i64,
    /// Pod port (number or container port name).
    pub target_port: Option<IntOrString>,
    /// `TCP` (default), `UDP`, `SCTP`.
    pub protocol: Option<String>,
    /// Application protocol hint (`http`, `https`, `kubernetes.io/h2c`...).
    pub app_protocol: Option<String>,
}

/// An EndpointSlice (`discovery.k8s.io/v1`); the fields are top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndpointSliceData {
    /// `IPv4`, `IPv6` or `FQDN`.
    pub address_type: String,
    /// Endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Ports (names match the Service's port names).
    pub ports: Vec<EndpointPort>,
}

/// `endpoints[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Endpoint {
    /// Addresses (all of one endpoint are the same pod).
    pub addresses: Vec<String>,
    /// Readiness.
    pub conditions: EndpointConditions,
}

/// `endpoints[].conditions`; a missing condition counts as true for `ready` and `serving`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndpointConditions {
    /// Ready for traffic.
    pub ready: Option<bool>,
    /// Serving (may be true while terminating).
    pub serving: Option<bool>,
    /// Terminating.
    pub terminating: Option<bool>,
}

/// `ports[]` of an EndpointSlice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndpointPort {
    /// The Service port's name.
    pub name: Option<String>,
    /// Pod port.
    pub port: Option<i64>,
    /// Protocol.
    pub protocol: Option<String>,
}

/// A Secret; `data` is base64, `stringData` plain (only in manifests).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SecretData {
    /// `kubernetes.io/tls`, `Opaque`, ...
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Base64 values.
    pub data: BTreeMap<String, String>,
    /// Plain values (merged over `data` by the API server on write).
    pub string_data: BTreeMap<String, String>,
}
