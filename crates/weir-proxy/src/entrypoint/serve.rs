//! The accept loop and per-connection HTTP serving of one entrypoint.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::rustls::server::Acceptor;

use crate::internal::ShutdownState;
use crate::pipeline::headers::TrustedNets;
use crate::table::SharedTable;
use crate::tls::TlsInfo;

/// Per-entrypoint settings from the static configuration.
#[derive(Debug, Clone)]
pub struct EntrypointSettings {
    /// The entrypoint's name.
    pub name: Arc<str>,
    /// Its index in the routing table.
    pub index: usize,
    /// Who may send `X-Forwarded-*` headers.
    pub trusted: TrustedNets,
    /// Remove dot segments and `//` before routing (Traefik's `sanitizePath`, default on).
    pub sanitize_path: bool,
    /// `respondingTimeouts.readTimeout`: the longest a client may take to send a request
    /// (headers, then body).
    pub read_timeout: Option<Duration>,
    /// `respondingTimeouts.writeTimeout`: the longest a write to the client may make no
    /// progress.
    pub write_timeout: Option<Duration>,
    /// `respondingTimeouts.idleTimeout`: how long a keep-alive connection may stay idle.
    pub idle_timeout: Option<Duration>,
    /// `http.maxHeaderBytes`: larger request heads get 431.
    pub max_header_bytes: usize,
    /// `http2.maxConcurrentStreams`.
    pub h2_max_concurrent_streams: u32,
    /// `lifeCycle.requestAcceptGraceTimeout`: keep accepting this long after SIGTERM.
    pub accept_grace: Duration,
    /// `lifeCycle.graceTimeOut`: how long in-flight requests get to finish.
    pub grace_timeout: Duration,
}

/// What every entrypoint shares.
pub struct Shared {
    /// The current routing table.
    pub table: SharedTable,
    /// This machine's hostname, for `X-Forwarded-Server`.
    pub hostname: HeaderValue,
    /// Shutdown state (also read by `/ping`).
    pub shutdown: Arc<ShutdownState>,
    /// Metrics and access log, when either is on.
    pub observer: Option<Arc<weir_observe::Observer>>,
}

/// A bound entrypoint, ready to serve.
pub struct Entrypoint {
    listener: TcpListener,
    settings: Arc<EntrypointSettings>,
}

/// What a connection knows about itself; shared by its requests.
pub(super) struct ConnInfo {
    pub client_addr: SocketAddr,
    /// The client's IP as header text (`X-Forwarded-For`, `X-Real-Ip`): written once per
    /// connection rather than once per request.
    pub client_ip: Option<HeaderValue>,
    pub local_addr: SocketAddr,
    pub settings: Arc<EntrypointSettings>,
    /// Set on TLS connections.
    pub tls: Option<Arc<TlsInfo>>,
}

/// An accepted connection before its protocol is known.
struct Connection {
    client_addr: SocketAddr,
    settings: Arc<EntrypointSettings>,
    shared: Arc<Shared>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    watcher: Watcher,
    /// Counts the connection as open (metrics) until dropped.
    open: Option<weir_observe::ConnectionGuard>,
}

/// The first byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

