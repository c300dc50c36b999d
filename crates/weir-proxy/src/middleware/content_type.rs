//! `contentType`: give responses without a `Content-Type` one sniffed from their content.

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt as _;
use weir_config::dynamic::ContentType as Config;

use super::{Middleware, Passthrough, SharedMiddleware, sniff};
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Traefik v3's `contentType`: a response the service sent without a `Content-Type` gets
/// the type Go's `http.DetectContentType` finds in its first data chunk (as Go's server does
/// on the first write), if that chunk is not empty. The body still streams: only the
/// first chunk is awaited before the head goes on. Encoded responses (`Content-Encoding`)
/// and those that cannot have a body are left alone.
///
/// Without the middleware, or with the deprecated `autoDetect: false`, weir never adds a
/// `Content-Type` the service did not send (Traefik v3's default).
pub struct ContentType;

/// Builds the middleware: detection, unless `autoDetect` is explicitly false.
pub fn build(c: &Config) -> SharedMiddleware {
    if c.auto_detect == Some(false) {
        std::sync::Arc::new(Passthrough)
    } else {
        std::sync::Arc::new(ContentType)
    }
}

impl Middleware for ContentType {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let head = req.method() == Method::HEAD;
        Box::pin(async move {
            let resp = next.handle(req, cx).await;
            let status = resp.status();
            if head
                || resp.headers().contains_key(CONTENT_TYPE)
                || resp.headers().contains_key(CONTENT_ENCODING)
                || status.is_informational()
                || status == StatusCode::NO_CONTENT
                || status == StatusCode::NOT_MODIFIED
            {
                return resp;
            }
            let (mut parts, mut inner) = resp.into_parts();
            let first = loop {
                match inner.frame().await {
                    // Empty data frames are not writes yet.
                    Some(Ok(f)) if f.data_ref().is_some_and(Bytes::is_empty) => {}
                    other => break other,
                }
            };
            let data = first
                .as_ref()
                .and_then(|f| f.as_ref().ok())
                .and_then(Frame::data_ref);
            if let Some(data) = data {
                parts
                    .headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static(sniff::detect(data)));
            }
            let Some(first) = first else {
                return Response::from_parts(parts, body::empty());
            };
            Response::from_parts(parts, body::prepend(first, inner))
        })
    }
}
