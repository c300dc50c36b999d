//! The upstream client and the services against real servers on 127.0.0.1.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use weir_proxy::body::{self, Body};
use weir_proxy::service::{
    Availability, HealthCheckConfig, HealthRegistry, LoadBalancer, Mirror, Mirroring, Server,
    StickyCookie, Weighted, WeightedChild,
};
use weir_proxy::upstream::{ServerTarget, TransportRegistry, TransportSettings, UpstreamClient};
use weir_proxy::{BoxFuture, Handler, RequestContext};

// ---------------------------------------------------------------------------------------
// helpers

fn cx() -> RequestContext {
    RequestContext {
        client_addr: "127.0.0.1:1".parse().unwrap(),
        local_addr: "127.0.0.1:2".parse().unwrap(),
        entrypoint: Arc::from("web"),
        tls: false,
        router: None,
        observe: weir_observe::Wanted::default(),
        answered: weir_observe::Answered::default(),
    }
}

/// Polls `cond` until true or panics after 10 s.
async fn eventually(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

type Svc = Arc<dyn Fn(Request<Incoming>) -> BoxFuture<'static, Response<Body>> + Send + Sync>;

fn svc<F, Fut>(f: F) -> Svc
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// An HTTP/1.1 (with upgrades) server.
async fn serve_h1(s: Svc) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let s = s.clone();
                    async move { Ok::<_, Infallible>(s(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

/// An HTTP/1.1 + h2c (prior knowledge) server over TCP or any accepted IO.
async fn serve_auto(s: Svc, tls: Option<tokio_rustls::TlsAcceptor>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let s = s.clone();
                    async move { Ok::<_, Infallible>(s(req).await) }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match tls {
                    Some(acceptor) => {
                        let Ok(io) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let _ = builder.serve_connection(TokioIo::new(io), service).await;
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    addr
}

/// A server answering its `id` as the body, and echoing what it saw in headers.
async fn id_server(id: &'static str) -> SocketAddr {
    serve_h1(svc(move |req: Request<Incoming>| async move {
        let host = req.headers().get(header::HOST).cloned();
        let mut resp = Response::new(body::full(id));
        if let Some(h) = host {
            resp.headers_mut().insert("x-seen-host", h);
        }
        resp.headers_mut()
            .insert("x-seen-path", req.uri().to_string().parse().unwrap());
        resp
    }))
    .await
}

fn client(settings: TransportSettings) -> Arc<UpstreamClient> {
    Arc::new(UpstreamClient::new(&settings).unwrap())
}

fn target(url: &str) -> ServerTarget {
    ServerTarget::parse(url, false).unwrap()
}

fn get(path: &str, host: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::HOST, host)
        .body(body::empty())
        .unwrap()
}

async fn text(resp: Response<Body>) -> String {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

// ---------------------------------------------------------------------------------------
// client

#[tokio::test]
async fn forwards_headers_and_strips_hop_by_hop() {
    let addr = serve_h1(svc(|req: Request<Incoming>| async move {
        assert_eq!(req.uri().path(), "/a/b");
        assert_eq!(req.uri().query(), Some("x=1"));
        assert_eq!(req.headers()["host"], "example.com");
        assert_eq!(req.headers()["x-custom"], "yes");
        Response::builder()
            .header("x-private", "hop")
            .header(header::CONNECTION, "x-private")
            .header("keep-alive", "timeout=5")
            .header("x-end-to-end", "kept")
            .body(body::full("hello"))
            .unwrap()
    }))
    .await;
    let c = client(TransportSettings::default());
    let mut req = get("/a/b?x=1", "example.com");
    req.headers_mut()
        .insert("x-custom", HeaderValue::from_static("yes"));
    let resp = c
        .forward(req, &target(&format!("http://{addr}")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-end-to-end"], "kept");
    assert!(resp.headers().get("x-private").is_none());
    assert!(resp.headers().get("keep-alive").is_none());
    assert!(resp.headers().get(header::CONNECTION).is_none());
    assert_eq!(text(resp).await, "hello");
}

#[tokio::test]
async fn preserve_path_prefixes_the_request_path() {
    let addr = id_server("a").await;
    let c = client(TransportSettings::default());
    let t = ServerTarget::parse(&format!("http://{addr}/base/"), true).unwrap();
    let resp = c.forward(get("/x?y=1", "h"), &t).await.unwrap();
    assert_eq!(resp.headers()["x-seen-path"], "/base/x?y=1");
    let resp = c
        .forward(get("/x", "h"), &target(&format!("http://{addr}/base")))
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-seen-path"], "/x");
}

#[test]
fn transport_registry_reuses_live_clients() {
    let registry = TransportRegistry::new();
    let settings = TransportSettings::default();
    let a = registry.get_or_create("t@file", &settings).unwrap();
    let b = registry.get_or_create("t@file", &settings).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let changed = TransportSettings {
        disable_http2: true,
        ..Default::default()
    };
    let c = registry.get_or_create("t@file", &changed).unwrap();
    assert!(!Arc::ptr_eq(&a, &c));
    assert_eq!(registry.len(), 2);
    drop((a, b, c));
    assert!(registry.is_empty());
    let bad = TransportSettings {
        root_cas: vec!["/nonexistent/ca.pem".into()],
        ..Default::default()
    };
    assert!(registry.get_or_create("bad", &bad).is_err());
}

#[tokio::test]
async fn refused_port_is_502() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(TransportSettings::default());
    let err = c
        .forward(get("/", "x"), &target(&format!("http://{addr}")))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("refused"), "{err}");
    let resp = err.to_response();
    assert_eq!(resp.status(), 502);
    assert_eq!(text(resp).await, "Bad Gateway");
}

#[tokio::test]
async fn slow_upstream_is_504_with_response_header_timeout() {
    let addr = serve_h1(svc(|_req: Request<Incoming>| async move {
        std::future::pending::<()>().await;
        Response::new(body::empty())
    }))
    .await;
    let c = client(TransportSettings {
        response_header_timeout: Some(Duration::from_millis(200)),
        ..Default::default()
    });
    let started = Instant::now();
    let err = c
        .forward(get("/", "x"), &target(&format!("http://{addr}")))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(text(err.to_response()).await, "Gateway Timeout");
}

#[tokio::test]
async fn chunked_response_arrives_incrementally() {
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let release_rx = Arc::new(tokio::sync::Mutex::new(Some(release_rx)));
    let addr = serve_h1(svc(move |_req: Request<Incoming>| {
        let release_rx = release_rx.clone();
        async move {
            let rx = release_rx.lock().await.take().unwrap();
            let stream = futures_util::stream::unfold((0, Some(rx)), |(n, rx)| async move {
                match n {
                    0 => Some((
                        Ok::<_, Infallible>(Frame::data(Bytes::from("first"))),
                        (1, rx),
                    )),
                    1 => {
                        // The second chunk only once the client saw the first.
                        rx.unwrap().await.ok();
                        Some((Ok(Frame::data(Bytes::from("second"))), (2, None)))
                    }
                    _ => None,
                }
            });
            Response::new(body::boxed(StreamBody::new(stream)))
        }
    }))
    .await;
    let c = client(TransportSettings::default());
    let resp = c
        .forward(get("/", "x"), &target(&format!("http://{addr}")))
        .await
        .unwrap();
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "first");
    release_tx.send(()).unwrap();
    let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(second, "second");
}

/// 100 MB up and echoed back down, with the sender never more than a few chunks ahead of
/// what came back: any full-body buffering on either side would deadlock (and time out).
#[tokio::test]
async fn streams_100mb_both_ways() {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 1600;
    const AHEAD: usize = 8;
    let addr = serve_h1(svc(|req: Request<Incoming>| async move {
        Response::new(body::boxed(req.into_body()))
    }))
    .await;
    let c = client(TransportSettings::default());

    let received = Arc::new(AtomicUsize::new(0));
    let notify = Arc::new(tokio::sync::Notify::new());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, weir_proxy::BoxError>>(2);
    let producer = {
        let received = received.clone();
        let notify = notify.clone();
        tokio::spawn(async move {
            let chunk = Bytes::from(vec![7u8; CHUNK]);
            for i in 0..CHUNKS {
                while i >= AHEAD && received.load(Ordering::Acquire) < (i - AHEAD) * CHUNK {
                    notify.notified().await;
                }
                if tx.send(Ok(Frame::data(chunk.clone()))).await.is_err() {
                    return;
                }
            }
        })
    };
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let req = Request::builder()
        .method("POST")
        .uri("/echo")
        .header(header::HOST, "x")
        .body(body::boxed(StreamBody::new(stream)))
        .unwrap();
    let resp = tokio::time::timeout(
        Duration::from_secs(120),
        c.forward(req, &target(&format!("http://{addr}"))),
    )
    .await
    .unwrap()
    .unwrap();
    let mut body = resp.into_body();
    let mut total = 0;
    let read = async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                total += data.len();
                received.store(total, Ordering::Release);
                notify.notify_one();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .unwrap();
    assert_eq!(total, CHUNK * CHUNKS);
    producer.await.unwrap();
}

#[tokio::test]
async fn h2c_upstream() {
    let addr = serve_auto(
        svc(|req: Request<Incoming>| async move {
            assert_eq!(req.version(), http::Version::HTTP_2);
            Response::new(body::full(format!("{:?}", req.version())))
        }),
        None,
    )
    .await;
    let c = client(TransportSettings::default());
    for _ in 0..3 {
        let resp = c
            .forward(get("/", "x"), &target(&format!("h2c://{addr}")))
            .await
            .unwrap();
        assert_eq!(text(resp).await, "HTTP/2.0");
    }
}

struct Pki {
    ca_pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "backend.internal".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Pki {
        ca_pem: ca.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    }
}

#[tokio::test]
async fn https_upstream_with_root_cas_server_name_and_insecure() {
    let pki = pki();
    let addr = serve_auto(
        svc(|req: Request<Incoming>| async move {
            Response::new(body::full(format!("{:?}", req.version())))
        }),
        Some(pki.acceptor.clone()),
    )
    .await;
    let url = format!("https://localhost:{}", addr.port());

    // Verified against the private CA; ALPN picks h2.
    let c = client(TransportSettings {
        root_cas: vec![pki.ca_pem.clone()],
        ..Default::default()
    });
    let resp = c
        .forward(get("/", "localhost"), &target(&url))
        .await
        .unwrap();
    assert_eq!(text(resp).await, "HTTP/2.0");

    // disableHTTP2 → HTTP/1.1.
    let c = client(TransportSettings {
        root_cas: vec![pki.ca_pem.clone()],
        disable_http2: true,
        ..Default::default()
    });
    let resp = c
        .forward(get("/", "localhost"), &target(&url))
        .await
        .unwrap();
    assert_eq!(text(resp).await, "HTTP/1.1");

    // serverName: connect to the IP, verify the certificate as backend.internal.
    let c = client(TransportSettings {
        root_cas: vec![pki.ca_pem.clone()],
        server_name: Some("backend.internal".into()),
        ..Default::default()
    });
    let ip_url = format!("https://{addr}");
    assert!(c.forward(get("/", "x"), &target(&ip_url)).await.is_ok());

    // The default roots do not trust the private CA.
    let c = client(TransportSettings::default());
    let err = c.forward(get("/", "x"), &target(&url)).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_GATEWAY);

    // insecureSkipVerify accepts it, even by IP.
    let c = client(TransportSettings {
        insecure_skip_verify: true,
        ..Default::default()
    });
    assert!(c.forward(get("/", "x"), &target(&ip_url)).await.is_ok());
}

/// A server that answers each connection's first request with keep-alive, then closes the
/// socket 0–50 ms later without reading anything else: every reused connection races. It
/// answers 400 to a request without `Host`: one sent again must keep the Host weir added.
#[tokio::test]
async fn stale_keep_alive_connections_are_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut n: u64 = 0;
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            n += 1;
            let delay = Duration::from_millis(n * 7 % 51);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                let answer: &[u8] = if head.contains("\r\nhost:") {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
                } else {
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\nno host"
                };
                let _ = tcp.write_all(answer).await;
                // Simulated server behaviour (idle close), not synchronisation.
                tokio::time::sleep(delay).await;
                drop(tcp);
            });
        }
    });
    let c = client(TransportSettings::default());
    let t = target(&format!("http://{addr}"));
    let mut failures = 0;
    for i in 0..200 {
        // Half as weir's own calls send them: no Host (the client adds the server's).
        let req = if i % 2 == 0 {
            get("/", "x")
        } else {
            Request::builder().uri("/").body(body::empty()).unwrap()
        };
        match c.forward(req, &t).await {
            Ok(resp) => assert_eq!(text(resp).await, "ok"),
            Err(e) => {
                failures += 1;
                eprintln!("request {i}: {e}");
            }
        }
        if i % 4 == 0 {
            tokio::time::sleep(Duration::from_millis(i % 13)).await;
        }
    }
    assert_eq!(failures, 0);
}

