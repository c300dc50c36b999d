//! Middlewares that call the rest of the chain again or another service: retry and errors,
//! through a real weir with real (and dead) upstreams.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use http::Request;
use weir_testkit::client::Client;
use weir_testkit::{WeirProcess, body, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    retried:
      rule: Host(`retry.test`)
      middlewares: [retry3]
      service: half-dead
    not-retried:
      rule: Host(`noretry.test`)
      service: half-dead
    retry-status:
      rule: Host(`status.test`)
      middlewares: [retry-on-503]
      service: flaky
    pages:
      rule: Host(`pages.test`)
      middlewares: [error-pages]
      service: statuses
    bad-errors:
      rule: Host(`badpages.test`)
      middlewares: [error-pages-missing]
      service: statuses
  middlewares:
    retry3:
      retry:
        attempts: 3
        initialInterval: 10ms
    retry-on-503:
      retry:
        attempts: 2
        status: ["503"]
    error-pages:
      errors:
        status: ["500-599", "404"]
        statusRewrites:
          "502": 500
        service: pages
        query: "/errors/{status}?orig={originalStatus}&u={url}"
    error-pages-missing:
      errors:
        status: ["500-599"]
        service: nowhere
  services:
    half-dead:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:{{dead}}"
          - url: "{{echo}}"
    flaky:
      loadBalancer:
        servers:
          - url: "{{flaky}}"
    statuses:
      loadBalancer:
        servers:
          - url: "{{statuses}}"
    pages:
      loadBalancer:
        servers:
          - url: "{{pages}}"
"#;

#[tokio::test]
async fn retry_and_errors() {
    let echo = server::echo("echo").await.unwrap();
    let pages = server::echo("pages").await.unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let flaky = {
        let calls = calls.clone();
        server::serve_fn(move |_req| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n.is_multiple_of(2) {
                    server::response(503, "busy")
                } else {
                    server::response(200, "fine")
                }
            }
        })
        .await
        .unwrap()
    };
    let statuses = server::serve_fn(|req| async move {
        match req.uri().path() {
            "/missing" => server::response(404, "upstream 404"),
            "/broken" => server::response(502, "upstream 502"),
            "/teapot" => server::response(418, "upstream 418"),
            _ => server::response(200, "upstream ok"),
        }
    })
    .await
    .unwrap();
    let dead = util::free_port().unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let dynamic = DYNAMIC
        .replace("{{dead}}", &dead.to_string())
        .replace("{{echo}}", &echo.url())
        .replace("{{flaky}}", &flaky.url())
        .replace("{{statuses}}", &statuses.url())
        .replace("{{pages}}", &pages.url());
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &dynamic,
        admin,
    )
    .await
    .unwrap();
    let c = Client::http1();
    let url = |path: &str| format!("http://127.0.0.1:{web}{path}");

    // Half the servers refuse connections: without retry some requests fail, with it none.
    let mut failed = 0;
    for _ in 0..6 {
        let r = c.get(&url("/"), Some("noretry.test")).await.unwrap();
        failed += u32::from(r.status == 502);
    }
    assert!(failed > 0, "the dead server was never picked");
    for i in 0..6 {
        let r = c.get(&url("/"), Some("retry.test")).await.unwrap();
        assert_eq!(r.status, 200, "request {i}: {}", weir.logs());
    }
    // A POST body is replayed to the next server (the dead one never saw it).
    for _ in 0..2 {
        let req = Request::post(url("/submit"))
            .header("host", "retry.test")
            .body(body::full("payload"))
            .unwrap();
        let r = c.request(req).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.echo().unwrap().body, "payload");
    }

    // Retry on a status: the first answer is 503, the second 200.
    let r = c.get(&url("/"), Some("status.test")).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "fine");
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // errors: the page service answers, with the original (or rewritten) status.
    let r = c
        .get(&url("/missing?q=1"), Some("pages.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    let dump = r.echo().unwrap();
    assert_eq!(dump.name, "pages");
    assert_eq!(
        dump.path_and_query,
        "/errors/404?orig=404&u=%2Fmissing%3Fq%3D1"
    );
    assert_eq!(dump.host, "pages.test");
    let r = c.get(&url("/broken"), Some("pages.test")).await.unwrap();
    assert_eq!(r.status, 500);
    assert!(
        r.echo()
            .unwrap()
            .path_and_query
            .starts_with("/errors/500?orig=502")
    );
    let r = c.get(&url("/teapot"), Some("pages.test")).await.unwrap();
    assert_eq!((r.status.as_u16(), r.body.as_str()), (418, "upstream 418"));
    let r = c.get(&url("/"), Some("pages.test")).await.unwrap();
    assert_eq!(r.body, "upstream ok");
    // An errors middleware naming a missing service disables its router.
    let r = c.get(&url("/"), Some("badpages.test")).await.unwrap();
    assert_eq!(r.status, 404);
    assert!(weir.logs().contains("nowhere@file"), "{}", weir.logs());
}
