//! HTTP middlewares, Traefik's set, one file per middleware.
//!
//! Each middleware is built once per configuration from its options ([`build`]), when the
//! routing table is compiled; a bad option is an error there, never at request time. A
//! router's chain is then assembled once: every middleware becomes a [`Handler`] that holds
//! the next handler ([`Layer`]), ending in the router's service. Per request a middleware
//! only runs: one virtual call per layer, and middlewares that only rewrite the request
//! (paths, request headers) hand back the next handler's future without boxing another.

mod add_prefix;
mod basic_auth;
mod buffering;
mod chain;
mod circuit_breaker;
mod compress;
mod content_type;
mod digest_auth;
mod errors;
mod forward_auth;
mod grpc_web;
mod headers;
mod htpasswd;
mod in_flight_req;
pub mod ip;
mod ip_allow_list;
mod pass_tls_client_cert;
mod predicate;
mod rate_limit;
mod redirect;
pub(crate) use redirect::redirect_status;
mod redirect_regex;
mod redirect_scheme;
mod replace_path;
mod replace_path_regex;
mod retry;
mod sniff;
mod state;
mod strip_prefix;
mod strip_prefix_regex;
mod uri;

use std::sync::Arc;

use http::{Request, Response};
use weir_config::dynamic::MiddlewareKind;

use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext, SharedHandler};

pub use add_prefix::AddPrefix;
pub use basic_auth::BasicAuth;
pub use buffering::{Buffering, RetryExpr};
pub use chain::{PerRouter, Spec, compose};
pub use compress::Compress;
pub use content_type::ContentType;
pub use digest_auth::DigestAuth;
pub use errors::Errors;
pub use forward_auth::ForwardAuth;
pub use grpc_web::GrpcWeb;
pub use headers::Headers;
pub use in_flight_req::InFlightReq;
pub use ip_allow_list::IpAllowList;
pub use pass_tls_client_cert::PassTlsClientCert;
pub use rate_limit::RateLimit;
pub use redirect_regex::RedirectRegex;
pub use redirect_scheme::RedirectScheme;
pub use replace_path::ReplacePath;
pub use replace_path_regex::ReplacePathRegex;
pub use retry::Retry;
pub use state::{StateRegistry, StateScope, options_hash};
pub use strip_prefix::StripPrefix;
pub use strip_prefix_regex::StripPrefixRegex;

/// A middleware built from its options. It sees each request with the rest of the chain
/// as `next`, and may answer itself, call `next` once, or (retry, circuit breaker, errors)
/// call it again: `next` is a plain [`Handler`] that stays valid for the whole request.
pub trait Middleware: Send + Sync + 'static {
    /// Handles `req`, usually by calling `next`.
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>>;
}

/// A shared middleware.
pub type SharedMiddleware = Arc<dyn Middleware>;

/// A middleware bound to the handler after it: one link of a router's chain.
pub struct Layer {
    middleware: SharedMiddleware,
    next: SharedHandler,
}

impl Layer {
    /// `middleware` in front of `next`.
    pub fn new(middleware: SharedMiddleware, next: SharedHandler) -> Self {
        Self { middleware, next }
    }
}

impl Handler for Layer {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        self.middleware.handle(req, cx, &*self.next)
    }
}

