//! TLS termination through a real weir process: certificates by SNI, the default
//! certificates, TLS and plain routers on one entrypoint, ALPN, options, client
//! certificates, entrypoint redirections, reload and bad certificates. Clients are rustls,
//! `curl` and `openssl s_client`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use http::Request;
use weir_testkit::body;
use weir_testkit::client;
use weir_testkit::process::WeirProcess;
use weir_testkit::server::{self, ServerHandle};
use weir_testkit::tls::{self, IssuedCert, TestCa, Versions};
use weir_testkit::util::{free_ports, wait_until};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// Entrypoints `web` and `websecure` plus `traefik` for `/ping`; `web_extra` is appended
/// under `web` (redirections, http.tls).
fn static_config(web: u16, websecure: u16, admin: u16, web_extra: &str) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
{web_extra}
  websecure:
    address: "127.0.0.1:{websecure}"
  traefik:
    address: "127.0.0.1:{admin}"
ping: {{}}
log:
  level: INFO
providers:
  file:
    filename: "{{{{dynamic}}}}"
    watch: true
"#
    )
}

/// Routers `secure` (TLS, Host a.test / b.wild.test / rsa.test) and `plain` (no TLS, Host
/// a.test), both on every entrypoint, to `upstream`; `tls` is appended at the top level.
fn dynamic_config(upstream: &ServerHandle, secure_tls: &str, tls: &str) -> String {
    format!(
        r#"http:
  routers:
    secure:
      rule: Host(`a.test`) || Host(`b.wild.test`) || Host(`rsa.test`) || Host(`other.test`)
      service: up
      tls: {secure_tls}
    plain:
      rule: Host(`a.test`)
      service: up
  services:
    up:
      loadBalancer:
        servers:
          - url: "{}"
{tls}
"#,
        upstream.url()
    )
}

