//! `providers`.

use serde::{Deserialize, Serialize};

use crate::duration::Duration;

/// Traefik's default provider precedence (lower-cased; first wins priority ties).
pub const DEFAULT_PRECEDENCE: &[&str] = &[
    "kubernetesgateway",
    "kubernetescrd",
    "kubernetes",
    "kubernetesingressnginx",
    "swarm",
    "docker",
    "file",
    "redis",
    "knative",
    "consul",
    "consulcatalog",
    "nomad",
    "etcd",
    "ecs",
    "http",
    "zookeeper",
    "rest",
];

/// The `providers` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Providers {
    /// Minimum time between two configurations applied from one provider (default 2s).
    pub providers_throttle_duration: Duration,
    /// Provider order for priority ties (lower-cased by `effective()`).
    pub precedence: Vec<String>,
    /// File provider.
    pub file: Option<FileProviderConfig>,
    /// Kubernetes CRD provider.
    #[serde(rename = "kubernetesCRD")]
    pub kubernetes_crd: Option<KubernetesCrdConfig>,
    /// Kubernetes Ingress provider.
    pub kubernetes_ingress: Option<KubernetesIngressConfig>,
    /// Kubernetes Gateway API provider (not implemented yet; kept opaque).
    pub kubernetes_gateway: Option<serde_json::Value>,
    /// ingress-nginx compatibility provider (not implemented yet; kept opaque).
    #[serde(rename = "kubernetesIngressNGINX")]
    pub kubernetes_ingress_nginx: Option<serde_json::Value>,
    /// Traefik providers weir does not have; accepted so configs load, reported as ignored.
    pub docker: Option<serde_json::Value>,
    /// Not supported by weir.
    pub swarm: Option<serde_json::Value>,
    /// Not supported by weir.
    pub consul_catalog: Option<serde_json::Value>,
    /// Not supported by weir.
    pub nomad: Option<serde_json::Value>,
    /// Not supported by weir.
    pub ecs: Option<serde_json::Value>,
    /// Not supported by weir.
    pub consul: Option<serde_json::Value>,
    /// Not supported by weir.
    pub etcd: Option<serde_json::Value>,
    /// Not supported by weir.
    pub redis: Option<serde_json::Value>,
    /// Not supported by weir.
    pub zoo_keeper: Option<serde_json::Value>,
    /// Not supported by weir.
    pub http: Option<serde_json::Value>,
    /// Not supported by weir.
    pub rest: Option<serde_json::Value>,
    /// Not supported by weir.
    pub knative: Option<serde_json::Value>,
    /// Not supported by weir.
    pub plugin: Option<serde_json::Value>,
}

impl Default for Providers {
    fn default() -> Self {
        Providers {
            providers_throttle_duration: Duration::from_secs(2),
            precedence: Vec::new(),
            file: None,
            kubernetes_crd: None,
            kubernetes_ingress: None,
            kubernetes_gateway: None,
            kubernetes_ingress_nginx: None,
            docker: None,
            swarm: None,
            consul_catalog: None,
            nomad: None,
            ecs: None,
            consul: None,
            etcd: None,
            redis: None,
            zoo_keeper: None,
            http: None,
            rest: None,
            knative: None,
            plugin: None,
        }
    }
}

impl Providers {
    /// Names of configured providers weir does not implement.
    pub fn unsupported(&self) -> Vec<&'static str> {
        let list: [(&'static str, bool); 15] = [
            ("kubernetesGateway", self.kubernetes_gateway.is_some()),
            (
                "kubernetesIngressNGINX",
                self.kubernetes_ingress_nginx.is_some(),
            ),
            ("docker", self.docker.is_some()),
            ("swarm", self.swarm.is_some()),
            ("consulCatalog", self.consul_catalog.is_some()),
            ("nomad", self.nomad.is_some()),
            ("ecs", self.ecs.is_some()),
            ("consul", self.consul.is_some()),
            ("etcd", self.etcd.is_some()),
            ("redis", self.redis.is_some()),
            ("zooKeeper", self.zoo_keeper.is_some()),
            ("http", self.http.is_some()),
            ("rest", self.rest.is_some()),
            ("knative", self.knative.is_some()),
            ("plugin", self.plugin.is_some()),
        ];
        list.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect()
    }
}