#[tokio::test]
async fn host_comes_from_the_server_url_when_the_request_has_none() {
    let addr = id_server("a").await;
    let c = client(TransportSettings::default());
    let req = Request::builder().uri("/x").body(body::empty()).unwrap();
    let resp = c
        .forward(req, &target(&format!("http://{addr}")))
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get("x-seen-host").unwrap(),
        addr.to_string().as_str()
    );
}

/// A server that counts the connections it accepted; `/big` answers 1 MiB, `/empty` 204,
/// anything else `ok`.
async fn counting_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let service = service_fn(|req: Request<Incoming>| async move {
                    let resp = match req.uri().path() {
                        "/big" => Response::new(body::full(vec![b'x'; 1 << 20])),
                        "/empty" => {
                            let mut r = Response::new(body::empty());
                            *r.status_mut() = StatusCode::NO_CONTENT;
                            r
                        }
                        _ => Response::new(body::full("ok")),
                    };
                    Ok::<_, Infallible>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn keep_alive_connections_are_reused_unless_a_body_was_left_unread() {
    let (addr, accepted) = counting_server().await;
    let c = client(TransportSettings::default());
    let t = target(&format!("http://{addr}"));
    for _ in 0..10 {
        let resp = c.forward(get("/", "x"), &t).await.unwrap();
        assert_eq!(text(resp).await, "ok");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "sequential requests share one connection"
    );

    // Bodiless answers are never read, yet the connection goes back to the pool.
    for _ in 0..3 {
        let resp = c.forward(get("/empty", "x"), &t).await.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        drop(resp);
        let mut head = get("/", "x");
        *head.method_mut() = http::Method::HEAD;
        let resp = c.forward(head, &t).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        drop(resp);
    }
    assert_eq!(
        text(c.forward(get("/", "x"), &t).await.unwrap()).await,
        "ok"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "204 and HEAD keep the connection"
    );

    // A body dropped half-read leaves its connection mid-message: it must not be reused.
    let mut body = c.forward(get("/big", "x"), &t).await.unwrap().into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert!(first.is_data());
    drop(body);
    assert_eq!(
        text(c.forward(get("/", "x"), &t).await.unwrap()).await,
        "ok"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "a new connection after the cut"
    );
}

/// A front server whose service forwards everything through `client` to `t`.
async fn front(c: Arc<UpstreamClient>, t: ServerTarget) -> SocketAddr {
    serve_h1(svc(move |req: Request<Incoming>| {
        let c = c.clone();
        let t = t.clone();
        async move {
            let req = req.map(body::boxed);
            match c.forward(req, &t).await {
                Ok(resp) => resp,
                Err(e) => e.to_response(),
            }
        }
    }))
    .await
}

async fn read_head(tcp: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "eof in head");
        buf.push(byte[0]);
    }
    String::from_utf8(buf).unwrap()
}

