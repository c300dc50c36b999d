//! Access-control middlewares through a real weir and real upstreams: basicAuth with real
//! htpasswd hashes of each kind, ipAllowList with ipStrategy, rateLimit and inFlightReq.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use base64::Engine as _;
use http::Request;
use tokio::sync::Semaphore;
use weir_testkit::client::Client;
use weir_testkit::{HttpResponse, WeirProcess, body, server, util};

fn static_config(web: u16, admin: u16) -> String {
    // The client is trusted to send X-Forwarded-For, so ipStrategy has something to read.
    util::basic_static_config(web, admin).replace(
        &format!("    address: \"127.0.0.1:{web}\"\n"),
        &format!("    address: \"127.0.0.1:{web}\"\n    forwardedHeaders:\n      insecure: true\n"),
    )
}

const DYNAMIC: &str = r#"
http:
  routers:
    auth:
      rule: Host(`auth.test`)
      middlewares: [auth]
      service: echo
    auth-file:
      rule: Host(`authfile.test`)
      middlewares: [auth-file]
      service: echo
    local-only:
      rule: Host(`local.test`)
      middlewares: [local-only]
      service: echo
    lan-only:
      rule: Host(`lan.test`)
      middlewares: [lan-only]
      service: echo
    depth:
      rule: Host(`depth.test`)
      middlewares: [by-xff-depth]
      service: echo
    excluded:
      rule: Host(`excluded.test`)
      middlewares: [by-xff-excluded]
      service: echo
    limited:
      rule: Host(`limited.test`)
      middlewares: [limit]
      service: echo
    slow:
      rule: Host(`slow.test`)
      middlewares: [one-at-a-time]
      service: slow
    auth-missing-file:
      rule: Host(`nofile.test`)
      middlewares: [auth-missing-file]
      service: echo
  middlewares:
    auth:
      basicAuth:
        users:
          - "apr:$apr1$Xy7pQ2ab$1zId9SyCUTSIYrasyHET11"
          - "sha:{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI="
          - "bc:{{bcrypt}}"
        realm: weir-test
        headerField: X-Auth-User
        removeHeader: true
    auth-file:
      basicAuth:
        usersFile: "{{dir}}/users.htpasswd"
    auth-missing-file:
      basicAuth:
        usersFile: "{{dir}}/nowhere.htpasswd"
    local-only:
      ipAllowList:
        sourceRange: [127.0.0.1/32, "::1"]
    lan-only:
      ipAllowList:
        sourceRange: [10.0.0.0/8]
        rejectStatusCode: 404
    by-xff-depth:
      ipAllowList:
        sourceRange: [192.0.2.0/24]
        ipStrategy:
          depth: 2
    by-xff-excluded:
      ipAllowList:
        sourceRange: [192.0.2.7]
        ipStrategy:
          excludedIPs: [198.51.100.0/24]
    limit:
      rateLimit:
        average: 1
        period: 1m
        burst: 5
        sourceCriterion:
          ipStrategy:
            depth: 1
    one-at-a-time:
      inFlightReq:
        amount: 1
  services:
    echo:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
    slow:
      loadBalancer:
        servers:
          - url: "{{slow}}"
"#;

fn basic(user: &str, pass: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {b}")
}

async fn send(c: &Client, web: u16, host: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut req = Request::get(format!("http://127.0.0.1:{web}/")).header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    c.request(req.body(body::empty()).unwrap()).await.unwrap()
}

