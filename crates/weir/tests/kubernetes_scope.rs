//! What the live Ingress provider asks the API server for: with `namespaces` one watch per
//! namespace (nothing cluster-wide but IngressClasses), `labelSelector` on the Ingresses,
//! and Secrets and EndpointSlices narrowed by selectors. The fake API server applies the
//! selectors, so what is routed shows they were honoured.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use weir_testkit::kubeapi::FakeApi;
use weir_testkit::{client, process::WeirProcess, server, util};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");
const TOKEN: &str = "t0ken";
const WAIT: Duration = Duration::from_secs(20);

fn app(api: &FakeApi, ns: &str, port: u16, labels: Value) {
    api.apply(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "app", "namespace": ns},
        "spec": {"ports": [{"name": "http", "port": 80}]}
    }));
    api.apply(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "app-1", "namespace": ns,
                     "labels": {"kubernetes.io/service-name": "app"}},
        "ports": [{"name": "http", "port": port}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}]
    }));
    api.apply(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "app", "namespace": ns, "labels": labels},
        "spec": {"rules": [{"host": format!("{ns}.test"), "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "app", "port": {"number": 80}}}
        }]}}]}
    }));
}

#[tokio::test]
async fn namespaces_and_label_selector_are_honoured_on_every_watch() {
    let one = server::echo("one").await.unwrap();
    let api = FakeApi::start(TOKEN).await.unwrap();
    app(&api, "a", one.port(), json!({"team": "blue"}));
    app(&api, "b", one.port(), json!({"team": "red"}));
    app(&api, "c", one.port(), json!({"team": "blue"}));
    // A Helm release record: the Secrets watch excludes it by type and label (asserted on
    // the requests below).
    api.apply(json!({
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.app.v1", "namespace": "a",
                     "labels": {"owner": "helm"}},
        "data": {"release": "H4sI"}
    }));
    let [web, admin] = util::free_ports::<2>().unwrap();
    let static_config = format!(
        "entryPoints:\n  web:\n    address: \"127.0.0.1:{web}\"\n  traefik:\n    address: \"127.0.0.1:{admin}\"\nping: {{}}\n\
         providers:\n  kubernetesIngress:\n    endpoint: {}\n    token: {TOKEN}\n    namespaces: [a, b]\n    labelSelector: team=blue\n",
        api.url()
    );
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config)
        .env("KUBERNETES_SERVICE_HOST", "")
        .env("KUBECONFIG", "")
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}");
    let ok = util::wait_until(WAIT, async || {
        client::get(&format!("{base}/"), Some("a.test"))
            .await
            .is_ok_and(|r| r.status == 200)
    })
    .await;
    assert!(ok.is_ok(), "{}", weir.logs());
    // b: label not selected; c: namespace not watched.
    for host in ["b.test", "c.test"] {
        let r = client::get(&format!("{base}/"), Some(host)).await.unwrap();
        assert_eq!(r.status, 404, "{host}\n{}", weir.logs());
    }

    let log = api.request_log();
    let gets: Vec<&String> = log.iter().filter(|r| r.starts_with("GET ")).collect();
    assert!(!gets.is_empty());
    for r in &gets {
        let path = r.trim_start_matches("GET ");
        if path.starts_with("/apis/networking.k8s.io/v1/ingressclasses") {
            continue; // cluster-scoped
        }
        assert!(
            path.contains("/namespaces/a/") || path.contains("/namespaces/b/"),
            "a namespaced kind asked for outside the watched namespaces: {r}"
        );
        if path.contains("/ingresses") {
            assert!(path.contains("labelSelector=team%3Dblue"), "{r}");
        }
        if path.contains("/secrets") {
            assert!(
                path.contains("fieldSelector=type%21%3Dhelm.sh%2Frelease.v1")
                    && path.contains("type%21%3Dkubernetes.io%2Fservice-account-token")
                    && path.contains("labelSelector=owner%21%3Dhelm"),
                "{r}"
            );
        }
        if path.contains("/endpointslices") {
            assert!(
                path.contains("labelSelector=kubernetes.io%2Fservice-name"),
                "{r}"
            );
        }
        if path.contains("/services") {
            assert!(
                !path.contains("team"),
                "Services are not label-filtered: {r}"
            );
        }
    }
    for kind in ["ingresses", "services", "endpointslices", "secrets"] {
        for ns in ["a", "b"] {
            let want = format!("/namespaces/{ns}/{kind}");
            assert!(
                gets.iter().any(|r| r.contains(&want)),
                "no watch of {want}: {gets:?}"
            );
        }
    }
}
