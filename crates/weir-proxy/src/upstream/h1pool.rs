//! Pooled HTTP/1.1 connections to `http://` servers, driven by the request's own task.
//!
//! hyper-util's pooled client spawns one task per upstream connection: every request then
//! crosses tasks twice (request in, response head and body chunks out), and on a busy proxy
//! those wake-ups and channel hand-offs cost more than parsing the request. Here nothing is
//! spawned. The task serving the client connection polls the upstream connection itself,
//! first while waiting for the response head, then from the response body it hands back.
//! Reading the upstream body thus also follows the client's pace (backpressure for free).
//!
//! An idle connection sits in the pool unpolled. A server that closed it is noticed when
//! it is checked out (the connection ends instead of becoming ready) and the request moves
//! on to the next idle connection or a fresh one, before a byte of it was sent.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response};
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::body::{Body, BoxError};

type Driver = Connection<TokioIo<TcpStream>, Body>;

/// One upstream connection: the handle to send on and the state machine to drive.
struct Conn {
    tx: SendRequest<Body>,
    /// `None` once it ended. Dropping it is what fails a request still queued in it
    /// (giving the request back), so it goes as soon as it is done.
    driver: Option<Driver>,
    /// Whether this connection delivered a response: a failure on a used one may be a
    /// stale keep-alive connection the server closed just now.
    used: bool,
}

impl Conn {
    /// Drives the connection once; `true` when it has ended (closed or failed).
    fn poll_driver(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(driver) = &mut self.driver
            && Pin::new(driver).poll(cx).is_ready()
        {
            self.driver = None;
        }
        self.driver.is_none()
    }
}

struct Idle {
    conn: Box<Conn>,
    since: Instant,
}

struct Inner {
    /// Keyed by the server URL as configured: hashing a string once is far cheaper than
    /// `Authority`'s byte-by-byte case-folding hash, twice per request.
    idle: Mutex<HashMap<Arc<str>, VecDeque<Idle>>>,
    max_idle_per_host: usize,
    idle_timeout: Duration,
    dial_timeout: Duration,
    builder: http1::Builder,
}

/// The pool: idle keep-alive connections per server authority.
#[derive(Clone)]
pub(crate) struct H1Pool {
    inner: Arc<Inner>,
}

/// Why [`H1Pool::send`] failed.
pub(crate) struct SendError {
    /// Connecting failed: the server never saw the request.
    pub connect: bool,
    /// The failure happened on a connection that had delivered responses before.
    pub reused: bool,
    /// The cause.
    pub source: BoxError,
}

impl H1Pool {
    /// A pool keeping at most `max_idle_per_host` idle connections per server, each for at
    /// most `idle_timeout`; connecting may take `dial_timeout`.
    pub(crate) fn new(
        max_idle_per_host: usize,
        idle_timeout: Duration,
        dial_timeout: Duration,
    ) -> Self {
        let mut builder = http1::Builder::new();
        // Go writes canonical header names; some servers (and tests) depend on it.
        builder.title_case_headers(true);
        Self {
            inner: Arc::new(Inner {
                idle: Mutex::new(HashMap::new()),
                max_idle_per_host,
                idle_timeout,
                dial_timeout,
                builder,
            }),
        }
    }

    /// Sends `req` (origin-form URI, `Host` set) to the server `key` (its URL) at
    /// `authority` over an idle connection, or a new one when none is left.
    pub(crate) async fn send(
        &self,
        key: &Arc<str>,
        authority: &Authority,
        mut req: Request<Body>,
    ) -> Result<Response<Body>, SendError> {
        loop {
            let (mut conn, fresh) = match self.checkout(key) {
                Some(conn) => (conn, false),
                None => match self.connect(authority).await {
                    Ok(conn) => (Box::new(conn), true),
                    Err(source) => {
                        return Err(SendError {
                            connect: true,
                            reused: false,
                            source,
                        });
                    }
                },
            };
            if !ready(&mut conn).await {
                if fresh {
                    return Err(SendError {
                        connect: true,
                        reused: false,
                        source: "the server closed the connection before the request".into(),
                    });
                }
                // A stale idle connection: nothing was sent, try the next one.
                continue;
            }
            match exchange(&mut conn, req).await {
                Ok(resp) => {
                    conn.used = true;
                    let pool = self.clone();
                    let key = key.clone();
                    return Ok(resp.map(|inner| {
                        crate::body::boxed(PooledBody {
                            inner,
                            conn: Some(conn),
                            pool,
                            key,
                        })
                    }));
                }
                Err(mut err) => match err.take_message() {
                    // Never serialized: safe to send anywhere, whatever the method.
                    Some(back) if !fresh => req = back,
                    _ => {
                        return Err(SendError {
                            connect: false,
                            reused: conn.used,
                            source: err.into_error().into(),
                        });
                    }
                },
            }
        }
    }

