//! Upstream test servers. Each listens on `127.0.0.1:0` (or an address given in
//! [`ServerOptions::bind`]), counts connections and requests, and stops when its
//! [`ServerHandle`] is dropped (the accept loop and every open connection are aborted).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::body::{self, TestBody};
use crate::echo;
use crate::tls::TestCa;

/// The peer address of the connection a request came on; the servers put it in every
/// request's extensions, so custom handlers can read it.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Counters shared by a server and its handle.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests received (counted before the handler runs).
    pub requests: AtomicU64,
    /// Connections accepted (TCP, before any TLS handshake).
    pub connections: AtomicU64,
}

/// A running test server. Dropping it stops the server.
#[derive(Debug)]
pub struct ServerHandle {
    /// The address the server listens on.
    pub addr: SocketAddr,
    name: String,
    tls: bool,
    ca_pem: Option<String>,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// `http://ADDR` or `https://ADDR` (for a server URL in weir's dynamic configuration).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The name the server reports (`X-Upstream-Name`, `Name:` in echo dumps).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.stats.connections.load(Ordering::SeqCst)
    }

    /// The shared counters (e.g. to move into a closure or reset).
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    /// For a TLS server: the PEM of the CA that issued its certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Stops the server now (same as dropping the handle).
    pub fn stop(self) {}
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which HTTP versions a server speaks (over cleartext; TLS servers negotiate by ALPN).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 and HTTP/2 with prior knowledge, detected per connection.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only (h2c with prior knowledge on cleartext).
    Http2,
}

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    name: String,
    protocol: Protocol,
    bind: SocketAddr,
    tls: Option<(Arc<rustls::ServerConfig>, String)>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            name: "upstream".to_owned(),
            protocol: Protocol::Auto,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: None,
        }
    }
}

impl ServerOptions {
    /// Default options: named `upstream`, auto protocol, `127.0.0.1:0`, cleartext.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the name the handle reports (the echo handler takes its own name).
    pub fn name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// Sets the protocol.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Binds to a fixed address (e.g. to bring a stopped upstream back on the same port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Serves TLS with a certificate from `ca` for `localhost` and `127.0.0.1`.
    pub fn tls(self, ca: &TestCa) -> anyhow::Result<Self> {
        self.tls_for(ca, &["localhost", "127.0.0.1"])
    }

    /// Serves TLS with a ready-made configuration; `ca_pem` is what
    /// [`ServerHandle::ca_pem`] gives back.
    pub fn tls_config(mut self, config: Arc<rustls::ServerConfig>, ca_pem: &str) -> Self {
        self.tls = Some((config, ca_pem.to_owned()));
        self
    }

    /// Serves TLS with a certificate from `ca` for the given names.
    pub fn tls_for(mut self, ca: &TestCa, names: &[&str]) -> anyhow::Result<Self> {
        self.tls = Some((ca.server_config(names)?, ca.cert_pem().to_owned()));
        Ok(self)
    }

    /// Serves TLS for `localhost` and `127.0.0.1` and requires a client certificate
    /// issued by `ca`.
    pub fn tls_mtls(mut self, ca: &TestCa) -> anyhow::Result<Self> {
        let config = ca.server_config_requiring_client_cert(&["localhost", "127.0.0.1"], ca)?;
        self.tls = Some((config, ca.cert_pem().to_owned()));
        Ok(self)
    }
}

type BoxResponseFuture = Pin<Box<dyn Future<Output = Response<TestBody>> + Send>>;
type Handler = Arc<dyn Fn(Request<Incoming>) -> BoxResponseFuture + Send + Sync>;

/// Runs a server whose behaviour is the closure `f` (slow answers, streams, big bodies,
/// status codes...). Cleartext, HTTP/1.1 + HTTP/2.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use weir_testkit::{body, server};
/// let slow = server::serve_fn(|_req| async {
///     tokio::time::sleep(std::time::Duration::from_secs(2)).await;
///     server::response(503, "late")
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn serve_fn<F, Fut>(f: F) -> anyhow::Result<ServerHandle>
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<TestBody>> + Send + 'static,
{
    serve_fn_with(ServerOptions::new(), f).await
}

/// [`serve_fn`] with options (protocol, TLS, address).
pub async fn serve_fn_with<F, Fut>(opts: ServerOptions, f: F) -> anyhow::Result<ServerHandle>
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<TestBody>> + Send + 'static,
{
    let handler: Handler = Arc::new(move |req| Box::pin(f(req)));
    spawn_http(opts, handler).await
}

/// The echo handler: answers 200 with the request's text dump (see [`crate::echo`]) and an
/// `X-Upstream-Name: NAME` header. Usable inside a custom [`serve_fn`] closure.
pub async fn echo_response(name: &str, req: Request<Incoming>) -> Response<TestBody> {
    let peer = req
        .extensions()
        .get::<PeerAddr>()
        .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |p| p.0);
    let (parts, incoming) = req.into_parts();
    let bytes = match incoming.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => return response(400, format!("reading request body: {e}")),
    };
    let text = echo::render(name, peer, &parts, &bytes);
    let mut resp = Response::new(body::full(text));
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = http::HeaderValue::from_str(name) {
        headers.insert("x-upstream-name", v);
    }
    resp
}

