//! Prometheus metrics through a real weir process: a known mix of requests, then the
//! scrape parsed with an exposition-format parser and every counter checked.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use http::{Method, Request};
use weir_testkit::{WeirProcess, body, client, server, util};

#[path = "support/prom.rs"]
mod prom;
use prom::{find, scrape, value};

const BIN: &str = env!("CARGO_BIN_EXE_weir");

fn static_config(web: u16, traefik: u16, metrics: u16, prefix: &str) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
  traefik:
    address: "127.0.0.1:{traefik}"
  metrics:
    address: "127.0.0.1:{metrics}"
ping: {{}}
metrics:
  prometheus:
    addRoutersLabels: true
{prefix}
providers:
  file:
    filename: "{{{{dynamic}}}}"
    watch: true
"#
    )
}

fn dynamic(a: &str, b: &str, with_b: bool) -> String {
    let mut s = format!(
        r#"http:
  routers:
    ra:
      entryPoints: [web]
      rule: Host(`a.test`)
      service: sa
    rq:
      entryPoints: [web]
      rule: Host(`q.test`)
      service: sa
      observability:
        metrics: false
  services:
    sa:
      loadBalancer:
        servers:
          - url: "{a}"
        healthCheck:
          path: /
          interval: 10s
    sb:
      loadBalancer:
        servers:
          - url: "{b}"
"#
    );
    if !with_b {
        s = s.split("    sb:\n").next().unwrap().to_owned();
    } else {
        s = s.replace(
            "  services:\n",
            "    rb:\n      entryPoints: [web]\n      rule: Host(`b.test`)\n      service: sb\n  services:\n",
        );
    }
    s
}

