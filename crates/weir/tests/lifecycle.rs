//! End to end: hot reload under load, bad configuration, graceful shutdown, the embedded
//! default.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use http::StatusCode;
use weir_testkit::{WeirProcess, client, server, util};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn two_routers(version: usize, a: &str, b: &str) -> String {
    format!(
        r#"
http:
  routers:
    stable:
      rule: "Host(`stable.test`)"
      service: stable
    moving:
      rule: "Host(`v{version}.test`)"
      service: moving
  services:
    stable:
      loadBalancer:
        servers: [{{url: "{a}"}}]
    moving:
      loadBalancer:
        servers: [{{url: "{b}"}}]
"#
    )
}

#[tokio::test]
async fn reloads_under_load_without_failing_a_request() {
    let a = server::echo("a").await.unwrap();
    let b = server::echo("b").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    // Traefik's default throttle (2 s between reloads) would make 20 reloads slow.
    let weir = WeirProcess::builder(WEIR)
        .static_config(&util::basic_static_config(web, admin))
        .dynamic_config(&two_routers(0, &a.url(), &b.url()))
        .arg("--providers.providersThrottleDuration=50ms")
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}/");

    // Continuous traffic on the router that never changes, on kept-alive connections.
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let mut loaders = Vec::new();
    for _ in 0..4 {
        let (stop, ok, base) = (stop.clone(), ok.clone(), base.clone());
        loaders.push(tokio::spawn(async move {
            let c = client::Client::http1();
            let mut failures = Vec::new();
            // Bounded: at most 100 000 requests per loader.
            for _ in 0..100_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match c.get(&base, Some("stable.test")).await {
                    Ok(r) if r.status == StatusCode::OK => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => failures.push(format!("status {}", r.status)),
                    Err(e) => failures.push(format!("{e:#}")),
                }
            }
            failures
        }));
    }

    // 20 rewrites; the 10th does not parse and must leave the 9th in place.
    for version in 1..=20 {
        if version == 10 {
            weir.rewrite_dynamic("http:\n  routers: [this is: not valid\n")
                .unwrap();
            // The broken file is reported, and the last good table keeps serving.
            util::wait_until(Duration::from_secs(10), async || {
                weir.logs().contains("keeping the previous one")
            })
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", weir.logs()));
            let r = client::get(&base, Some("v9.test")).await.unwrap();
            assert_eq!(r.status, StatusCode::OK, "last good config still serves");
            continue;
        }
        weir.rewrite_dynamic(&two_routers(version, &a.url(), &b.url()))
            .unwrap();
        let host = format!("v{version}.test");
        util::wait_until(Duration::from_secs(10), async || {
            client::get(&base, Some(&host))
                .await
                .is_ok_and(|r| r.status == StatusCode::OK)
        })
        .await
        .unwrap_or_else(|e| panic!("v{version} never served: {e}\n{}", weir.logs()));
        let old = format!("v{}.test", version - 1);
        let r = client::get(&base, Some(&old)).await.unwrap();
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{old} is gone");
    }
    stop.store(true, Ordering::SeqCst);
    for l in loaders {
        let failures = l.await.unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
    }
    assert!(ok.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn a_bad_router_is_skipped_and_the_rest_serve() {
    let up = server::echo("up").await.unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    good:
      rule: "Host(`good.test`)"
      service: s
    bad-rule:
      rule: "Host(`bad.test`) &&"
      service: s
    missing-service:
      rule: "Host(`missing.test`)"
      service: nowhere
  services:
    s:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        up.url()
    );
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        WEIR,
        &util::basic_static_config(web, admin),
        &dynamic,
        admin,
    )
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{web}/");
    let r = client::get(&base, Some("good.test")).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    for host in ["bad.test", "missing.test"] {
        let r = client::get(&base, Some(host)).await.unwrap();
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{host}");
    }
    let logs = weir.logs();
    assert!(logs.contains("bad-rule@file"), "{logs}");
    assert!(logs.contains("nowhere"), "{logs}");
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_and_fails_ping() {
    // The upstream holds each request until released.
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let arrived = Arc::new(tokio::sync::Notify::new());
    let arrived_srv = arrived.clone();
    let slow = server::serve_fn(move |_req| {
        let mut release = release_rx.clone();
        let arrived = arrived_srv.clone();
        async move {
            arrived.notify_one();
            let _ = release.wait_for(|r| *r).await;
            server::response(200, "finished")
        }
    })
    .await
    .unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    // Keep accepting (and answer /ping 503) for a while after SIGTERM, as in a rollout.
    let static_yaml = format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
    transport:
      lifeCycle:
        requestAcceptGraceTimeout: 5s
        graceTimeOut: 30s
  traefik:
    address: "127.0.0.1:{admin}"
    transport:
      lifeCycle:
        requestAcceptGraceTimeout: 5s
ping: {{}}
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    );
    let mut weir = WeirProcess::start(
        WEIR,
        &static_yaml,
        &util::simple_dynamic_config("PathPrefix(`/`)", &[slow.url()]),
        admin,
    )
    .await
    .unwrap();
    let in_flight =
        tokio::spawn(
            async move { client::get(&format!("http://127.0.0.1:{web}/slow"), None).await },
        );
    tokio::time::timeout(Duration::from_secs(10), arrived.notified())
        .await
        .expect("request reached the upstream");
    weir.sigterm().unwrap();
    let ping = format!("http://127.0.0.1:{admin}/ping");
    util::wait_until(Duration::from_secs(10), async || {
        client::get(&ping, None)
            .await
            .is_ok_and(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weir.logs()));
    assert!(weir.is_running(), "still draining");
    release_tx.send(true).unwrap();
    let r = in_flight.await.unwrap().unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "finished");
    // With the request done, the process exits by itself once the accept grace is over.
    let status = weir.wait_exit(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status:?}\n{}", weir.logs());
}

