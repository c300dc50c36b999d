//! forwardAuth through a real weir against a real authentication server (a small hyper
//! server here) that allows, denies, redirects, copies headers and sets cookies; over TLS
//! and mutual TLS; and unreachable.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt as _;
use weir_testkit::client::Client;
use weir_testkit::server::{self, ServerOptions};
use weir_testkit::tls::TestCa;
use weir_testkit::{HttpResponse, WeirProcess, body, util};

/// What the authentication server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().unwrap()
}

fn with_headers(
    status: u16,
    text: &'static str,
    headers: &[(&str, &str)],
) -> Response<weir_testkit::body::TestBody> {
    let mut resp = server::response(status, text);
    for (k, v) in headers {
        resp.headers_mut().append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    resp
}

/// The authentication server: `/check` allows `Bearer good`, `/redirect` sends to a
/// relative login page, `/body` allows the body `let me in`.
async fn auth_server(opts: ServerOptions, log: Log) -> server::ServerHandle {
    server::serve_fn_with(opts, move |req| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let seen = Seen {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                headers: parts.headers.clone(),
                body: body.clone(),
            };
            log.lock().unwrap().push(seen);
            let good = parts
                .headers
                .get("authorization")
                .is_some_and(|v| v == "Bearer good");
            match parts.uri.path() {
                "/check" if good => with_headers(
                    200,
                    "auth body is not forwarded",
                    &[
                        ("x-auth-user", "alice"),
                        ("x-extra-role", "admin"),
                        ("x-extra-team", "blue"),
                        ("x-not-copied", "nope"),
                        ("set-cookie", "session=from-auth; Path=/"),
                        ("set-cookie", "tracking=t1"),
                    ],
                ),
                "/check" => with_headers(
                    401,
                    "denied by auth\n",
                    &[
                        ("www-authenticate", "Bearer realm=\"weir\""),
                        ("set-cookie", "deny=1"),
                    ],
                ),
                "/redirect" => with_headers(302, "", &[("location", "/login?rd=x")]),
                "/body" if body.as_ref() == b"let me in" => server::response(200, ""),
                _ => server::response(403, "forbidden by auth"),
            }
        }
    })
    .await
    .unwrap()
}

const DYNAMIC: &str = r#"
http:
  routers:
    basic: {rule: "Host(`basic.test`)", middlewares: [fa-basic], service: up}
    trust: {rule: "Host(`trust.test`)", middlewares: [fa-trust], service: up}
    filter: {rule: "Host(`filter.test`)", middlewares: [fa-filter], service: up}
    redirect: {rule: "Host(`redirect.test`)", middlewares: [fa-redirect], service: up}
    keep: {rule: "Host(`keep.test`)", middlewares: [fa-keep], service: up}
    body: {rule: "Host(`body.test`)", middlewares: [fa-body], service: up}
    down: {rule: "Host(`down.test`)", middlewares: [fa-down], service: up}
    tls: {rule: "Host(`tls.test`)", middlewares: [fa-tls], service: up}
    mtls: {rule: "Host(`mtls.test`)", middlewares: [fa-mtls], service: up}
    nocert: {rule: "Host(`nocert.test`)", middlewares: [fa-nocert], service: up}
    signin: {rule: "Host(`signin.test`)", middlewares: [fa-signin], service: up}
  middlewares:
    fa-basic:
      forwardAuth:
        address: "{{auth}}/check?from=weir"
        authResponseHeaders: [X-Auth-User]
        authResponseHeadersRegex: "^X-Extra-"
        addAuthCookiesToResponse: [session]
        headerField: X-Auth-User
    fa-trust:
      forwardAuth:
        address: "{{auth}}/check"
        trustForwardHeader: true
    fa-filter:
      forwardAuth:
        address: "{{auth}}/check"
        authRequestHeaders: [Authorization]
    fa-redirect:
      forwardAuth:
        address: "{{auth}}/redirect"
    fa-keep:
      forwardAuth:
        address: "{{auth}}/redirect"
        preserveLocationHeader: true
    fa-body:
      forwardAuth:
        address: "{{auth}}/body"
        forwardBody: true
        maxBodySize: 16
        preserveRequestMethod: true
    fa-down:
      forwardAuth:
        address: "http://127.0.0.1:{{closed}}/check"
    fa-tls:
      forwardAuth:
        address: "{{tls}}/check"
        tls:
          ca: "{{dir}}/ca.pem"
    fa-mtls:
      forwardAuth:
        address: "{{mtls}}/check"
        tls:
          ca: "{{dir}}/ca.pem"
          cert: "{{dir}}/client.pem"
          key: "{{dir}}/client.key"
    fa-nocert:
      forwardAuth:
        address: "{{mtls}}/check"
        tls:
          ca: "{{dir}}/ca.pem"
    fa-signin:
      forwardAuth:
        address: "{{auth}}/check"
        authSigninURL: "https://login.example/start"
  services:
    up:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
