//! The accept loop and per-connection HTTP serving of one entrypoint.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::internal::ShutdownState;
use crate::pipeline::headers::TrustedNets;
use crate::table::SharedTable;

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
    pub local_addr: SocketAddr,
    pub settings: Arc<EntrypointSettings>,
}

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
            let client_addr = super::listener::canonical(client_addr);
            let local_addr = super::listener::canonical(stream.local_addr().unwrap_or(client_addr));
            let conn = Arc::new(ConnInfo {
                client_addr,
                local_addr,
                settings: settings.clone(),
            });
            let open = shared
                .observer
                .as_ref()
                .and_then(|o| o.connection(settings.index));
            let shared = shared.clone();
            let svc = service_fn(move |req| {
                let conn = conn.clone();
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(super::request::handle(req, &conn, &shared).await) }
            });
            let io = TokioIo::new(super::WriteStall::new(stream, settings.write_timeout));
            let fut = graceful.watch(builder.serve_connection_with_upgrades(io, svc).into_owned());
            tokio::spawn(async move {
                let _open = open;
                if let Err(e) = fut.await {
                    tracing::debug!(error = %chain(&*e), "connection ended with an error");
                }
            });
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
