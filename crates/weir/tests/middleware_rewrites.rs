//! Redirect and path middlewares through a real weir and a real upstream: one
//! configuration, one router per case (selected by host).
#![allow(clippy::unwrap_used)]

use http::Request;
use weir_testkit::client::Client;
use weir_testkit::{WeirProcess, body, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    scheme:
      rule: Host(`whoami.local`)
      middlewares: [https-redirect]
      service: echo
    scheme-port:
      rule: Host(`port.test`)
      middlewares: [to-8443]
      service: echo
    scheme-temp:
      rule: Host(`temp.test`)
      middlewares: [to-https-temp]
      service: echo
    regex:
      rule: Host(`regex.test`)
      middlewares: [old-to-new]
      service: echo
    strip:
      rule: Host(`strip.test`)
      middlewares: [strip-api]
      service: echo
    strip-regex:
      rule: Host(`stripre.test`)
      middlewares: [strip-users]
      service: echo
    add:
      rule: Host(`add.test`)
      middlewares: [add-v1]
      service: echo
    replace:
      rule: Host(`replace.test`)
      middlewares: [replace-fixed]
      service: echo
    replace-regex:
      rule: Host(`replacere.test`)
      middlewares: [replace-re]
      service: echo
    chained:
      rule: Host(`chain.test`)
      middlewares: [strip-and-add@file]
      service: echo
    ordered:
      rule: Host(`order.test`)
      middlewares: [add-v1, strip-api]
      service: echo
    redirect-first:
      rule: Host(`first.test`)
      middlewares: [https-redirect, strip-api]
      service: echo
    broken:
      rule: Host(`broken.test`)
      middlewares: [bad-regex]
      service: echo
    missing:
      rule: Host(`missing.test`)
      middlewares: [nowhere]
      service: echo
    looped:
      rule: Host(`loop.test`)
      middlewares: [loop-a]
      service: echo
  middlewares:
    https-redirect:
      redirectScheme:
        scheme: https
        permanent: true
    to-8443:
      redirectScheme:
        scheme: https
        port: "8443"
    to-https-temp:
      redirectScheme:
        scheme: https
    old-to-new:
      redirectRegex:
        regex: "^http://regex.test/old/(.*)"
        replacement: "http://regex.test/new/${1}"
    strip-api:
      stripPrefix:
        prefixes: [/nomatch, /api]
    strip-users:
      stripPrefixRegex:
        regex: ["/users/[0-9]+"]
    add-v1:
      addPrefix:
        prefix: /v1
    replace-fixed:
      replacePath:
        path: /fixed
    replace-re:
      replacePathRegex:
        regex: "^/foo/(.*)"
        replacement: "/bar/$1"
    strip-and-add:
      chain:
        middlewares: [strip-api, add-v1]
    bad-regex:
      replacePathRegex:
        regex: "(unclosed"
        replacement: /x
    loop-a:
      chain:
        middlewares: [loop-b]
    loop-b:
      chain:
        middlewares: [loop-a]
  services:
    echo:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
"#;

struct Case {
    host: &'static str,
    method: &'static str,
    target: &'static str,
    status: u16,
    /// Location for redirects; the path the upstream saw otherwise.
    expect: &'static str,
    /// A request header the upstream must have seen (name, value).
    header: Option<(&'static str, &'static str)>,
}

const fn case(host: &'static str, target: &'static str, status: u16, expect: &'static str) -> Case {
    Case {
        host,
        method: "GET",
        target,
        status,
        expect,
        header: None,
    }
}

#[tokio::test]
async fn rewrites_and_redirects() {
    let upstream = server::echo("up").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &DYNAMIC.replace("{{upstream}}", &upstream.url()),
        admin,
    )
    .await
    .unwrap();

    let with = |mut c: Case, method: &'static str, header: Option<(&'static str, &'static str)>| {
        c.method = method;
        c.header = header;
        c
    };
    let cases = [
        // edge-basics row 7
        case("whoami.local", "/", 301, "https://whoami.local/"),
        case(
            "whoami.local",
            "/a/b?x=1",
            301,
            "https://whoami.local/a/b?x=1",
        ),
        with(
            case("whoami.local", "/form", 308, "https://whoami.local/form"),
            "POST",
            None,
        ),
        // edge-basics row 7 is checked with `curl -I`: HEAD answers as GET does.
        with(
            case("whoami.local", "/", 301, "https://whoami.local/"),
            "HEAD",
            None,
        ),
        case("port.test", "/p", 302, "https://port.test:8443/p"),
        with(
            case("temp.test", "/t", 307, "https://temp.test/t"),
            "PUT",
            None,
        ),
        case(
            "regex.test",
            "/old/page?q=2",
            302,
            "http://regex.test/new/page?q=2",
        ),
        case("regex.test", "/other", 200, "/other"),
        with(
            case("strip.test", "/api/items?x=1", 200, "/items?x=1"),
            "GET",
            Some(("x-forwarded-prefix", "/api")),
        ),
        case("strip.test", "/api", 200, "/"),
        case("strip.test", "/apiv2", 200, "/v2"),
        case("strip.test", "/web/api", 200, "/web/api"),
        with(
            case("stripre.test", "/users/42/profile", 200, "/profile"),
            "GET",
            Some(("x-forwarded-prefix", "/users/42")),
        ),
        case("stripre.test", "/users/x/profile", 200, "/users/x/profile"),
        case("add.test", "/items?x=1", 200, "/v1/items?x=1"),
        with(
            case("replace.test", "/any/thing?q=1", 200, "/fixed?q=1"),
            "GET",
            Some(("x-replaced-path", "/any/thing")),
        ),
        with(
            case("replacere.test", "/foo/a/b", 200, "/bar/a/b"),
            "GET",
            Some(("x-replaced-path", "/foo/a/b")),
        ),
        case("replacere.test", "/other", 200, "/other"),
        // chain: strip then add; router order: add first (so the strip no longer matches)
        case("chain.test", "/api/x", 200, "/v1/x"),
        case("order.test", "/api/x", 200, "/v1/api/x"),
        // a redirect answers before later middlewares run
        case("first.test", "/api/x", 301, "https://first.test/api/x"),
        // bad, missing and looping middlewares disable their routers only
        case("broken.test", "/", 404, ""),
        case("missing.test", "/", 404, ""),
        case("loop.test", "/", 404, ""),
    ];
    let client = Client::http1();
    for c in &cases {
        let req = Request::builder()
            .method(c.method)
            .uri(format!("http://127.0.0.1:{web}{}", c.target))
            .header("host", c.host)
            .body(body::empty())
            .unwrap();
        let resp = client.request(req).await.unwrap();
        let what = format!("{} {} {}", c.method, c.host, c.target);
        assert_eq!(
            resp.status,
            c.status,
            "{what}: {}\n{}",
            resp.body,
            weir.logs()
        );
        match c.status {
            301 | 302 | 307 | 308 => {
                assert_eq!(resp.header("location"), Some(c.expect), "{what}");
            }
            200 => {
                let dump = resp.echo().unwrap();
                assert_eq!(dump.path_and_query, c.expect, "{what}");
                if let Some((name, value)) = c.header {
                    assert_eq!(dump.header(name), Some(value), "{what}");
                }
            }
            _ => {}
        }
    }
    let logs = weir.logs();
    assert!(logs.contains("bad-regex@file"), "{logs}");
    assert!(
        logs.contains("regex parse error") || logs.contains("unclosed"),
        "{logs}"
    );
    assert!(logs.contains("\"nowhere@file\": does not exist"), "{logs}");
    assert!(logs.contains("refers to itself"), "{logs}");
}

/// The edge-basics scenario's own dynamic configuration: row 7, `http://whoami.local/`
/// answers 301 to `https://whoami.local/`.
#[tokio::test]
async fn edge_basics_https_redirect() {
    let dynamic = include_str!("../../weir-config/tests/data/edge-basics/dynamic.yaml");
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        dynamic,
        admin,
    )
    .await
    .unwrap();
    let resp = Client::http1()
        .get(&format!("http://127.0.0.1:{web}/"), Some("whoami.local"))
        .await
        .unwrap();
    assert_eq!(resp.status, 301, "{}", weir.logs());
    assert_eq!(resp.header("location"), Some("https://whoami.local/"));
}