impl Connection {
    /// Tells TLS from plain HTTP by the first byte (as Traefik does, so one entrypoint
    /// serves both), terminates TLS with the configuration chosen by SNI, then serves HTTP.
    async fn serve(self, stream: TcpStream) {
        let local_addr =
            super::listener::canonical(stream.local_addr().unwrap_or(self.client_addr));
        let limit = self.settings.read_timeout.unwrap_or(HANDSHAKE_TIMEOUT);
        let mut first = [0u8; 1];
        let is_tls = match tokio::time::timeout(limit, stream.peek(&mut first)).await {
            Ok(Ok(0)) | Err(_) => return,
            Ok(Ok(_)) => first[0] == TLS_HANDSHAKE,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "reading the first byte failed");
                return;
            }
        };
        let mut info = ConnInfo {
            client_addr: self.client_addr,
            client_ip: crate::pipeline::headers::ip_value(self.client_addr.ip()),
            local_addr,
            settings: self.settings.clone(),
            tls: None,
        };
        let stream = super::WriteStall::new(stream, self.settings.write_timeout);
        if !is_tls {
            self.serve_http(TokioIo::new(stream), info).await;
            return;
        }
        let ep_tls = self
            .shared
            .table
            .load()
            .entrypoint(self.settings.index)
            .and_then(|e| e.tls.clone());
        let Some(ep_tls) = ep_tls else {
            tracing::debug!(entrypoint = %self.settings.name, "TLS is not available here; closing");
            return;
        };
        let handshake = async {
            let start = LazyConfigAcceptor::new(Acceptor::default(), stream).await?;
            let sni = start
                .client_hello()
                .server_name()
                .map(str::to_ascii_lowercase);
            let config = ep_tls.config_for(sni.as_deref());
            let stream = start.into_stream(config).await?;
            Ok::<_, std::io::Error>((stream, sni))
        };
        let (stream, sni) = match tokio::time::timeout(limit, handshake).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(client = %self.client_addr, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(client = %self.client_addr, "TLS handshake timed out");
                return;
            }
        };
        let session = stream.get_ref().1;
        let version = session
            .protocol_version()
            .and_then(|v| v.as_str())
            .unwrap_or("unknown");
        let cipher = session
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown");
        let peer_certificates: Vec<_> = session
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        // Parsed once per connection, and only when an access log may print it.
        let client_subject = match (&self.shared.observer, peer_certificates.first()) {
            (Some(o), Some(leaf)) if o.access_log().is_some() => {
                crate::tls::subject::of_der(leaf).map(Arc::from)
            }
            _ => None,
        };
        info.tls = Some(Arc::new(TlsInfo {
            server_name: sni,
            version,
            cipher,
            metrics_label: weir_observe::TlsLabel::new(version, cipher),
            alpn: session.alpn_protocol().map(<[u8]>::to_vec),
            peer_certificates,
            client_subject,
        }));
        self.serve_http(TokioIo::new(stream), info).await;
    }

    async fn serve_http<I>(self, io: I, info: ConnInfo)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let _open = self.open;
        let conn = Arc::new(info);
        let shared = self.shared;
        let svc = service_fn(move |req| {
            let conn = conn.clone();
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(super::request::handle(req, &conn, &shared).await) }
        });
        let fut = self.watcher.watch(
            self.builder
                .serve_connection_with_upgrades(io, svc)
                .into_owned(),
        );
        if let Err(e) = fut.await {
            tracing::debug!(error = %chain(&*e), "connection ended with an error");
        }
    }
}

/// How long a client may take to send its first byte and finish the TLS handshake when
/// no `readTimeout` is set.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

impl Entrypoint {
    /// Wraps a bound listener.
    pub fn new(listener: TcpListener, settings: EntrypointSettings) -> Self {
        Self {
            listener,
            settings: Arc::new(settings),
        }
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` flips to true, then keeps accepting for the accept grace period,
    /// stops accepting, asks every connection to finish (keep-alive off, HTTP/2 GOAWAY) and
    /// waits up to the grace timeout.
    pub async fn run(self, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
        let builder = Arc::new(self.http_builder());
        let graceful = GracefulShutdown::new();
        let settings = self.settings;
        let accept_deadline = async {
            let _ = stop.wait_for(|s| *s).await;
            tokio::time::sleep(settings.accept_grace).await;
        };
        tokio::pin!(accept_deadline);
        loop {
            let (stream, client_addr) = tokio::select! {
                biased;
                () = &mut accept_deadline => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and friends: back off briefly instead of spinning.
                        tracing::warn!(entrypoint = %settings.name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let conn = Connection {
                client_addr: super::listener::canonical(client_addr),
                settings: settings.clone(),
                shared: shared.clone(),
                builder: builder.clone(),
                watcher: graceful.watcher(),
                open: shared
                    .observer
                    .as_ref()
                    .and_then(|o| o.connection(settings.index)),
            };
            tokio::spawn(conn.serve(stream));
        }
        drop(self.listener);
        tracing::info!(entrypoint = %settings.name, "stopped accepting; draining connections");
        if tokio::time::timeout(settings.grace_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(entrypoint = %settings.name, "grace timeout elapsed with connections still open");
        }
    }

    fn http_builder(&self) -> auto::Builder<TokioExecutor> {
        let s = &self.settings;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        {
            let mut h1 = builder.http1();
            h1.timer(TokioTimer::new())
                .max_buf_size(s.max_header_bytes.max(8192))
                .keep_alive(true);
            // hyper's header read timeout also runs while a keep-alive connection waits for
            // its next request, so it serves as both readTimeout (for headers) and
            // idleTimeout: the shorter one wins.
            match (s.read_timeout, s.idle_timeout) {
                (Some(r), Some(i)) => h1.header_read_timeout(r.min(i)),
                (Some(d), None) | (None, Some(d)) => h1.header_read_timeout(d),
                (None, None) => h1.header_read_timeout(None),
            };
        }
        {
            let mut h2 = builder.http2();
            h2.timer(TokioTimer::new())
                .max_concurrent_streams(s.h2_max_concurrent_streams)
                .max_header_list_size(u32::try_from(s.max_header_bytes).unwrap_or(u32::MAX));
            if let Some(idle) = s.idle_timeout {
                h2.keep_alive_interval(Some(idle))
                    .keep_alive_timeout(Duration::from_secs(20));
            }
        }
        builder
    }
}

/// An error and its causes, `outer: inner: root`.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
