//! An entrypoint's defaults for its routers, through a real weir process: `http.middlewares`
//! run before the router's own, `observability` switches its routers' (and its unmatched
//! requests') metrics and access log, a router's own switches win, and a router on several
//! entrypoints is shown, counted and logged as `<entrypoint>-<router>` where defaults apply.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use weir_testkit::{WeirProcess, client, server, util};

#[path = "support/prom.rs"]
mod prom;
use prom::{find, scrape, value};

const BIN: &str = env!("CARGO_BIN_EXE_weir");

fn static_config(web: u16, other: u16, traefik: u16, metrics: u16) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
    http:
      middlewares: [tag@file]
    observability:
      accessLogs: false
      metrics: false
      tracing: false
  other:
    address: "127.0.0.1:{other}"
  traefik:
    address: "127.0.0.1:{traefik}"
  metrics:
    address: "127.0.0.1:{metrics}"
ping: {{}}
api:
  insecure: true
metrics:
  prometheus:
    addRoutersLabels: true
    prefix: traefik
accessLog:
  format: json
  filePath: "{{{{dir}}}}/access.json"
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    )
}

fn dynamic(url: &str) -> String {
    format!(
        r#"http:
  routers:
    both:
      entryPoints: [web, other]
      rule: Host(`app.test`)
      service: echo
    loud:
      entryPoints: [web]
      rule: Host(`loud.test`)
      service: echo
      observability:
        accessLogs: true
        metrics: true
  middlewares:
    tag:
      headers:
        customRequestHeaders:
          X-Tag: from-web
  services:
    echo:
      loadBalancer:
        servers:
          - url: "{url}"
"#
    )
}

async fn router(api: &str, name: &str) -> Value {
    let r = client::get(&format!("{api}/http/routers/{name}"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{name}: {}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test]
async fn entrypoint_middlewares_and_observability_apply_to_its_routers() {
    // The upstream answers with the X-Tag header it received.
    let up = server::serve_fn(|req| async move {
        let tag = req
            .headers()
            .get("x-tag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_owned();
        server::response(200, tag)
    })
    .await
    .unwrap();
    let [web, other, traefik, metrics] = util::free_ports::<4>().unwrap();
    let p = WeirProcess::start(
        BIN,
        &static_config(web, other, traefik, metrics),
        &dynamic(&up.url()),
        traefik,
    )
    .await
    .unwrap();

    // The API shows the copies as Traefik names them, with the defaults applied.
    let api = format!("http://127.0.0.1:{traefik}/api");
    let copy = router(&api, "web-both@file").await;
    assert_eq!(copy["using"], json!(["web"]), "{copy}");
    assert_eq!(copy["entryPoints"], json!(["web"]));
    assert_eq!(copy["middlewares"], json!(["tag@file"]));
    assert_eq!(copy["status"], "enabled");
    assert_eq!(
        copy["observability"],
        json!({"accessLogs": false, "metrics": false, "tracing": false})
    );
    let rest = router(&api, "both@file").await;
    assert_eq!(rest["using"], json!(["other"]), "{rest}");
    assert!(rest.get("middlewares").is_none(), "{rest}");
    assert_eq!(
        rest["observability"],
        json!({"accessLogs": true, "metrics": true, "tracing": true})
    );
    let loud = router(&api, "loud@file").await;
    assert_eq!(loud["middlewares"], json!(["tag@file"]), "{loud}");
    assert_eq!(
        loud["observability"],
        json!({"accessLogs": true, "metrics": true, "tracing": false})
    );

    // On web the entrypoint's middleware runs; on other it does not.
    let on_web = client::Client::http1();
    let base = format!("http://127.0.0.1:{web}/");
    let r = on_web.get(&base, Some("app.test")).await.unwrap();
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "from-web"));
    assert_eq!(
        on_web
            .get(&base, Some("nothing.test"))
            .await
            .unwrap()
            .status,
        404
    );
    let r = client::get(&format!("http://127.0.0.1:{other}/"), Some("app.test"))
        .await
        .unwrap();
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "none"));
    let r = client::get(&format!("http://127.0.0.1:{other}/"), Some("nothing.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    // Last, on the same connection as web's silent requests (so they were recorded
    // before it): a router whose own switches turn both back on.
    let r = on_web.get(&base, Some("loud.test")).await.unwrap();
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "from-web"));

    // Access log: other's two requests and loud's; nothing else from web.
    let path = p.dir().join("access.json");
    util::wait_until(Duration::from_secs(5), async || {
        util::json_lines(&path)
            .iter()
            .any(|l| l["RouterName"] == "loud@file")
    })
    .await
    .unwrap();
    let got = util::json_lines(&path);
    let seen: Vec<(&str, &str, u64)> = got
        .iter()
        .map(|l| {
            (
                l["entryPointName"].as_str().unwrap(),
                l["RouterName"].as_str().unwrap_or("-"),
                l["DownstreamStatus"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("other", "both@file", 200),
            ("other", "-", 404),
            ("web", "loud@file", 200)
        ]
    );

    // Metrics: web counts loud's request only; the copy has no series, both@file counts
    // other's request.
    let mut s = Vec::new();
    util::wait_until(Duration::from_secs(5), async || {
        s = scrape(metrics).await;
        find(
            &s,
            "traefik_router_requests_total",
            &[("router", "loud@file")],
        )
        .is_some()
    })
    .await
    .unwrap();
    let web_ep = [("entrypoint", "web"), ("code", "200")];
    assert_eq!(value(&s, "traefik_entrypoint_requests_total", &web_ep), 1.0);
    assert!(
        find(
            &s,
            "traefik_entrypoint_requests_total",
            &[("entrypoint", "web"), ("code", "404")]
        )
        .is_none()
    );
    assert_eq!(
        value(
            &s,
            "traefik_entrypoint_requests_total",
            &[("entrypoint", "other"), ("code", "404")]
        ),
        1.0
    );
    assert!(
        find(
            &s,
            "traefik_router_requests_total",
            &[("router", "web-both@file")]
        )
        .is_none()
    );
    assert_eq!(
        value(
            &s,
            "traefik_router_requests_total",
            &[("router", "both@file"), ("code", "200")]
        ),
        1.0
    );
}
