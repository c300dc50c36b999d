//! Access logs through a real weir process: JSON fields, the common log format, header
//! redaction, filters, reopening on SIGUSR1, and a blocked output that must not stall
//! requests.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use http::Request;
use serde_json::Value;
use weir_testkit::{WeirProcess, body, client, server, util};

const BIN: &str = env!("CARGO_BIN_EXE_weir");

fn static_config(web: u16, traefik: u16, access: &str) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
  traefik:
    address: "127.0.0.1:{traefik}"
ping: {{}}
accessLog:
{access}
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    )
}

/// [`static_config`] with Prometheus metrics on an entrypoint at `metrics`.
fn with_metrics(web: u16, traefik: u16, metrics: u16, access: &str) -> String {
    static_config(web, traefik, access)
        .replace("ping: {}\n", "ping: {}\nmetrics:\n  prometheus: {}\n")
        .replace(
            "entryPoints:\n",
            &format!("entryPoints:\n  metrics:\n    address: \"127.0.0.1:{metrics}\"\n"),
        )
}

/// `weir_accesslog_lines_dropped_total` as scraped from `metrics` (`None` when the
/// scrape fails or lacks it), with the scraped text.
async fn dropped_lines(metrics: u16) -> (Option<f64>, String) {
    let body = client::get(&format!("http://127.0.0.1:{metrics}/metrics"), None)
        .await
        .map(|r| r.body)
        .unwrap_or_default();
    let dropped = body
        .lines()
        .find_map(|l| l.strip_prefix("weir_accesslog_lines_dropped_total "))
        .and_then(|v| v.parse().ok());
    (dropped, body)
}

