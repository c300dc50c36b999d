//! retry's `timeout` through a real weir: no new try starts once the budget is spent.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use weir_testkit::client::Client;
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
        &DYNAMIC.replace("{{busy}}", &busy.url()),
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