#[tokio::test]
async fn websocket_upgrade_tunnels_after_101() {
    let upstream = serve_h1(svc(|mut req: Request<Incoming>| async move {
        assert_eq!(req.headers()[header::UPGRADE], "websocket");
        if req.uri().path() == "/refuse" {
            return Response::builder()
                .status(403)
                .body(body::full("no"))
                .unwrap();
        }
        let on = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            let mut io = TokioIo::new(on.await.unwrap());
            let mut buf = [0u8; 1024];
            loop {
                let n = io.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                io.write_all(&buf[..n]).await.unwrap();
            }
        });
        Response::builder()
            .status(101)
            .header(header::CONNECTION, "Upgrade")
            .header(header::UPGRADE, "websocket")
            .body(body::empty())
            .unwrap()
    }))
    .await;
    let front = front(
        client(TransportSettings::default()),
        target(&format!("http://{upstream}")),
    )
    .await;

    let mut tcp = TcpStream::connect(front).await.unwrap();
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .await
    .unwrap();
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("upgrade: websocket"),
        "{head}"
    );
    for msg in [&b"ping"[..], b"hello tunnel"] {
        tcp.write_all(msg).await.unwrap();
        let mut back = vec![0u8; msg.len()];
        tcp.read_exact(&mut back).await.unwrap();
        assert_eq!(back, msg);
    }

    // A refusal is an ordinary response, never a tunnel.
    let mut tcp = TcpStream::connect(front).await.unwrap();
    tcp.write_all(
        b"GET /refuse HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .await
    .unwrap();
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
}

