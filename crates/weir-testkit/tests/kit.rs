//! Tests of the kit itself: each server answers, clients round-trip.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use weir_testkit::server::{self, Protocol, ServerOptions};
use weir_testkit::ws::{WsClient, WsMessage, ws_echo};
use weir_testkit::{TestCa, body, client, util};

#[tokio::test]
async fn echo_answers_and_counts() {
    let up = server::echo("alpha").await.unwrap();
    let url = format!("{}/some/path?x=1", up.url());
    let resp = client::get(&url, Some("svc.test")).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-upstream-name"), Some("alpha"));
    let dump = resp.echo().unwrap();
    assert_eq!(dump.name, "alpha");
    assert_eq!(dump.method, "GET");
    assert_eq!(dump.path_and_query, "/some/path?x=1");
    assert_eq!(dump.host, "svc.test");
    assert_eq!(dump.version, "HTTP/1.1");

    let req = Request::post(up.url())
        .header("x-test", "yes")
        .body(body::full("payload"))
        .unwrap();
    let dump = client::request(req).await.unwrap().echo().unwrap();
    assert_eq!(dump.method, "POST");
    assert_eq!(dump.header("x-test"), Some("yes"));
    assert_eq!(dump.body, "payload");
    assert_eq!(up.requests(), 2);
    assert_eq!(up.connections(), 2);
}

#[tokio::test]
async fn keep_alive_client_reuses_connection() {
    let up = server::echo("ka").await.unwrap();
    let c = client::Client::http1();
    for _ in 0..3 {
        assert_eq!(c.get(&up.url(), None).await.unwrap().status, 200);
    }
    assert_eq!(up.requests(), 3);
    assert_eq!(up.connections(), 1);
}

#[tokio::test]
async fn echo_speaks_h2c_and_h2c_only_refuses_h1() {
    let auto = server::echo("auto").await.unwrap();
    let resp = client::get_h2c(auto.addr, "h.test", "/a").await.unwrap();
    assert_eq!(resp.version, http::Version::HTTP_2);
    let dump = resp.echo().unwrap();
    assert_eq!(dump.host, "h.test");
    assert_eq!(dump.version, "HTTP/2.0");

    let only = server::h2c_echo("h2").await.unwrap();
    let resp = client::Client::h2c().get(&only.url(), None).await.unwrap();
    assert_eq!(resp.header("x-upstream-name"), Some("h2"));
    assert!(client::get(&only.url(), None).await.is_err());
}

#[tokio::test]
async fn https_verifies_with_ca() {
    let ca = TestCa::new().unwrap();
    let up = server::https_echo("secure", &ca).await.unwrap();
    assert!(up.url().starts_with("https://"));
    let pem = up.ca_pem().unwrap();
    let resp = client::get_tls(up.addr, "localhost", "/tls", pem)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.version, http::Version::HTTP_2);
    assert_eq!(resp.echo().unwrap().path_and_query, "/tls");

    let req = Request::get("/h1").body(body::empty()).unwrap();
    let resp = client::request_tls(up.addr, "127.0.0.1", pem, req, true)
        .await
        .unwrap();
    assert_eq!(resp.version, http::Version::HTTP_11);
    assert_eq!(resp.echo().unwrap().host, "127.0.0.1");

    // Another CA is not trusted; a name not in the certificate is refused.
    let other = TestCa::new().unwrap();
    assert!(
        client::get_tls(up.addr, "localhost", "/", other.cert_pem())
            .await
            .is_err()
    );
    assert!(
        client::get_tls(up.addr, "nope.test", "/", pem)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn serve_fn_streams_and_sets_status() {
    let up = server::serve_fn(|req| async move {
        match req.uri().path() {
            "/chunks" => http::Response::new(body::chunked(
                vec![Bytes::from("a"), Bytes::from("b"), Bytes::from("c")],
                Duration::from_millis(5),
            )),
            "/big" => http::Response::new(body::big(1 << 20)),
            _ => server::response(418, "teapot"),
        }
    })
    .await
    .unwrap();
    let resp = client::get(&format!("{}/chunks", up.url()), None)
        .await
        .unwrap();
    assert_eq!(resp.body, "abc");
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    let resp = client::get(&format!("{}/big", up.url()), None)
        .await
        .unwrap();
    assert_eq!(resp.body.len(), 1 << 20);
    let resp = client::get(&up.url(), None).await.unwrap();
    assert_eq!(resp.status, 418);
    assert_eq!(up.requests(), 3);
}

#[tokio::test]
async fn serve_fn_channel_body_aborts() {
    let up = server::serve_fn_with(
        ServerOptions::new().protocol(Protocol::Http1),
        |_req| async {
            let (tx, b) = body::channel();
            tokio::spawn(async move {
                let _ = tx.send("partial").await;
                tx.abort().await;
            });
            http::Response::new(b)
        },
    )
    .await
    .unwrap();
    assert!(client::get(&up.url(), None).await.is_err());
}

#[tokio::test]
async fn dropped_server_stops() {
    let up = server::echo("gone").await.unwrap();
    let url = up.url();
    assert!(client::get(&url, None).await.is_ok());
    drop(up);
    util::wait_until(Duration::from_secs(5), async || {
        client::get(&url, None).await.is_err()
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn websocket_echo_round_trips() {
    let up = ws_echo("wsup").await.unwrap();
    let mut ws = WsClient::connect(up.addr, "ws.test", "/chat?room=1")
        .await
        .unwrap();
    assert_eq!(ws.header("x-upstream-name"), Some("wsup"));
    assert_eq!(ws.header("x-echo-path"), Some("/chat?room=1"));
    ws.send_text("hello").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), WsMessage::Text("hello".into()));
    let big = vec![7u8; 100_000];
    ws.send_binary(&big).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), WsMessage::Binary(big));
    ws.ping(b"p").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), WsMessage::Pong(b"p".to_vec()));
    ws.close().await.unwrap();

    // A plain request is refused with 426.
    let resp = client::get(&up.url(), None).await.unwrap();
    assert_eq!(resp.status, 426);
    assert_eq!(up.requests(), 2);
}

#[tokio::test]
async fn tcp_echo_echoes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = server::tcp_echo("tcp").await.unwrap();
    let mut s = tokio::net::TcpStream::connect(up.addr).await.unwrap();
    s.write_all(b"ping\n").await.unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping\n");
    assert_eq!(up.requests(), 1);
}
