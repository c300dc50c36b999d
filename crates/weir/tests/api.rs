//! The REST API and the dashboard through a real weir process: Traefik's JSON shapes,
//! a broken router with its error, filters and pagination, `api@internal` behind a user
//! router, and the dashboard's files.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use weir_testkit::{WeirProcess, client, server, util};

const BIN: &str = env!("CARGO_BIN_EXE_weir");

fn static_config(web: u16, traefik: u16) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
  traefik:
    address: "127.0.0.1:{traefik}"
ping: {{}}
api:
  insecure: true
  dashboardName: test-edge
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    )
}

fn dynamic(url: &str) -> String {
    format!(
        r#"http:
  routers:
    app:
      entryPoints: [web]
      rule: Host(`app.test`)
      middlewares: [tag]
      service: app
    broken:
      entryPoints: [web]
      rule: Host(`broken.test`)
      service: missing
    dash:
      entryPoints: [web]
      rule: Host(`traefik.local`) && (PathPrefix(`/dashboard`) || PathPrefix(`/api`))
      service: api@internal
  middlewares:
    tag:
      headers:
        customRequestHeaders:
          X-Tag: "1"
  services:
    app:
      loadBalancer:
        servers:
          - url: "{url}"
"#
    )
}

/// Asserts that every key of `want` is in `got` with the same value (recursively).
fn assert_subset(got: &Value, want: &Value, path: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, v) in w {
                let child = g
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing in {got}"));
                assert_subset(child, v, &format!("{path}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "at {path}: {got}");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_subset(g, w, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(got, want, "at {path}"),
    }
}

async fn get_json(url: &str) -> (u16, Value, Option<String>) {
    let r = client::get(url, None).await.unwrap();
    let next = r.header("x-next-page").map(str::to_owned);
    let v = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status.as_u16(), v, next)
}