fn certs_section(files: &[&str]) -> String {
    let mut s = "tls:\n  certificates:\n".to_owned();
    for f in files {
        s.push_str(&format!(
            "    - certFile: \"{{{{dir}}}}/{f}.crt\"\n      keyFile: \"{{{{dir}}}}/{f}.key\"\n"
        ));
    }
    s
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The common name of the certificate served for `sni` (any certificate accepted).
async fn served_cn(port: u16, sni: &str) -> anyhow::Result<String> {
    let config = tls::insecure_client_config(&[b"http/1.1"], Versions::Both)?;
    let stream = tls::handshake(addr(port), sni, config).await?;
    let leaf = tls::server_leaf(&stream).ok_or_else(|| anyhow::anyhow!("no certificate"))?;
    tls::common_name(&leaf)
}

async fn served_der(port: u16, sni: &str) -> anyhow::Result<Vec<u8>> {
    let config = tls::insecure_client_config(&[b"http/1.1"], Versions::Both)?;
    let stream = tls::handshake(addr(port), sni, config).await?;
    Ok(tls::server_leaf(&stream).unwrap().as_ref().to_vec())
}

/// An RSA 2048 certificate made by the openssl CLI (rcgen here only makes ECDSA keys).
fn openssl_rsa_cert(dir: &std::path::Path, name: &str) -> (String, String) {
    let key = dir.join(format!("{name}.key"));
    let crt = dir.join(format!("{name}.crt"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .args(["-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=DNS:{name}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read_to_string(crt).unwrap(),
        std::fs::read_to_string(key).unwrap(),
    )
}

struct Setup {
    weir: WeirProcess,
    web: u16,
    websecure: u16,
    _upstream: ServerHandle,
    ca: TestCa,
    a: IssuedCert,
}

/// weir with certificates for a.test and *.wild.test (ECDSA, from the test CA) and
/// rsa.test (RSA, self-signed), and the routers of [`dynamic_config`].
async fn start(secure_tls: &str, extra_tls: &str, web_extra: &str) -> Setup {
    let upstream = server::echo("up").await.unwrap();
    let ca = TestCa::new().unwrap();
    let a = ca.issue(&["a.test"]).unwrap();
    let wild = ca.issue(&["*.wild.test"]).unwrap();
    let rsa_dir = tempfile::tempdir().unwrap();
    let (rsa_crt, rsa_key) = openssl_rsa_cert(rsa_dir.path(), "rsa.test");
    let [web, websecure, admin] = free_ports::<3>().unwrap();
    let tls = format!("{}{extra_tls}", certs_section(&["a", "wild", "rsa"]));
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, websecure, admin, web_extra))
        .dynamic_config(&dynamic_config(&upstream, secure_tls, &tls))
        .file("a.crt", a.cert_pem.clone())
        .file("a.key", a.key_pem.clone())
        .file("wild.crt", wild.cert_pem.clone())
        .file("wild.key", wild.key_pem.clone())
        .file("rsa.crt", rsa_crt)
        .file("rsa.key", rsa_key)
        .file("ca.crt", ca.cert_pem().to_owned())
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    Setup {
        weir,
        web,
        websecure,
        _upstream: upstream,
        ca,
        a,
    }
}

// Blocking child processes (curl, openssl, weir check) must not stall the in-process
// upstream: more than one runtime thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_by_sni_exact_wildcard_and_default() {
    let s = start("{}", "", "").await;
    let logs = || s.weir.logs();
    assert_eq!(
        served_cn(s.websecure, "a.test").await.unwrap(),
        "a.test",
        "{}",
        logs()
    );
    assert_eq!(
        served_der(s.websecure, "a.test").await.unwrap(),
        s.a.der().unwrap().as_ref()
    );
    // One label under the wildcard matches; two labels do not.
    let wild = served_der(s.websecure, "b.wild.test").await.unwrap();
    let cn_default = served_cn(s.websecure, "x.y.wild.test").await.unwrap();
    assert_ne!(
        wild,
        served_der(s.websecure, "x.y.wild.test").await.unwrap()
    );
    assert_eq!(cn_default, "WEIR DEFAULT CERT");
    assert_eq!(
        served_cn(s.websecure, "rsa.test").await.unwrap(),
        "rsa.test"
    );
    assert_eq!(
        served_cn(s.websecure, "unknown.test").await.unwrap(),
        "WEIR DEFAULT CERT"
    );
    // The same default certificate on every entrypoint, and across handshakes.
    assert_eq!(
        served_der(s.web, "unknown.test").await.unwrap(),
        served_der(s.websecure, "nothing.test").await.unwrap()
    );
}

#[tokio::test]
async fn tls_router_serves_tls_only_and_plain_router_plain_only() {
    let s = start("{}", "", "").await;
    // Verified against the CA: the certificate is right for the name.
    let resp = client::get_tls(addr(s.websecure), "a.test", "/x", s.ca.cert_pem())
        .await
        .unwrap();
    assert_eq!(resp.status, 200, "{}", s.weir.logs());
    assert_eq!(resp.version, http::Version::HTTP_2, "ALPN h2 expected");
    let echo = resp.echo().unwrap();
    assert_eq!(echo.header("x-forwarded-proto"), Some("https"));
    assert_eq!(echo.path_and_query, "/x");
    // HTTP/1.1 when the client offers only http/1.1.
    let req = Request::get("/y").body(body::empty()).unwrap();
    let resp = client::request_tls(addr(s.websecure), "a.test", s.ca.cert_pem(), req, true)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.version, http::Version::HTTP_11);
    // rsa.test is only routed by the TLS router: over plain HTTP it is unknown.
    let plain = client::get(
        &format!("http://127.0.0.1:{}/", s.websecure),
        Some("rsa.test"),
    )
    .await
    .unwrap();
    assert_eq!(plain.status, 404);
    let plain = client::get(
        &format!("http://127.0.0.1:{}/", s.websecure),
        Some("a.test"),
    )
    .await
    .unwrap();
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.echo().unwrap().header("x-forwarded-proto"),
        Some("http")
    );
    // No TLS router for this host: 404 over TLS with the default certificate.
    let config = tls::insecure_client_config(&[b"h2"], Versions::Both).unwrap();
    let req = Request::get("/").body(body::empty()).unwrap();
    let resp = client::request_tls_with(addr(s.websecure), "nohost.test", config, req)
        .await
        .unwrap();
    assert_eq!(resp.status, 404);
}

