//! Small HTTP clients for tests: plain HTTP/1.1 through hyper-util's legacy client, h2c
//! (HTTP/2 prior knowledge) and TLS with an explicit SNI name and ALPN.
//!
//! Every call has a deadline ([`DEFAULT_TIMEOUT`]) so a hung proxy fails a test instead of
//! hanging it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::body::{self, TestBody};
use crate::echo::EchoDump;

/// Deadline for one whole request/response exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A buffered response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: StatusCode,
    /// HTTP version of the response.
    pub version: Version,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body as lossy UTF-8.
    pub body: String,
}

impl HttpResponse {
    /// First value of a header, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Parses the body as an echo server dump.
    pub fn echo(&self) -> anyhow::Result<EchoDump> {
        EchoDump::parse(&self.body)
    }

    async fn read(resp: Response<Incoming>) -> anyhow::Result<HttpResponse> {
        let (parts, incoming) = resp.into_parts();
        let bytes = incoming
            .collect()
            .await
            .context("reading response body")?
            .to_bytes();
        Ok(HttpResponse {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

async fn deadline<T>(
    what: &str,
    fut: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(DEFAULT_TIMEOUT, fut)
        .await
        .map_err(|_| anyhow!("{what}: no answer within {DEFAULT_TIMEOUT:?}"))?
}

/// A reusable client (keeps connections alive between requests), HTTP/1.1 by default or
/// h2c with [`Client::h2c`].
#[derive(Debug, Clone)]
pub struct Client {
    inner: LegacyClient<HttpConnector, TestBody>,
}

impl Default for Client {
    fn default() -> Self {
        Self::http1()
    }
}

impl Client {
    /// An HTTP/1.1 client.
    pub fn http1() -> Client {
        Client {
            inner: LegacyClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// An HTTP/2-with-prior-knowledge (h2c) client.
    pub fn h2c() -> Client {
        Client {
            inner: LegacyClient::builder(TokioExecutor::new())
                .http2_only(true)
                .build_http(),
        }
    }

    /// `GET url`, with `Host: host` if given.
    pub async fn get(&self, url: &str, host: Option<&str>) -> anyhow::Result<HttpResponse> {
        let mut req = Request::get(url).body(body::empty())?;
        if let Some(host) = host {
            set_host(&mut req, host)?;
        }
        self.request(req).await
    }

    /// Sends a request and buffers the response.
    pub async fn request(&self, req: Request<TestBody>) -> anyhow::Result<HttpResponse> {
        let what = format!("{} {}", req.method(), req.uri());
        deadline(&what, async {
            let resp = self.inner.request(req).await.context("sending request")?;
            HttpResponse::read(resp).await
        })
        .await
    }

    /// Sends a request and returns the response head as soon as it arrives, body
    /// unread (to observe streaming). Only the head has a deadline.
    pub async fn send(&self, req: Request<TestBody>) -> anyhow::Result<Response<Incoming>> {
        let what = format!("{} {}", req.method(), req.uri());
        deadline(&what, async {
            self.inner.request(req).await.context("sending request")
        })
        .await
    }
}

fn set_host(req: &mut Request<TestBody>, host: &str) -> anyhow::Result<()> {
    req.headers_mut()
        .insert(http::header::HOST, HeaderValue::from_str(host)?);
    Ok(())
}

/// `GET url` over HTTP/1.1 on a fresh connection, with `Host: host` if given.
pub async fn get(url: &str, host: Option<&str>) -> anyhow::Result<HttpResponse> {
    Client::http1().get(url, host).await
}

/// Sends any request over HTTP/1.1 on a fresh connection (build the body with
/// [`crate::body`]).
pub async fn request(req: Request<TestBody>) -> anyhow::Result<HttpResponse> {
    Client::http1().request(req).await
}

/// `GET path` over HTTP/2 with prior knowledge to `addr`, with `:authority` = `authority`.
pub async fn get_h2c(
    addr: SocketAddr,
    authority: &str,
    path: &str,
) -> anyhow::Result<HttpResponse> {
    let req = Request::get(format!("http://{authority}{path}"))
        .version(Version::HTTP_2)
        .body(body::empty())?;
    deadline(&format!("h2c GET {path}"), async {
        let tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .context("h2c handshake")?;
        tokio::spawn(conn);
        let resp = send.send_request(req).await.context("h2c request")?;
        HttpResponse::read(resp).await
    })
    .await
}

/// Sends `req` over TLS to `addr` with SNI `server_name`, trusting `ca_pem`, offering ALPN
/// `h2` and `http/1.1` (or only `http/1.1` when `req`'s version is HTTP/1.1 and
/// `force_h1` is set). The request URI may be a path: it is completed with
/// `https://server_name`; a `Host` header is added on HTTP/1.1 when missing.
pub async fn request_tls(
    addr: SocketAddr,
    server_name: &str,
    ca_pem: &str,
    req: Request<TestBody>,
    force_h1: bool,
) -> anyhow::Result<HttpResponse> {
    let alpn: &[&[u8]] = if force_h1 {
        &[b"http/1.1"]
    } else {
        &[b"h2", b"http/1.1"]
    };
    let config = crate::tls::client_config(ca_pem, alpn)?;
    request_tls_with(addr, server_name, config, req).await
}

/// [`request_tls`] with a caller-built rustls client configuration (client certificates,
/// ALPN...).
pub async fn request_tls_with(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<rustls::ClientConfig>,
    mut req: Request<TestBody>,
) -> anyhow::Result<HttpResponse> {
    let what = format!(
        "TLS {} {} ({server_name} at {addr})",
        req.method(),
        req.uri()
    );
    let name = ServerName::try_from(server_name.to_owned())?;
    deadline(&what, async move {
        let tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .context("TLS handshake")?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let pq = req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let io = TokioIo::new(tls);
        let resp = if h2 {
            *req.uri_mut() = Uri::try_from(format!("https://{server_name}{pq}"))?;
            *req.version_mut() = Version::HTTP_2;
            let (mut send, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
            tokio::spawn(conn);
            send.send_request(req).await?
        } else {
            *req.uri_mut() = Uri::try_from(pq)?;
            *req.version_mut() = Version::HTTP_11;
            if !req.headers().contains_key(http::header::HOST) {
                req.headers_mut()
                    .insert(http::header::HOST, HeaderValue::from_str(server_name)?);
            }
            let (mut send, conn) = hyper::client::conn::http1::handshake(io).await?;
            tokio::spawn(conn);
            send.send_request(req).await?
        };
        HttpResponse::read(resp).await
    })
    .await
}

/// `GET path` over TLS (ALPN h2 or http/1.1) to `addr` with SNI `server_name`.
pub async fn get_tls(
    addr: SocketAddr,
    server_name: &str,
    path: &str,
    ca_pem: &str,
) -> anyhow::Result<HttpResponse> {
    let req = Request::get(path).body(body::empty())?;
    request_tls(addr, server_name, ca_pem, req, false).await
}

/// The next non-empty data chunk of a streamed response body, each frame awaited at most
/// 10 s. For tests: panics when the body ends, fails or stalls.
pub async fn next_data(body: &mut Incoming) -> bytes::Bytes {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("a chunk within 10s")
            .expect("body not finished")
            .expect("a body frame");
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            return data;
        }
    }
}
