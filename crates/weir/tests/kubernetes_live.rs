//! The live Kubernetes Ingress provider end to end: a real `weir serve` watches a fake API
//! server (lists and chunked watch streams, bearer token required) and routes to real
//! upstream servers as the test adds, changes and deletes objects, then keeps its last
//! configuration when the API server goes away.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use weir_testkit::kubeapi::FakeApi;
use weir_testkit::{client, process::WeirProcess, server, util};

#[path = "support/prom.rs"]
mod prom;

const WEIR: &str = env!("CARGO_BIN_EXE_weir");
const TOKEN: &str = "s3cret-token";
const WAIT: Duration = Duration::from_secs(20);

fn static_config(web: u16, admin: u16) -> String {
    format!(
        "entryPoints:\n  web:\n    address: \"127.0.0.1:{web}\"\n  traefik:\n    address: \"127.0.0.1:{admin}\"\nping: {{}}\nlog:\n  level: DEBUG\n"
    )
}

/// [`static_config`] with Prometheus metrics on an entrypoint at `metrics`.
fn static_with_metrics(web: u16, admin: u16, metrics: u16) -> String {
    static_config(web, admin).replace(
        "ping: {}\n",
        &format!(
            "  metrics:\n    address: \"127.0.0.1:{metrics}\"\nping: {{}}\nmetrics:\n  prometheus: {{}}\n"
        ),
    )
}

fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    })
}

fn slice(port: u16) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "app-x1", "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": "app"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}]
    })
}

fn ingress(host: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"rules": [{"host": host, "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "app", "port": {"number": 80}}}
        }]}}]}
    })
}

/// A fake API server holding the Service `app` with one endpoint on `upstream`'s port,
/// and `route` (an Ingress or IngressRoute) to it.
async fn api_with(upstream: u16, route: Value) -> FakeApi {
    let api = FakeApi::start(TOKEN).await.unwrap();
    api.apply(service());
    api.apply(slice(upstream));
    api.apply(route);
    api
}

/// Waits until `host` answers `status` (and, for 200, from `upstream`).
async fn wait_for(base: &str, host: &str, status: u16, upstream: Option<&str>, weir: &WeirProcess) {
    let ok = util::wait_until(WAIT, async || {
        client::get(&format!("{base}/"), Some(host))
            .await
            .is_ok_and(|r| {
                r.status == status
                    && (upstream.is_none() || r.header("x-upstream-name") == upstream)
            })
    })
    .await;
    assert!(
        ok.is_ok(),
        "{host} never answered {status} from {upstream:?}\n{}",
        weir.logs()
    );
}

/// weir with `provider` (`kubernetesingress` or `kubernetescrd`) pointed at `endpoint`.
async fn start(web: u16, admin: u16, provider: &str, endpoint: &str, token: &str) -> WeirProcess {
    start_with(&static_config(web, admin), admin, provider, endpoint, token).await
}