#[tokio::test]
async fn store_default_certificate_serves_unknown_names() {
    let ca = TestCa::new().unwrap();
    let d = ca.issue(&["default.test"]).unwrap();
    let extra = "  stores:\n    default:\n      defaultCertificate:\n        certFile: \"{{dir}}/d.crt\"\n        keyFile: \"{{dir}}/d.key\"\n";
    let upstream = server::echo("up").await.unwrap();
    let [web, websecure, admin] = free_ports::<3>().unwrap();
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, websecure, admin, ""))
        .dynamic_config(&dynamic_config(&upstream, "{}", &format!("tls:\n{extra}")))
        .file("d.crt", d.cert_pem.clone())
        .file("d.key", d.key_pem.clone())
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    assert_eq!(
        served_cn(websecure, "unknown.test").await.unwrap(),
        "default.test",
        "{}",
        weir.logs()
    );
}

#[tokio::test]
async fn sni_strict_refuses_unknown_names() {
    let s = start(
        "{options: strict}",
        "  options:\n    strict:\n      sniStrict: true\n",
        "",
    )
    .await;
    // Known name: fine.
    assert_eq!(
        served_cn(s.websecure, "a.test").await.unwrap(),
        "a.test",
        "{}",
        s.weir.logs()
    );
    // The hosts of the strict router use the strict options; unknown names on the default
    // options still get the default certificate.
    let err = served_cn(s.websecure, "other.test").await;
    assert!(err.is_err(), "other.test must be refused: {err:?}");
    assert_eq!(
        served_cn(s.websecure, "unknown.test").await.unwrap(),
        "WEIR DEFAULT CERT"
    );
}

#[tokio::test]
async fn versions_ciphers_and_alpn_follow_options() {
    let opts = r#"  options:
    default:
      minVersion: VersionTLS13
    old:
      maxVersion: VersionTLS12
      cipherSuites: [TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305]
      alpnProtocols: [http/1.1]
"#;
    let s = start("{options: old}", opts, "").await;
    let logs = s.weir.logs();
    // a.test is on the `old` options: TLS 1.2 with the one suite, http/1.1 only.
    let c = tls::insecure_client_config(&[b"h2", b"http/1.1"], Versions::Both).unwrap();
    let stream = tls::handshake(addr(s.websecure), "a.test", c)
        .await
        .unwrap();
    let conn = stream.get_ref().1;
    assert_eq!(
        conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2),
        "{logs}"
    );
    assert_eq!(
        conn.negotiated_cipher_suite().unwrap().suite(),
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    );
    assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    // Unknown names use `default`: TLS 1.3 only, so a TLS 1.2 client is refused and a
    // TLS 1.3 one gets h2.
    let c12 = tls::insecure_client_config(&[b"h2"], Versions::Tls12).unwrap();
    assert!(
        tls::handshake(addr(s.websecure), "unknown.test", c12)
            .await
            .is_err()
    );
    let c13 = tls::insecure_client_config(&[b"h2"], Versions::Tls13).unwrap();
    let stream = tls::handshake(addr(s.websecure), "unknown.test", c13)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // Domain fronting: a connection made for unknown.test (default options) asking for
    // a.test (served with `old`) is refused with 421; with the right SNI it is served.
    let c = tls::insecure_client_config(&[b"http/1.1"], Versions::Both).unwrap();
    let req = || {
        Request::get("/")
            .header("host", "a.test")
            .body(body::empty())
            .unwrap()
    };
    let resp = client::request_tls_with(addr(s.websecure), "unknown.test", c.clone(), req())
        .await
        .unwrap();
    assert_eq!(resp.status, 421);
    let resp = client::request_tls_with(addr(s.websecure), "a.test", c, req())
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
}