// ---------------------------------------------------------------------------------------
// services

async fn lb_body(lb: &dyn Handler, req: Request<Body>) -> (String, Response<()>) {
    let resp = lb.handle(req, &cx()).await;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        String::from_utf8(bytes.to_vec()).unwrap(),
        Response::from_parts(parts, ()),
    )
}

#[tokio::test]
async fn wrr_distribution_and_pass_host_header() {
    let a = id_server("a").await;
    let b = id_server("b").await;
    let servers = vec![
        Server {
            target: target(&format!("http://{a}")),
            weight: 3,
        },
        Server {
            target: target(&format!("http://{b}")),
            weight: 1,
        },
    ];
    let c = client(TransportSettings::default());
    let lb = LoadBalancer::new("svc@file", servers.clone(), c.clone(), true);
    let mut counts = HashMap::new();
    for _ in 0..400 {
        let (id, resp) = lb_body(&lb, get("/p", "front.example")).await;
        assert_eq!(resp.headers()["x-seen-host"], "front.example");
        *counts.entry(id).or_insert(0) += 1;
    }
    assert!((290..=310).contains(&counts["a"]), "{counts:?}");
    assert!((90..=110).contains(&counts["b"]), "{counts:?}");

    let lb = LoadBalancer::new("svc@file", servers, c, false);
    for _ in 0..4 {
        let (id, resp) = lb_body(&lb, get("/p", "front.example")).await;
        let want = if id == "a" { a } else { b };
        assert_eq!(resp.headers()["x-seen-host"], want.to_string().as_str());
    }
}

