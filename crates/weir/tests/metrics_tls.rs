//! The metric families tied to TLS, retries and header labels, through a real weir
//! process: HTTPS requests with a known TLS version and cipher, a retried failing service,
//! `headerLabels`, and a certificate with a known serial and expiry; the scrape is parsed
//! with an exposition-format parser and every count checked.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use http::Request;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use weir_testkit::tls::TestCa;
use weir_testkit::{WeirProcess, body, client, server, util};

#[path = "support/prom.rs"]
mod prom;
use prom::{Sample, find, scrape, value};

const BIN: &str = env!("CARGO_BIN_EXE_weir");

fn static_config(web: u16, secure: u16, traefik: u16, metrics: u16) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
  websecure:
    address: "127.0.0.1:{secure}"
  traefik:
    address: "127.0.0.1:{traefik}"
  metrics:
    address: "127.0.0.1:{metrics}"
ping: {{}}
api:
  insecure: true
metrics:
  prometheus:
    prefix: traefik
    addRoutersLabels: true
    headerLabels:
      useragent: User-Agent
      hostname: Host
accessLog:
  format: json
  filePath: "{{{{dir}}}}/access.json"
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    )
}

fn dynamic(ok: &str, dead: &str) -> String {
    format!(
        r#"http:
  routers:
    secure:
      entryPoints: [websecure]
      rule: Host(`s.test`)
      service: ok
      tls: {{}}
    plain:
      entryPoints: [web]
      rule: Host(`a.test`)
      service: ok
    retried:
      entryPoints: [web]
      rule: Host(`r.test`)
      service: dead
      middlewares: [again]
  middlewares:
    again:
      retry:
        attempts: 3
  services:
    ok:
      loadBalancer:
        servers:
          - url: "{ok}"
    dead:
      loadBalancer:
        servers:
          - url: "{dead}"
tls:
  certificates:
    - certFile: "{{{{dir}}}}/s.crt"
      keyFile: "{{{{dir}}}}/s.key"
"#
    )
}