/// `openssl s_client`; returns (success, stdout+stderr).
fn s_client(port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && text.contains("Cipher is") && !text.contains("Cipher is (NONE)"),
        text,
    )
}

// Blocking child processes (curl, openssl, weir check) must not stall the in-process
// upstream: more than one runtime thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_sees_versions_and_certificates() {
    let s = start("{}", "", "").await;
    let port = s.websecure;
    let (ok, text) = s_client(port, &["-servername", "a.test", "-tls1_3"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("CN=a.test") || text.contains("CN = a.test"),
        "{text}"
    );
    assert!(text.contains("TLSv1.3"), "{text}");
    let (ok, text) = s_client(port, &["-servername", "rsa.test", "-tls1_2"]);
    assert!(ok, "{text}");
    assert!(text.contains("TLSv1.2"), "{text}");
    // TLS 1.0 and 1.1 are refused (SECLEVEL=0 lets this openssl offer them at all).
    for v in ["-tls1", "-tls1_1"] {
        let (ok, text) = s_client(
            port,
            &["-servername", "a.test", v, "-cipher", "DEFAULT:@SECLEVEL=0"],
        );
        assert!(!ok, "{v} must fail: {text}");
    }
}

// Blocking child processes (curl, openssl, weir check) must not stall the in-process
// upstream: more than one runtime thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_and_openssl_against_the_edge_basics_routing() {
    // Rows 2 and 6 of the edge-basics scenario, with its routers on free ports.
    let upstream = server::echo("whoami").await.unwrap();
    let ca = TestCa::new().unwrap();
    let cert = ca.issue(&["whoami.local"]).unwrap();
    let [web, websecure, admin] = free_ports::<3>().unwrap();
    let dynamic = format!(
        r#"http:
  routers:
    whoami-https:
      entryPoints: [websecure]
      rule: Host(`whoami.local`)
      service: whoami
      tls: {{}}
    echo-http:
      entryPoints: [web]
      rule: Host(`echo.local`)
      service: whoami
  services:
    whoami:
      loadBalancer:
        servers:
          - url: "{}"
tls:
  certificates:
    - certFile: certs/whoami.local.crt
      keyFile: certs/whoami.local.key
"#,
        upstream.url()
    );
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, websecure, admin, ""))
        .dynamic_config(&dynamic)
        .file("certs/whoami.local.crt", cert.cert_pem.clone())
        .file("certs/whoami.local.key", cert.key_pem.clone())
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    // Row 2: no route, 404 over TLS with the default certificate.
    let out = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("https://127.0.0.1:{websecure}/"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "404",
        "{}",
        weir.logs()
    );
    // Row 6: the whoami answer, certificate CN=whoami.local.
    let out = Command::new("curl")
        .args(["-sk", "--resolve"])
        .arg(format!("whoami.local:{websecure}:127.0.0.1"))
        .arg(format!("https://whoami.local:{websecure}/"))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.starts_with("Name: whoami"), "{body}\n{}", weir.logs());
    let (ok, text) = s_client(websecure, &["-servername", "whoami.local"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("CN=whoami.local") || text.contains("CN = whoami.local"),
        "{text}"
    );
}