#[tokio::test]
async fn sticky_cookie_pins_a_server() {
    let a = id_server("a").await;
    let b = id_server("b").await;
    let servers = vec![
        Server {
            target: target(&format!("http://{a}")),
            weight: 1,
        },
        Server {
            target: target(&format!("http://{b}")),
            weight: 1,
        },
    ];
    let lb = LoadBalancer::new(
        "svc@file",
        servers,
        client(TransportSettings::default()),
        true,
    )
    .with_sticky(StickyCookie::new(Some("stick"), "svc@file"));
    let (first, resp) = lb_body(&lb, get("/", "x")).await;
    let set = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.starts_with("stick=") && set.contains("Path=/"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    for _ in 0..10 {
        let mut req = get("/", "x");
        req.headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        let (id, resp) = lb_body(&lb, req).await;
        assert_eq!(id, first);
        assert!(resp.headers().get(header::SET_COOKIE).is_none());
    }
    // An unknown value: a normal pick, and a fresh cookie.
    let mut req = get("/", "x");
    req.headers_mut()
        .insert(header::COOKIE, HeaderValue::from_static("stick=bogus"));
    let (_, resp) = lb_body(&lb, req).await;
    assert!(resp.headers().get(header::SET_COOKIE).is_some());
}

#[tokio::test]
async fn health_check_removes_and_restores_a_server() {
    let a = id_server("a").await;
    let b_healthy = Arc::new(AtomicBool::new(true));
    let b = {
        let healthy = b_healthy.clone();
        serve_h1(svc(move |req: Request<Incoming>| {
            let healthy = healthy.clone();
            async move {
                if req.uri().path() == "/health" {
                    let status = if healthy.load(Ordering::SeqCst) {
                        200
                    } else {
                        503
                    };
                    return Response::builder()
                        .status(status)
                        .body(body::empty())
                        .unwrap();
                }
                Response::new(body::full("b"))
            }
        }))
        .await
    };
    let registry = HealthRegistry::new();
    let config = HealthCheckConfig {
        path: "/health".into(),
        interval: Duration::from_millis(30),
        timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let c = client(TransportSettings::default());
    let servers = vec![
        Server {
            target: target(&format!("http://{a}")),
            weight: 1,
        },
        Server {
            target: target(&format!("http://{b}")),
            weight: 1,
        },
    ];
    let lb = LoadBalancer::new("svc@file", servers.clone(), c.clone(), true)
        .with_health_check(&registry, &config);
    assert_eq!(registry.len(), 2);

    b_healthy.store(false, Ordering::SeqCst);
    eventually("b out of rotation", async || {
        lb.server_status().filter(|(_, up)| !up).count() == 1
    })
    .await;
    for _ in 0..10 {
        assert_eq!(lb_body(&lb, get("/", "x")).await.0, "a");
    }

    // A reload with the same service and check keeps the state (and the one task).
    let lb2 = LoadBalancer::new("svc@file", servers, c, true).with_health_check(&registry, &config);
    assert_eq!(registry.len(), 2);
    assert_eq!(lb2.server_status().filter(|(_, up)| !up).count(), 1);
    drop(lb);

    b_healthy.store(true, Ordering::SeqCst);
    eventually("b back in rotation", async || {
        lb2.server_status().all(|(_, up)| up)
    })
    .await;
    let mut seen_b = false;
    for _ in 0..4 {
        seen_b |= lb_body(&lb2, get("/", "x")).await.0 == "b";
    }
    assert!(seen_b);
    drop(lb2);
    assert_eq!(registry.len(), 0);
}

#[tokio::test]
async fn all_servers_down_is_503() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let registry = HealthRegistry::new();
    let lb = LoadBalancer::new(
        "svc@file",
        vec![Server {
            target: target(&format!("http://{dead}")),
            weight: 1,
        }],
        client(TransportSettings::default()),
        true,
    )
    .with_health_check(
        &registry,
        &HealthCheckConfig {
            interval: Duration::from_millis(20),
            ..Default::default()
        },
    );
    eventually("server marked down", async || !lb.is_available()).await;
    let (text, resp) = lb_body(&lb, get("/", "x")).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(text, "Service Unavailable");

    let empty = LoadBalancer::new(
        "e@file",
        Vec::new(),
        client(TransportSettings::default()),
        true,
    );
    assert_eq!(lb_body(&empty, get("/", "x")).await.1.status(), 503);
}

/// An in-memory service answering its name and counting requests and body bytes.
struct Named {
    name: &'static str,
    hits: AtomicUsize,
    bytes: AtomicUsize,
}

impl Named {
    fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            hits: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        })
    }
}

