//! `grpcWeb`: lets browsers call gRPC services. A gRPC-Web request (binary
//! `application/grpc-web[+proto]` or base64 `application/grpc-web-text[+proto]`) becomes a
//! gRPC request for the service (HTTP/2 with `h2c://` or `https://` servers), and the gRPC
//! response comes back as gRPC-Web, its trailers written into the body. CORS preflights
//! of gRPC-Web calls are answered here for `allowOrigins` (`*`: any). Other requests pass
//! through unchanged.

mod body;

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, CONTENT_LENGTH, CONTENT_TYPE, ORIGIN, TE, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use weir_config::dynamic::GrpcWeb as Config;

use super::Middleware;
use crate::body::{self as bodies, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// The built `grpcWeb` middleware.
pub struct GrpcWeb {
    any_origin: bool,
    origins: Vec<String>,
}

/// How a gRPC-Web request encodes its messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Binary,
    Text,
}

/// The mode and the content type's suffix (`+proto`, ...) of a gRPC-Web request.
fn grpc_web_mode(headers: &HeaderMap) -> Option<(Mode, String)> {
    const PREFIX: &str = "application/grpc-web";
    let ct = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let ct = ct.split(';').next().unwrap_or("").trim();
    // Most requests are not gRPC-Web: decided before anything is lowercased.
    if !ct
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
    {
        return None;
    }
    let rest = ct.get(PREFIX.len()..)?.to_ascii_lowercase();
    let rest = rest.as_str();
    if let Some(suffix) = rest.strip_prefix("-text") {
        return (suffix.is_empty() || suffix.starts_with('+')).then(|| (Mode::Text, suffix.into()));
    }
    (rest.is_empty() || rest.starts_with('+')).then(|| (Mode::Binary, rest.into()))
}

impl GrpcWeb {
    /// Builds the middleware.
    pub fn new(c: &Config) -> Result<Self, String> {
        let origins: Vec<String> = c
            .allow_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        Ok(Self {
            any_origin: origins.iter().any(|o| o == "*"),
            origins,
        })
    }

    /// The `Access-Control-Allow-Origin` value for the request's `Origin`, if allowed.
    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(ORIGIN)?;
        let o = origin.to_str().ok()?.trim_end_matches('/');
        (self.any_origin || self.origins.iter().any(|a| a.eq_ignore_ascii_case(o)))
            .then(|| origin.clone())
    }

    /// Whether `req` is the CORS preflight of a gRPC-Web call.
    fn is_preflight(req: &Request<Body>) -> bool {
        req.method() == Method::OPTIONS
            && req.headers().contains_key(ORIGIN)
            && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD)
            && req
                .headers()
                .get_all(ACCESS_CONTROL_REQUEST_HEADERS)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|h| h.trim().eq_ignore_ascii_case("x-grpc-web"))
    }

    /// 204, with the CORS headers when the origin is allowed (the answer rs/cors gives).
    fn preflight(&self, req: &Request<Body>) -> Response<Body> {
        let mut resp = Response::new(bodies::empty());
        *resp.status_mut() = StatusCode::NO_CONTENT;
        let h = resp.headers_mut();
        h.insert(VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = self.allowed_origin(req.headers()) {
            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(
                ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST"),
            );
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            for v in req.headers().get_all(ACCESS_CONTROL_REQUEST_HEADERS) {
                h.append(ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
            }
        }
        resp
    }
}

impl Middleware for GrpcWeb {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        if Self::is_preflight(&req) {
            let resp = self.preflight(&req);
            return Box::pin(std::future::ready(resp));
        }
        let Some((mode, suffix)) =
            grpc_web_mode(req.headers()).filter(|_| req.method() == Method::POST)
        else {
            return next.handle(req, cx);
        };
        let origin = self.allowed_origin(req.headers());
        Box::pin(async move {
            let grpc_type = format!("application/grpc{suffix}");
            let h = req.headers_mut();
            if let Ok(v) = HeaderValue::try_from(grpc_type) {
                h.insert(CONTENT_TYPE, v);
            }
            h.remove(CONTENT_LENGTH);
            h.insert(TE, HeaderValue::from_static("trailers"));
            if mode == Mode::Text {
                req = req.map(|b| bodies::boxed(body::DecodeText::new(b)));
            }
            let resp = next.handle(req, cx).await;
            let (mut parts, inner) = resp.into_parts();
            let is_grpc = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/grpc"));
            if let Some(origin) = origin {
                parts.headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                parts.headers.insert(
                    ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
                parts.headers.insert(
                    ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static("grpc-status, grpc-message, grpc-status-details-bin"),
                );
            }
            if !is_grpc {
                return Response::from_parts(parts, inner);
            }
            let web_type = match mode {
                Mode::Binary => format!("application/grpc-web{suffix}"),
                Mode::Text => format!("application/grpc-web-text{suffix}"),
            };
            if let Ok(v) = HeaderValue::try_from(web_type) {
                parts.headers.insert(CONTENT_TYPE, v);
            }
            parts.headers.remove(CONTENT_LENGTH);
            parts.headers.remove(http::header::TRAILER);
            let encoded = body::EncodeResponse::new(inner, mode == Mode::Text);
            Response::from_parts(parts, bodies::boxed(encoded))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(ct: &str) -> Option<(bool, String)> {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).expect("value"));
        grpc_web_mode(&h).map(|(m, s)| (m == Mode::Text, s))
    }

    #[test]
    fn content_types() {
        assert_eq!(mode("application/grpc-web"), Some((false, String::new())));
        assert_eq!(
            mode("application/grpc-web+proto"),
            Some((false, "+proto".into()))
        );
        assert_eq!(
            mode("application/grpc-web-text"),
            Some((true, String::new()))
        );
        assert_eq!(
            mode("application/grpc-web-text+proto; x=1"),
            Some((true, "+proto".into()))
        );
        assert_eq!(mode("application/grpc"), None);
        assert_eq!(mode("application/grpc-webfoo"), None);
    }
}