#[tokio::test]
async fn access_middlewares() {
    let upstream = server::echo("up").await.unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let slow = {
        let gate = gate.clone();
        server::serve_fn(move |req| {
            let gate = gate.clone();
            async move {
                if req.uri().path() == "/wait" {
                    gate.acquire().await.unwrap().forget();
                }
                server::response(200, "slow done")
            }
        })
        .await
        .unwrap()
    };
    let bcrypt_hash = bcrypt::hash_with_result("bc-pass", 5)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoY);
    let [web, admin] = util::free_ports::<2>().unwrap();
    let dynamic = DYNAMIC
        .replace("{{upstream}}", &upstream.url())
        .replace("{{slow}}", &slow.url())
        .replace("{{bcrypt}}", &bcrypt_hash);
    let weir = WeirProcess::builder(env!("CARGO_BIN_EXE_weir"))
        .static_config(&static_config(web, admin))
        .dynamic_config(&dynamic)
        .file(
            "users.htpasswd",
            "# comment\nfileuser:{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=\n\n",
        )
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let c = Client::http1();

    // basicAuth: each hash kind, wrong passwords, unknown users, no header.
    for (user, pass) in [("apr", "s3cret"), ("sha", "sha-pass"), ("bc", "bc-pass")] {
        let auth = basic(user, pass);
        let r = send(&c, web, "auth.test", &[("authorization", auth.as_str())]).await;
        assert_eq!(r.status, 200, "{user}: {}", weir.logs());
        let dump = r.echo().unwrap();
        assert_eq!(dump.header("x-auth-user"), Some(user));
        assert_eq!(dump.header("authorization"), None, "removeHeader");
        let wrong = basic(user, "wrong");
        let r = send(&c, web, "auth.test", &[("authorization", wrong.as_str())]).await;
        assert_eq!(r.status, 401, "{user} with a wrong password");
    }
    let r = send(&c, web, "auth.test", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"weir-test\"")
    );
    let nobody = basic("nobody", "s3cret");
    let r = send(&c, web, "auth.test", &[("authorization", nobody.as_str())]).await;
    assert_eq!(r.status, 401);
    let file_user = basic("fileuser", "sha-pass");
    let r = send(
        &c,
        web,
        "authfile.test",
        &[("authorization", file_user.as_str())],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.echo().unwrap().header("authorization").is_some(),
        "kept by default"
    );
    let r = send(&c, web, "authfile.test", &[]).await;
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"traefik\"")
    );
    let r = send(&c, web, "nofile.test", &[]).await;
    assert_eq!(r.status, 404, "a missing usersFile disables the router");
    assert!(weir.logs().contains("nowhere.htpasswd"), "{}", weir.logs());

    // ipAllowList: the peer, then X-Forwarded-For by depth and by exclusion.
    assert_eq!(send(&c, web, "local.test", &[]).await.status, 200);
    assert_eq!(send(&c, web, "lan.test", &[]).await.status, 404);
    let xff = [("x-forwarded-for", "192.0.2.1, 203.0.113.5")];
    assert_eq!(send(&c, web, "depth.test", &xff).await.status, 200);
    let xff = [("x-forwarded-for", "203.0.113.5, 192.0.2.1")];
    assert_eq!(send(&c, web, "depth.test", &xff).await.status, 403);
    assert_eq!(send(&c, web, "depth.test", &[]).await.status, 403);
    let xff = [("x-forwarded-for", "192.0.2.7, 198.51.100.1, 198.51.100.2")];
    assert_eq!(send(&c, web, "excluded.test", &xff).await.status, 200);
    let xff = [("x-forwarded-for", "192.0.2.8, 198.51.100.1")];
    assert_eq!(send(&c, web, "excluded.test", &xff).await.status, 403);

    // rateLimit: 100 requests from one source, burst 5, 1 per minute: 95 refused; another
    // source is not affected.
    let one = [("x-forwarded-for", "203.0.113.10")];
    let mut refused = 0;
    for _ in 0..100 {
        let r = send(&c, web, "limited.test", &one).await;
        match r.status.as_u16() {
            200 => {}
            429 => {
                refused += 1;
                assert!(r.header("retry-after").is_some());
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!(refused, 95);
    let other = [("x-forwarded-for", "203.0.113.11")];
    assert_eq!(send(&c, web, "limited.test", &other).await.status, 200);

    // inFlightReq: one request held at the upstream; a second is refused until it ends.
    let held = {
        let c = c.clone();
        tokio::spawn(async move {
            let req = Request::get(format!("http://127.0.0.1:{web}/wait"))
                .header("host", "slow.test")
                .body(body::empty())
                .unwrap();
            c.request(req).await.unwrap()
        })
    };
    util::wait_until(std::time::Duration::from_secs(5), async || {
        slow.requests() >= 1
    })
    .await
    .unwrap();
    assert_eq!(send(&c, web, "slow.test", &[]).await.status, 429);
    gate.add_permits(1);
    let first = held.await.unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.body, "slow done");
    assert_eq!(send(&c, web, "slow.test", &[]).await.status, 200);
}