impl Handler for Named {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        _cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let n = req.into_body().collect().await.unwrap().to_bytes().len();
            self.bytes.fetch_add(n, Ordering::SeqCst);
            self.hits.fetch_add(1, Ordering::SeqCst);
            Response::new(body::full(self.name))
        })
    }
}

#[tokio::test]
async fn weighted_service_distribution_and_sticky() {
    let x = Named::new("x");
    let y = Named::new("y");
    let w = Weighted::new(
        "w@file",
        vec![
            WeightedChild {
                name: "x@file".into(),
                handler: x.clone(),
                weight: 3,
                health: None,
            },
            WeightedChild {
                name: "y@file".into(),
                handler: y.clone(),
                weight: 1,
                health: None,
            },
        ],
        None,
    );
    for _ in 0..400 {
        lb_body(&w, get("/", "h")).await;
    }
    assert_eq!(x.hits.load(Ordering::SeqCst), 300);
    assert_eq!(y.hits.load(Ordering::SeqCst), 100);
    assert!(w.is_available());

    let sticky = Weighted::new(
        "w@file",
        vec![
            WeightedChild {
                name: "x@file".into(),
                handler: x.clone(),
                weight: 1,
                health: None,
            },
            WeightedChild {
                name: "y@file".into(),
                handler: y.clone(),
                weight: 1,
                health: None,
            },
        ],
        Some(StickyCookie::new(None, "w@file")),
    );
    let (first, resp) = lb_body(&sticky, get("/", "h")).await;
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with('_'));
    for _ in 0..6 {
        let mut req = get("/", "h");
        req.headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        assert_eq!(lb_body(&sticky, req).await.0, first);
    }
}