fn dynamic(url: &str) -> String {
    format!(
        r#"http:
  routers:
    app:
      entryPoints: [web]
      rule: Host(`app.test`)
      service: app
    quiet:
      entryPoints: [web]
      rule: Host(`quiet.test`)
      service: app
      observability:
        accessLogs: false
  services:
    app:
      loadBalancer:
        servers:
          - url: "{url}"
"#
    )
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn wait_lines(path: &Path, n: usize) -> Vec<String> {
    util::wait_until(Duration::from_secs(5), async || lines(path).len() >= n)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", lines(path)));
    lines(path)
}

/// Starts weir with `access` as its `accessLog` block, routing `dynamic`; returns it and
/// its web port.
async fn start(access: &str, dynamic: &str) -> (WeirProcess, u16) {
    let [web, traefik] = util::free_ports::<2>().unwrap();
    let p = WeirProcess::start(BIN, &static_config(web, traefik, access), dynamic, traefik)
        .await
        .unwrap();
    (p, web)
}

#[tokio::test]
async fn json_lines_carry_traefiks_fields_and_redact_credentials() {
    // Reads the request body before answering (what RequestContentSize counts).
    let up = server::serve_fn(|req| async move {
        use http_body_util::BodyExt as _;
        let _ = req.into_body().collect().await;
        server::response(201, "created!")
    })
    .await
    .unwrap();
    let (p, web) = start(
        "  format: json\n  filePath: \"{{dir}}/access.json\"\n  fields:\n    headers:\n      defaultMode: keep\n      names:\n        X-Drop-Me: drop",
        &dynamic(&up.url()),
    )
    .await;
    let req = Request::post(format!("http://127.0.0.1:{web}/items?x=1"))
        .header("host", "app.test")
        .header("authorization", "Bearer secret-token")
        .header("cookie", "session=hunter2")
        .header("x-drop-me", "gone")
        .header("user-agent", "weir-test")
        .body(body::full("abc"))
        .unwrap();
    // A router with `observability.accessLogs: false` is neither logged nor counted.
    let quiet = client::get(&format!("http://127.0.0.1:{web}/q"), Some("quiet.test"))
        .await
        .unwrap();
    assert_eq!(quiet.status, 201);
    assert_eq!(client::request(req).await.unwrap().status, 201);
    client::get(&format!("http://127.0.0.1:{web}/none"), Some("other.test"))
        .await
        .unwrap();

    // A chunked upload (no Content-Length): its size is what was read.
    let chunked = Request::put(format!("http://127.0.0.1:{web}/up"))
        .header("host", "app.test")
        .body(body::chunked(
            vec![bytes::Bytes::from(vec![b'x'; 3000]); 2],
            Duration::ZERO,
        ))
        .unwrap();
    assert_eq!(client::request(chunked).await.unwrap().status, 201);

    let path = p.dir().join("access.json");
    let got = wait_lines(&path, 3).await;
    let text = got.join("\n");
    assert!(!text.contains("quiet"), "{text}");
    assert!(
        !text.contains("secret-token") && !text.contains("hunter2"),
        "{text}"
    );
    let first: Value = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(first["RequestMethod"], "POST");
    assert_eq!(first["RequestPath"], "/items?x=1");
    assert_eq!(first["RequestHost"], "app.test");
    assert_eq!(first["RequestProtocol"], "HTTP/1.1");
    assert_eq!(first["RequestContentSize"], 3);
    assert_eq!(first["ClientHost"], "127.0.0.1");
    assert_eq!(first["DownstreamStatus"], 201);
    assert_eq!(first["OriginStatus"], 201);
    assert_eq!(first["DownstreamContentSize"], 8);
    assert_eq!(first["RouterName"], "app@file");
    assert_eq!(first["ServiceName"], "app@file");
    assert_eq!(first["ServiceURL"], up.url());
    assert_eq!(first["entryPointName"], "web");
    assert_eq!(first["RequestCount"], 1);
    assert!(first["Duration"].as_u64().unwrap() > 0);
    assert_eq!(first["request_Authorization"], "REDACTED");
    assert_eq!(first["request_Cookie"], "REDACTED");
    assert_eq!(first["request_User-Agent"], "weir-test");
    assert!(first.get("request_X-Drop-Me").is_none());
    // The server's own response headers, as Traefik's `origin_` keys.
    assert_eq!(first["origin_Content-Length"], "8");
    let second: Value = serde_json::from_str(&got[1]).unwrap();
    assert_eq!(second["DownstreamStatus"], 404);
    assert!(second.get("RouterName").is_none());
    assert_eq!(second["RequestCount"], 2);
    let third: Value = serde_json::from_str(&got[2]).unwrap();
    assert_eq!(third["RequestMethod"], "PUT");
    assert_eq!(third["RequestContentSize"], 6000);
}

#[tokio::test]
async fn common_format_filters_and_reopen_on_sigusr1() {
    let up = server::serve_fn(|req| async move {
        if req.uri().path() == "/fail" {
            server::response(500, "no")
        } else {
            server::response(200, "fine")
        }
    })
    .await
    .unwrap();
    let (mut p, web) = start(
        "  filePath: \"{{dir}}/access.log\"\n  filters:\n    statusCodes: [\"500-599\"]",
        &dynamic(&up.url()),
    )
    .await;
    let base = format!("http://127.0.0.1:{web}");
    client::get(&format!("{base}/ok"), Some("app.test"))
        .await
        .unwrap();
    assert_eq!(
        client::get(&format!("{base}/fail"), Some("app.test"))
            .await
            .unwrap()
            .status,
        500
    );
    let path = p.dir().join("access.log");
    let got = wait_lines(&path, 1).await;
    // Only the 500 passes the filter; the 200 (sent first) is not logged.
    assert_eq!(got.len(), 1, "{got:?}");
    let re = regex_lite(&got[0]);
    assert!(re, "not Traefik's common layout: {}", got[0]);
    assert!(
        got[0].contains(&format!(
            "\"GET /fail HTTP/1.1\" 500 2 \"-\" \"-\" 2 \"app@file\" \"{}\" ",
            up.url()
        )),
        "{}",
        got[0]
    );

    // logrotate: move the file away, SIGUSR1, new lines go to a new file.
    let rotated = p.dir().join("access.log.1");
    std::fs::rename(&path, &rotated).unwrap();
    p.signal("USR1").unwrap();
    util::wait_until(Duration::from_secs(5), async || path.exists())
        .await
        .unwrap();
    client::get(&format!("{base}/fail"), Some("app.test"))
        .await
        .unwrap();
    let fresh = wait_lines(&path, 1).await;
    assert_eq!(fresh.len(), 1);
    assert!(
        fresh[0].contains(" 500 ") && fresh[0].contains(" 3 \"app@file\""),
        "{}",
        fresh[0]
    );
    assert_eq!(lines(&rotated).len(), 1);
}

#[tokio::test]
async fn common_format_prints_every_value_of_a_repeated_header() {
    let up = server::echo("app").await.unwrap();
    let (p, web) = start(
        "  filePath: \"{{dir}}/access.log\"\n  fields:\n    headers:\n      names:\n        User-Agent: keep\n        Referer: keep",
        &dynamic(&up.url()),
    )
    .await;
    let req = Request::get(format!("http://127.0.0.1:{web}/twice"))
        .header("host", "app.test")
        .header("user-agent", "AAA")
        .header("user-agent", "BBB")
        .header("referer", "https://one.test/")
        .body(body::empty())
        .unwrap();
    assert_eq!(client::request(req).await.unwrap().status, 200);
    let got = wait_lines(&p.dir().join("access.log"), 1).await;
    // As Traefik joins a header's values: "AAA,BBB"; a single value stays as it is.
    assert!(
        got[0].contains("\"GET /twice HTTP/1.1\" 200 ")
            && got[0].contains(" \"https://one.test/\" \"AAA,BBB\" 1 \"app@file\" "),
        "{}",
        got[0]
    );
}

/// `HOST - - [dd/Mon/yyyy:hh:mm:ss +0000] "..." ... Nms`, checked by hand.
fn regex_lite(line: &str) -> bool {
    let Some((host, rest)) = line.split_once(" - - [") else {
        return false;
    };
    let Some((date, rest)) = rest.split_once("] \"") else {
        return false;
    };
    let b = date.as_bytes();
    host.parse::<std::net::IpAddr>().is_ok()
        && date.len() == 26
        && b[2] == b'/'
        && b[6] == b'/'
        && b[11] == b':'
        && date.ends_with(" +0000")
        && rest.ends_with("ms")
}

#[tokio::test]
async fn blocked_output_drops_lines_instead_of_stalling() {
    let up = server::serve_fn(|_req| async { server::response(200, "x") })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // A reader that never reads: the pipe fills, then the writer thread blocks.
    use std::os::unix::fs::OpenOptionsExt;
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(0o4000) // O_NONBLOCK, so opening does not wait for a writer
        .open(&fifo)
        .unwrap();
    let [web, traefik, metrics] = util::free_ports::<3>().unwrap();
    let cfg = with_metrics(
        web,
        traefik,
        metrics,
        &format!("  bufferingSize: 8\n  filePath: \"{}\"", fifo.display()),
    );
    let _p = WeirProcess::start(BIN, &cfg, &dynamic(&up.url()), traefik)
        .await
        .unwrap();
    let c = client::Client::http1();
    let url = format!("http://127.0.0.1:{web}/{}", "p".repeat(2000));
    // Far more than the pipe (64 KiB) and the queue (8 lines) hold; each request must
    // still be answered within the client's deadline.
    for _ in 0..200 {
        let r = c.get(&url, Some("app.test")).await.unwrap();
        assert_eq!(r.status, 200);
    }
    let (dropped, scrape) = dropped_lines(metrics).await;
    assert!(dropped.is_some_and(|d| d > 0.0), "{scrape}");
}

/// A burst many times the writer's 256 KiB pieces: every line arrives, whole and once.
#[tokio::test]
async fn a_burst_of_many_write_pieces_arrives_whole() {
    let up = server::serve_fn(|_req| async { server::response(200, "x") })
        .await
        .unwrap();
    let (p, web) = start(
        "  format: json\n  filePath: \"{{dir}}/access.json\"",
        &dynamic(&up.url()),
    )
    .await;
    // 8 connections x 80 requests with 3 KiB paths: about 2.5 MB of lines.
    let url = format!("http://127.0.0.1:{web}/{}", "b".repeat(3000));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let c = client::Client::http1();
                for _ in 0..80 {
                    assert_eq!(c.get(&url, Some("app.test")).await.unwrap().status, 200);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let got = wait_lines(&p.dir().join("access.json"), 640).await;
    assert_eq!(got.len(), 640);
    let mut counts: Vec<u64> = got
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["RequestCount"].as_u64().unwrap()
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=640).collect::<Vec<u64>>());
}

