//! `providers.kubernetesIngress.ingressEndpoint`: a real `weir serve` writes the published
//! address into `status.loadBalancer.ingress` of the Ingresses it serves (and only those),
//! through the fake API server's status subresource, only when it differs, and again after
//! the API server refused a write.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use weir_testkit::kubeapi::FakeApi;
use weir_testkit::{client, process::WeirProcess, server, util};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");
const TOKEN: &str = "t0ken";
const WAIT: Duration = Duration::from_secs(20);

fn static_config(web: u16, admin: u16, endpoint: &str, api: &str) -> String {
    format!(
        "entryPoints:\n  web:\n    address: \"127.0.0.1:{web}\"\n  traefik:\n    address: \"127.0.0.1:{admin}\"\nping: {{}}\nlog:\n  level: DEBUG\n\
         providers:\n  kubernetesIngress:\n    endpoint: {api}\n    token: {TOKEN}\n    namespaces: [shop]\n    ingressEndpoint:\n{endpoint}"
    )
}

fn slice(port: u16) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "app-1", "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": "app"}},
        "ports": [{"name": "http", "port": port}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}]
    })
}

fn ingress(name: &str, class: Option<&str>) -> Value {
    let mut spec = json!({"rules": [{"host": format!("{name}.test"), "http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "app", "port": {"number": 80}}}
    }]}}]});
    if let Some(c) = class {
        spec["ingressClassName"] = json!(c);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec
    })
}

fn setup(api: &FakeApi, port: u16) {
    api.apply(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"ports": [{"name": "http", "port": 80}]}
    }));
    api.apply(slice(port));
    api.apply(ingress("app", None));
    // Of a class weir does not serve: its status is not weir's to write.
    api.apply(ingress("theirs", Some("someone-else")));
}

fn published(lb: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "weir", "namespace": "kube-system"},
        "spec": {"type": "LoadBalancer", "ports": [{"name": "web", "port": 80}]},
        "status": {"loadBalancer": {"ingress": lb}}
    })
}

const APP_STATUS: &str = "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/app/status";

fn patches_to(api: &FakeApi, path: &str) -> Vec<Value> {
    api.status_patches()
        .into_iter()
        .filter(|(p, _)| p == path)
        .map(|(_, body)| body)
        .collect()
}

async fn wait_for_status(api: &FakeApi, want: Value, weir: &WeirProcess) {
    let ok = util::wait_until(WAIT, async || {
        api.get("/apis/networking.k8s.io/v1/ingresses", "shop", "app")
            .is_some_and(|o| o.pointer("/status/loadBalancer/ingress") == Some(&want))
    })
    .await;
    assert!(
        ok.is_ok(),
        "status never became {want}: {:?}\n{}",
        api.status_patches(),
        weir.logs()
    );
}

/// A `weir serve` on free ports reading `api`, publishing `endpoint` (the
/// `ingressEndpoint` block's YAML lines), and its `web` port.
async fn start(api: &FakeApi, endpoint: &str) -> (WeirProcess, u16) {
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, admin, endpoint, &api.url()))
        .env("KUBERNETES_SERVICE_HOST", "")
        .env("KUBECONFIG", "")
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    (weir, web)
}

#[tokio::test]
async fn published_service_address_goes_into_served_ingresses_only_when_it_differs() {
    let one = server::echo("one").await.unwrap();
    let two = server::echo("two").await.unwrap();
    let api = FakeApi::start(TOKEN).await.unwrap();
    setup(&api, one.port());
    // In a namespace weir does not watch for routing: read for the status alone.
    api.apply(published(json!([{"ip": "203.0.113.7"}])));
    let (weir, web) = start(&api, "      publishedService: kube-system/weir\n").await;

    wait_for_status(&api, json!([{"ip": "203.0.113.7"}]), &weir).await;
    assert_eq!(patches_to(&api, APP_STATUS).len(), 1);
    let theirs = "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/theirs/status";
    assert!(
        patches_to(&api, theirs).is_empty(),
        "{:?}",
        api.status_patches()
    );
    // The published Service was asked for by name.
    assert!(
        api.request_log().iter().any(|r| r.starts_with(
            "GET /api/v1/namespaces/kube-system/services?fieldSelector=metadata.name%3Dweir"
        )),
        "{:?}",
        api.request_log()
    );

    // The load balancer's address changes: every served Ingress follows.
    api.apply(published(json!([{"hostname": "lb.example"}])));
    wait_for_status(&api, json!([{"hostname": "lb.example"}]), &weir).await;
    assert_eq!(patches_to(&api, APP_STATUS).len(), 2);

    // Another change that reroutes but leaves the address alone writes no status.
    api.apply(slice(two.port()));
    let moved = util::wait_until(WAIT, async || {
        client::get(&format!("http://127.0.0.1:{web}/"), Some("app.test"))
            .await
            .is_ok_and(|r| r.header("x-upstream-name") == Some("two"))
    })
    .await;
    assert!(moved.is_ok(), "{}", weir.logs());
    assert_eq!(
        patches_to(&api, APP_STATUS).len(),
        2,
        "{:?}",
        api.status_patches()
    );
    assert!(patches_to(&api, theirs).is_empty());
}

#[tokio::test]
async fn a_fixed_hostname_is_published() {
    let one = server::echo("one").await.unwrap();
    let api = FakeApi::start(TOKEN).await.unwrap();
    setup(&api, one.port());
    let (weir, _) = start(&api, "      hostname: edge.example\n").await;
    wait_for_status(&api, json!([{"hostname": "edge.example"}]), &weir).await;
    let body = &patches_to(&api, APP_STATUS)[0];
    assert_eq!(
        body,
        &json!({"status": {"loadBalancer": {"ingress": [{"hostname": "edge.example"}]}}})
    );
}

#[tokio::test]
async fn a_refused_status_write_is_tried_again() {
    let one = server::echo("one").await.unwrap();
    let api = FakeApi::start(TOKEN).await.unwrap();
    setup(&api, one.port());
    // The API server is overloaded for the first two writes; nothing else changes after,
    // so only weir's own retry can get the status written.
    api.refuse_status_patches(2);
    let (weir, _) = start(&api, "      ip: 198.51.100.4\n").await;
    wait_for_status(&api, json!([{"ip": "198.51.100.4"}]), &weir).await;
    assert_eq!(api.refused_status_patches(), 2, "{}", weir.logs());
    assert!(
        weir.logs().contains("trying again in 2s"),
        "{}",
        weir.logs()
    );
}