#[tokio::test]
async fn api_shapes_filters_and_dashboard() {
    let up = server::echo("app").await.unwrap();
    let [web, traefik] = util::free_ports::<2>().unwrap();
    let _p = WeirProcess::start(
        BIN,
        &static_config(web, traefik),
        &dynamic(&up.url()),
        traefik,
    )
    .await
    .unwrap();
    let api = format!("http://127.0.0.1:{traefik}/api");

    let (code, v, _) = get_json(&format!("{api}/version")).await;
    assert_eq!(code, 200);
    assert_eq!(v["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["dashboardName"], "test-edge");
    assert!(v["startDate"].as_str().unwrap().ends_with('Z'));

    // Router entry as in Traefik's docs (router-*.json): configured fields plus name,
    // provider, status, using.
    let (code, app, _) = get_json(&format!("{api}/http/routers/app@file")).await;
    assert_eq!(code, 200);
    assert_subset(
        &app,
        &json!({"entryPoints": ["web"], "middlewares": ["tag"], "name": "app@file",
                "provider": "file", "rule": "Host(`app.test`)", "service": "app",
                "status": "enabled", "using": ["web"]}),
        "router",
    );
    assert!(app.get("error").is_none());
    let (_, encoded, _) = get_json(&format!("{api}/http/routers/app%40file")).await;
    assert_eq!(encoded, app);

    let (_, broken, _) = get_json(&format!("{api}/http/routers/broken@file")).await;
    assert_eq!(broken["status"], "disabled");
    let err = broken["error"][0].as_str().unwrap();
    assert!(
        err.contains("missing") && err.contains("does not exist"),
        "{err}"
    );

    // Service entry as in service-*.json.
    let (_, svc, _) = get_json(&format!("{api}/http/services/app@file")).await;
    assert_subset(
        &svc,
        &json!({"loadBalancer": {"passHostHeader": true, "servers": [{"url": up.url()}]},
                "name": "app@file", "provider": "file", "status": "enabled",
                "type": "loadbalancer", "usedBy": ["app@file"],
                "serverStatus": {up.url(): "UP"}}),
        "service",
    );
    // No weight configured, none shown, as Traefik's `*int` weight.
    assert_eq!(svc["loadBalancer"]["servers"][0], json!({"url": up.url()}));
    let (_, mw, _) = get_json(&format!("{api}/http/middlewares/tag@file")).await;
    assert_subset(
        &mw,
        &json!({"headers": {"customRequestHeaders": {"X-Tag": "1"}}, "name": "tag@file",
                "provider": "file", "status": "enabled", "type": "headers",
                "usedBy": ["app@file"]}),
        "middleware",
    );
    let (code, missing, _) = get_json(&format!("{api}/http/routers/nope@file")).await;
    assert_eq!(code, 404);
    assert!(missing["message"].as_str().unwrap().contains("nope@file"));

    // Filters and pagination.
    let (_, disabled, _) = get_json(&format!("{api}/http/routers?status=disabled")).await;
    assert_eq!(names_of_all(&disabled), ["broken@file"]);
    let (_, found, _) = get_json(&format!("{api}/http/routers?search=APP.test")).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, all, next) = get_json(&format!("{api}/http/routers")).await;
    let total = all.as_array().unwrap().len();
    assert!(total >= 5, "{all}"); // app, broken, dash + internal api, dashboard, ping
    assert_eq!(next.as_deref(), Some("1"));
    let sorted: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let mut expected = sorted.clone();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    let (code, page, next) = get_json(&format!("{api}/http/routers?per_page=2&page=2")).await;
    assert_eq!(code, 200);
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["name"], all[2]["name"]);
    assert_eq!(next.as_deref(), Some("3"));
    let (code, _, _) = get_json(&format!("{api}/http/routers?per_page=2&page=99")).await;
    assert_eq!(code, 400);

    let (code, bad, _) = get_json(&format!("{api}/http/routers?per_page=0")).await;
    assert_eq!(code, 400);
    assert_eq!(bad["message"], "invalid request: per_page: 0");
    // Links are matched against the configured names, as Traefik matches them: `app`
    // (configured without a provider) is found as `app` and as `app@file`.
    for service in ["app", "app%40file"] {
        let (_, v, _) = get_json(&format!("{api}/http/routers?serviceName={service}")).await;
        assert_eq!(names_of_all(&v), ["app@file"], "serviceName={service}");
    }
    let (_, v, _) = get_json(&format!("{api}/http/routers?middlewareName=tag")).await;
    assert_eq!(names_of_all(&v), ["app@file"]);

    // Sorting (sortBy, direction), applied before the page is cut.
    let names_of = |list: &Value, provider: &str| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["provider"] == provider)
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Without a priority, a router's is its rule's length.
    let (_, by_priority, _) = get_json(&format!(
        "{api}/http/routers?sortBy=priority&direction=desc"
    ))
    .await;
    assert_eq!(
        names_of(&by_priority, "file"),
        ["dash@file", "broken@file", "app@file"]
    );
    // The JSON shows the configured priority only, as Traefik's (`priorityStr` "0").
    let app_listed = by_priority
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == "app@file"))
        .cloned()
        .unwrap_or_default();
    assert!(app_listed.get("priority").is_none(), "{app_listed}");
    assert_eq!(app_listed["priorityStr"], "0");
    let (_, by_status, _) = get_json(&format!("{api}/http/routers?sortBy=status")).await;
    assert_eq!(by_status[0]["name"], "broken@file", "disabled sorts first");
    let (_, first, _) = get_json(&format!(
        "{api}/http/routers?sortBy=name&direction=desc&per_page=1"
    ))
    .await;
    assert_eq!(first[0]["name"], all[total - 1]["name"]);
    // Entrypoints are listed by name whatever is asked.
    let (_, eps, _) = get_json(&format!("{api}/entrypoints?sortBy=name&direction=desc")).await;
    assert_eq!(names_of_all(&eps), ["traefik", "web"]);
    // Go's omitempty: unset keep-alive limits are left out, durations print as Go's.
    let (_, web_ep, _) = get_json(&format!("{api}/entrypoints/web")).await;
    let transport = &web_ep["transport"];
    assert_eq!(
        transport["respondingTimeouts"]["readTimeout"], "1m0s",
        "{web_ep}"
    );
    assert!(
        transport.get("keepAliveMaxRequests").is_none()
            && transport.get("keepAliveMaxTime").is_none(),
        "{web_ep}"
    );

    // Overview and raw data.
    let (_, o, _) = get_json(&format!("{api}/overview")).await;
    assert_eq!(o["http"]["routers"]["total"], total);
    assert_eq!(o["http"]["routers"]["errors"], 1);
    assert_eq!(o["http"]["middlewares"]["total"], 1);
    assert_eq!(o["providers"], json!(["File"]));
    assert_eq!(o["features"]["accessLog"], false);
    let (_, raw, _) = get_json(&format!("{api}/rawdata")).await;
    // Runtime state keyed by name, without the lists' name and provider, as Traefik's.
    let mut app_raw = app.clone();
    if let Some(m) = app_raw.as_object_mut() {
        m.remove("name");
        m.remove("provider");
    }
    assert_eq!(raw["routers"]["app@file"], app_raw);
    assert_eq!(raw["services"]["app@file"]["serverStatus"][up.url()], "UP");
    assert!(raw["services"]["app@file"].get("type").is_none(), "{raw}");
    assert!(
        raw.get("tcpRouters").is_none(),
        "an empty kind is left out: {raw}"
    );
    let (_, eps, _) = get_json(&format!("{api}/entrypoints")).await;
    assert_subset(
        &eps[1],
        &json!({"name": "web", "address": format!("127.0.0.1:{web}")}),
        "entrypoint",
    );
    let (code, _, _) = get_json(&format!("{api}/entrypoints/nope")).await;
    assert_eq!(code, 404);

    // api@internal behind a user router on `web`, and the request counters moving.
    let via = client::get(
        &format!("http://127.0.0.1:{web}/api/http/routers/dash@file"),
        Some("traefik.local"),
    )
    .await
    .unwrap();
    assert_eq!(via.status, 200);
    let dash: Value = serde_json::from_str(&via.body).unwrap();
    assert_eq!(dash["service"], "api@internal");
    let r = client::get(&format!("http://127.0.0.1:{web}/"), Some("app.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.echo().unwrap().header("x-tag"), Some("1"));
    util::wait_until(Duration::from_secs(5), async || {
        let (_, t, _) = get_json(&format!("{api}/weir/traffic")).await;
        t["routers"]["app@file"]["codes"]["200"] == 1
    })
    .await
    .unwrap();

    // The dashboard.
    let d = client::get(&format!("http://127.0.0.1:{traefik}/dashboard"), None)
        .await
        .unwrap();
    assert_eq!(d.status, 302);
    assert_eq!(d.header("location"), Some("/dashboard/"));
    let html = client::get(&format!("http://127.0.0.1:{traefik}/dashboard/"), None)
        .await
        .unwrap();
    assert_eq!(html.status, 200);
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        html.body.contains("<script src=\"app.js\">"),
        "{}",
        html.body
    );
    assert!(!html.body.contains("http://") && !html.body.contains("https://"));
    // The routers are in the page itself (for curl and before the first poll), the
    // broken one first with its error.
    let app_at = html.body.find("app@file").unwrap();
    let broken_at = html.body.find("broken@file").unwrap();
    assert!(broken_at < app_at);
    assert!(html.body.contains("does not exist"));
    assert!(
        html.body
            .contains("Host(`traefik.local`) &amp;&amp; (PathPrefix")
    );
    for (file, kind) in [("app.js", "text/javascript"), ("style.css", "text/css")] {
        let r = client::get(
            &format!("http://127.0.0.1:{traefik}/dashboard/{file}"),
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "{file}");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{file}"
        );
        assert!(r.body.len() > 500, "{file}");
    }
    let via = client::get(
        &format!("http://127.0.0.1:{web}/dashboard/"),
        Some("traefik.local"),
    )
    .await
    .unwrap();
    assert_eq!(via.status, 200);
    let post = client::request(
        http::Request::post(format!("{api}/version"))
            .body(weir_testkit::body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(post.status, 405);
}

/// TCP and UDP: weir does not route them yet, so what a provider configures there is
/// listed as disabled with the reason, in Traefik's shapes, with the list parameters.
#[tokio::test]
async fn tcp_and_udp_sections_list_configured_elements_as_disabled() {
    let up = server::echo("app").await.unwrap();
    let [web, traefik] = util::free_ports::<2>().unwrap();
    let layer4 = r#"tcp:
  routers:
    db:
      entryPoints: [web]
      rule: HostSNI(`db.test`)
      service: db
      middlewares: [only-local]
    mail:
      entryPoints: [web]
      rule: HostSNI(`*`)
      service: mail
  services:
    db:
      loadBalancer:
        servers:
          - address: "127.0.0.1:5432"
    mail:
      loadBalancer:
        servers:
          - address: "127.0.0.1:25"
  middlewares:
    only-local:
      ipAllowList:
        sourceRange: ["127.0.0.1/32"]
udp:
  routers:
    dns:
      entryPoints: [web]
      service: dns
  services:
    dns:
      loadBalancer:
        servers:
          - address: "127.0.0.1:53"
"#;
    let _p = WeirProcess::builder(BIN)
        .static_config(&static_config(web, traefik))
        .dynamic_config(&format!("{}{layer4}", dynamic(&up.url())))
        .ping_port(traefik)
        .start()
        .await
        .unwrap();
    let api = format!("http://127.0.0.1:{traefik}/api");
    let reason = "weir does not route TCP yet";

    let (code, routers, next) = get_json(&format!("{api}/tcp/routers")).await;
    assert_eq!((code, next.as_deref()), (200, Some("1")));
    assert_subset(
        &routers,
        &json!([
            {"name": "db@file", "provider": "file", "status": "disabled",
             "rule": "HostSNI(`db.test`)", "service": "db", "entryPoints": ["web"],
             "middlewares": ["only-local"], "error": [reason]},
            {"name": "mail@file", "provider": "file", "status": "disabled",
             "rule": "HostSNI(`*`)", "service": "mail", "error": [reason]},
        ]),
        "tcp routers",
    );
    // search (name or rule), status, serviceName, pagination.
    let (_, v, _) = get_json(&format!("{api}/tcp/routers?search=DB.TEST")).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "db@file");
    let (_, v, _) = get_json(&format!("{api}/tcp/routers?status=enabled")).await;
    assert_eq!(v, json!([]));
    let (_, v, _) = get_json(&format!("{api}/tcp/routers?serviceName=mail")).await;
    assert_eq!(v[0]["name"], "mail@file");
    let (_, v, next) = get_json(&format!("{api}/tcp/routers?per_page=1")).await;
    assert_eq!(
        (v[0]["name"].as_str(), next.as_deref()),
        (Some("db@file"), Some("2"))
    );
    let (_, v, next) = get_json(&format!("{api}/tcp/routers?per_page=1&page=2")).await;
    assert_eq!(
        (v[0]["name"].as_str(), next.as_deref()),
        (Some("mail@file"), Some("1"))
    );
    let (code, _, _) = get_json(&format!("{api}/tcp/routers?page=3")).await;
    assert_eq!(code, 400);

    let (code, db, _) = get_json(&format!("{api}/tcp/services/db%40file")).await;
    assert_eq!(code, 200);
    assert_subset(
        &db,
        &json!({"name": "db@file", "type": "loadbalancer", "status": "disabled",
                "loadBalancer": {"servers": [{"address": "127.0.0.1:5432"}]}}),
        "tcp service",
    );
    let (_, mw, _) = get_json(&format!("{api}/tcp/middlewares")).await;
    assert_subset(
        &mw,
        &json!([{"name": "only-local@file", "type": "ipallowlist",
                 "ipAllowList": {"sourceRange": ["127.0.0.1/32"]}}]),
        "tcp middlewares",
    );
    let (_, udp, next) = get_json(&format!("{api}/udp/routers")).await;
    assert_eq!(next.as_deref(), Some("1"));
    assert_subset(
        &udp,
        &json!([{"name": "dns@file", "service": "dns", "status": "disabled",
                 "error": ["weir does not route UDP yet"]}]),
        "udp routers",
    );
    let (_, udp_services, _) = get_json(&format!("{api}/udp/services")).await;
    assert_eq!(udp_services[0]["name"], "dns@file");

    // Unknown names and UDP middlewares (Traefik has none) are 404s.
    let (code, v, _) = get_json(&format!("{api}/tcp/routers/nope@file")).await;
    assert_eq!(
        (code, v),
        (404, json!({"message": "router not found: nope@file"}))
    );
    let (code, _, _) = get_json(&format!("{api}/udp/middlewares")).await;
    assert_eq!(code, 404);

    let (_, o, _) = get_json(&format!("{api}/overview")).await;
    assert_eq!(
        o["tcp"]["routers"],
        json!({"total": 2, "warnings": 0, "errors": 2})
    );
    assert_eq!(o["tcp"]["middlewares"]["total"], 1);
    assert_eq!(o["udp"]["services"]["errors"], 1);
    let (_, raw, _) = get_json(&format!("{api}/rawdata")).await;
    assert_eq!(raw["tcpRouters"]["db@file"]["status"], "disabled");
    assert_eq!(raw["udpServices"]["dns@file"]["status"], "disabled");
    assert!(
        raw["udpServices"]["dns@file"]["loadBalancer"].is_object(),
        "{raw}"
    );
    // HTTP is unaffected.
    let (_, app, _) = get_json(&format!("{api}/http/routers/app@file")).await;
    assert_eq!(app["status"], "enabled");
}

/// The `name` of every element of a list answer.
fn names_of_all(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|a| a.iter().filter_map(|e| e["name"].as_str()).collect())
        .unwrap_or_default()
}