#[tokio::test]
async fn counters_histograms_and_removed_routes() {
    let a = server::serve_fn(|_req| async { server::response(200, "hello") })
        .await
        .unwrap();
    let b = server::serve_fn(|req| async move {
        if req.method() == Method::POST {
            server::response(503, "busy")
        } else {
            server::response(200, "ok")
        }
    })
    .await
    .unwrap();
    let [web, traefik, metrics] = util::free_ports::<3>().unwrap();
    let p = WeirProcess::builder(BIN)
        .static_config(&static_config(web, traefik, metrics, "    prefix: traefik"))
        .dynamic_config(&dynamic(&a.url(), &b.url(), true))
        .ping_port(traefik)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}/");

    for _ in 0..3 {
        let r = client::get(&base, Some("a.test")).await.unwrap();
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "hello"));
    }
    for _ in 0..2 {
        let req = Request::post(&base)
            .header("host", "b.test")
            .body(body::full("12345678"))
            .unwrap();
        assert_eq!(client::request(req).await.unwrap().status, 503);
    }
    assert_eq!(
        client::get(&base, Some("b.test")).await.unwrap().status,
        200
    );
    assert_eq!(
        client::get(&base, Some("nowhere.test"))
            .await
            .unwrap()
            .status,
        404
    );

    // Recording happens when the response body is done, just after the client has it.
    let mut s = Vec::new();
    util::wait_until(Duration::from_secs(5), async || {
        s = scrape(metrics).await;
        find(&s, "traefik_entrypoint_requests_total", &[("code", "404")]).is_some()
            && find(
                &s,
                "traefik_service_requests_total",
                &[("code", "200"), ("service", "sb@file")],
            )
            .is_some()
    })
    .await
    .unwrap();

    let ep = [
        ("entrypoint", "web"),
        ("method", "GET"),
        ("protocol", "http"),
    ];
    assert_eq!(
        value(
            &s,
            "traefik_entrypoint_requests_total",
            &[&ep[..], &[("code", "200")]].concat()
        ),
        4.0
    );
    assert_eq!(
        value(
            &s,
            "traefik_entrypoint_requests_total",
            &[&ep[..], &[("code", "404")]].concat()
        ),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "traefik_entrypoint_requests_total",
            &[("entrypoint", "web"), ("method", "POST"), ("code", "503")]
        ),
        2.0
    );
    let hist = find(
        &s,
        "traefik_entrypoint_request_duration_seconds",
        &[&ep[..], &[("code", "200")]].concat(),
    )
    .unwrap();
    assert_eq!(hist.value, 4.0);
    let bounds: Vec<f64> = hist.buckets.iter().map(|b| b.0).collect();
    assert_eq!(bounds, [0.1, 0.3, 1.2, 5.0, f64::INFINITY]);
    assert_eq!(
        value(
            &s,
            "traefik_entrypoint_request_duration_seconds_count",
            &[&ep[..], &[("code", "200")]].concat()
        ),
        4.0
    );

    let ra = [
        ("router", "ra@file"),
        ("service", "sa@file"),
        ("code", "200"),
        ("method", "GET"),
    ];
    assert_eq!(value(&s, "traefik_router_requests_total", &ra), 3.0);
    assert_eq!(value(&s, "traefik_router_responses_bytes_total", &ra), 15.0);
    assert_eq!(
        value(
            &s,
            "traefik_service_requests_total",
            &[("service", "sb@file"), ("code", "503"), ("method", "POST")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &s,
            "traefik_service_requests_bytes_total",
            &[("service", "sb@file"), ("code", "503")]
        ),
        16.0
    );
    assert_eq!(
        value(
            &s,
            "traefik_service_responses_bytes_total",
            &[("service", "sb@file"), ("code", "503")]
        ),
        8.0
    );
    assert_eq!(
        value(
            &s,
            "traefik_service_server_up",
            &[("service", "sa@file"), ("url", a.url().as_str())]
        ),
        1.0
    );
    // Only health-checked services have the gauge, as Traefik (its health checker sets it).
    assert!(find(&s, "traefik_service_server_up", &[("service", "sb@file")]).is_none());
    assert!(value(&s, "traefik_config_reloads_total", &[]) >= 1.0);
    assert!(value(&s, "traefik_config_last_reload_success", &[]) > 1.6e9);
    assert!(
        find(
            &s,
            "traefik_open_connections",
            &[("entrypoint", "web"), ("protocol", "TCP")]
        )
        .is_some()
    );
    // Internal routers (ping, the scrape itself) are not counted by default.
    assert!(
        find(
            &s,
            "traefik_entrypoint_requests_total",
            &[("entrypoint", "traefik")]
        )
        .is_none()
    );
    assert!(
        find(
            &s,
            "traefik_router_requests_total",
            &[("router", "prometheus@internal")]
        )
        .is_none()
    );

    // `observability.metrics: false`: not counted at all, the entrypoint included (Traefik
    // measures the entrypoint inside each router's chain). One request to ra follows on
    // the same connection, so once ra has counted it rq's request was done before.
    let conn = client::Client::http1();
    assert_eq!(conn.get(&base, Some("q.test")).await.unwrap().status, 200);
    assert_eq!(conn.get(&base, Some("a.test")).await.unwrap().status, 200);
    let mut s = Vec::new();
    util::wait_until(Duration::from_secs(5), async || {
        s = scrape(metrics).await;
        find(&s, "traefik_router_requests_total", &ra).is_some_and(|x| x.value == 4.0)
    })
    .await
    .unwrap();
    assert!(
        find(
            &s,
            "traefik_router_requests_total",
            &[("router", "rq@file")]
        )
        .is_none()
    );
    let ep200 = [&ep[..], &[("code", "200")]].concat();
    assert_eq!(value(&s, "traefik_entrypoint_requests_total", &ep200), 5.0);
    assert_eq!(
        value(
            &s,
            "traefik_service_requests_total",
            &[("service", "sa@file"), ("code", "200")]
        ),
        4.0
    );

    // Remove router rb: its series go, ra keeps counting from where it was.
    p.rewrite_dynamic(&dynamic(&a.url(), &b.url(), false))
        .unwrap();
    util::wait_until(Duration::from_secs(10), async || {
        let s = scrape(metrics).await;
        find(
            &s,
            "traefik_router_requests_total",
            &[("router", "rb@file")],
        )
        .is_none()
    })
    .await
    .unwrap();
    client::get(&base, Some("a.test")).await.unwrap();
    util::wait_until(Duration::from_secs(5), async || {
        let s = scrape(metrics).await;
        find(&s, "traefik_router_requests_total", &ra).is_some_and(|x| x.value == 5.0)
    })
    .await
    .unwrap();
    let s = scrape(metrics).await;
    assert!(
        find(
            &s,
            "traefik_service_requests_total",
            &[("service", "sb@file")]
        )
        .is_none()
    );
    assert!(value(&s, "traefik_config_reloads_total", &[]) >= 2.0);
    assert_eq!(value(&s, "traefik_config_reloads_failure_total", &[]), 0.0);

    // A file that does not parse: counted as a failure, stamped after the last success
    // (what the reload alert compares); the last good configuration keeps serving.
    p.rewrite_dynamic("http:\n  routers: [unclosed\n").unwrap();
    let mut s = Vec::new();
    util::wait_until(Duration::from_secs(10), async || {
        s = scrape(metrics).await;
        value(&s, "traefik_config_reloads_failure_total", &[]) == 1.0
    })
    .await
    .unwrap();
    assert!(
        value(&s, "traefik_config_last_reload_failure", &[])
            > value(&s, "traefik_config_last_reload_success", &[])
    );
    assert_eq!(
        client::get(&base, Some("a.test")).await.unwrap().status,
        200
    );
}

