//! The `CustomResourceDefinition` manifests of the `traefik.io/v1alpha1` kinds weir reads,
//! generated from the same Rust types the translation deserializes the specs into
//! (`schemars` derives on [`super::spec`] and [`super::others`]). Group, version, kind and
//! plural names are Traefik's, so existing manifests and RBAC apply unchanged.
//!
//! The schemas describe what weir reads and keep everything else
//! (`x-kubernetes-preserve-unknown-fields` on `spec` and on the parts weir takes as
//! Traefik's dynamic configuration: middlewares, sticky, health checks...): weir reports
//! problems per object itself (`weir check`, the API) rather than having the API server
//! refuse a manifest Traefik accepts. No `default` is emitted, so the API server never
//! rewrites an object.
//!
//! `crates/weir-kube/tests/crds.rs` fails when `deploy/helm/weir/crds/` differs from this
//! output, and rewrites the files with `WEIR_WRITE_CRDS=1`.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use super::others::{ServersTransportSpec, TlsOptionSpec, TlsStoreSpec};
use super::spec::{IngressRouteSpec, TraefikServiceSpec};
use crate::objects::IntOrString;

/// Any object, kept as written (a part weir reads as Traefik's dynamic configuration).
pub(crate) struct Free;

impl JsonSchema for Free {
    fn schema_name() -> Cow<'static, str> {
        "Free".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
    }
}

impl JsonSchema for IntOrString {
    fn schema_name() -> Cow<'static, str> {
        "IntOrString".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"x-kubernetes-int-or-string": true})
    }
}

/// One generated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdManifest {
    /// File name (`traefik.io_ingressroutes.yaml`, as Traefik names them).
    pub file_name: String,
    /// The YAML.
    pub yaml: String,
}

struct KindInfo {
    kind: &'static str,
    plural: &'static str,
    description: &'static str,
    spec: fn(&mut SchemaGenerator) -> Schema,
    required: &'static [&'static str],
}

fn kinds() -> Vec<KindInfo> {
    vec![
        KindInfo {
            kind: "IngressRoute",
            plural: "ingressroutes",
            description: "HTTP routes: rules matched on entrypoints, with their middlewares, services and TLS.",
            spec: |g| g.subschema_for::<IngressRouteSpec>(),
            required: &["routes"],
        },
        KindInfo {
            kind: "Middleware",
            plural: "middlewares",
            description: "An HTTP middleware; the spec is Traefik's dynamic middleware configuration.",
            spec: |g| g.subschema_for::<Free>(),
            required: &[],
        },
        KindInfo {
            kind: "TLSOption",
            plural: "tlsoptions",
            description: "TLS parameters (versions, cipher suites, client authentication) routers refer to.",
            spec: |g| g.subschema_for::<TlsOptionSpec>(),
            required: &[],
        },
        KindInfo {
            kind: "TLSStore",
            plural: "tlsstores",
            description: "The default certificate and the certificates served by SNI (only `default` is used).",
            spec: |g| g.subschema_for::<TlsStoreSpec>(),
            required: &[],
        },
        KindInfo {
            kind: "ServersTransport",
            plural: "serverstransports",
            description: "How weir connects to backend servers: TLS, timeouts, connection reuse.",
            spec: |g| g.subschema_for::<ServersTransportSpec>(),
            required: &[],
        },
        KindInfo {
            kind: "TraefikService",
            plural: "traefikservices",
            description: "A weighted or mirroring service over Kubernetes Services and other TraefikServices.",
            spec: |g| g.subschema_for::<TraefikServiceSpec>(),
            required: &[],
        },
    ]
}

/// The manifests, in kind order.
pub fn manifests() -> Vec<CrdManifest> {
    let mut g = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    kinds()
        .into_iter()
        .map(|k| {
            let mut spec = (k.spec)(&mut g).to_value();
            clean(&mut spec);
            if let Some(m) = spec.as_object_mut()
                && !k.required.is_empty()
            {
                m.insert("required".into(), json!(k.required));
            }
            let singular = k.kind.to_ascii_lowercase();
            let crd = json!({
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {
                    "name": format!("{}.traefik.io", k.plural),
                    "labels": {"app.kubernetes.io/part-of": "weir"},
                },
                "spec": {
                    "group": "traefik.io",
                    "scope": "Namespaced",
                    "names": {
                        "kind": k.kind,
                        "listKind": format!("{}List", k.kind),
                        "plural": k.plural,
                        "singular": singular,
                    },
                    "versions": [{
                        "name": "v1alpha1",
                        "served": true,
                        "storage": true,
                        "schema": {"openAPIV3Schema": {
                            "description": k.description,
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec,
                            },
                            "required": ["spec"],
                        }},
                    }],
                },
            });
            let body = serde_saphyr::to_string(&crd).unwrap_or_else(|_| crd.to_string());
            CrdManifest {
                file_name: format!("traefik.io_{}.yaml", k.plural),
                yaml: format!(
                    "# Generated from weir's Rust types by crates/weir-kube/src/crd/schema.rs; do not edit.\n\
                     # Regenerate: WEIR_WRITE_CRDS=1 cargo test -p weir-kube --test crds\n{body}"
                ),
            }
        })
        .collect()
}

/// Makes a generated schema a Kubernetes structural schema: no `default` (the API server
/// would write it into objects), no titles or per-field descriptions, no JSON Schema
/// `null` types (`nullable` instead), only the number formats Kubernetes knows, and
/// unknown fields kept in every object.
fn clean(v: &mut Value) {
    let Some(m) = v.as_object_mut() else {
        if let Some(a) = v.as_array_mut() {
            a.iter_mut().for_each(clean);
        }
        return;
    };
    for k in ["default", "title", "description", "$schema", "examples"] {
        m.remove(k);
    }
    if let Some(Value::Array(types)) = m.get("type").cloned() {
        let non_null: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        if let [one] = non_null.as_slice() {
            m.insert("type".into(), one.clone());
            m.insert("nullable".into(), Value::Bool(true));
        }
    }
    // Fields weir does not read are kept at every level, not pruned: a Traefik manifest
    // round-trips unchanged.
    if m.get("type").and_then(Value::as_str) == Some("object") {
        m.insert(
            "x-kubernetes-preserve-unknown-fields".into(),
            Value::Bool(true),
        );
    }
    if let Some(f) = m.get("format").and_then(Value::as_str)
        && !matches!(f, "int32" | "int64" | "float" | "double")
    {
        m.remove("format");
    }
    // `minimum: 0` comes with the unsigned formats just removed; keep it, it is valid.
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        if k == "properties" {
            if let Some(Value::Object(props)) = m.get_mut("properties") {
                props.values_mut().for_each(clean);
            }
        } else if let Some(child) = m.get_mut(&k)
            && (child.is_object() || child.is_array())
        {
            clean(child);
        }
    }
}
