//! Services weir answers itself (`<name>@internal`): `whoami`, `ping`, `noop`,
//! `prometheus`, and the entrypoint redirections.

mod ping;
mod prometheus;
mod redirect;
mod whoami;

pub use ping::{Ping, ShutdownState};
pub use prometheus::Prometheus;
pub use redirect::RedirectScheme;
pub use whoami::Whoami;

use http::{Response, StatusCode};

use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// A plain-text response with `status`.
pub fn text(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut resp = Response::new(body::full(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The answer when no router matches, with Traefik's body.
pub fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "404 page not found\n")
}

/// `noop@internal`: answers 418 like Traefik's; used behind redirecting middlewares that
/// always answer first.
pub struct Noop;

impl Handler for Noop {
    fn handle<'a>(
        &'a self,
        _req: http::Request<Body>,
        _cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async { text(StatusCode::IM_A_TEAPOT, "") })
    }
}