#[tokio::test]
async fn default_prefix_and_open_connections() {
    let a = server::serve_fn(|_req| async { server::response(200, "x") })
        .await
        .unwrap();
    let [web, traefik, metrics] = util::free_ports::<3>().unwrap();
    let _p = WeirProcess::builder(BIN)
        .static_config(&static_config(web, traefik, metrics, ""))
        .dynamic_config(&dynamic(&a.url(), &a.url(), false))
        .ping_port(traefik)
        .start()
        .await
        .unwrap();
    // A connection held open shows in the gauge.
    let held = tokio::net::TcpStream::connect(("127.0.0.1", web))
        .await
        .unwrap();
    util::wait_until(Duration::from_secs(5), async || {
        let s = scrape(metrics).await;
        find(&s, "weir_open_connections", &[("entrypoint", "web")]).is_some_and(|x| x.value == 1.0)
    })
    .await
    .unwrap();
    drop(held);
    util::wait_until(Duration::from_secs(5), async || {
        let s = scrape(metrics).await;
        find(&s, "weir_open_connections", &[("entrypoint", "web")]).is_some_and(|x| x.value == 0.0)
    })
    .await
    .unwrap();
    client::get(&format!("http://127.0.0.1:{web}/"), Some("a.test"))
        .await
        .unwrap();
    util::wait_until(Duration::from_secs(5), async || {
        let s = scrape(metrics).await;
        find(
            &s,
            "weir_service_requests_total",
            &[("service", "sa@file"), ("code", "200")],
        )
        .is_some_and(|x| x.value == 1.0)
            && s
                .iter()
                .all(|x| x.name.starts_with("weir_") || x.name.starts_with("process_"))
            // The client libraries' process families, which dashboards read too.
            && find(&s, "process_resident_memory_bytes", &[]).is_some_and(|x| x.value > 0.0)
            && find(&s, "process_open_fds", &[]).is_some_and(|x| x.value > 0.0)
    })
    .await
    .unwrap();
}