/// `providers.file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FileProviderConfig {
    /// Directory of configuration files (exclusive with `filename`).
    pub directory: String,
    /// A single configuration file.
    pub filename: String,
    /// Reload on change (default true).
    pub watch: bool,
    /// Log the rendered template (Go templates are not supported by weir).
    pub debug_log_generated_template: bool,
}

impl Default for FileProviderConfig {
    fn default() -> Self {
        FileProviderConfig {
            directory: String::new(),
            filename: String::new(),
            watch: true,
            debug_log_generated_template: false,
        }
    }
}

/// `providers.kubernetesCRD`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct KubernetesCrdConfig {
    /// API server URL (empty = in-cluster / kubeconfig).
    pub endpoint: String,
    /// Bearer token.
    pub token: String,
    /// CA file for the API server.
    pub cert_auth_file_path: String,
    /// Kubeconfig file(s), `:`-separated (weir's option; Traefik reads only the
    /// `KUBECONFIG` variable).
    pub kubeconfig: String,
    /// Namespaces watched (empty = all).
    pub namespaces: Vec<String>,
    /// Label selector.
    pub label_selector: String,
    /// Only objects with this `kubernetes.io/ingress.class` annotation.
    pub ingress_class: String,
    /// Event throttle (default 0).
    pub throttle_duration: Duration,
    /// Allow services without endpoints.
    pub allow_empty_services: bool,
    /// Allow references across namespaces (default false).
    pub allow_cross_namespace: bool,
    /// Allow ExternalName services.
    pub allow_external_name_services: bool,
    /// Namespaces allowed to reference other providers.
    pub cross_provider_namespaces: Vec<String>,
    /// Use the Service ClusterIP instead of endpoints by default.
    #[serde(rename = "nativeLBByDefault")]
    pub native_lb_by_default: bool,
    /// Do not watch cluster-scoped resources.
    pub disable_cluster_scope_resources: bool,
}

/// `providers.kubernetesIngress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct KubernetesIngressConfig {
    /// API server URL (empty = in-cluster / kubeconfig).
    pub endpoint: String,
    /// Bearer token.
    pub token: String,
    /// CA file for the API server.
    pub cert_auth_file_path: String,
    /// Kubeconfig file(s), `:`-separated (weir's option; Traefik reads only the
    /// `KUBECONFIG` variable).
    pub kubeconfig: String,
    /// Namespaces watched (empty = all).
    pub namespaces: Vec<String>,
    /// Label selector.
    pub label_selector: String,
    /// IngressClass name handled.
    pub ingress_class: String,
    /// Status address to publish.
    pub ingress_endpoint: Option<IngressEndpoint>,
    /// Event throttle (default 0).
    pub throttle_duration: Duration,
    /// Allow services without endpoints.
    pub allow_empty_services: bool,
    /// Allow ExternalName services.
    pub allow_external_name_services: bool,
    /// Deprecated.
    pub disable_ingress_class_lookup: bool,
    /// Do not watch cluster-scoped resources.
    pub disable_cluster_scope_resources: bool,
    /// Use the Service ClusterIP instead of endpoints by default.
    #[serde(rename = "nativeLBByDefault")]
    pub native_lb_by_default: bool,
    /// Report node internal IPs for NodePort services.
    #[serde(rename = "reportNodeInternalIPs")]
    pub report_node_internal_ips: bool,
    /// `Prefix` path type matches whole segments only.
    pub strict_prefix_matching: bool,
}

/// `providers.kubernetesIngress.ingressEndpoint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressEndpoint {
    /// Hostname published.
    pub hostname: String,
    /// IP published.
    pub ip: String,
    /// `namespace/name` of a Service whose address is published.
    pub published_service: String,
}
