//! grpcWeb through a real weir to a real HTTP/2 (h2c) gRPC-style upstream: binary and text
//! requests translated to gRPC, responses with their trailers written into the body, CORS
//! preflights, and other requests passed through.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::{BufMut as _, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Request};
use http_body::Frame;
use http_body_util::{BodyExt as _, StreamBody};
use weir_testkit::client::Client;
use weir_testkit::server::{self, Protocol, ServerOptions};
use weir_testkit::{WeirProcess, body, util};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const DYNAMIC: &str = r#"
http:
  routers:
    grpc:
      rule: Host(`grpc.test`)
      middlewares: [grpc-web]
      service: grpc
  middlewares:
    grpc-web:
      grpcWeb:
        allowOrigins: ["https://app.example"]
  services:
    grpc:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
"#;

/// A gRPC message frame: flag, 4-byte length, payload.
fn frame(flag: u8, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u8(flag);
    b.put_u32(u32::try_from(payload.len()).unwrap());
    b.put_slice(payload);
    b.freeze()
}

/// Splits gRPC-Web frames into (flag, payload).
fn frames(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let len = u32::from_be_bytes(b[1..5].try_into().unwrap()) as usize;
        out.push((b[0], b[5..5 + len].to_vec()));
        b = &b[5 + len..];
    }
    out
}

/// Decodes concatenated padded base64 chunks, four characters at a time.
fn decode_text(s: &[u8]) -> Vec<u8> {
    s.chunks(4).flat_map(|g| B64.decode(g).unwrap()).collect()
}

/// The sorted `name: value` lines of a trailer frame.
fn trailer_lines(payload: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = std::str::from_utf8(payload)
        .unwrap()
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[derive(Debug, Clone)]
struct Seen {
    version: http::Version,
    headers: HeaderMap,
    body: Bytes,
}

#[tokio::test]
async fn grpc_web() {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let upstream =
        server::serve_fn_with(ServerOptions::new().protocol(Protocol::Http2), move |req| {
            let log = log.clone();
            async move {
                let (parts, b) = req.into_parts();
                let b = b.collect().await.unwrap().to_bytes();
                log.lock().unwrap().push(Seen {
                    version: parts.version,
                    headers: parts.headers.clone(),
                    body: b.clone(),
                });
                if parts
                    .headers
                    .get("content-type")
                    .is_none_or(|v| !v.as_bytes().starts_with(b"application/grpc"))
                {
                    return server::response(200, "plain");
                }
                // Echo each message with a prefix, then trailers.
                let mut out = BytesMut::new();
                for (_, payload) in frames(&b) {
                    out.put_slice(&frame(0, &[b"echo:".as_slice(), &payload].concat()));
                }
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", HeaderValue::from_static("0"));
                trailers.insert("grpc-message", HeaderValue::from_static("ok"));
                let stream = futures_util::stream::iter(vec![
                    Ok::<_, std::io::Error>(Frame::data(out.freeze())),
                    Ok(Frame::trailers(trailers)),
                ]);
                let mut resp = http::Response::new(StreamBody::new(stream).boxed());
                resp.headers_mut().insert(
                    "content-type",
                    parts.headers.get("content-type").unwrap().clone(),
                );
                resp
            }
        })
        .await
        .unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let dynamic = DYNAMIC.replace(
        "{{upstream}}",
        &format!("h2c://127.0.0.1:{}", upstream.port()),
    );
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &dynamic,
        admin,
    )
    .await
    .unwrap();
    let c = Client::http1();
    let call = async |ct: &str, origin: &str, body: Bytes| {
        let req = Request::post(format!("http://127.0.0.1:{web}/pkg.Echo/Say"))
            .header("host", "grpc.test")
            .header("content-type", ct)
            .header("x-grpc-web", "1")
            .header("origin", origin)
            .body(body::full(body))
            .unwrap();
        let resp = c.send(req).await.unwrap();
        let (parts, b) = resp.into_parts();
        (parts, b.collect().await.unwrap().to_bytes())
    };

    // Binary: the upstream gets gRPC over HTTP/2; the client gets the messages and the
    // trailers in the body.
    let (parts, b) = call(
        "application/grpc-web+proto",
        "https://app.example",
        frame(0, b"hello"),
    )
    .await;
    assert_eq!(parts.status, 200, "{}", weir.logs());
    assert_eq!(parts.headers["content-type"], "application/grpc-web+proto");
    assert_eq!(
        parts.headers["access-control-allow-origin"],
        "https://app.example"
    );
    let got = frames(&b);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], (0, b"echo:hello".to_vec()));
    assert_eq!(got[1].0, 0x80);
    assert_eq!(
        trailer_lines(&got[1].1),
        ["grpc-message: ok", "grpc-status: 0"]
    );
    let up = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(up.version, http::Version::HTTP_2);
    assert_eq!(up.headers["content-type"], "application/grpc+proto");
    assert_eq!(up.headers["te"], "trailers");
    assert_eq!(up.body, frame(0, b"hello"));

    // Text: base64 both ways (the request as two padded segments).
    let text = [B64.encode(frame(0, b"hi")), B64.encode(frame(0, b"there"))].concat();
    let (parts, b) = call(
        "application/grpc-web-text",
        "https://other.example",
        text.into(),
    )
    .await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["content-type"], "application/grpc-web-text");
    assert!(
        !parts.headers.contains_key("access-control-allow-origin"),
        "origin not allowed"
    );
    let got = frames(&decode_text(&b));
    assert_eq!(got[0], (0, b"echo:hi".to_vec()));
    assert_eq!(got[1], (0, b"echo:there".to_vec()));
    assert_eq!(
        trailer_lines(&got[2].1),
        ["grpc-message: ok", "grpc-status: 0"]
    );
    let up = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(up.headers["content-type"], "application/grpc");
    assert_eq!(up.body, [frame(0, b"hi"), frame(0, b"there")].concat());

    // CORS preflight: answered by weir, allowed origin or not; the upstream is not asked.
    let before = seen.lock().unwrap().len();
    for (origin, allowed) in [
        ("https://app.example", true),
        ("https://evil.example", false),
    ] {
        let req = Request::options(format!("http://127.0.0.1:{web}/pkg.Echo/Say"))
            .header("host", "grpc.test")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-grpc-web")
            .body(body::empty())
            .unwrap();
        let r = c.request(req).await.unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(
            r.header("access-control-allow-origin").is_some(),
            allowed,
            "{origin}"
        );
        if allowed {
            assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
            assert_eq!(
                r.header("access-control-allow-headers"),
                Some("content-type,x-grpc-web")
            );
        }
    }
    assert_eq!(seen.lock().unwrap().len(), before);

    // Not gRPC-Web: passed through untouched.
    let r = c
        .get(&format!("http://127.0.0.1:{web}/health"), Some("grpc.test"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "plain");
}