/// A service's requests are counted around its servers, as Traefik: a request a
/// middleware answered (basicAuth's 401) counts on the router but on no service, a
/// weighted service's requests count on the load balancer that answered them, every
/// attempt of a retried request counts (retry's and buffering's retryExpression's), a
/// failure the errors middleware replaced counts on its service beside the page on the
/// page's, and a mirror's answer on the mirror's.
#[tokio::test]
async fn services_count_what_their_servers_answer() {
    let a = server::serve_fn(|_req| async { server::response(200, "x") })
        .await
        .unwrap();
    let bad = server::serve_fn(|_req| async { server::response(503, "busy") })
        .await
        .unwrap();
    let [web, traefik, metrics, dead] = util::free_ports::<4>().unwrap();
    let hash = bcrypt::hash("pw", 4).unwrap();
    let dynamic = format!(
        r#"http:
  routers:
    rw:
      entryPoints: [web]
      rule: Host(`w.test`)
      service: w
    rauth:
      entryPoints: [web]
      rule: Host(`auth.test`)
      middlewares: [auth]
      service: sa
    rretry:
      entryPoints: [web]
      rule: Host(`retry.test`)
      middlewares: [retry]
      service: dead
    rerr:
      entryPoints: [web]
      rule: Host(`err.test`)
      middlewares: [pages]
      service: bad
    rmirror:
      entryPoints: [web]
      rule: Host(`mirror.test`)
      service: m
    rbuf:
      entryPoints: [web]
      rule: Host(`buf.test`)
      middlewares: [buf]
      service: busy
  middlewares:
    buf:
      buffering:
        retryExpression: "ResponseCode() == 503 && Attempts() < 2"
    auth:
      basicAuth:
        users: ["u:{hash}"]
    retry:
      retry:
        attempts: 3
    pages:
      errors:
        status: ["500-599"]
        service: sa
        query: /
  services:
    m:
      mirroring:
        service: sa
        mirrors:
          - name: bad
            percent: 100
    w:
      weighted:
        services:
          - name: sa
            weight: 1
    sa:
      loadBalancer:
        servers:
          - url: "{}"
    dead:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:{dead}"
    bad:
      loadBalancer:
        servers:
          - url: "{}"
    busy:
      loadBalancer:
        servers:
          - url: "{}"
"#,
        a.url(),
        bad.url(),
        bad.url()
    );
    let _p = WeirProcess::builder(BIN)
        .static_config(&static_config(web, traefik, metrics, ""))
        .dynamic_config(&dynamic)
        .ping_port(traefik)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}/");
    for _ in 0..2 {
        assert_eq!(
            client::get(&base, Some("w.test")).await.unwrap().status,
            200
        );
    }
    let status = |host: &'static str| {
        let base = base.clone();
        async move { client::get(&base, Some(host)).await.unwrap().status }
    };
    assert_eq!(status("auth.test").await, 401);
    assert_eq!(status("retry.test").await, 502);
    assert_eq!(status("err.test").await, 503);
    assert_eq!(status("mirror.test").await, 200);
    assert_eq!(status("buf.test").await, 503);
    let service = |s: &[prom::Sample], name: &str, code: &str| {
        find(
            s,
            "weir_service_requests_total",
            &[("service", name), ("code", code)],
        )
        .map_or(0.0, |x| x.value)
    };
    let mut s = Vec::new();
    util::wait_until(Duration::from_secs(5), async || {
        s = scrape(metrics).await;
        service(&s, "sa@file", "200") == 4.0
            && service(&s, "dead@file", "502") == 3.0
            && service(&s, "bad@file", "503") == 2.0
            && service(&s, "busy@file", "503") == 2.0
            && find(
                &s,
                "weir_router_requests_total",
                &[("router", "rauth@file"), ("code", "401")],
            )
            .is_some()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}: {s:?}"));
    let services: Vec<_> = s
        .iter()
        .filter(|x| x.name == "weir_service_requests_total")
        .map(|x| format!("{:?}", x.labels))
        .collect();
    // sa (weighted, the error page, mirroring's main), dead, bad (errors' failure and the
    // mirror), busy: no series for w or m, none with code 401.
    assert_eq!(services.len(), 4, "{services:?}");
    assert!(
        !services
            .iter()
            .any(|l| l.contains("\"w@file\"") || l.contains("\"m@file\"") || l.contains("401"))
    );
}
