//! How the live Kubernetes providers reach the API server: a kubeconfig (`KUBECONFIG`)
//! with a client certificate against a fake API server that requires one over TLS, and a
//! token file that is read again when it changes (as a rotated service account token).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use weir_testkit::kubeapi::FakeApi;
use weir_testkit::server::ServerOptions;
use weir_testkit::tls::TestCa;
use weir_testkit::{client, process::WeirProcess, server, util};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");
const WAIT: Duration = Duration::from_secs(20);

fn static_config(web: u16, admin: u16, provider: &str) -> String {
    format!(
        "entryPoints:\n  web:\n    address: \"127.0.0.1:{web}\"\n  traefik:\n    address: \"127.0.0.1:{admin}\"\nping: {{}}\nlog:\n  level: DEBUG\nproviders:\n  kubernetesIngress:\n{provider}"
    )
}

fn objects(api: &FakeApi, port: u16) {
    let svc: Value = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"ports": [{"name": "http", "port": 80}]}
    });
    api.apply(svc);
    api.apply(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "app-1", "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": "app"}},
        "ports": [{"name": "http", "port": port}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}]
    }));
    api.apply(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"rules": [{"host": "a.test", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "app", "port": {"number": 80}}}
        }]}}]}
    }));
}

async fn routes(base: &str, weir: &WeirProcess) {
    let ok = util::wait_until(WAIT, async || {
        client::get(&format!("{base}/"), Some("a.test"))
            .await
            .is_ok_and(|r| r.status == 200 && r.header("x-upstream-name") == Some("one"))
    })
    .await;
    assert!(ok.is_ok(), "a.test never routed\n{}", weir.logs());
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A FakeApi over TLS that requires a client certificate; with its server CA and the
/// client CA it trusts.
async fn mtls_api() -> (FakeApi, TestCa, TestCa) {
    let server_ca = TestCa::new().unwrap();
    let client_ca = TestCa::new().unwrap();
    let tls = server_ca
        .server_config_requiring_client_cert(&["localhost", "127.0.0.1"], &client_ca)
        .unwrap();
    let api = FakeApi::start_with(
        ServerOptions::new().tls_config(tls, server_ca.cert_pem()),
        None,
    )
    .await
    .unwrap();
    (api, server_ca, client_ca)
}

#[tokio::test]
async fn kubeconfig_with_a_client_certificate_over_mutual_tls() {
    let one = server::echo("one").await.unwrap();
    let (api, server_ca, client_ca) = mtls_api().await;
    objects(&api, one.port());
    let client_cert = client_ca.issue(&["weir"]).unwrap();
    // The CA inline, the client certificate and key as files relative to the kubeconfig.
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n\
         clusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n\
         contexts:\n- name: test\n  context:\n    cluster: fake\n    user: weir\n\
         users:\n- name: weir\n  user:\n    client-certificate: certs/weir.crt\n    client-key: certs/weir.key\n",
        api.url(),
        b64(server_ca.cert_pem()),
    );
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, admin, "    throttleDuration: 0s\n"))
        .file("kube/config", kubeconfig)
        .file("kube/certs/weir.crt", client_cert.cert_pem.clone())
        .file("kube/certs/weir.key", client_cert.key_pem.clone())
        .env("KUBERNETES_SERVICE_HOST", "")
        .env("KUBECONFIG", "kube/config")
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    routes(&format!("http://127.0.0.1:{web}"), &weir).await;
    assert!(
        weir.logs()
            .contains("kubeconfig kube/config (context test)"),
        "{}",
        weir.logs()
    );
}

#[tokio::test]
async fn without_the_client_certificate_the_handshake_fails_and_nothing_is_served() {
    let one = server::echo("one").await.unwrap();
    let (api, server_ca, _) = mtls_api().await;
    objects(&api, one.port());
    // A certificate from a CA the API server does not trust.
    let stranger = TestCa::new().unwrap().issue(&["weir"]).unwrap();
    let kubeconfig = format!(
        "current-context: test\n\
         clusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n\
         contexts:\n- name: test\n  context: {{cluster: fake, user: weir}}\n\
         users:\n- name: weir\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        api.url(),
        b64(server_ca.cert_pem()),
        b64(&stranger.cert_pem),
        b64(&stranger.key_pem),
    );
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(
            web,
            admin,
            "    kubeconfig: kube.yaml\n    endpoint: http://127.0.0.1:1\n",
        ))
        .file("kube.yaml", kubeconfig)
        .env("KUBERNETES_SERVICE_HOST", "")
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let said = util::wait_until(WAIT, async || {
        weir.logs().contains("keeping the last configuration")
    })
    .await;
    assert!(said.is_ok(), "{}", weir.logs());
    assert!(weir.logs().contains("127.0.0.1"), "{}", weir.logs());
    let r = client::get(&format!("http://127.0.0.1:{web}/"), Some("a.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 404, "{}", weir.logs());
}

#[tokio::test]
async fn a_token_file_is_read_again_when_it_rotates() {
    let one = server::echo("one").await.unwrap();
    let api = FakeApi::start("new-token").await.unwrap();
    objects(&api, one.port());
    let [web, admin] = util::free_ports::<2>().unwrap();
    let builder = WeirProcess::builder(WEIR)
        .static_config(&static_config(
            web,
            admin,
            &format!("    endpoint: {}\n    token: token.txt\n", api.url()),
        ))
        .file("token.txt", "old-token\n")
        .env("KUBERNETES_SERVICE_HOST", "")
        .env("KUBECONFIG", "")
        .ping_port(admin);
    let weir = builder.start().await.unwrap();
    let refused = util::wait_until(WAIT, async || weir.logs().contains("401")).await;
    assert!(refused.is_ok(), "{}", weir.logs());
    weir.write_file("token.txt", "new-token\n").unwrap();
    routes(&format!("http://127.0.0.1:{web}"), &weir).await;
}