    fn checkout(&self, key: &str) -> Option<Box<Conn>> {
        let mut idle = self.inner.idle.lock().ok()?;
        let list = idle.get_mut(key)?;
        while let Some(entry) = list.pop_back() {
            if entry.since.elapsed() < self.inner.idle_timeout && !entry.conn.tx.is_closed() {
                return Some(entry.conn);
            }
        }
        None
    }

    fn checkin(&self, key: &Arc<str>, conn: Box<Conn>) {
        if self.inner.max_idle_per_host == 0 || conn.tx.is_closed() {
            return;
        }
        let Ok(mut idle) = self.inner.idle.lock() else {
            return;
        };
        let list = match idle.get_mut(&**key) {
            Some(list) => list,
            None => idle.entry(key.clone()).or_default(),
        };
        // The oldest entries sit at the front: expire them here, since a busy pool only
        // ever reuses the newest.
        let timeout = self.inner.idle_timeout;
        let now = Instant::now();
        while list
            .front()
            .is_some_and(|e| now.saturating_duration_since(e.since) >= timeout)
        {
            list.pop_front();
        }
        if list.len() < self.inner.max_idle_per_host {
            list.push_back(Idle { conn, since: now });
        }
    }

    async fn connect(&self, authority: &Authority) -> Result<Conn, BoxError> {
        let port = authority.port_u16().unwrap_or(80);
        let host = authority.host();
        let addrs: Vec<SocketAddr> = match super::target::unbracketed(host).parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port)).await?.collect(),
        };
        let mut last: BoxError = format!("no address for {host}").into();
        for addr in addrs {
            match tokio::time::timeout(self.inner.dial_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => return self.handshake(stream).await,
                Ok(Err(e)) => last = format!("tcp connect error: {e}").into(),
                Err(_) => {
                    last = format!(
                        "dial timeout ({:?}) connecting to {addr}",
                        self.inner.dial_timeout
                    )
                    .into()
                }
            }
        }
        Err(last)
    }

    async fn handshake(&self, stream: TcpStream) -> Result<Conn, BoxError> {
        stream.set_nodelay(true)?;
        // Go's net.Dialer default keep-alive probe period.
        let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(15));
        socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
        let (tx, driver) = self.inner.builder.handshake(TokioIo::new(stream)).await?;
        Ok(Conn {
            tx,
            driver: Some(driver),
            used: false,
        })
    }
}

/// Drives `conn` until it can take a request; `false` when it ended first.
async fn ready(conn: &mut Conn) -> bool {
    poll_fn(|cx| {
        // Polling an idle connection costs no syscall unless the socket became readable,
        // which for an idle keep-alive connection means the server closed it.
        let ended = conn.poll_driver(cx);
        match conn.tx.poll_ready(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(true),
            Poll::Ready(Err(_)) => Poll::Ready(false),
            Poll::Pending if ended => Poll::Ready(false),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Sends `req` and drives the connection until the response head arrives.
async fn exchange(
    conn: &mut Conn,
    req: Request<Body>,
) -> Result<Response<Incoming>, hyper::client::conn::TrySendError<Request<Body>>> {
    let mut response = std::pin::pin!(conn.tx.try_send_request(req));
    poll_fn(|cx| {
        // The response future is resolved (with an error if need be) once the driver ends.
        conn.poll_driver(cx);
        response.as_mut().poll(cx)
    })
    .await
}

/// A response body that drives its connection and gives it back to the pool once the
/// response was read to the end.
struct PooledBody {
    inner: Incoming,
    conn: Option<Box<Conn>>,
    pool: H1Pool,
    key: Arc<str>,
}

impl PooledBody {
    fn release(&mut self, cx: &mut Context<'_>) {
        if let Some(mut conn) = self.conn.take() {
            // One more turn lets the connection settle into idle keep-alive (or notice
            // that the server closes it).
            if !conn.poll_driver(cx) {
                self.pool.checkin(&self.key, conn);
            }
        }
    }
}

impl http_body::Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if let Some(conn) = &mut this.conn
            && conn.poll_driver(cx)
        {
            // Closed or failed: what it read is in `inner`, and a cut shows up there as
            // an error.
            this.conn = None;
        }
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.release(cx);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        // Bodiless responses (HEAD, 204, 304) are never polled: they end where they start.
        // Anything else dropped half-read leaves the connection mid-message: not reusable.
        // (A body polled to its end has released its connection already.)
        if self.conn.is_some() && self.inner.is_end_stream() {
            self.release(&mut Context::from_waker(Waker::noop()));
        }
    }
}