"#;

async fn send(
    c: &Client,
    web: u16,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    payload: &'static str,
) -> HttpResponse {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{web}{path}"))
        .header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    c.request(req.body(body::full(payload)).unwrap())
        .await
        .unwrap()
}

fn set_cookies(r: &HttpResponse) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn forward_auth() {
    let log: Log = Arc::default();
    let auth = auth_server(ServerOptions::new(), log.clone()).await;
    let ca = TestCa::new().unwrap();
    let tls_auth = auth_server(ServerOptions::new().tls(&ca).unwrap(), log.clone()).await;
    let mtls_auth = auth_server(ServerOptions::new().tls_mtls(&ca).unwrap(), log.clone()).await;
    let client_cert = ca.issue(&["weir-client"]).unwrap();
    // The upstream sets its own `session` cookie, which the auth server's replaces.
    let upstream = server::serve_fn(|req| async move {
        let mut resp = server::echo_response("up", req).await;
        let cookies = resp.headers_mut();
        cookies.append("set-cookie", "session=from-upstream".parse().unwrap());
        cookies.append("set-cookie", "other=u".parse().unwrap());
        resp
    })
    .await
    .unwrap();
    let [web, admin, closed] = util::free_ports::<3>().unwrap();
    let dynamic = DYNAMIC
        .replace("{{auth}}", &auth.url())
        .replace("{{tls}}", &format!("https://localhost:{}", tls_auth.port()))
        .replace(
            "{{mtls}}",
            &format!("https://localhost:{}", mtls_auth.port()),
        )
        .replace("{{closed}}", &closed.to_string())
        .replace("{{upstream}}", &upstream.url());
    // Clients may send X-Forwarded-*, so trustForwardHeader has something to trust.
    let static_config = util::basic_static_config(web, admin).replace(
        &format!("    address: \"127.0.0.1:{web}\"\n"),
        &format!("    address: \"127.0.0.1:{web}\"\n    forwardedHeaders:\n      insecure: true\n"),
    ) + "accessLog:\n  format: json\n  filePath: \"{{dir}}/access.json\"\n";
    let weir = WeirProcess::builder(env!("CARGO_BIN_EXE_weir"))
        .static_config(&static_config)
        .dynamic_config(&dynamic)
        .file("ca.pem", ca.cert_pem())
        .file("client.pem", client_cert.cert_pem.as_str())
        .file("client.key", client_cert.key_pem.as_str())
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let c = Client::http1();
    let good = ("authorization", "Bearer good");
    let spoofed = [
        ("x-auth-user", "mallory"),
        ("x-extra-spoof", "1"),
        ("x-forwarded-host", "spoof.example"),
        ("x-forwarded-uri", "/spoofed"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-method", "DELETE"),
        ("x-forwarded-for", "203.0.113.9"),
    ];

    // Allowed: selected headers copied, client copies of them dropped, body untouched.
    let mut headers = vec![good, ("cookie", "c=1")];
    headers.extend(spoofed);
    let r = send(
        &c,
        web,
        "POST",
        "basic.test",
        "/some/path?q=1",
        &headers,
        "payload",
    )
    .await;
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.header_all("x-auth-user"), vec!["alice"]);
    assert_eq!(dump.header("x-extra-role"), Some("admin"));
    assert_eq!(dump.header("x-extra-team"), Some("blue"));
    assert_eq!(
        dump.header("x-extra-spoof"),
        None,
        "regex strips client copies"
    );
    assert_eq!(dump.header("x-not-copied"), None);
    assert_eq!(dump.body, "payload");
    let cookies = set_cookies(&r);
    assert!(
        cookies.contains(&"session=from-auth; Path=/".to_owned()),
        "{cookies:?}"
    );
    assert!(cookies.contains(&"other=u".to_owned()), "{cookies:?}");
    assert!(
        !cookies
            .iter()
            .any(|c| c.starts_with("session=from-upstream"))
    );
    assert!(!cookies.iter().any(|c| c.starts_with("tracking=")));
    // What the auth server saw: a GET to its own path, the original headers, and the
    // request described by X-Forwarded-* from the request itself (not trusted).
    let seen = last(&log);
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.uri, "/check?from=weir");
    assert_eq!(
        seen.header("host"),
        Some(auth.url().trim_start_matches("http://"))
    );
    assert_eq!(seen.header("authorization"), Some("Bearer good"));
    assert_eq!(seen.header("cookie"), Some("c=1"));
    assert_eq!(seen.header("x-forwarded-method"), Some("POST"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    assert_eq!(seen.header("x-forwarded-host"), Some("basic.test"));
    assert_eq!(seen.header("x-forwarded-uri"), Some("/some/path?q=1"));
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(seen.header("content-length"), None);
    assert!(seen.body.is_empty());
    // headerField: the user the auth server named is the access log's ClientUsername.
    let log_path = weir.dir().join("access.json");
    let logged = || {
        util::json_lines(&log_path)
            .into_iter()
            .find(|l| l["RequestHost"] == "basic.test")
    };
    util::wait_until(Duration::from_secs(5), async || logged().is_some())
        .await
        .unwrap();
    assert_eq!(logged().unwrap()["ClientUsername"], "alice");

    // Denied: the auth server's status, headers and body reach the client.
    let before = upstream.requests();
    let r = send(&c, web, "GET", "basic.test", "/", &[], "").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"weir\""));
    assert_eq!(set_cookies(&r), vec!["deny=1".to_owned()]);
    assert_eq!(r.body, "denied by auth\n");
    assert_eq!(
        upstream.requests(),
        before,
        "a denied request never reaches the upstream"
    );

    // trustForwardHeader: the client's X-Forwarded-* go to the auth server.
    let mut headers = vec![good];
    headers.extend(spoofed);
    let r = send(&c, web, "GET", "trust.test", "/real", &headers, "").await;
    assert_eq!(r.status, 200);
    let seen = last(&log);
    assert_eq!(seen.header("x-forwarded-host"), Some("spoof.example"));
    assert_eq!(seen.header("x-forwarded-uri"), Some("/spoofed"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("https"));
    assert_eq!(seen.header("x-forwarded-method"), Some("DELETE"));
    assert_eq!(
        seen.header("x-forwarded-for"),
        Some("203.0.113.9, 127.0.0.1")
    );

    // authRequestHeaders: only the listed headers, plus X-Forwarded-*.
    let r = send(
        &c,
        web,
        "GET",
        "filter.test",
        "/f",
        &[good, ("cookie", "c=1"), ("x-custom", "1")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let seen = last(&log);
    assert_eq!(seen.header("authorization"), Some("Bearer good"));
    assert_eq!(seen.header("cookie"), None);
    assert_eq!(seen.header("x-custom"), None);
    assert_eq!(seen.header("x-forwarded-uri"), Some("/f"));

    // A relative Location is resolved against the auth server unless preserved.
    let r = send(&c, web, "GET", "redirect.test", "/", &[], "").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/login?rd=x", auth.url())
    );
    let r = send(&c, web, "GET", "keep.test", "/", &[], "").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/login?rd=x"));

    // forwardBody with maxBodySize, and the original method kept.
    let r = send(&c, web, "PUT", "body.test", "/b", &[], "let me in").await;
    assert_eq!(r.status, 200, "{}", weir.logs());
    assert_eq!(
        r.echo().unwrap().body,
        "let me in",
        "the upstream still gets the body"
    );
    let seen = last(&log);
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.body.as_ref(), b"let me in");
    let r = send(&c, web, "PUT", "body.test", "/b", &[], "wrong").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body, "forbidden by auth");
    let r = send(
        &c,
        web,
        "PUT",
        "body.test",
        "/b",
        &[],
        "far more than sixteen bytes",
    )
    .await;
    assert_eq!(r.status, 401, "over maxBodySize");

    // authSigninURL: a 401 becomes a redirect to the sign-in page.
    let r = send(&c, web, "GET", "signin.test", "/", &[], "").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("https://login.example/start"));

    // TLS to the auth server with a private CA, and mutual TLS.
    let r = send(&c, web, "GET", "tls.test", "/", &[good], "").await;
    assert_eq!(r.status, 200, "{}", weir.logs());
    let r = send(&c, web, "GET", "tls.test", "/", &[], "").await;
    assert_eq!(r.status, 401);
    let r = send(&c, web, "GET", "mtls.test", "/", &[good], "").await;
    assert_eq!(r.status, 200, "{}", weir.logs());
    let r = send(&c, web, "GET", "nocert.test", "/", &[good], "").await;
    assert_eq!(
        r.status, 500,
        "the auth server refuses a client without a certificate"
    );

    // An unreachable auth server: 500, as Traefik answers.
    let r = send(&c, web, "GET", "down.test", "/", &[good], "").await;
    assert_eq!(r.status, 500);
}
