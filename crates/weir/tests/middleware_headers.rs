//! The `headers` middleware through a real weir and a real upstream: custom request and
//! response headers, CORS (preflight and simple requests) and the security headers.
#![allow(clippy::unwrap_used)]

use http::Request;
use weir_testkit::client::Client;
use weir_testkit::{HttpResponse, WeirProcess, body, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    custom:
      rule: Host(`custom.test`)
      middlewares: [custom]
      service: echo
    cors:
      rule: Host(`cors.test`)
      middlewares: [cors]
      service: echo
    cors-any:
      rule: Host(`any.test`)
      middlewares: [cors-any]
      service: echo
    secure:
      rule: Host(`secure.test`) || Host(`proxied.test`)
      middlewares: [secure]
      service: echo
    allowed:
      rule: PathPrefix(`/allowed`)
      middlewares: [allowed]
      service: echo
    bad:
      rule: Host(`bad.test`)
      middlewares: [bad-header]
      service: echo
  middlewares:
    custom:
      headers:
        customRequestHeaders:
          X-Script-Name: test
          X-Remove-Me: ""
        customResponseHeaders:
          X-Custom-Response: hello
          X-Upstream-Name: ""
    cors:
      headers:
        accessControlAllowMethods: [GET, OPTIONS, PUT]
        accessControlAllowHeaders: [X-Token, Content-Type]
        accessControlAllowOriginList: [https://app.example]
        accessControlAllowOriginListRegex: ["^https://[a-z]+\\.trusted\\.example$"]
        accessControlExposeHeaders: [X-Total]
        accessControlAllowCredentials: true
        accessControlMaxAge: 100
        addVaryHeader: true
    cors-any:
      headers:
        accessControlAllowOriginList: ["*"]
    secure:
      headers:
        stsSeconds: 31536000
        stsIncludeSubdomains: true
        stsPreload: true
        frameDeny: true
        contentTypeNosniff: true
        browserXssFilter: true
        contentSecurityPolicy: "default-src 'self'"
        referrerPolicy: same-origin
        permissionsPolicy: "camera=()"
        sslProxyHeaders:
          X-Forwarded-Ssl: "on"
    allowed:
      headers:
        allowedHosts: [good.test]
        hostsProxyHeaders: [X-Original-Host]
        customFrameOptionsValue: SAMEORIGIN
    bad-header:
      headers:
        customRequestHeaders:
          "bad header": x
  services:
    echo:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
"#;

async fn send(
    client: &Client,
    web: u16,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{web}{path}"))
        .header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    client
        .request(req.body(body::empty()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn headers_middleware() {
    let upstream = server::echo("up").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &DYNAMIC.replace("{{upstream}}", &upstream.url()),
        admin,
    )
    .await
    .unwrap();
    let c = Client::http1();

    // Custom headers: set and removed both ways.
    let r = send(&c, web, "GET", "custom.test", "/", &[("x-remove-me", "1")]).await;
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.header("x-script-name"), Some("test"));
    assert_eq!(dump.header("x-remove-me"), None);
    assert_eq!(r.header("x-custom-response"), Some("hello"));
    assert_eq!(r.header("x-upstream-name"), None);

    // CORS preflight: answered by weir, the upstream never sees it.
    let before = upstream.requests();
    let pre = [
        ("origin", "https://app.example"),
        ("access-control-request-method", "PUT"),
    ];
    let r = send(&c, web, "OPTIONS", "cors.test", "/x", &pre).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET,OPTIONS,PUT")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("X-Token,Content-Type")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(r.header("access-control-max-age"), Some("100"));
    assert_eq!(upstream.requests(), before);
    // Origin matched by regex; an unknown origin gets no Allow-Origin.
    let r = send(
        &c,
        web,
        "OPTIONS",
        "cors.test",
        "/x",
        &[
            ("origin", "https://ab.trusted.example"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://ab.trusted.example")
    );
    let r = send(
        &c,
        web,
        "OPTIONS",
        "cors.test",
        "/x",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    // OPTIONS without Access-Control-Request-Method is a normal request.
    let r = send(
        &c,
        web,
        "OPTIONS",
        "cors.test",
        "/x",
        &[("origin", "https://app.example")],
    )
    .await;
    assert_eq!(r.echo().unwrap().method, "OPTIONS");
    // Simple request: forwarded, CORS response headers added, Vary extended.
    let r = send(
        &c,
        web,
        "GET",
        "cors.test",
        "/x",
        &[("origin", "https://app.example")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.echo().unwrap().path_and_query, "/x");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-expose-headers"), Some("X-Total"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(r.header("vary"), Some("Origin"));
    let r = send(
        &c,
        web,
        "GET",
        "any.test",
        "/",
        &[("origin", "https://whatever.example")],
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("vary"), None);

    // Security headers; HSTS only when the request is HTTPS (here via sslProxyHeaders).
    let r = send(&c, web, "GET", "secure.test", "/", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-xss-protection"), Some("1; mode=block"));
    assert_eq!(
        r.header("content-security-policy"),
        Some("default-src 'self'")
    );
    assert_eq!(r.header("referrer-policy"), Some("same-origin"));
    assert_eq!(r.header("permissions-policy"), Some("camera=()"));
    assert_eq!(r.header("strict-transport-security"), None);
    let r = send(
        &c,
        web,
        "GET",
        "proxied.test",
        "/",
        &[("x-forwarded-ssl", "on")],
    )
    .await;
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains; preload")
    );

    // allowedHosts, with the host taken from hostsProxyHeaders when present.
    let r = send(&c, web, "GET", "good.test", "/allowed", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-frame-options"), Some("SAMEORIGIN"));
    let r = send(&c, web, "GET", "other.test", "/allowed", &[]).await;
    assert_eq!(r.status, 500);
    let r = send(
        &c,
        web,
        "GET",
        "other.test",
        "/allowed",
        &[("x-original-host", "good.test")],
    )
    .await;
    assert_eq!(r.status, 200);

    // A bad header name disables the router that uses it.
    let r = send(&c, web, "GET", "bad.test", "/", &[]).await;
    assert_eq!(r.status, 404);
    assert!(
        weir.logs().contains("not a valid header name"),
        "{}",
        weir.logs()
    );
}
