//! The `buffering` middleware through a real weir: request and response limits, bodies
//! that reach the service whole with a `Content-Length`, spooling to disk, retries, and
//! weir's streaming variants.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use weir_testkit::client::{self, Client};
use weir_testkit::{WeirProcess, body, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    limited:
      rule: Host(`limited.test`)
      middlewares: [limit]
      service: echo
    responses:
      rule: Host(`responses.test`)
      middlewares: [response-limit]
      service: sizes
    retried:
      rule: Host(`retried.test`)
      middlewares: [retry-buffer]
      service: half-dead
    plain:
      rule: Host(`plain.test`)
      service: half-dead
    streamed:
      rule: Host(`streamed.test`)
      middlewares: [stream-limit]
      service: streamer
    broken:
      rule: Host(`broken.test`)
      middlewares: [bad-expression]
      service: echo
  middlewares:
    limit:
      buffering:
        maxRequestBodyBytes: 1000
        memRequestBodyBytes: 100
    response-limit:
      buffering:
        maxResponseBodyBytes: 1000
    retry-buffer:
      buffering:
        retryExpression: "IsNetworkError() && Attempts() < 2"
    stream-limit:
      buffering:
        maxRequestBodyBytes: 1000
        maxResponseBodyBytes: 1000
        requestBuffering: false
        responseBuffering: false
    bad-expression:
      buffering:
        retryExpression: "IsNetworkError() && Tries() < 2"
  services:
    echo:
      loadBalancer:
        servers: [{url: "{{echo}}"}]
    sizes:
      loadBalancer:
        servers: [{url: "{{sizes}}"}]
    streamer:
      loadBalancer:
        servers: [{url: "{{streamer}}"}]
    half-dead:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:{{dead}}"
          - url: "{{echo}}"
"#;

/// `/len/N`: N bytes with a `Content-Length`; `/chunked/N`: N bytes in two chunks.
async fn sizes() -> server::ServerHandle {
    server::serve_fn(|req| async move {
        let path = req.uri().path().to_owned();
        let (kind, n) = path[1..].split_once('/').unwrap();
        let n: usize = n.parse().unwrap();
        let data = Bytes::from(vec![b'r'; n]);
        let mut resp = server::response(200, "");
        *resp.body_mut() = match kind {
            "len" => body::full(data),
            _ => body::chunked(
                vec![data.slice(..n / 2), data.slice(n / 2..)],
                Duration::ZERO,
            ),
        };
        resp
    })
    .await
    .unwrap()
}

fn spooled_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("weir-body-"))
        })
        .count()
}

fn post(url: String, host: &str, body: body::TestBody) -> Request<body::TestBody> {
    Request::post(url).header("host", host).body(body).unwrap()
}

fn chunks(n: usize, size: usize) -> body::TestBody {
    let chunks = (0..n)
        .map(|i| Bytes::from(vec![b'a' + u8::try_from(i).unwrap(); size]))
        .collect();
    body::chunked(chunks, Duration::ZERO)
}

