//! Middleware state across reloads, through a real weir: a rate limit reached and a full
//! in-flight limit still hold after a reload that changed something else, and start afresh
//! when the middleware's own options change.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Request;
use http_body_util::BodyExt as _;
use weir_testkit::client::Client;
use weir_testkit::{WeirProcess, body, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    limited:
      rule: Host(`limited.test`)
      middlewares: [limit]
      service: echo
    held:
      rule: Host(`held.test`)
      middlewares: [one-at-a-time]
      service: holder
{{extra}}
  middlewares:
    limit:
      rateLimit:
        average: 2
        period: 1m
        burst: {{burst}}
    one-at-a-time:
      inFlightReq:
        amount: 1
  services:
    echo:
      loadBalancer:
        servers: [{url: "{{echo}}"}]
    holder:
      loadBalancer:
        servers: [{url: "{{holder}}"}]
"#;

fn extra(name: &str) -> String {
    format!("    {name}:\n      rule: Host(`{name}.test`)\n      service: echo\n")
}

#[tokio::test]
async fn rate_limit_and_in_flight_state_survive_unrelated_reloads() {
    let echo = server::echo("echo").await.unwrap();
    // The first request's response body stays open until the test drops `tx`.
    let (tx, held) = body::channel();
    let held = Arc::new(Mutex::new(Some(held)));
    let holder = server::serve_fn(move |_req| {
        let held = held.clone();
        async move {
            let mut resp = server::response(200, "done");
            if let Some(b) = held.lock().unwrap().take() {
                *resp.body_mut() = b;
            }
            resp
        }
    })
    .await
    .unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let config = |extra: &str, burst: u32| {
        DYNAMIC
            .replace("{{extra}}", extra)
            .replace("{{burst}}", &burst.to_string())
            .replace("{{echo}}", &echo.url())
            .replace("{{holder}}", &holder.url())
    };
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &config("", 2),
        admin,
    )
    .await
    .unwrap();
    let c = Client::http1();
    let url = format!("http://127.0.0.1:{web}/");
    let status = async |host: &str| c.get(&url, Some(host)).await.unwrap().status.as_u16();
    let reload = async |yaml: String, probe: &str| {
        weir.rewrite_dynamic(&yaml).unwrap();
        let probe = format!("{probe}.test");
        util::wait_until(Duration::from_secs(10), async || {
            status(&probe).await == 200
        })
        .await
        .unwrap();
    };

    // The burst of 2 is spent; the next token is 30 s away.
    assert_eq!(status("limited.test").await, 200, "{}", weir.logs());
    assert_eq!(status("limited.test").await, 200);
    assert_eq!(status("limited.test").await, 429);
    // One request in flight: a second is refused.
    let req = Request::get(&url)
        .header("host", "held.test")
        .body(body::empty())
        .unwrap();
    let first = c.send(req).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(status("held.test").await, 429);

    // A reload that changes another router keeps both limits where they were.
    reload(config(&extra("extra"), 2), "extra").await;
    assert_eq!(status("limited.test").await, 429, "{}", weir.logs());
    assert_eq!(status("held.test").await, 429, "{}", weir.logs());

    // The held request ends: its slot is given back to the same counter.
    drop(tx);
    first.into_body().collect().await.unwrap();
    util::wait_until(Duration::from_secs(10), async || {
        status("held.test").await == 200
    })
    .await
    .unwrap();

    // New options for the rate limit: a new limiter, with a full burst.
    reload(
        config(&format!("{}{}", extra("extra"), extra("more")), 3),
        "more",
    )
    .await;
    assert_eq!(status("limited.test").await, 200, "{}", weir.logs());
}