/// A whoami-like echo server (HTTP/1.1 + HTTP/2 prior knowledge, cleartext).
pub async fn echo(name: &str) -> anyhow::Result<ServerHandle> {
    echo_with(ServerOptions::new(), name).await
}

/// An echo server speaking only HTTP/2 with prior knowledge (h2c).
pub async fn h2c_echo(name: &str) -> anyhow::Result<ServerHandle> {
    echo_with(ServerOptions::new().protocol(Protocol::Http2), name).await
}

/// An HTTPS echo server (ALPN h2 and http/1.1) with a certificate from `ca` for
/// `localhost` and `127.0.0.1`; [`ServerHandle::ca_pem`] gives the CA back.
pub async fn https_echo(name: &str, ca: &TestCa) -> anyhow::Result<ServerHandle> {
    echo_with(ServerOptions::new().tls(ca)?, name).await
}

/// An echo server with options.
pub async fn echo_with(opts: ServerOptions, name: &str) -> anyhow::Result<ServerHandle> {
    let owned: Arc<str> = Arc::from(name);
    let handler: Handler = Arc::new(move |req| {
        let name = Arc::clone(&owned);
        Box::pin(async move { echo_response(&name, req).await })
    });
    spawn_http(opts.name(name), handler).await
}

/// A raw TCP echo server (for TCP routers): every byte read is written back; the connection
/// is counted as one request.
pub async fn tcp_echo(name: &str) -> anyhow::Result<ServerHandle> {
    let spawned = spawn_accept_loop(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        |mut stream, _peer, stats| async move {
            stats.requests.fetch_add(1, Ordering::SeqCst);
            let (mut rd, mut wr) = stream.split();
            let _ = tokio::io::copy(&mut rd, &mut wr).await;
        },
    )
    .await?;
    Ok(spawned.into_handle(name))
}

/// A response with a status and a whole body.
pub fn response(status: u16, text: impl Into<Bytes>) -> Response<TestBody> {
    let mut resp = Response::new(body::full(text));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

async fn spawn_http(opts: ServerOptions, handler: Handler) -> anyhow::Result<ServerHandle> {
    let ServerOptions {
        name,
        protocol,
        bind,
        tls,
    } = opts;
    let (acceptor, ca_pem) = match tls {
        Some((config, pem)) => (Some(TlsAcceptor::from(config)), Some(pem)),
        None => (None, None),
    };
    let is_tls = acceptor.is_some();
    let spawned = spawn_accept_loop(bind, move |stream, peer, stats| {
        let handler = Arc::clone(&handler);
        let acceptor = acceptor.clone();
        async move {
            let svc = service_fn(move |mut req: Request<Incoming>| {
                stats.requests.fetch_add(1, Ordering::SeqCst);
                req.extensions_mut().insert(PeerAddr(peer));
                let fut = handler(req);
                async move { Ok::<_, Infallible>(fut.await) }
            });
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        serve_io(protocol, TokioIo::new(tls), svc).await;
                    }
                }
                None => serve_io(protocol, TokioIo::new(stream), svc).await,
            }
        }
    })
    .await?;
    Ok(ServerHandle {
        addr: spawned.addr,
        name,
        tls: is_tls,
        ca_pem,
        stats: spawned.stats,
        task: spawned.task,
    })
}

/// Serves one connection with the protocol asked for (upgrades allowed on HTTP/1.1).
async fn serve_io<I, S>(protocol: Protocol, io: I, svc: S)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<TestBody>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let _ = match protocol {
        Protocol::Auto => {
            auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(io, svc)
                .await
        }
        Protocol::Http1 => hyper::server::conn::http1::Builder::new()
            .serve_connection(io, svc)
            .with_upgrades()
            .await
            .map_err(Into::into),
        Protocol::Http2 => hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(io, svc)
            .await
            .map_err(Into::into),
    };
}

/// A running accept loop, before it is wrapped in a [`ServerHandle`].
pub(crate) struct Spawned {
    pub(crate) addr: SocketAddr,
    pub(crate) stats: Arc<Stats>,
    pub(crate) task: JoinHandle<()>,
}

impl Spawned {
    pub(crate) fn into_handle(self, name: &str) -> ServerHandle {
        ServerHandle {
            addr: self.addr,
            name: name.to_owned(),
            tls: false,
            ca_pem: None,
            stats: self.stats,
            task: self.task,
        }
    }
}

/// Binds `bind` and runs `per_conn` for every accepted connection, each in its own task
/// owned by the server task (so aborting the server aborts its connections).
pub(crate) async fn spawn_accept_loop<F, Fut>(
    bind: SocketAddr,
    per_conn: F,
) -> anyhow::Result<Spawned>
where
    F: Fn(TcpStream, SocketAddr, Arc<Stats>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding test server on {bind}"))?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let loop_stats = Arc::clone(&stats);
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    loop_stats.connections.fetch_add(1, Ordering::SeqCst);
                    conns.spawn(per_conn(stream, peer, Arc::clone(&loop_stats)));
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    });
    Ok(Spawned { addr, stats, task })
}
