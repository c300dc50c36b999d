//! `compress` through a real weir and a real upstream: each coding decodes with a standard
//! decoder, the documented exclusions hold, and a streamed response stays streamed.
#![allow(clippy::unwrap_used)]

use std::io::{Read as _, Write as _};
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt as _;
use tokio::sync::Mutex;
use weir_testkit::body::{self, BodySender};
use weir_testkit::client::Client;
use weir_testkit::{WeirProcess, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    compressed:
      rule: Host(`c.test`)
      middlewares: [compress]
      service: up
    zstd-first:
      rule: Host(`z.test`)
      middlewares: [compress-zstd-first]
      service: up
    only-json:
      rule: Host(`json.test`)
      middlewares: [compress-json]
      service: up
    headers-then-compress:
      rule: Host(`hc.test`)
      middlewares: [add-header, compress]
      service: up
    bad:
      rule: Host(`bad.test`)
      middlewares: [compress-bad]
      service: up
  middlewares:
    compress:
      compress: {}
    compress-zstd-first:
      compress:
        encodings: [zstd, br, gzip]
    compress-json:
      compress:
        includedContentTypes: [application/json]
    compress-bad:
      compress:
        encodings: [lzma]
    add-header:
      headers:
        customResponseHeaders:
          X-Added: "yes"
  services:
    up:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
"#;

fn text() -> String {
    (0..400)
        .map(|i| format!("line {i} of a compressible text\n"))
        .collect()
}

struct Got {
    status: u16,
    encoding: Option<String>,
    vary: Option<String>,
    added: Option<String>,
    bytes: Vec<u8>,
}

async fn fetch(c: &Client, web: u16, host: &str, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = Request::get(format!("http://127.0.0.1:{web}{path}")).header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = c.send(req.body(body::empty()).unwrap()).await.unwrap();
    let h = |n: &str| {
        resp.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (encoding, vary, added) = (h("content-encoding"), h("vary"), h("x-added"));
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Got {
        status,
        encoding,
        vary,
        added,
        bytes,
    }
}

fn decode(encoding: Option<&str>, data: &[u8]) -> String {
    let mut out = Vec::new();
    match encoding {
        Some("gzip") => {
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(data, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("zstd") => out = zstd::stream::decode_all(data).unwrap(),
        None => out = data.to_vec(),
        Some(other) => panic!("unexpected encoding {other}"),
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn compress_middleware() {
    let stream_tx: Arc<Mutex<Option<BodySender>>> = Arc::default();
    let upstream = {
        let stream_tx = stream_tx.clone();
        server::serve_fn(move |req| {
            let stream_tx = stream_tx.clone();
            async move {
                let (ct, body, encoded) = match req.uri().path() {
                    "/small" => ("text/plain", body::full("tiny"), false),
                    "/encoded" => ("text/plain", body::full(vec![b'z'; 4000]), true),
                    "/image" => ("image/png", body::full(text()), false),
                    "/json" => ("application/json", body::full(text()), false),
                    "/stream" => {
                        let (tx, b) = body::channel();
                        *stream_tx.lock().await = Some(tx);
                        ("text/plain", b, false)
                    }
                    _ => ("text/plain; charset=utf-8", body::full(text()), false),
                };
                let mut resp = http::Response::new(body);
                resp.headers_mut()
                    .insert("content-type", ct.parse().unwrap());
                if encoded {
                    resp.headers_mut()
                        .insert("content-encoding", "gzip".parse().unwrap());
                }
                resp
            }
        })
        .await
        .unwrap()
    };
    let [web, admin] = util::free_ports::<2>().unwrap();
    let weir = WeirProcess::start(
        env!("CARGO_BIN_EXE_weir"),
        &util::basic_static_config(web, admin),
        &DYNAMIC.replace("{{upstream}}", &upstream.url()),
        admin,
    )
    .await
    .unwrap();
    let c = Client::http1();
    let full = text();

    // (host, path, accept-encoding, expected coding)
    let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        ("c.test", "/", Some("gzip"), Some("gzip")),
        ("c.test", "/", Some("br"), Some("br")),
        ("c.test", "/", Some("zstd"), Some("zstd")),
        ("c.test", "/", Some("br, zstd, gzip"), Some("gzip")),
        ("c.test", "/", Some("gzip;q=0.5, br"), Some("br")),
        ("z.test", "/", Some("gzip, br, zstd"), Some("zstd")),
        ("c.test", "/", None, None),
        ("c.test", "/", Some("deflate"), None),
        ("c.test", "/small", Some("gzip"), None),
        ("c.test", "/image", Some("gzip"), Some("gzip")),
        ("json.test", "/image", Some("gzip"), None),
        ("json.test", "/json", Some("gzip"), Some("gzip")),
    ];
    for &(host, path, accept, want) in cases {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("accept-encoding", a)).into_iter().collect();
        let got = fetch(&c, web, host, path, &headers).await;
        let what = format!("{host}{path} accept {accept:?}");
        assert_eq!(got.status, 200, "{what}: {}", weir.logs());
        assert_eq!(got.encoding.as_deref(), want, "{what}");
        let expected = if path == "/small" {
            "tiny".to_owned()
        } else {
            full.clone()
        };
        assert_eq!(decode(want, &got.bytes), expected, "{what}");
        if want.is_some() {
            assert!(
                got.bytes.len() < full.len() / 2,
                "{what}: not compressed much"
            );
            assert_eq!(got.vary.as_deref(), Some("Accept-Encoding"), "{what}");
        }
    }

    // Already encoded: passed through untouched.
    let got = fetch(&c, web, "c.test", "/encoded", &[("accept-encoding", "br")]).await;
    assert_eq!(got.encoding.as_deref(), Some("gzip"));
    assert_eq!(got.bytes, vec![b'z'; 4000]);
    // Range requests are never compressed.
    let got = fetch(
        &c,
        web,
        "c.test",
        "/",
        &[("accept-encoding", "gzip"), ("range", "bytes=0-9")],
    )
    .await;
    assert_eq!(got.encoding, None);
    // headers then compress: both applied.
    let got = fetch(&c, web, "hc.test", "/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(got.added.as_deref(), Some("yes"));
    assert_eq!(decode(got.encoding.as_deref(), &got.bytes), full);
    // A bad encoding disables the router.
    assert_eq!(fetch(&c, web, "bad.test", "/", &[]).await.status, 404);

    // Streaming: the first chunk arrives, compressed and decodable, before the upstream
    // has finished its body.
    let req = Request::get(format!("http://127.0.0.1:{web}/stream"))
        .header("host", "c.test")
        .header("accept-encoding", "gzip")
        .body(body::empty())
        .unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let mut incoming = resp.into_body();
    let tx = stream_tx.lock().await.take().unwrap();
    tx.send(Bytes::from("first part of a stream\n"))
        .await
        .unwrap();
    let mut decoder = flate2::write::GzDecoder::new(Vec::new());
    while !String::from_utf8_lossy(decoder.get_ref()).contains("first part") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), incoming.frame())
            .await
            .expect("first compressed chunk not streamed")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            decoder.write_all(&data).unwrap();
            decoder.flush().unwrap();
        }
    }
    tx.send(Bytes::from("second part\n")).await.unwrap();
    drop(tx);
    let rest = incoming.collect().await.unwrap().to_bytes();
    decoder.write_all(&rest).unwrap();
    let all = decoder.finish().unwrap();
    assert_eq!(
        String::from_utf8(all).unwrap(),
        "first part of a stream\nsecond part\n"
    );
}
