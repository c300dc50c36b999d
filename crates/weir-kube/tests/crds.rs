//! The CRD manifests in `deploy/helm/weir/crds/` are generated from weir's Rust types
//! (`weir_kube::crd_manifests`). This test fails when a file is stale; run it with
//! `WEIR_WRITE_CRDS=1` to rewrite them.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::Value;

fn crds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/weir/crds")
}

#[test]
fn deploy_crds_are_the_generated_ones() {
    let write = std::env::var_os("WEIR_WRITE_CRDS").is_some();
    let manifests = weir_kube::crd_manifests();
    assert_eq!(manifests.len(), 6);
    for m in &manifests {
        let path = crds_dir().join(&m.file_name);
        if write {
            std::fs::write(&path, &m.yaml).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == m.yaml,
            "{} is stale: regenerate with WEIR_WRITE_CRDS=1 cargo test -p weir-kube --test crds",
            path.display()
        );
    }
}

/// Every node of a structural schema has a type (or is int-or-string, or keeps unknown
/// fields); `$ref`, `default` and JSON Schema `null` types are not allowed there.
fn assert_structural(v: &Value, at: &str) {
    let Some(m) = v.as_object() else {
        return;
    };
    for bad in [
        "$ref",
        "default",
        "$defs",
        "definitions",
        "anyOf",
        "oneOf",
        "allOf",
    ] {
        assert!(!m.contains_key(bad), "{at}: {bad}");
    }
    let typed =
        m.get("type").is_some_and(Value::is_string) || m.contains_key("x-kubernetes-int-or-string");
    assert!(typed, "{at}: no type: {v}");
    if let Some(props) = m.get("properties").and_then(Value::as_object) {
        for (k, p) in props {
            assert_structural(p, &format!("{at}.{k}"));
        }
    }
    if let Some(items) = m.get("items") {
        assert_structural(items, &format!("{at}[]"));
    }
}

#[test]
fn schemas_are_structural_and_name_traefiks_kinds() {
    let mut kinds = Vec::new();
    for m in weir_kube::crd_manifests() {
        let doc: Value = serde_saphyr::from_str(&m.yaml).unwrap();
        assert_eq!(doc["spec"]["group"], "traefik.io");
        let version = &doc["spec"]["versions"][0];
        assert_eq!(version["name"], "v1alpha1");
        let schema = &version["schema"]["openAPIV3Schema"];
        assert_structural(schema, &m.file_name);
        assert_eq!(
            schema["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"],
            true
        );
        kinds.push(doc["spec"]["names"]["kind"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        kinds,
        [
            "IngressRoute",
            "Middleware",
            "TLSOption",
            "TLSStore",
            "ServersTransport",
            "TraefikService"
        ]
    );
    // What the translation reads is typed: a route's services, their port.
    let ir: Value = serde_saphyr::from_str(&weir_kube::crd_manifests()[0].yaml).unwrap();
    let route = &ir["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["routes"]["items"]["properties"];
    assert_eq!(route["match"]["type"], "string");
    assert_eq!(
        route["services"]["items"]["properties"]["port"]["x-kubernetes-int-or-string"],
        true
    );
}