/// The user basicAuth let in is the access log's `ClientUsername`, in JSON and in the
/// common format's second field. A request the middleware refused never reached the
/// service: no `ServiceName`, origin fields 0, all of its duration weir's `Overhead`; one
/// that did splits its duration between the server (`OriginDuration`) and weir.
#[tokio::test]
async fn authenticated_user_is_logged() {
    let up = server::serve_fn(|_req| async { server::response(200, "ok") })
        .await
        .unwrap();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let dynamic = format!(
        r#"http:
  routers:
    app:
      entryPoints: [web]
      rule: Host(`app.test`)
      middlewares: [auth]
      service: app
  middlewares:
    auth:
      basicAuth:
        users: ["alice:{hash}"]
  services:
    app:
      loadBalancer:
        servers:
          - url: "{}"
"#,
        up.url()
    );
    for (format, file) in [("json", "access.json"), ("common", "access.log")] {
        let [web, traefik] = util::free_ports::<2>().unwrap();
        let p = WeirProcess::start(
            BIN,
            &static_config(
                web,
                traefik,
                &format!("  format: {format}\n  filePath: \"{{{{dir}}}}/{file}\""),
            ),
            &dynamic,
            traefik,
        )
        .await
        .unwrap();
        let url = format!("http://127.0.0.1:{web}/who?x=1");
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
        let req = Request::get(&url)
            .header("host", "app.test")
            .header("authorization", format!("Basic {token}"))
            .body(body::empty())
            .unwrap();
        assert_eq!(client::request(req).await.unwrap().status, 200);
        let denied = client::get(&url, Some("app.test")).await.unwrap();
        assert_eq!(denied.status, 401);
        let got = wait_lines(&p.dir().join(file), 2).await;
        if format == "json" {
            let ok: Value = serde_json::from_str(&got[0]).unwrap();
            assert_eq!(ok["ClientUsername"], "alice");
            assert!(ok.get("RequestLine").is_none(), "not a Traefik v3 field");
            assert_eq!(ok["ServiceName"], "app@file");
            assert_eq!(ok["OriginStatus"], 200);
            let duration = ok["Duration"].as_u64().unwrap();
            let origin = ok["OriginDuration"].as_u64().unwrap();
            let overhead = ok["Overhead"].as_u64().unwrap();
            // The bcrypt check happened before the load balancer forwarded.
            assert!(origin > 0 && overhead > 0, "{ok}");
            assert_eq!(origin + overhead, duration, "{ok}");
            let no: Value = serde_json::from_str(&got[1]).unwrap();
            assert_eq!(no["ClientUsername"], "-");
            assert_eq!(no["DownstreamStatus"], 401);
            assert!(no.get("ServiceName").is_none(), "{no}");
            assert_eq!(
                [
                    &no["OriginStatus"],
                    &no["OriginDuration"],
                    &no["OriginContentSize"]
                ],
                [0, 0, 0]
            );
            assert_eq!(no["Overhead"], no["Duration"]);
        } else {
            assert!(got[0].starts_with("127.0.0.1 - alice ["), "{}", got[0]);
            assert!(got[1].starts_with("127.0.0.1 - - ["), "{}", got[1]);
        }
    }
}