/// Builds the middleware `kind` describes. `Err` is the reason it cannot serve, for the
/// report. `chain` and `errors` are built by the compiler (they name other middlewares or
/// services) and are not handled here.
pub fn build(kind: MiddlewareKind<'_>, state: &StateScope) -> Result<Spec, String> {
    let shared = |m: SharedMiddleware| Ok(Spec::Shared(m));
    match kind {
        MiddlewareKind::RedirectScheme(c) => shared(Arc::new(RedirectScheme::new(c)?)),
        MiddlewareKind::RedirectRegex(c) => shared(Arc::new(RedirectRegex::new(c)?)),
        MiddlewareKind::StripPrefix(c) => shared(Arc::new(StripPrefix::new(c)?)),
        MiddlewareKind::StripPrefixRegex(c) => shared(Arc::new(StripPrefixRegex::new(c)?)),
        MiddlewareKind::AddPrefix(c) => shared(Arc::new(AddPrefix::new(c)?)),
        MiddlewareKind::ReplacePath(c) => shared(Arc::new(ReplacePath::new(c)?)),
        MiddlewareKind::ReplacePathRegex(c) => shared(Arc::new(ReplacePathRegex::new(c)?)),
        MiddlewareKind::Headers(c) => shared(Arc::new(Headers::new(c)?)),
        MiddlewareKind::IpAllowList(c) | MiddlewareKind::IpWhiteList(c) => {
            shared(Arc::new(IpAllowList::new(c)?))
        }
        MiddlewareKind::BasicAuth(c) => shared(Arc::new(BasicAuth::new(c)?)),
        MiddlewareKind::InFlightReq(c) => {
            // Counters are per router, as Traefik keeps them, and outlive reloads.
            let built = InFlightReq::new(c)?;
            let state = state.clone();
            Ok(Spec::PerRouter(Arc::new(move |router: &str| {
                Arc::new(built.with_counts(state.get(router, Default::default))) as SharedMiddleware
            })))
        }
        MiddlewareKind::RateLimit(c) => rate_limit::spec(c, state),
        MiddlewareKind::CircuitBreaker(c) => circuit_breaker::spec(c, state),
        MiddlewareKind::Compress(c) => shared(Arc::new(Compress::new(c)?)),
        MiddlewareKind::Retry(c) => shared(Arc::new(Retry::new(c)?)),
        MiddlewareKind::PassTlsClientCert(c) => shared(Arc::new(PassTlsClientCert::new(c)?)),
        MiddlewareKind::DigestAuth(c) => shared(Arc::new(DigestAuth::new(c)?)),
        MiddlewareKind::GrpcWeb(c) => shared(Arc::new(GrpcWeb::new(c)?)),
        MiddlewareKind::ForwardAuth(c) => shared(Arc::new(ForwardAuth::new(c)?)),
        MiddlewareKind::Buffering(c) => shared(Arc::new(Buffering::new(c)?)),
        MiddlewareKind::ContentType(c) => shared(content_type::build(c)),
        MiddlewareKind::Chain(_) => Err("chain is resolved by the compiler".into()),
        other => Err(format!(
            "{} is not supported in this build yet",
            kind_name(other)
        )),
    }
}

/// Passes every request on (what a middleware with nothing to do becomes).
pub(crate) struct Passthrough;

impl Middleware for Passthrough {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        next.handle(req, cx)
    }
}

/// The configuration name of a middleware kind (`redirectScheme`, ...).
pub fn kind_name(kind: MiddlewareKind<'_>) -> &'static str {
    match kind {
        MiddlewareKind::AddPrefix(_) => "addPrefix",
        MiddlewareKind::StripPrefix(_) => "stripPrefix",
        MiddlewareKind::StripPrefixRegex(_) => "stripPrefixRegex",
        MiddlewareKind::ReplacePath(_) => "replacePath",
        MiddlewareKind::ReplacePathRegex(_) => "replacePathRegex",
        MiddlewareKind::Chain(_) => "chain",
        MiddlewareKind::IpAllowList(_) => "ipAllowList",
        MiddlewareKind::IpWhiteList(_) => "ipWhiteList",
        MiddlewareKind::Headers(_) => "headers",
        MiddlewareKind::Errors(_) => "errors",
        MiddlewareKind::RateLimit(_) => "rateLimit",
        MiddlewareKind::RedirectRegex(_) => "redirectRegex",
        MiddlewareKind::RedirectScheme(_) => "redirectScheme",
        MiddlewareKind::BasicAuth(_) => "basicAuth",
        MiddlewareKind::DigestAuth(_) => "digestAuth",
        MiddlewareKind::ForwardAuth(_) => "forwardAuth",
        MiddlewareKind::InFlightReq(_) => "inFlightReq",
        MiddlewareKind::Buffering(_) => "buffering",
        MiddlewareKind::CircuitBreaker(_) => "circuitBreaker",
        MiddlewareKind::Compress(_) => "compress",
        MiddlewareKind::PassTlsClientCert(_) => "passTLSClientCert",
        MiddlewareKind::Retry(_) => "retry",
        MiddlewareKind::ContentType(_) => "contentType",
        MiddlewareKind::GrpcWeb(_) => "grpcWeb",
        MiddlewareKind::EncodedCharacters(_) => "encodedCharacters",
        MiddlewareKind::Plugin(_) => "plugin",
    }
}

/// A new request with `parts`' head, extensions included (the client's TLS certificates,
/// a pending protocol upgrade), and `body`: for middlewares that send a request again.
pub(crate) fn replay(parts: &http::request::Parts, body: Body) -> Request<Body> {
    Request::from_parts(parts.clone(), body)
}