/// [`start`] with another static configuration.
async fn start_with(
    static_yaml: &str,
    admin: u16,
    provider: &str,
    endpoint: &str,
    token: &str,
) -> WeirProcess {
    WeirProcess::builder(WEIR)
        .static_config(static_yaml)
        .arg(&format!("--providers.{provider}.endpoint={endpoint}"))
        .arg(&format!("--providers.{provider}.token={token}"))
        .ping_port(admin)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn ingress_added_changed_deleted_and_kept_when_the_api_is_gone() {
    let one = server::echo("one").await.unwrap();
    let two = server::echo("two").await.unwrap();
    let api = api_with(one.port(), ingress("a.test")).await;

    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = start(web, admin, "kubernetesingress", &api.url(), TOKEN).await;
    let base = format!("http://127.0.0.1:{web}");

    // Listed at start: the Ingress routes to the endpoint of its Service.
    wait_for(&base, "a.test", 200, Some("one"), &weir).await;
    let r = client::get(&format!("{base}/"), Some("other.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 404);

    // A changed EndpointSlice (watch MODIFIED) moves the traffic.
    api.apply(slice(two.port()));
    wait_for(&base, "a.test", 200, Some("two"), &weir).await;

    // A changed Ingress: the old host stops, the new one routes.
    api.apply(ingress("b.test"));
    wait_for(&base, "b.test", 200, Some("two"), &weir).await;
    wait_for(&base, "a.test", 404, None, &weir).await;

    // Deleted: nothing routes.
    api.delete(&ingress("b.test"));
    wait_for(&base, "b.test", 404, None, &weir).await;

    // Added again while the watch runs.
    api.apply(ingress("c.test"));
    wait_for(&base, "c.test", 200, Some("two"), &weir).await;

    // The API server goes away: weir notices, retries, and keeps serving what it had.
    api.stop();
    let noticed = util::wait_until(WAIT, async || {
        weir.logs().contains("keeping the last configuration")
    })
    .await;
    assert!(noticed.is_ok(), "{}", weir.logs());
    let r = client::get(&format!("{base}/"), Some("c.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    assert_eq!(r.header("x-upstream-name"), Some("two"));
}

#[tokio::test]
async fn a_wrong_token_serves_nothing_and_says_why() {
    let one = server::echo("one").await.unwrap();
    let api = api_with(one.port(), ingress("a.test")).await;
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = start(web, admin, "kubernetesingress", &api.url(), "wrong").await;
    let said = util::wait_until(WAIT, async || weir.logs().contains("401")).await;
    assert!(said.is_ok(), "{}", weir.logs());
    let r = client::get(&format!("http://127.0.0.1:{web}/"), Some("a.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 404, "{}", weir.logs());
}

fn ingress_route(host: &str) -> Value {
    json!({
        "apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"entryPoints": ["web"], "routes": [{
            "match": format!("Host(`{host}`)"), "kind": "Rule",
            "services": [{"name": "app", "port": 80}]
        }]}
    })
}

#[tokio::test]
async fn crd_provider_follows_ingress_routes() {
    let one = server::echo("one").await.unwrap();
    let api = api_with(one.port(), ingress_route("r.test")).await;
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = start(web, admin, "kubernetescrd", &api.url(), TOKEN).await;
    let base = format!("http://127.0.0.1:{web}");
    wait_for(&base, "r.test", 200, Some("one"), &weir).await;
    api.apply(ingress_route("s.test"));
    wait_for(&base, "s.test", 200, Some("one"), &weir).await;
    wait_for(&base, "r.test", 404, None, &weir).await;
    api.delete(&ingress_route("s.test"));
    wait_for(&base, "s.test", 404, None, &weir).await;
}

/// The reload families of one scrape.
struct Reloads {
    total: f64,
    failed: f64,
    last_success: f64,
    last_failure: f64,
}

impl Reloads {
    fn of(s: &[prom::Sample]) -> Self {
        Reloads {
            total: prom::value(s, "weir_config_reloads_total", &[]),
            failed: prom::value(s, "weir_config_reloads_failure_total", &[]),
            last_success: prom::value(s, "weir_config_last_reload_success", &[]),
            last_failure: prom::value(s, "weir_config_last_reload_failure", &[]),
        }
    }
}

#[tokio::test]
async fn refused_lists_count_as_a_failed_reload_until_the_api_answers() {
    let one = server::echo("one").await.unwrap();
    let api = api_with(one.port(), ingress("a.test")).await;
    api.refuse_lists(3);
    let [web, admin, metrics] = util::free_ports::<3>().unwrap();
    let st = static_with_metrics(web, admin, metrics);
    let weir = start_with(&st, admin, "kubernetesingress", &api.url(), TOKEN).await;
    wait_for(
        &format!("http://127.0.0.1:{web}"),
        "a.test",
        200,
        Some("one"),
        &weir,
    )
    .await;
    assert_eq!(api.refused_lists(), 3);
    // One failed reload for the outage, then a successful one when the lists answered:
    // the reload alert (last failure after last success) is quiet again.
    let mut s = Vec::new();
    let recovered = util::wait_until(WAIT, async || {
        s = prom::scrape(metrics).await;
        let r = Reloads::of(&s);
        r.failed == 1.0 && r.last_failure > 0.0 && r.last_success >= r.last_failure
    })
    .await;
    assert!(recovered.is_ok(), "{s:?}\n{}", weir.logs());

    // Later the watches break and the next lists are refused: one more failed reload, and
    // when every watcher has listed again the unchanged configuration is applied anew.
    let before = Reloads::of(&s);
    api.refuse_lists(2);
    api.cut_watches();
    let recovered = util::wait_until(WAIT, async || {
        s = prom::scrape(metrics).await;
        let r = Reloads::of(&s);
        r.failed == 2.0 && r.total > before.total && r.last_success >= r.last_failure
    })
    .await;
    assert!(recovered.is_ok(), "{s:?}\n{}", weir.logs());
    assert_eq!(api.refused_lists(), 5);
    let r = client::get(&format!("http://127.0.0.1:{web}/"), Some("a.test"))
        .await
        .unwrap();
    assert_eq!(r.header("x-upstream-name"), Some("one"));
}

/// Traefik's Middleware kind, as the fake API server names its collection.
const MIDDLEWARES: &str = "/apis/traefik.io/v1alpha1/middlewares";

/// A kind weir may no longer read (its RBAC rule removed) keeps what it held: the other
/// kinds' changes are still served, and no reload counts as a success (the reload alert
/// stays on) until the kind answers again.
#[tokio::test]
async fn a_forbidden_kind_holds_back_only_the_reload_success() {
    let one = server::echo("one").await.unwrap();
    let api = api_with(one.port(), ingress_route("r.test")).await;
    let [web, admin, metrics] = util::free_ports::<3>().unwrap();
    let st = static_with_metrics(web, admin, metrics);
    let weir = start_with(&st, admin, "kubernetescrd", &api.url(), TOKEN).await;
    let base = format!("http://127.0.0.1:{web}");
    wait_for(&base, "r.test", 200, Some("one"), &weir).await;

    api.forbid(MIDDLEWARES);
    api.cut_watches();
    let mut s = Vec::new();
    let failed = util::wait_until(WAIT, async || {
        s = prom::scrape(metrics).await;
        Reloads::of(&s).failed == 1.0
    })
    .await;
    assert!(failed.is_ok(), "{s:?}\n{}", weir.logs());
    let during = Reloads::of(&s);

    // Served although the Middleware watcher still fails; not a successful reload.
    api.apply(ingress_route("s.test"));
    wait_for(&base, "s.test", 200, Some("one"), &weir).await;
    wait_for(&base, "r.test", 404, None, &weir).await;
    let now = Reloads::of(&prom::scrape(metrics).await);
    assert_eq!((now.total, now.failed), (during.total, 1.0));
    assert!(now.last_failure > 0.0 && now.last_success <= now.last_failure);

    // Allowed again: the next list answers and the configuration counts as reloaded.
    api.allow(MIDDLEWARES);
    let recovered = util::wait_until(WAIT, async || {
        s = prom::scrape(metrics).await;
        let r = Reloads::of(&s);
        r.total > during.total && r.last_success >= r.last_failure
    })
    .await;
    assert!(recovered.is_ok(), "{s:?}\n{}", weir.logs());
}