/// `ClientHost` is the `X-Forwarded-For` of a client whose forwarded headers the
/// entrypoint trusts, and the peer's address otherwise, as Traefik.
#[tokio::test]
async fn client_host_is_a_trusted_clients_forwarded_for() {
    let up = server::serve_fn(|_req| async { server::response(200, "ok") })
        .await
        .unwrap();
    let [web, trusted, traefik] = util::free_ports::<3>().unwrap();
    let cfg = static_config(
        web,
        traefik,
        "  format: json\n  filePath: \"{{dir}}/access.json\"",
    )
    .replace(
        "entryPoints:\n",
        &format!(
            "entryPoints:\n  trusted:\n    address: \"127.0.0.1:{trusted}\"\n    forwardedHeaders:\n      trustedIPs: [\"127.0.0.1/32\"]\n"
        ),
    );
    let dynamic = dynamic(&up.url()).replace("entryPoints: [web]", "entryPoints: [web, trusted]");
    let p = WeirProcess::start(BIN, &cfg, &dynamic, traefik)
        .await
        .unwrap();
    for port in [trusted, web] {
        let req = Request::get(format!("http://127.0.0.1:{port}/"))
            .header("host", "app.test")
            .header("x-forwarded-for", "203.0.113.9, 10.1.2.3")
            .body(body::empty())
            .unwrap();
        assert_eq!(client::request(req).await.unwrap().status, 200);
    }
    let got = wait_lines(&p.dir().join("access.json"), 2).await;
    let hosts: Vec<Value> = got
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["ClientHost"].clone())
        .collect();
    assert_eq!(hosts, ["203.0.113.9, 10.1.2.3", "127.0.0.1"]);
}