#[tokio::test]
async fn client_certificates_are_required_and_verified() {
    let opts = r#"  options:
    mtls:
      clientAuth:
        caFiles: ["{{dir}}/ca.crt"]
        clientAuthType: RequireAndVerifyClientCert
"#;
    let s = start("{options: mtls}", opts, "").await;
    let req = || Request::get("/").body(body::empty()).unwrap();
    // No client certificate: refused (during the handshake or at the first read).
    let plain = tls::client_config(s.ca.cert_pem(), &[b"http/1.1"]).unwrap();
    let r = client::request_tls_with(addr(s.websecure), "a.test", plain, req()).await;
    assert!(r.is_err(), "must fail without a client certificate: {r:?}");
    // A certificate from another CA: refused.
    let other = TestCa::new().unwrap();
    let stranger = other.issue(&["client.test"]).unwrap();
    let c = tls::client_config_with_cert(s.ca.cert_pem(), &[b"http/1.1"], &stranger).unwrap();
    let r = client::request_tls_with(addr(s.websecure), "a.test", c, req()).await;
    assert!(r.is_err(), "must fail with an unknown issuer: {r:?}");
    // Signed by the configured CA: served.
    let good = s.ca.issue(&["client.test"]).unwrap();
    let c = tls::client_config_with_cert(s.ca.cert_pem(), &[b"h2"], &good).unwrap();
    let r = client::request_tls_with(addr(s.websecure), "a.test", c, req())
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", s.weir.logs());
}

#[tokio::test]
async fn entrypoint_redirection_and_default_tls() {
    let web_extra = "    http:\n      redirections:\n        entryPoint:\n          to: websecure\n          scheme: https\n";
    let s = start("{}", "", web_extra).await;
    let resp = client::get(&format!("http://127.0.0.1:{}/p?q=1", s.web), Some("a.test"))
        .await
        .unwrap();
    assert_eq!(resp.status, 301, "{}", s.weir.logs());
    assert_eq!(
        resp.header("location"),
        Some(format!("https://a.test:{}/p?q=1", s.websecure).as_str())
    );
    // TLS on the same entrypoint is not redirected.
    let resp = client::get_tls(addr(s.web), "a.test", "/", s.ca.cert_pem())
        .await
        .unwrap();
    assert_eq!(resp.status, 200);

    // `http.tls` on the entrypoint: its routers serve TLS without a `tls` section.
    let upstream = server::echo("up").await.unwrap();
    let cert = s.ca.issue(&["ep.test"]).unwrap();
    let [web, websecure, admin] = free_ports::<3>().unwrap();
    let st = static_config(web, websecure, admin, "").replace(
        &format!("    address: \"127.0.0.1:{websecure}\"\n"),
        &format!("    address: \"127.0.0.1:{websecure}\"\n    http:\n      tls: {{}}\n"),
    );
    let dynamic = format!(
        "http:\n  routers:\n    r:\n      rule: Host(`ep.test`)\n      service: up\n  services:\n    up:\n      loadBalancer:\n        servers:\n          - url: \"{}\"\n{}",
        upstream.url(),
        certs_section(&["ep"])
    );
    let weir = WeirProcess::builder(WEIR)
        .static_config(&st)
        .dynamic_config(&dynamic)
        .file("ep.crt", cert.cert_pem.clone())
        .file("ep.key", cert.key_pem.clone())
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let resp = client::get_tls(addr(websecure), "ep.test", "/", s.ca.cert_pem())
        .await
        .unwrap();
    assert_eq!(resp.status, 200, "{}", weir.logs());
    let plain = client::get(&format!("http://127.0.0.1:{websecure}/"), Some("ep.test"))
        .await
        .unwrap();
    assert_eq!(plain.status, 404);
    // On `web` (no http.tls) the same router is plain.
    let plain = client::get(&format!("http://127.0.0.1:{web}/"), Some("ep.test"))
        .await
        .unwrap();
    assert_eq!(plain.status, 200);
}