#[tokio::test]
async fn mirroring_percent_and_body() {
    let main = Named::new("main");
    let mirror = Named::new("mirror");
    let m = Mirroring::new(
        main.clone(),
        vec![Mirror {
            handler: mirror.clone(),
            percent: 25,
        }],
        true,
        -1,
    );
    for _ in 0..100 {
        let req = Request::builder()
            .method("POST")
            .uri("/")
            .header(header::CONTENT_LENGTH, "5")
            .body(body::full("hello"))
            .unwrap();
        assert_eq!(lb_body(&m, req).await.0, "main");
    }
    assert_eq!(main.hits.load(Ordering::SeqCst), 100);
    assert_eq!(main.bytes.load(Ordering::SeqCst), 500);
    eventually("25 mirrored requests", async || {
        mirror.hits.load(Ordering::SeqCst) == 25
    })
    .await;
    assert_eq!(mirror.bytes.load(Ordering::SeqCst), 125);

    // Too large to buffer: the main service still gets it all, the mirror nothing.
    let main = Named::new("main");
    let mirror = Named::new("mirror");
    let m = Mirroring::new(
        main.clone(),
        vec![Mirror {
            handler: mirror.clone(),
            percent: 100,
        }],
        true,
        4,
    );
    let req = Request::builder()
        .method("POST")
        .uri("/")
        .body(body::full("0123456789"))
        .unwrap();
    lb_body(&m, req).await;
    assert_eq!(main.bytes.load(Ordering::SeqCst), 10);
    // mirrorBody false: mirrored without the body.
    let m = Mirroring::new(
        main.clone(),
        vec![Mirror {
            handler: mirror.clone(),
            percent: 100,
        }],
        false,
        -1,
    );
    let req = Request::builder()
        .method("POST")
        .uri("/")
        .body(body::full("0123456789"))
        .unwrap();
    lb_body(&m, req).await;
    eventually("bodiless mirror", async || {
        mirror.hits.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(mirror.bytes.load(Ordering::SeqCst), 0);
    assert_eq!(main.bytes.load(Ordering::SeqCst), 20);
}
