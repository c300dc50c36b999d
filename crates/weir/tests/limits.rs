//! End to end: what weir does with malformed, oversized, slow and very large requests.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use http::{Request, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weir_testkit::{WeirProcess, body, client, server, util};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

async fn start_with_static(static_yaml: &str, dynamic: &str, admin: u16) -> WeirProcess {
    WeirProcess::start(WEIR, static_yaml, dynamic, admin)
        .await
        .unwrap()
}

/// Sends raw bytes and returns what comes back until the server closes (bounded at 10 s).
async fn raw(port: u16, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_400_and_431() {
    let up = server::echo("up").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let static_yaml = format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
    http:
      maxHeaderBytes: 16384
  traefik:
    address: "127.0.0.1:{admin}"
ping: {{}}
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    );
    let weir = start_with_static(
        &static_yaml,
        &util::simple_dynamic_config("PathPrefix(`/`)", &[up.url()]),
        admin,
    )
    .await;

    let answer = raw(web, b"GARBAGE\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");

    let big = "a".repeat(64 * 1024);
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    let answer = raw(web, req.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");

    // And a normal request still works afterwards.
    let r = client::get(&format!("http://127.0.0.1:{web}/ok"), None)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", weir.logs());
    assert_eq!(up.requests(), 1, "nothing malformed reached the upstream");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let up = server::echo("up").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = start_with_static(
        &static_with_timeouts(web, admin, "        readTimeout: 1s"),
        &util::simple_dynamic_config("PathPrefix(`/`)", &[up.url()]),
        admin,
    )
    .await;
    let mut s = TcpStream::connect(("127.0.0.1", web)).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: slow\r\n")
        .await
        .unwrap();
    // The connection is closed by weir (readTimeout 1s), well before this 10 s bound.
    let mut out = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    assert!(
        closed.is_ok(),
        "weir kept a stalled client: {}",
        weir.logs()
    );
    assert_eq!(up.requests(), 0);
}

/// Peak resident memory of a process, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_hundred_megabytes_stream_through_without_being_held() {
    const SIZE: usize = 100 * 1024 * 1024;
    // The upstream counts what it receives and answers with SIZE bytes.
    let up = server::serve_fn(|req| async move {
        use http_body_util::BodyExt;
        let mut body = req.into_body();
        let mut received = 0usize;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                received += data.len();
            }
        }
        let mut resp = server::response(200, "");
        *resp.body_mut() = body::big(SIZE);
        resp.headers_mut()
            .insert("x-received", received.to_string().parse().unwrap());
        resp
    })
    .await
    .unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let mut weir = WeirProcess::start(
        WEIR,
        &util::basic_static_config(web, admin).replace("level: DEBUG", "level: ERROR"),
        &util::simple_dynamic_config("PathPrefix(`/`)", &[up.url()]),
        admin,
    )
    .await
    .unwrap();
    let pid = weir.pid().unwrap();
    let before = peak_rss_kib(pid);

    // Upload: a streamed body (no length known in advance), 1 MiB chunks.
    let (tx, upload) = body::channel();
    let feeder = tokio::spawn(async move {
        let chunk = bytes::Bytes::from(vec![b'u'; 1024 * 1024]);
        for _ in 0..SIZE / chunk.len() {
            tx.send(chunk.clone()).await.unwrap();
        }
    });
    let req = Request::post(format!("http://127.0.0.1:{web}/upload"))
        .body(upload)
        .unwrap();
    let resp = client::Client::http1().send(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["x-received"].to_str().unwrap(),
        SIZE.to_string()
    );
    // Download, counted as it arrives.
    let mut body = resp.into_body();
    let mut downloaded = 0usize;
    use http_body_util::BodyExt;
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(30), body.frame())
        .await
        .unwrap()
    {
        if let Ok(data) = frame.unwrap().into_data() {
            downloaded += data.len();
        }
    }
    feeder.await.unwrap();
    assert_eq!(downloaded, SIZE);

    // 200 MB went through; holding either body whole would show in the peak RSS.
    let grown_mib = (peak_rss_kib(pid).saturating_sub(before)) / 1024;
    assert!(grown_mib < 48, "weir's peak RSS grew by {grown_mib} MiB");
    assert!(weir.is_running());
}

fn static_with_timeouts(web: u16, admin: u16, timeouts: &str) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
    transport:
      respondingTimeouts:
{timeouts}
  traefik:
    address: "127.0.0.1:{admin}"
ping: {{}}
log:
  level: DEBUG
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    )
}

#[tokio::test]
async fn a_client_that_stalls_in_its_body_is_cut_at_read_timeout() {
    let up = server::echo("up").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = start_with_static(
        &static_with_timeouts(web, admin, "        readTimeout: 1s"),
        &util::simple_dynamic_config("PathPrefix(`/`)", &[up.url()]),
        admin,
    )
    .await;
    let mut s = TcpStream::connect(("127.0.0.1", web)).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten..")
        .await
        .unwrap();
    // weir gives up on the body (readTimeout 1s) and answers or closes, well before 10 s.
    let mut out = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    assert!(
        ended.is_ok(),
        "weir waited on a stalled body: {}",
        weir.logs()
    );
    let answer = String::from_utf8_lossy(&out);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 5"),
        "{answer}"
    );
    // And the upstream never saw a complete request.
    assert!(!answer.contains("only ten"), "{answer}");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_at_write_timeout() {
    let up = server::serve_fn(|_req| async {
        let mut resp = server::response(200, "");
        *resp.body_mut() = body::big(64 * 1024 * 1024);
        resp
    })
    .await
    .unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = start_with_static(
        &static_with_timeouts(web, admin, "        writeTimeout: 1s"),
        &util::simple_dynamic_config("PathPrefix(`/`)", &[up.url()]),
        admin,
    )
    .await;
    let mut s = TcpStream::connect(("127.0.0.1", web)).await.unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Never read: socket buffers fill, weir's writes stop progressing, and after 1 s it
    // drops the connection (logged at DEBUG with the reason).
    util::wait_until(Duration::from_secs(15), async || {
        weir.logs().contains("writeTimeout")
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weir.logs()));
    drop(s);
}