#[tokio::test]
async fn reload_keeps_open_connections_and_serves_the_new_certificate() {
    let s = start("{}", "", "").await;
    let config = tls::client_config(s.ca.cert_pem(), &[b"http/1.1"]).unwrap();
    let stream = tls::handshake(addr(s.websecure), "a.test", config.clone())
        .await
        .unwrap();
    let old = tls::server_leaf(&stream).unwrap();
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let get = || {
        Request::get("/")
            .header("host", "a.test")
            .body(body::empty())
            .unwrap()
    };
    assert_eq!(send.send_request(get()).await.unwrap().status(), 200);

    // A new certificate for a.test, under a new file name, and the config pointing to it.
    let fresh = s.ca.issue(&["a.test"]).unwrap();
    s.weir.write_file("a2.crt", &fresh.cert_pem).unwrap();
    s.weir.write_file("a2.key", &fresh.key_pem).unwrap();
    let dynamic = std::fs::read_to_string(s.weir.dynamic_path()).unwrap();
    s.weir
        .rewrite_dynamic(
            &dynamic
                .replace("/a.crt", "/a2.crt")
                .replace("/a.key", "/a2.key"),
        )
        .unwrap();
    let want = fresh.der().unwrap();
    let c2 = config.clone();
    wait_until(Duration::from_secs(10), async || {
        match tls::handshake(addr(s.websecure), "a.test", c2.clone()).await {
            Ok(st) => tls::server_leaf(&st).is_some_and(|l| l == want),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", s.weir.logs()));
    assert_ne!(old, want);
    // The connection opened before the reload still works.
    assert_eq!(send.send_request(get()).await.unwrap().status(), 200);
}

// Blocking child processes (curl, openssl, weir check) must not stall the in-process
// upstream: more than one runtime thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_certificates_are_reported_and_the_rest_serves() {
    let ca = TestCa::new().unwrap();
    let good = ca.issue(&["good.test"]).unwrap();
    let other = ca.issue(&["other.test"]).unwrap();
    let expired = ca.issue_expired(&["old.test"]).unwrap();
    let truncated = &good.cert_pem[..good.cert_pem.len() / 2];
    let upstream = server::echo("up").await.unwrap();
    let [web, websecure, admin] = free_ports::<3>().unwrap();
    let tls = r#"tls:
  certificates:
    - certFile: "{{dir}}/trunc.crt"
      keyFile: "{{dir}}/good.key"
    - certFile: "{{dir}}/good.crt"
      keyFile: "{{dir}}/other.key"
    - certFile: "{{dir}}/adir"
      keyFile: "{{dir}}/good.key"
    - certFile: "{{dir}}/old.crt"
      keyFile: "{{dir}}/old.key"
    - certFile: "{{dir}}/good.crt"
      keyFile: "{{dir}}/good.key"
"#;
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, websecure, admin, ""))
        .dynamic_config(&dynamic_config(&upstream, "{}", tls))
        .file("trunc.crt", truncated.to_owned())
        .file("good.crt", good.cert_pem.clone())
        .file("good.key", good.key_pem.clone())
        .file("other.key", other.key_pem.clone())
        .file("old.crt", expired.cert_pem.clone())
        .file("old.key", expired.key_pem.clone())
        .file("adir/keep", "x")
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    assert_eq!(
        served_cn(websecure, "good.test").await.unwrap(),
        "good.test"
    );
    let logs = weir.logs();
    let dir = weir.dir().to_string_lossy().into_owned();
    for (file, reason) in [
        ("trunc.crt", "PEM"),
        ("good.crt", "does not match"),
        ("adir", "is a directory"),
        ("old.crt", "expired"),
    ] {
        let line = logs
            .lines()
            .find(|l| l.contains(&format!("{dir}/{file}")) && l.contains(reason));
        assert!(line.is_some(), "no report for {file} ({reason}):\n{logs}");
    }
    // No key material anywhere in the output.
    for key in [&good.key_pem, &other.key_pem, &expired.key_pem] {
        let body_line = key.lines().nth(1).unwrap();
        assert!(!logs.contains(body_line), "key material in the logs");
    }
    // And `weir check` reports the same, failing.
    let out = Command::new(WEIR)
        .args(["check", "--config"])
        .arg(weir.dir().join("static.yaml"))
        .current_dir(weir.dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("is a directory"), "{text}");
    assert!(text.contains("does not match"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("good.crt") && l.contains("good.test  not after")),
        "{text}"
    );
}