/// SIGTERM as soon as a port takes connections (the kernel accepts them once weir has
/// bound, before its first configuration is compiled): weir stops gracefully, as a pod
/// stopped right after it started must, instead of dying of the signal's default action.
#[tokio::test]
async fn sigterm_right_after_binding_stops_gracefully() {
    let [web, admin] = util::free_ports::<2>().unwrap();
    let mut weir = WeirProcess::builder(WEIR)
        .static_config(&util::basic_static_config(web, admin))
        .dynamic_config(&util::simple_dynamic_config(
            "PathPrefix(`/`)",
            &["http://127.0.0.1:9".into()],
        ))
        .start()
        .await
        .unwrap();
    util::wait_until(Duration::from_secs(10), async || {
        tokio::net::TcpStream::connect(("127.0.0.1", web))
            .await
            .is_ok()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weir.logs()));
    weir.sigterm().unwrap();
    let status = weir.wait_exit(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status:?}\n{}", weir.logs());
}

#[tokio::test]
async fn toml_dynamic_configuration_and_directory_provider() {
    let up = server::echo("toml").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let static_yaml = format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
  traefik:
    address: "127.0.0.1:{admin}"
ping: {{}}
providers:
  file:
    directory: "{{{{dir}}}}/conf.d"
    watch: true
"#
    );
    let toml = format!(
        "[http.routers.t]\nrule = \"Host(`toml.test`)\"\nservice = \"t\"\n\n[[http.services.t.loadBalancer.servers]]\nurl = \"{}\"\n",
        up.url()
    );
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_yaml)
        .file("conf.d/10-routes.toml", toml)
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}/");
    let r = client::get(&base, Some("toml.test")).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    assert_eq!(r.echo().unwrap().name, "toml");

    // A new file in the directory is picked up.
    weir.write_file(
        "conf.d/20-more.yaml",
        &util::simple_dynamic_config("Host(`yaml.test`)", &[up.url()]),
    )
    .unwrap();
    util::wait_until(Duration::from_secs(10), async || {
        client::get(&base, Some("yaml.test"))
            .await
            .is_ok_and(|r| r.status == StatusCode::OK)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weir.logs()));
}

#[tokio::test]
async fn flags_override_the_static_file() {
    let up = server::echo("flags").await.unwrap();
    let [web, admin, unused] = util::free_ports::<3>().unwrap();
    // The file says one port; the flag moves the entrypoint.
    let weir = WeirProcess::builder(WEIR)
        .static_config(&util::basic_static_config(unused, admin))
        .dynamic_config(&util::simple_dynamic_config("PathPrefix(`/`)", &[up.url()]))
        .arg(&format!("--entrypoints.web.address=127.0.0.1:{web}"))
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let r = client::get(&format!("http://127.0.0.1:{web}/"), None)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    assert!(
        client::get(&format!("http://127.0.0.1:{unused}/"), None)
            .await
            .is_err()
    );
}

/// The README's first command: no configuration at all. Uses the fixed default ports.
#[tokio::test]
async fn embedded_default_serves_whoami_and_ping() {
    // The embedded default is only used without any flag, so its ports cannot be moved:
    // say so plainly rather than time out against whatever holds them.
    for port in [8000, 9000] {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is in use (is `weir serve` from the README still running?): this \
             test runs weir on its embedded default, which listens on 8000 and 9000"
        );
    }
    let weir = WeirProcess::builder(WEIR)
        .ping_port(9000)
        .start()
        .await
        .unwrap();
    let r = client::get("http://127.0.0.1:8000/hello?x=1", Some("whoami.localhost"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    assert!(r.body.contains("GET /hello?x=1 HTTP/1.1"), "{}", r.body);
    assert!(r.body.contains("Host: whoami.localhost"), "{}", r.body);
    assert!(r.body.contains("RemoteAddr: 127.0.0.1:"), "{}", r.body);
    let r = client::get("http://127.0.0.1:8000/", Some("other.localhost"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let r = client::get(&format!("http://{addr}/ping"), None)
        .await
        .unwrap();
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "OK"));
}

/// SIGUSR1 (logrotate's `postrotate`) with no access log to reopen: weir keeps serving
/// instead of ending by the signal's default action.
#[tokio::test]
async fn sigusr1_without_an_access_log_is_ignored() {
    let [web, admin] = util::free_ports::<2>().unwrap();
    let mut weir = WeirProcess::start(
        WEIR,
        &util::basic_static_config(web, admin),
        &util::simple_dynamic_config("PathPrefix(`/`)", &["http://127.0.0.1:9".into()]),
        admin,
    )
    .await
    .unwrap();
    weir.signal("USR1").unwrap();
    util::wait_until(Duration::from_secs(10), async || {
        weir.logs().contains("SIGUSR1: no access log to reopen")
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weir.logs()));
    assert!(weir.is_running(), "{}", weir.logs());
    let r = client::get(&format!("http://127.0.0.1:{admin}/ping"), None)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
}
