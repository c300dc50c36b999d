//! The TCP connector under the pooled clients: hyper-util's `HttpConnector` (connect
//! timeout, `TCP_NODELAY`, keep-alive probes) plus a per-connection use counter, so a failure
//! can tell a fresh connection from a reused one (see the stale-connection retry in
//! [`UpstreamClient`](super::UpstreamClient)).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Extensions, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::body::BoxError;

/// Counts the responses a connection delivered; carried as a `Connected` extra, so it shows
/// up in response extensions and in client errors' connect info.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnUses(Arc<AtomicU64>);

impl ConnUses {
    /// Records one delivered response.
    pub(crate) fn record(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the connection delivered a response before.
    pub(crate) fn was_used(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }

    /// The counter of the connection a client error happened on, if any.
    pub(crate) fn of_connected(connected: &Connected) -> Option<Self> {
        let mut ext = Extensions::new();
        connected.get_extras(&mut ext);
        ext.remove::<Self>()
    }
}

/// A TCP connector for the pooled clients.
#[derive(Clone, Debug)]
pub(crate) struct TrackingConnector {
    inner: HttpConnector,
}

impl TrackingConnector {
    pub(crate) fn new(dial_timeout: Duration) -> Self {
        let mut inner = HttpConnector::new();
        inner.enforce_http(false);
        inner.set_nodelay(true);
        inner.set_connect_timeout(Some(dial_timeout));
        // Go's net.Dialer default keep-alive probe period.
        inner.set_keepalive(Some(Duration::from_secs(15)));
        Self { inner }
    }
}

impl tower_service::Service<Uri> for TrackingConnector {
    type Response = Tracked<TokioIo<TcpStream>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let fut = self.inner.call(dst);
        Box::pin(async move {
            let io = fut.await?;
            Ok(Tracked {
                inner: io,
                uses: ConnUses::default(),
            })
        })
    }
}

/// A connection with its use counter.
#[derive(Debug)]
pub(crate) struct Tracked<T> {
    inner: T,
    uses: ConnUses,
}

impl<T: Connection> Connection for Tracked<T> {
    fn connected(&self) -> Connected {
        self.inner.connected().extra(self.uses.clone())
    }
}

impl<T: Read + Unpin> Read for Tracked<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for Tracked<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}