/// A client that can only speak TLS 1.2 with one cipher suite, so the labels are known.
fn tls12_client(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let base = rustls::crypto::aws_lc_rs::default_provider();
    let provider = CryptoProvider {
        cipher_suites: base
            .cipher_suites
            .iter()
            .filter(|s| s.suite() == rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
            .copied()
            .collect(),
        ..base
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn tls_total(s: &[Sample], family: &str) -> f64 {
    s.iter().filter(|x| x.name == family).map(|x| x.value).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_retries_header_labels_and_certificate_expiry() {
    let ok = server::serve_fn(|_req| async { server::response(200, "fine") })
        .await
        .unwrap();
    // A port nobody listens on: every attempt is refused, so the retry middleware tries
    // three times.
    let [dead_port] = util::free_ports::<1>().unwrap();
    let dead = format!("http://127.0.0.1:{dead_port}");
    let ca = TestCa::new().unwrap();
    let cert = ca
        .issue_with(
            &["s.test"],
            &[0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f],
            (2031, 3, 4),
        )
        .unwrap();
    let [web, secure, traefik, metrics] = util::free_ports::<4>().unwrap();
    let p = WeirProcess::builder(BIN)
        .static_config(&static_config(web, secure, traefik, metrics))
        .dynamic_config(&dynamic(&ok.url(), &dead))
        .file("s.crt", cert.cert_pem.clone())
        .file("s.key", cert.key_pem.clone())
        .ping_port(traefik)
        .start()
        .await
        .unwrap();
    let secure_addr = format!("127.0.0.1:{secure}").parse().unwrap();

    // Two HTTPS requests over TLS 1.3 (the client's default), three over TLS 1.2 with a
    // fixed cipher.
    for _ in 0..2 {
        let r = client::get_tls(secure_addr, "s.test", "/", ca.cert_pem())
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", p.logs());
    }
    for _ in 0..3 {
        let req = Request::get("/").body(body::empty()).unwrap();
        let r = client::request_tls_with(secure_addr, "s.test", tls12_client(ca.cert_pem()), req)
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    // Two retried requests (2 retries each) and one plain one, with user agents.
    for _ in 0..2 {
        let req = Request::get(format!("http://127.0.0.1:{web}/"))
            .header("host", "r.test")
            .header("user-agent", "ua-x")
            .body(body::empty())
            .unwrap();
        assert_eq!(client::request(req).await.unwrap().status, 502);
    }
    let req = Request::get(format!("http://127.0.0.1:{web}/"))
        .header("host", "a.test")
        .header("user-agent", "ua-y")
        .body(body::empty())
        .unwrap();
    assert_eq!(client::request(req).await.unwrap().status, 200);

    let mut s = Vec::new();
    util::wait_until(Duration::from_secs(5), async || {
        s = scrape(metrics).await;
        tls_total(&s, "traefik_service_requests_tls_total") == 5.0
            && find(&s, "traefik_service_retries_total", &[]).is_some()
            && find(
                &s,
                "traefik_entrypoint_requests_total",
                &[("useragent", "ua-y")],
            )
            .is_some()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}: {s:?}"));

    // requests_tls_total: per entrypoint, router and service, by version and cipher.
    let tls12 = [
        ("tls_version", "1.2"),
        ("tls_cipher", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ];
    for (family, scope) in [
        (
            "traefik_entrypoint_requests_tls_total",
            ("entrypoint", "websecure"),
        ),
        (
            "traefik_router_requests_tls_total",
            ("router", "secure@file"),
        ),
        ("traefik_service_requests_tls_total", ("service", "ok@file")),
    ] {
        let mut want = tls12.to_vec();
        want.push(scope);
        assert_eq!(value(&s, family, &want), 3.0, "{family}");
        let tls13: Vec<&Sample> = s
            .iter()
            .filter(|x| x.name == family && x.labels["tls_version"] == "1.3")
            .collect();
        assert_eq!(tls13.len(), 1, "{family}: {tls13:?}");
        assert_eq!(tls13[0].value, 2.0);
        assert!(tls13[0].labels["tls_cipher"].starts_with("TLS_AES_"));
        assert_eq!(tls_total(&s, family), 5.0, "{family}");
    }
    assert!(
        find(
            &s,
            "traefik_entrypoint_requests_tls_total",
            &[("entrypoint", "web")]
        )
        .is_none()
    );

    // service_retries_total: 2 requests x 2 retries, only on the retried service.
    assert_eq!(
        value(
            &s,
            "traefik_service_retries_total",
            &[("service", "dead@file")]
        ),
        4.0
    );
    assert_eq!(
        s.iter()
            .filter(|x| x.name == "traefik_service_retries_total")
            .count(),
        1
    );

    // headerLabels on requests_total only.
    for (family, scope) in [
        ("traefik_entrypoint_requests_total", ("entrypoint", "web")),
        ("traefik_router_requests_total", ("router", "retried@file")),
        ("traefik_service_requests_total", ("service", "dead@file")),
    ] {
        assert_eq!(
            value(
                &s,
                family,
                &[
                    scope,
                    ("code", "502"),
                    ("useragent", "ua-x"),
                    ("hostname", "r.test")
                ]
            ),
            2.0,
            "{family}"
        );
    }
    assert_eq!(
        value(
            &s,
            "traefik_entrypoint_requests_total",
            &[
                ("entrypoint", "web"),
                ("code", "200"),
                ("useragent", "ua-y")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "traefik_entrypoint_requests_total",
            &[
                ("entrypoint", "websecure"),
                ("code", "200"),
                ("useragent", ""),
                ("hostname", "s.test")
            ]
        ),
        5.0
    );
    assert!(
        s.iter()
            .filter(|x| x.name == "traefik_entrypoint_request_duration_seconds")
            .all(|x| !x.labels.contains_key("useragent"))
    );

    // tls_certs_not_after: the configured certificate with a decimal serial.
    let cert_sample = find(&s, "traefik_tls_certs_not_after", &[("cn", "s.test")]).unwrap();
    assert_eq!(cert_sample.labels["serial"], "11111822610015");
    assert_eq!(cert_sample.labels["sans"], "s.test");
    assert_eq!(cert_sample.value, 1_930_348_800.0);

    // The API's certificate list (what the dashboard shows) agrees.
    let r = client::get(
        &format!("http://127.0.0.1:{traefik}/api/weir/certificates"),
        None,
    )
    .await
    .unwrap();
    let certs: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(r.header("x-next-page"), Some("1"));
    let c = &certs[0];
    assert_eq!(certs.as_array().unwrap().len(), 1, "{certs}");
    assert_eq!(
        (
            c["name"].as_str(),
            c["status"].as_str(),
            c["provider"].as_str()
        ),
        (Some("s.test"), Some("enabled"), Some("file"))
    );
    assert_eq!(c["notAfter"], "2031-03-04T00:00:00Z");
    assert_eq!(c["sans"], serde_json::json!(["s.test"]));
    // Whole days from now to notAfter (1_930_348_800), whatever the date the test runs.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let want = (1_930_348_800 - i64::try_from(now).unwrap()) / 86_400;
    let days = c["daysLeft"].as_i64().unwrap();
    assert!(
        (days - want).abs() <= 1,
        "daysLeft {days}, expected about {want}"
    );
    assert!(c["certFile"].as_str().unwrap().ends_with("s.crt"));
    assert!(c.get("error").is_none());

    // The access log carries the retries.
    let log = p.dir().join("access.json");
    let mut retried = Vec::new();
    util::wait_until(Duration::from_secs(5), async || {
        retried = util::json_lines(&log)
            .into_iter()
            .filter(|v| v["RouterName"] == "retried@file")
            .collect();
        retried.len() == 2
    })
    .await
    .unwrap();
    assert!(
        retried.iter().all(|v| v["RetryAttempts"] == 2),
        "{retried:?}"
    );
}