#[tokio::test]
async fn compressed_responses_log_the_origin_size_and_ratio() {
    let text = "weir ".repeat(400);
    let up = {
        let text = text.clone();
        server::serve_fn(move |_req| {
            let text = text.clone();
            async move { server::response(200, text) }
        })
        .await
        .unwrap()
    };
    let dynamic = format!(
        r#"http:
  routers:
    zip:
      rule: Host(`zip.test`)
      middlewares: [zip]
      service: app
  middlewares:
    zip:
      compress: {{}}
  services:
    app:
      loadBalancer:
        servers:
          - url: "{}"
"#,
        up.url()
    );
    let (p, web) = start(
        "  format: json\n  filePath: \"{{dir}}/access.json\"",
        &dynamic,
    )
    .await;
    let req = Request::get(format!("http://127.0.0.1:{web}/"))
        .header("host", "zip.test")
        .header("accept-encoding", "gzip")
        .body(body::empty())
        .unwrap();
    let r = client::request(req).await.unwrap();
    assert_eq!(r.header("content-encoding"), Some("gzip"), "{}", p.logs());

    let got = wait_lines(&p.dir().join("access.json"), 1).await;
    let line: Value = serde_json::from_str(&got[0]).unwrap();
    let origin = line["OriginContentSize"].as_u64().unwrap();
    let sent = line["DownstreamContentSize"].as_u64().unwrap();
    assert_eq!(origin, text.len() as u64, "{line}");
    assert!(sent > 0 && sent < origin / 4, "{line}");
    let ratio = line["GzipRatio"].as_f64().unwrap();
    assert!((ratio - origin as f64 / sent as f64).abs() < 1e-9, "{line}");
}

/// A TZif file (version 1) for a zone without transitions at `offset` seconds east of
/// UTC, named `name`: what `/usr/share/zoneinfo` holds, reduced to one local time type.
fn tzif(offset: i32, name: &str) -> Vec<u8> {
    let mut f = b"TZif\0".to_vec();
    f.extend_from_slice(&[0; 15]);
    let chars = u32::try_from(name.len() + 1).unwrap();
    // Counts: UT/local indicators, standard/wall indicators, leap seconds, transitions,
    // local time types, designation characters.
    for count in [0, 0, 0, 0, 1, chars] {
        f.extend_from_slice(&u32::to_be_bytes(count));
    }
    f.extend_from_slice(&offset.to_be_bytes());
    f.extend_from_slice(&[0, 0]); // not DST, designation at 0
    f.extend_from_slice(name.as_bytes());
    f.push(0);
    f
}

