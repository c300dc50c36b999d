//! End to end: a real weir process between real clients and real upstream servers.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use weir_testkit::ws::{WsClient, WsMessage, ws_echo};
use weir_testkit::{TestCa, WeirProcess, body, client, server, util};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// weir with the basic static configuration and `dynamic`; returns it and its web address.
async fn start(dynamic: &str) -> (WeirProcess, SocketAddr) {
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(WEIR, &util::basic_static_config(web, admin), dynamic, admin)
        .await
        .unwrap();
    (weir, SocketAddr::from(([127, 0, 0, 1], web)))
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

#[tokio::test]
async fn routes_by_host_and_path_and_answers_404_otherwise() {
    let api = server::echo("api").await.unwrap();
    let front = server::echo("front").await.unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    api:
      rule: "Host(`app.test`) && PathPrefix(`/api`)"
      service: api
    front:
      rule: "Host(`app.test`)"
      service: front
    regex:
      rule: "HostRegexp(`^[a-z]+\\.wild\\.test$`) && Method(`POST`)"
      service: api
  services:
    api:
      loadBalancer:
        servers: [{{url: "{}"}}]
    front:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        api.url(),
        front.url()
    );
    let (weir, addr) = start(&dynamic).await;

    let r = client::get(&url(addr, "/api/users?id=7"), Some("app.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.name, "api");
    assert_eq!(dump.path_and_query, "/api/users?id=7");

    let r = client::get(&url(addr, "/apix"), Some("app.test"))
        .await
        .unwrap();
    assert_eq!(
        r.echo().unwrap().name,
        "api",
        "PathPrefix is a string prefix"
    );
    let r = client::get(&url(addr, "/"), Some("APP.test:8080"))
        .await
        .unwrap();
    assert_eq!(
        r.echo().unwrap().name,
        "front",
        "host match ignores case and port"
    );

    let post = Request::post(url(addr, "/x"))
        .header("host", "abc.wild.test")
        .body(body::full("payload"))
        .unwrap();
    let r = client::request(post).await.unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.echo().unwrap().body, "payload");
    let r = client::get(&url(addr, "/x"), Some("abc.wild.test"))
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "GET does not match Method(`POST`)"
    );

    let r = client::get(&url(addr, "/"), Some("other.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, "404 page not found\n");
    assert_eq!(api.requests() + front.requests(), 4);
}

#[tokio::test]
async fn forwards_headers_and_honours_pass_host_header() {
    let up = server::echo("up").await.unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    keep:
      rule: "Host(`keep.test`)"
      service: keep
    rewrite:
      rule: "Host(`rewrite.test`)"
      service: rewrite
  services:
    keep:
      loadBalancer:
        servers: [{{url: "{url}"}}]
    rewrite:
      loadBalancer:
        passHostHeader: false
        servers: [{{url: "{url}"}}]
"#,
        url = up.url()
    );
    let (weir, addr) = start(&dynamic).await;

    let req = Request::get(url(addr, "/h"))
        .header("host", "keep.test")
        .header("x-forwarded-for", "203.0.113.9")
        .header("connection", "keep-alive, x-drop-me")
        .header("x-drop-me", "secret")
        .header("x-custom", "kept")
        .body(body::empty())
        .unwrap();
    let r = client::request(req).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.host, "keep.test");
    assert_eq!(dump.header("x-custom"), Some("kept"));
    assert_eq!(
        dump.header("x-drop-me"),
        None,
        "Connection-listed headers are hop-by-hop"
    );
    // Not trusted: weir replaces what the client claims (forwardedHeaders.insecure off).
    assert_eq!(dump.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(dump.header("x-forwarded-host"), Some("keep.test"));
    assert_eq!(dump.header("x-forwarded-proto"), Some("http"));
    assert_eq!(dump.header("x-real-ip"), Some("127.0.0.1"));
    assert!(dump.header("x-forwarded-server").is_some());

    let r = client::get(&url(addr, "/h"), Some("rewrite.test"))
        .await
        .unwrap();
    let dump = r.echo().unwrap();
    assert_eq!(dump.host, up.addr.to_string(), "passHostHeader: false");
    assert_eq!(dump.header("x-forwarded-host"), Some("rewrite.test"));
}

#[tokio::test]
async fn bad_gateway_and_gateway_timeout() {
    // A port with nothing listening, and a server that never answers in time.
    let dead = util::free_port().unwrap();
    let (release, hold) = tokio::sync::oneshot::channel::<()>();
    let hold = std::sync::Arc::new(tokio::sync::Mutex::new(Some(hold)));
    let slow = server::serve_fn(move |_req| {
        let hold = hold.clone();
        async move {
            if let Some(rx) = hold.lock().await.take() {
                let _ = rx.await;
            }
            server::response(200, "late")
        }
    })
    .await
    .unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    dead:
      rule: "Host(`dead.test`)"
      service: dead
    slow:
      rule: "Host(`slow.test`)"
      service: slow
  services:
    dead:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{dead}"}}]
    slow:
      loadBalancer:
        serversTransport: quick
        servers: [{{url: "{slow}"}}]
  serversTransports:
    quick:
      forwardingTimeouts:
        responseHeaderTimeout: 300ms
"#,
        slow = slow.url()
    );
    let (weir, addr) = start(&dynamic).await;
    let r = client::get(&url(addr, "/"), Some("dead.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", weir.logs());
    let r = client::get(&url(addr, "/"), Some("slow.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT, "{}", weir.logs());
    drop(release);
}

#[tokio::test]
async fn streams_large_and_chunked_bodies_both_ways() {
    const BIG: usize = 8 * 1024 * 1024;
    // Upstream: counts the request body and answers with a big body.
    let up = server::serve_fn(|req| async move {
        use http_body_util::BodyExt;
        let len = req.into_body().collect().await.unwrap().to_bytes().len();
        let mut resp = server::response(200, "");
        *resp.body_mut() = body::big(BIG);
        resp.headers_mut()
            .insert("x-received", len.to_string().parse().unwrap());
        resp
    })
    .await
    .unwrap();
    // Upstream: a chunked answer whose first chunk comes long before the last.
    let (tx, streamed) = body::channel();
    let streamed = std::sync::Arc::new(std::sync::Mutex::new(Some(streamed)));
    let chunky = server::serve_fn(move |_req| {
        let streamed = streamed.clone();
        async move {
            let mut resp = server::response(200, "");
            if let Some(b) = streamed.lock().unwrap().take() {
                *resp.body_mut() = b;
            }
            resp
        }
    })
    .await
    .unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    big:
      rule: "Host(`big.test`)"
      service: big
    chunky:
      rule: "Host(`chunky.test`)"
      service: chunky
  services:
    big:
      loadBalancer:
        servers: [{{url: "{}"}}]
    chunky:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        up.url(),
        chunky.url()
    );
    let (weir, addr) = start(&dynamic).await;

    let req = Request::put(url(addr, "/upload"))
        .header("host", "big.test")
        .body(body::big(BIG))
        .unwrap();
    let r = client::request(req).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    assert_eq!(r.header("x-received"), Some(BIG.to_string().as_str()));
    assert_eq!(r.body.len(), BIG);

    // The first chunk reaches the client while the upstream still holds the rest: weir
    // streams instead of buffering.
    let c = client::Client::http1();
    let req = Request::get(url(addr, "/stream"))
        .header("host", "chunky.test")
        .body(body::empty())
        .unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut incoming = resp.into_body();
    tx.send("first;").await.unwrap();
    let first = client::next_data(&mut incoming).await;
    assert_eq!(first, Bytes::from_static(b"first;"));
    tx.send("second").await.unwrap();
    drop(tx);
    let second = client::next_data(&mut incoming).await;
    assert_eq!(second, Bytes::from_static(b"second"));
}

#[tokio::test]
async fn websocket_h2c_and_https_upstreams() {
    let ws = ws_echo("ws").await.unwrap();
    let h2 = server::h2c_echo("h2").await.unwrap();
    let ca = TestCa::new().unwrap();
    let tls = server::https_echo("tls", &ca).await.unwrap();
    let ca_file = "ca.pem";
    let dynamic = format!(
        r#"
http:
  routers:
    ws:
      rule: "Host(`ws.test`)"
      service: ws
    h2:
      rule: "Host(`h2.test`)"
      service: h2
    tls:
      rule: "Host(`tls.test`)"
      service: tls
  services:
    ws:
      loadBalancer:
        servers: [{{url: "{ws}"}}]
    h2:
      loadBalancer:
        servers: [{{url: "h2c://{h2}"}}]
    tls:
      loadBalancer:
        serversTransport: private-ca
        servers: [{{url: "https://localhost:{tls_port}"}}]
  serversTransports:
    private-ca:
      rootCAs: ["{{{{dir}}}}/{ca_file}"]
"#,
        ws = ws.url(),
        h2 = h2.addr,
        tls_port = tls.port(),
    );
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::builder(WEIR)
        .static_config(&util::basic_static_config(web, admin))
        .dynamic_config(&dynamic)
        .file(ca_file, ca.cert_pem())
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], web));

    let mut c = WsClient::connect(addr, "ws.test", "/chat").await.unwrap();
    c.send_text("hello").await.unwrap();
    assert_eq!(c.recv().await.unwrap(), WsMessage::Text("hello".into()));
    c.send_binary(&[0, 1, 2, 255]).await.unwrap();
    assert_eq!(
        c.recv().await.unwrap(),
        WsMessage::Binary(vec![0, 1, 2, 255])
    );
    c.close().await.unwrap();

    let r = client::get(&url(addr, "/grpc-like"), Some("h2.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(
        (dump.name.as_str(), dump.version.as_str()),
        ("h2", "HTTP/2.0")
    );
    assert_eq!(
        dump.host, "h2.test",
        "passHostHeader carries over as :authority"
    );

    // HTTP/2 from the client too (h2c prior knowledge to weir).
    let r = client::get_h2c(addr, "h2.test", "/both").await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    assert_eq!(r.echo().unwrap().name, "h2");

    let r = client::get(&url(addr, "/secure"), Some("tls.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    assert_eq!(r.echo().unwrap().name, "tls");
}

#[tokio::test]
async fn https_upstream_with_unknown_ca_is_refused() {
    let ca = TestCa::new().unwrap();
    let tls = server::https_echo("tls", &ca).await.unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    strict:
      rule: "Host(`strict.test`)"
      service: strict
    lax:
      rule: "Host(`lax.test`)"
      service: lax
  services:
    strict:
      loadBalancer:
        servers: [{{url: "https://localhost:{port}"}}]
    lax:
      loadBalancer:
        serversTransport: insecure
        servers: [{{url: "https://localhost:{port}"}}]
  serversTransports:
    insecure:
      insecureSkipVerify: true
"#,
        port = tls.port()
    );
    let (weir, addr) = start(&dynamic).await;
    let r = client::get(&url(addr, "/"), Some("strict.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", weir.logs());
    let r = client::get(&url(addr, "/"), Some("lax.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
}

#[tokio::test]
async fn weighted_round_robin_and_health_checks() {
    let a = server::echo("a").await.unwrap();
    let b = server::echo("b").await.unwrap();
    let healthy = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = healthy.clone();
    let flaky = server::serve_fn(move |req| {
        let flag = flag.clone();
        async move {
            let up = flag.load(std::sync::atomic::Ordering::SeqCst);
            if req.uri().path() == "/health" && !up {
                return server::response(503, "down");
            }
            server::response(200, "flaky")
        }
    })
    .await
    .unwrap();
    let steady = server::serve_fn(|_req| async { server::response(200, "steady") })
        .await
        .unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    wrr:
      rule: "Host(`wrr.test`)"
      service: wrr
    hc:
      rule: "Host(`hc.test`)"
      service: hc
  services:
    wrr:
      loadBalancer:
        servers:
          - url: "{a}"
            weight: 3
          - url: "{b}"
            weight: 1
    hc:
      loadBalancer:
        healthCheck:
          path: /health
          interval: 100ms
          timeout: 1s
        servers:
          - url: "{flaky}"
          - url: "{steady}"
"#,
        a = a.url(),
        b = b.url(),
        flaky = flaky.url(),
        steady = steady.url()
    );
    let (weir, addr) = start(&dynamic).await;
    let c = client::Client::http1();
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for _ in 0..40 {
        let r = c.get(&url(addr, "/"), Some("wrr.test")).await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
        *counts.entry(r.echo().unwrap().name).or_default() += 1;
    }
    assert_eq!(
        (counts["a"], counts["b"]),
        (30, 10),
        "weights 3:1 over 40 requests"
    );

    // Both servers serve while healthy.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..4 {
        seen.insert(c.get(&url(addr, "/"), Some("hc.test")).await.unwrap().body);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    // The failing health check takes `flaky` out of rotation.
    healthy.store(false, std::sync::atomic::Ordering::SeqCst);
    util::wait_until(Duration::from_secs(10), async || {
        let mut all_steady = true;
        for _ in 0..4 {
            let r = c.get(&url(addr, "/"), Some("hc.test")).await;
            all_steady &= r.is_ok_and(|r| r.body == "steady");
        }
        all_steady
    })
    .await
    .unwrap();
    // And it comes back when healthy again.
    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    util::wait_until(Duration::from_secs(10), async || {
        let mut any_flaky = false;
        for _ in 0..4 {
            let r = c.get(&url(addr, "/"), Some("hc.test")).await;
            any_flaky |= r.is_ok_and(|r| r.body == "flaky");
        }
        any_flaky
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn methods_and_head_pass_through() {
    let up = server::echo("up").await.unwrap();
    let (weir, addr) = start(&util::simple_dynamic_config("PathPrefix(`/`)", &[up.url()])).await;
    for method in [Method::DELETE, Method::PATCH, Method::OPTIONS] {
        let req = Request::builder()
            .method(method.clone())
            .uri(url(addr, "/m"))
            .body(body::empty())
            .unwrap();
        let r = client::request(req).await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
        assert_eq!(r.echo().unwrap().method, method.as_str());
    }
    let req = Request::head(url(addr, "/m")).body(body::empty()).unwrap();
    let r = client::request(req).await.unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn sticky_cookie_weighted_and_mirroring_services_from_the_file() {
    let a = server::echo("a").await.unwrap();
    let b = server::echo("b").await.unwrap();
    let shadow = server::echo("shadow").await.unwrap();
    let dynamic = format!(
        r#"
http:
  routers:
    sticky:
      rule: "Host(`sticky.test`)"
      service: pool
    canary:
      rule: "Host(`canary.test`)"
      service: split
    mirrored:
      rule: "Host(`mirror.test`)"
      service: with-shadow
  services:
    pool:
      loadBalancer:
        sticky:
          cookie:
            name: pin
            httpOnly: true
        servers: [{{url: "{a}"}}, {{url: "{b}"}}]
    only-a:
      loadBalancer:
        servers: [{{url: "{a}"}}]
    only-b:
      loadBalancer:
        servers: [{{url: "{b}"}}]
    shadow:
      loadBalancer:
        servers: [{{url: "{shadow}"}}]
    split:
      weighted:
        services:
          - name: only-a
            weight: 1
          - name: only-b
            weight: 1
    with-shadow:
      mirroring:
        service: only-a
        mirrors:
          - name: shadow
            percent: 100
"#,
        a = a.url(),
        b = b.url(),
        shadow = shadow.url()
    );
    let (weir, addr) = start(&dynamic).await;

    // Sticky: the cookie set on the first answer pins every later request.
    let r = client::get(&url(addr, "/"), Some("sticky.test"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    let set_cookie = r.header("set-cookie").unwrap().to_owned();
    assert!(set_cookie.starts_with("pin="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    let first = r.echo().unwrap().name;
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    for _ in 0..6 {
        let req = Request::get(url(addr, "/"))
            .header("host", "sticky.test")
            .header("cookie", &cookie)
            .body(body::empty())
            .unwrap();
        let r = client::request(req).await.unwrap();
        assert_eq!(r.echo().unwrap().name, first);
    }

    // Weighted 1:1 over two services alternates.
    let mut names = Vec::new();
    for _ in 0..4 {
        let r = client::get(&url(addr, "/"), Some("canary.test"))
            .await
            .unwrap();
        names.push(r.echo().unwrap().name);
    }
    names.sort();
    assert_eq!(names, ["a", "a", "b", "b"]);

    // Mirroring: the client gets the main service's answer; the mirror sees a copy.
    let before = shadow.requests();
    let r = client::get(&url(addr, "/m"), Some("mirror.test"))
        .await
        .unwrap();
    assert_eq!(r.echo().unwrap().name, "a");
    util::wait_until(Duration::from_secs(10), async || shadow.requests() > before)
        .await
        .unwrap();
}
