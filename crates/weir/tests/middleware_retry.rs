//! retry through a real weir: no new try starts once `timeout`'s budget is spent, and a
//! request sent through retry keeps what rides with it (a WebSocket upgrade).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use weir_testkit::client::Client;
use weir_testkit::ws::{WsClient, WsMessage, ws_echo};
use weir_testkit::{WeirProcess, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    budget:
      rule: Host(`budget.test`)
      middlewares: [short-budget]
      service: busy
    patient:
      rule: Host(`patient.test`)
      middlewares: [no-budget]
      service: busy
    chat:
      rule: Host(`chat.test`)
      middlewares: [no-budget]
      service: chat
  middlewares:
    short-budget:
      retry:
        attempts: 4
        initialInterval: 200ms
        timeout: 50ms
        status: ["503"]
    no-budget:
      retry:
        attempts: 4
        initialInterval: 20ms
        status: ["503"]
  services:
    busy:
      loadBalancer:
        servers: [{url: "{{busy}}"}]
    chat:
      loadBalancer:
        servers: [{url: "{{chat}}"}]
"#;

#[tokio::test]
async fn retry_timeout_bounds_the_tries() {
    let calls = Arc::new(AtomicU32::new(0));
    let busy = {
        let calls = calls.clone();
        server::serve_fn(move |_req| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { server::response(503, "busy") }
        })
        .await
        .unwrap()
    };
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &DYNAMIC
            .replace("{{busy}}", &busy.url())
            .replace("{{chat}}", "http://127.0.0.1:9"),
        admin,
    )
    .await
    .unwrap();
    let c = Client::http1();
    let url = format!("http://127.0.0.1:{web}/");

    // Without a timeout every attempt is made.
    let r = c.get(&url, Some("patient.test")).await.unwrap();
    assert_eq!(r.status, 503, "{}", weir.logs());
    assert_eq!(calls.swap(0, Ordering::SeqCst), 4);
    // The first wait alone (at least half of 200 ms) is past the 50 ms budget: one try.
    let r = c.get(&url, Some("budget.test")).await.unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn websocket_upgrades_through_retry() {
    let chat = ws_echo("chat").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &DYNAMIC
            .replace("{{busy}}", "http://127.0.0.1:9")
            .replace("{{chat}}", &chat.url()),
        admin,
    )
    .await
    .unwrap();
    // The request retry sends on carries the client connection's pending upgrade: without
    // it the handshake is answered but the tunnel never opens.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], web));
    let mut c = WsClient::connect(addr, "chat.test", "/room")
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", weir.logs()));
    c.send_text("hello").await.unwrap();
    assert_eq!(c.recv().await.unwrap(), WsMessage::Text("hello".into()));
    c.close().await.unwrap();
}