/// With `TZ` naming a zone file, StartLocal and `time` are in that zone with its offset
/// and StartUTC in UTC, as Traefik (Go) writes them.
#[tokio::test]
async fn local_times_follow_the_processs_time_zone() {
    let up = server::echo("app").await.unwrap();
    let zone = tempfile::tempdir().unwrap();
    let zone_file = zone.path().join("Weir_Test");
    std::fs::write(&zone_file, tzif(-(9 * 3600 + 30 * 60), "WTT")).unwrap();
    let [web, traefik] = util::free_ports::<2>().unwrap();
    let p = WeirProcess::builder(BIN)
        .static_config(&static_config(
            web,
            traefik,
            "  format: json\n  filePath: \"{{dir}}/access.json\"",
        ))
        .dynamic_config(&dynamic(&up.url()))
        .env("TZ", zone_file.to_str().unwrap())
        .ping_port(traefik)
        .start()
        .await
        .unwrap();
    let r = client::get(&format!("http://127.0.0.1:{web}/"), Some("app.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let got = wait_lines(&p.dir().join("access.json"), 1).await;
    let v: Value = serde_json::from_str(&got[0]).unwrap();
    let text = |k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| panic!("{k}: {v}"))
            .to_owned()
    };
    let (local, utc, time) = (text("StartLocal"), text("StartUTC"), text("time"));
    assert!(local.ends_with("-09:30"), "{local}");
    assert!(time.ends_with("-09:30"), "{time}");
    assert!(utc.ends_with('Z'), "{utc}");
    // The same instant: parse both and compare.
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    assert_eq!(parse(&local), parse(&utc));
    assert!(parse(&time).timestamp() >= parse(&utc).timestamp());
}

/// A full disk (`/dev/full` refuses every write with ENOSPC): every request is still
/// answered, the lost lines are counted as dropped, and the failure is logged once, not
/// at every batch.
#[tokio::test]
async fn a_full_disk_loses_lines_not_requests() {
    let up = server::echo("app").await.unwrap();
    let [web, traefik, metrics] = util::free_ports::<3>().unwrap();
    let cfg = with_metrics(
        web,
        traefik,
        metrics,
        "  format: json\n  filePath: /dev/full",
    );
    let p = WeirProcess::start(BIN, &cfg, &dynamic(&up.url()), traefik)
        .await
        .unwrap();
    // Three bursts, each written (and lost) in a batch of its own.
    let c = client::Client::http1();
    let mut scrape = String::new();
    for burst in 1..=3 {
        for _ in 0..10 {
            let url = format!("http://127.0.0.1:{web}/");
            assert_eq!(c.get(&url, Some("app.test")).await.unwrap().status, 200);
        }
        let want = f64::from(burst * 10);
        let counted = util::wait_until(Duration::from_secs(5), async || {
            let dropped;
            (dropped, scrape) = dropped_lines(metrics).await;
            dropped == Some(want)
        })
        .await;
        assert!(counted.is_ok(), "{scrape}\n{}", p.logs());
    }
    assert_eq!(
        p.logs().matches("access log: write failed").count(),
        1,
        "{}",
        p.logs()
    );
}

/// An access log that cannot be opened (its directory is a file) is reported, and weir
/// serves without it, as Traefik does, instead of not starting.
#[tokio::test]
async fn an_access_log_that_cannot_be_opened_does_not_stop_serving() {
    let up = server::echo("app").await.unwrap();
    let (p, web) = start(
        "  format: json\n  filePath: \"{{dir}}/dynamic.yaml/access.json\"",
        &dynamic(&up.url()),
    )
    .await;
    let r = client::get(&format!("http://127.0.0.1:{web}/"), Some("app.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        p.logs().contains("serving without an access log"),
        "{}",
        p.logs()
    );
}
