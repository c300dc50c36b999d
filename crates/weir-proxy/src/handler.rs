//! The one abstraction every step after routing implements: middlewares, services and
//! internal handlers.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response};

use crate::body::Body;

/// A boxed future, as returned by [`Handler::handle`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Handles one request and always answers: failures become responses (502, 504, ...) here,
/// so callers never see a transport error.
///
/// Handlers are built once per configuration when the routing table is compiled; per request
/// they only run. A handler may borrow from itself for the whole request because the table
/// that owns it is kept alive (one `Arc`) until the response is done.
pub trait Handler: Send + Sync + 'static {
    /// Handles `req` in the context of `cx`.
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>>;
}

/// A shared, type-erased handler.
pub type SharedHandler = Arc<dyn Handler>;

/// What weir knows about a request besides the request itself.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The client's address as seen on the socket.
    pub client_addr: SocketAddr,
    /// The local address the connection was accepted on.
    pub local_addr: SocketAddr,
    /// The entrypoint's name.
    pub entrypoint: Arc<str>,
    /// Whether the client connection is TLS (sets `X-Forwarded-Proto: https`).
    pub tls: bool,
    /// The router that matched, once routing is done.
    pub router: Option<Arc<str>>,
    /// What metrics and the access log ask of the handlers (nothing when both are off).
    pub observe: weir_observe::Wanted,
    /// The server whose response the handlers return, left by the load balancer that
    /// forwarded to it (only when [`weir_observe::Wanted::origin`]).
    pub answered: weir_observe::Answered,
}
