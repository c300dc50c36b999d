//! The `contentType` middleware through a real weir: without it (Traefik v3's default) no
//! `Content-Type` is ever added; with it, a missing one is sniffed as Go does.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use http::Request;
use weir_testkit::client::{self, Client};
use weir_testkit::{WeirProcess, body, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    detect:
      rule: Host(`detect.test`)
      middlewares: [detect]
      service: bodies
    off:
      rule: Host(`off.test`)
      middlewares: [off]
      service: bodies
    plain:
      rule: Host(`plain.test`)
      service: bodies
  middlewares:
    detect:
      contentType: {}
    off:
      contentType:
        autoDetect: false
  services:
    bodies:
      loadBalancer:
        servers: [{url: "{{bodies}}"}]
"#;

#[tokio::test]
async fn content_type_is_sniffed_only_when_asked() {
    let (tx, streamed) = body::channel();
    let streamed = Arc::new(Mutex::new(Some(streamed)));
    let bodies = server::serve_fn(move |req| {
        let streamed = streamed.clone();
        async move {
            let mut resp = server::response(200, "");
            let b = match req.uri().path() {
                "/html" => body::full("\n  <html><body>hi</body></html>"),
                "/png" => body::full(&b"\x89PNG\x0D\x0A\x1A\x0A\x00\x00\x00\x0DIHDR"[..]),
                "/text" => body::full("{\"plain\": \"json is text to Go\"}"),
                "/bin" => body::full(&b"\x00\x01\x02\x03"[..]),
                "/typed" => {
                    resp.headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    body::full("<html>")
                }
                "/encoded" => {
                    resp.headers_mut()
                        .insert("content-encoding", "gzip".parse().unwrap());
                    body::full("<html> not really gzip")
                }
                "/empty" => body::empty(),
                "/stream" => streamed.lock().unwrap().take().unwrap(),
                _ => body::full("?"),
            };
            *resp.body_mut() = b;
            resp
        }
    })
    .await
    .unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &DYNAMIC.replace("{{bodies}}", &bodies.url()),
        admin,
    )
    .await
    .unwrap();
    let c = Client::http1();
    let url = |path: &str| format!("http://127.0.0.1:{web}{path}");

    // Without the middleware, and with autoDetect: false, nothing is added.
    for host in ["plain.test", "off.test"] {
        for path in ["/html", "/png", "/bin", "/empty"] {
            let r = c.get(&url(path), Some(host)).await.unwrap();
            assert_eq!(r.status, 200, "{host}{path}: {}", weir.logs());
            assert_eq!(r.header("content-type"), None, "{host}{path}");
        }
    }
    // With it, a missing type is detected; a given one is kept; encoded or empty bodies
    // get none.
    for (path, want) in [
        ("/html", Some("text/html; charset=utf-8")),
        ("/png", Some("image/png")),
        ("/text", Some("text/plain; charset=utf-8")),
        ("/bin", Some("application/octet-stream")),
        ("/typed", Some("application/json")),
        ("/encoded", None),
        ("/empty", None),
    ] {
        let r = c.get(&url(path), Some("detect.test")).await.unwrap();
        assert_eq!(r.status, 200, "{path}: {}", weir.logs());
        assert_eq!(r.header("content-type"), want, "{path}");
    }
    let r = c.get(&url("/html"), Some("detect.test")).await.unwrap();
    assert_eq!(r.body, "\n  <html><body>hi</body></html>");

    // A streamed body is sniffed from its first chunk and still streams.
    let req = Request::get(url("/stream"))
        .header("host", "detect.test")
        .body(body::empty())
        .unwrap();
    let pending = tokio::spawn({
        let c = c.clone();
        async move { c.send(req).await }
    });
    tx.send("<!DOCTYPE html><title>x</title>").await.unwrap();
    let resp = pending.await.unwrap().unwrap();
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let mut incoming = resp.into_body();
    assert_eq!(
        client::next_data(&mut incoming).await,
        "<!DOCTYPE html><title>x</title>"
    );
    tx.send("<p>more").await.unwrap();
    drop(tx);
    assert_eq!(client::next_data(&mut incoming).await, "<p>more");

    // The deprecated option is reported.
    assert!(
        weir.logs().contains("autoDetect is deprecated"),
        "{}",
        weir.logs()
    );
}