#[tokio::test]
async fn buffering_limits_spools_and_retries() {
    let echo = server::echo("echo").await.unwrap();
    let sizes = sizes().await;
    let (tx, streamed) = body::channel();
    let streamed = Arc::new(Mutex::new(Some(streamed)));
    let streamer = server::serve_fn(move |req| {
        let streamed = streamed.clone();
        async move {
            if req.uri().path() != "/stream" {
                return server::echo_response("streamer", req).await;
            }
            let mut resp = server::response(200, "");
            if let Some(b) = streamed.lock().unwrap().take() {
                *resp.body_mut() = b;
            }
            resp
        }
    })
    .await
    .unwrap();
    let dead = util::free_port().unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dynamic = DYNAMIC
        .replace("{{echo}}", &echo.url())
        .replace("{{sizes}}", &sizes.url())
        .replace("{{streamer}}", &streamer.url())
        .replace("{{dead}}", &dead.to_string());
    let weir = WeirProcess::builder(env!("CARGO_BIN_EXE_weir"))
        .static_config(&util::basic_static_config(web, admin))
        .dynamic_config(&dynamic)
        .env("TMPDIR", tmp.path().to_str().unwrap())
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let c = Client::http1();
    let url = |path: &str| format!("http://127.0.0.1:{web}{path}");

    // A small body passes intact, with its length.
    let payload = "x".repeat(500);
    let r = c
        .request(post(
            url("/up"),
            "limited.test",
            body::full(payload.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.body, payload);
    assert_eq!(dump.header("content-length"), Some("500"));

    // A chunked body reaches the service whole, with a Content-Length and no chunking.
    let r = c
        .request(post(url("/up"), "limited.test", chunks(3, 300)))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.header("content-length"), Some("900"));
    assert_eq!(dump.header("transfer-encoding"), None);
    let want = format!("{}{}{}", "a".repeat(300), "b".repeat(300), "c".repeat(300));
    assert_eq!(dump.body, want);

    // Too large: refused from the Content-Length, and while reading a chunked body; the
    // service never sees either.
    let before = echo.requests();
    let r = c
        .request(post(url("/up"), "limited.test", body::big(2000)))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = Client::http1()
        .request(post(url("/up"), "limited.test", chunks(4, 400)))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(echo.requests(), before);

    // Above memRequestBodyBytes the body waits in a temporary file, removed afterwards.
    let (body_tx, slow) = body::channel();
    let pending = tokio::spawn({
        let c = c.clone();
        let req = post(url("/up"), "limited.test", slow);
        async move { c.request(req).await }
    });
    body_tx.send(vec![b'1'; 300]).await.unwrap();
    util::wait_until(Duration::from_secs(10), async || {
        spooled_files(tmp.path()) == 1
    })
    .await
    .unwrap();
    body_tx.send(vec![b'2'; 300]).await.unwrap();
    drop(body_tx);
    let r = pending.await.unwrap().unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.header("content-length"), Some("600"));
    assert_eq!(dump.body, format!("{}{}", "1".repeat(300), "2".repeat(300)));
    util::wait_until(Duration::from_secs(10), async || {
        spooled_files(tmp.path()) == 0
    })
    .await
    .unwrap();

    // Responses: over maxResponseBodyBytes is 500, declared or streamed; a chunked answer
    // within it reaches the client whole with its length.
    for (path, status) in [
        ("/len/500", 200),
        ("/len/2000", 500),
        ("/chunked/2000", 500),
        ("/chunked/600", 200),
    ] {
        let r = c.get(&url(path), Some("responses.test")).await.unwrap();
        assert_eq!(r.status, status, "{path}");
        if status == 200 {
            let n: usize = path.rsplit('/').next().unwrap().parse().unwrap();
            assert_eq!(r.body.len(), n, "{path}");
            assert_eq!(r.header("content-length"), Some(n.to_string().as_str()));
        }
    }

    // retryExpression: the dead server's 502 is tried again on the other one.
    let mut failed = 0;
    for _ in 0..4 {
        let r = c.get(&url("/"), Some("plain.test")).await.unwrap();
        failed += u32::from(r.status == 502);
    }
    assert!(failed > 0, "the dead server was never picked");
    for i in 0..4 {
        let req = post(url("/again"), "retried.test", body::full("replayed"));
        let r = c.request(req).await.unwrap();
        assert_eq!(r.status, 200, "request {i}: {}", weir.logs());
        assert_eq!(r.echo().unwrap().body, "replayed");
    }

    // The streaming variant: bodies flow as they come (no Content-Length added), still
    // limited both ways.
    let r = c
        .request(post(url("/echo"), "streamed.test", chunks(2, 200)))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.header("content-length"), None);
    assert_eq!(dump.body.len(), 400);
    let r = Client::http1()
        .request(post(url("/echo"), "streamed.test", chunks(4, 400)))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", weir.logs());
    let req = Request::get(url("/stream"))
        .header("host", "streamed.test")
        .body(body::empty())
        .unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut incoming = resp.into_body();
    tx.send("first;").await.unwrap();
    assert_eq!(client::next_data(&mut incoming).await, "first;");
    tx.send("second").await.unwrap();
    drop(tx);
    assert_eq!(client::next_data(&mut incoming).await, "second");

    // A retryExpression that does not parse disables the router, with the reason logged.
    let r = c.get(&url("/"), Some("broken.test")).await.unwrap();
    assert_eq!(r.status, 404);
    assert!(
        weir.logs().contains("unknown function `Tries`"),
        "{}",
        weir.logs()
    );
}
