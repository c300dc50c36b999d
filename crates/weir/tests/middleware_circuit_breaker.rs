//! `circuitBreaker` through a real weir: a failing upstream trips it (the fallback status
//! without calling the upstream), and once the fallback and recovery durations have passed
//! it serves again; a bad expression is reported with its column and its router disabled.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use weir_testkit::client::Client;
use weir_testkit::{WeirProcess, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    guarded:
      rule: Host(`cb.test`)
      middlewares: [breaker]
      service: app
    other:
      rule: Host(`other.test`)
      middlewares: [breaker]
      service: healthy
    broken:
      rule: Host(`broken.test`)
      middlewares: [bad-breaker]
      service: app
  middlewares:
    breaker:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        checkPeriod: 20ms
        fallbackDuration: 2s
        recoveryDuration: 500ms
        responseCode: 529
    bad-breaker:
      circuitBreaker:
        expression: "NetworkErrorRatio() > 0.5 &&"
  services:
    app:
      loadBalancer:
        servers:
          - url: "{{app}}"
    healthy:
      loadBalancer:
        servers:
          - url: "{{healthy}}"
"#;

/// The shared static configuration with the API on the `traefik` entrypoint.
fn static_config(web: u16, traefik: u16) -> String {
    util::basic_static_config(web, traefik) + "api:\n  insecure: true\n"
}

#[tokio::test]
async fn trips_on_failures_falls_back_and_recovers() {
    let failing = Arc::new(AtomicBool::new(true));
    let app = {
        let failing = failing.clone();
        server::serve_fn(move |_req| {
            let fail = failing.load(Ordering::SeqCst);
            async move {
                if fail {
                    server::response(500, "down")
                } else {
                    server::response(200, "up")
                }
            }
        })
        .await
        .unwrap()
    };
    let healthy = server::serve_fn(|_req| async { server::response(200, "fine") })
        .await
        .unwrap();
    let [web, traefik] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &static_config(web, traefik),
        &DYNAMIC
            .replace("{{app}}", &app.url())
            .replace("{{healthy}}", &healthy.url()),
        traefik,
    )
    .await
    .unwrap();
    let c = Client::http1();
    let url = format!("http://127.0.0.1:{web}/");

    // The upstream answers 500s until the breaker trips and answers 529 itself.
    let mut statuses = Vec::new();
    util::wait_until(Duration::from_secs(10), async || {
        let s = c.get(&url, Some("cb.test")).await.unwrap().status.as_u16();
        statuses.push(s);
        s == 529
    })
    .await
    .unwrap_or_else(|e| panic!("{e}: {statuses:?}\n{}", weir.logs()));
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 500));

    // Tripped: the fallback answer, and the upstream is not called.
    let calls = app.requests();
    for _ in 0..5 {
        let r = c.get(&url, Some("cb.test")).await.unwrap();
        assert_eq!((r.status.as_u16(), r.body.as_str()), (529, ""));
    }
    assert_eq!(
        app.requests(),
        calls,
        "a tripped breaker must not call the upstream"
    );
    // The other router has its own instance, still closed.
    let r = c.get(&url, Some("other.test")).await.unwrap();
    assert_eq!(r.status, 200);

    // The upstream heals; after the fallback and the recovery ramp everything passes.
    failing.store(false, Ordering::SeqCst);
    let mut ok_in_a_row = 0;
    util::wait_until(Duration::from_secs(15), async || {
        let s = c.get(&url, Some("cb.test")).await.unwrap().status.as_u16();
        assert!(s == 200 || s == 529, "{s}");
        ok_in_a_row = if s == 200 { ok_in_a_row + 1 } else { 0 };
        ok_in_a_row >= 20
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weir.logs()));
    assert!(app.requests() > calls);

    // The bad expression: reported with its position, its router disabled.
    let api = format!("http://127.0.0.1:{traefik}/api/http");
    let r = c
        .get(&format!("{api}/middlewares/bad-breaker@file"), None)
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "disabled");
    let err = v["error"][0].as_str().unwrap();
    assert!(err.contains("expression: column 29"), "{err}");
    let r = c
        .get(&format!("{api}/routers/broken@file"), None)
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "disabled", "{v}");
    assert_eq!(c.get(&url, Some("broken.test")).await.unwrap().status, 404);
}
