//! Typed forms of the Traefik CRD specs (only what the translation reads; unknown fields
//! are ignored as a client of a newer CRD version must).

use serde::Deserialize;
use weir_config::dynamic::{
    Domain, PassiveServerHealthCheck, ResponseForwarding, RouterObservabilityConfig,
    ServerHealthCheck, Sticky,
};

use crate::objects::IntOrString;

/// `IngressRoute.spec`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressRouteSpec {
    pub entry_points: Vec<String>,
    pub routes: Vec<RouteSpec>,
    pub tls: Option<TlsSpec>,
    #[schemars(with = "Vec<crate::crd::schema::Free>")]
    pub parent_refs: Vec<serde_json::Value>,
}

/// `routes[]`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteSpec {
    #[serde(rename = "match")]
    pub match_: String,
    pub kind: String,
    pub priority: i64,
    pub syntax: String,
    pub middlewares: Vec<ObjectReference>,
    pub services: Vec<LoadBalancerSpec>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    pub observability: Option<RouterObservabilityConfig>,
}

/// `{name, namespace}`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectReference {
    pub name: String,
    pub namespace: String,
}

/// `tls` of an IngressRoute.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsSpec {
    pub secret_name: String,
    pub options: Option<ObjectReference>,
    pub store: Option<ObjectReference>,
    pub cert_resolver: String,
    #[schemars(with = "Vec<crate::crd::schema::Free>")]
    pub domains: Vec<Domain>,
}

/// A route's (or a TraefikService's) service entry.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct LoadBalancerSpec {
    pub name: String,
    pub kind: String,
    pub namespace: String,
    pub port: Option<IntOrString>,
    pub scheme: String,
    pub strategy: String,
    pub weight: Option<i64>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    pub sticky: Option<Sticky>,
    pub pass_host_header: Option<bool>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    pub response_forwarding: Option<ResponseForwarding>,
    pub servers_transport: String,
    #[serde(rename = "nativeLB")]
    pub native_lb: Option<bool>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    pub health_check: Option<ServerHealthCheck>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    pub passive_health_check: Option<PassiveServerHealthCheck>,
    /// Only for mirrors.
    pub percent: i64,
}

impl LoadBalancerSpec {
    /// True for `kind: TraefikService`.
    pub fn is_traefik_service(&self) -> bool {
        self.kind == "TraefikService"
    }
}

/// `TraefikService.spec`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct TraefikServiceSpec {
    pub weighted: Option<WeightedSpec>,
    pub mirroring: Option<MirroringSpec>,
}

/// `weighted`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct WeightedSpec {
    pub services: Vec<LoadBalancerSpec>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    pub sticky: Option<Sticky>,
}

/// `mirroring`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct MirroringSpec {
    #[serde(flatten)]
    pub main: LoadBalancerSpec,
    pub mirrors: Vec<LoadBalancerSpec>,
    pub mirror_body: Option<bool>,
    pub max_body_size: Option<i64>,
}
