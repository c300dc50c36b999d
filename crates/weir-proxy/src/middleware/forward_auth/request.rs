//! The request sent to the authentication server.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Request, Uri};

use super::ForwardAuth;
use crate::body;
use crate::handler::RequestContext;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");

/// Headers that describe this hop or the original body, never copied to the auth request.
/// `Proxy-Authorization` is copied: it is meant for the authentication server (RFC 7235).
fn skipped(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-connection"
            | "expect"
    )
}

impl ForwardAuth {
    /// The authentication request for the request `parts`, with `body` when `forwardBody`.
    pub(super) fn auth_request(
        &self,
        parts: &Parts,
        cx: &RequestContext,
        body: Option<Bytes>,
    ) -> Request<body::Body> {
        let src = &parts.headers;
        let mut headers = HeaderMap::with_capacity(src.len() + 5);
        match &self.request_headers {
            None => {
                for (name, v) in src {
                    if !skipped(name) {
                        headers.append(name.clone(), v.clone());
                    }
                }
            }
            Some(allowed) => {
                for name in allowed.iter().filter(|n| !skipped(n)) {
                    for v in src.get_all(name) {
                        headers.append(name.clone(), v.clone());
                    }
                }
            }
        }
        self.set_forwarded(parts, cx, &mut headers);

        let method = if self.preserve_request_method {
            parts.method.clone()
        } else {
            Method::GET
        };
        let body = match body {
            Some(bytes) => body::full(bytes),
            None => body::empty(),
        };
        let mut req = Request::new(body);
        *req.method_mut() = method;
        *req.uri_mut() = Uri::from(self.path_and_query.clone());
        *req.headers_mut() = headers;
        req
    }

    /// `X-Forwarded-*` for the authentication server: from the request itself, or with
    /// `trustForwardHeader` from the request's own `X-Forwarded-*` headers when present.
    /// weir's entrypoint has already appended the client to `X-Forwarded-For` (after
    /// dropping it from untrusted clients), so trusting it means sending it as it is.
    fn set_forwarded(&self, parts: &Parts, cx: &RequestContext, out: &mut HeaderMap) {
        let src = &parts.headers;
        let trusted = |name: &HeaderName| {
            self.trust_forward_header
                .then(|| src.get(name))
                .flatten()
                .filter(|v| !v.is_empty())
                .cloned()
        };
        let client = HeaderValue::try_from(cx.client_addr.ip().to_canonical().to_string()).ok();
        set(out, X_FORWARDED_FOR, trusted(&X_FORWARDED_FOR).or(client));
        let method = HeaderValue::from_str(parts.method.as_str()).ok();
        set(
            out,
            X_FORWARDED_METHOD,
            trusted(&X_FORWARDED_METHOD).or(method),
        );
        let proto = HeaderValue::from_static(if cx.tls { "https" } else { "http" });
        set(
            out,
            X_FORWARDED_PROTO,
            trusted(&X_FORWARDED_PROTO).or(Some(proto)),
        );
        let host = src.get(header::HOST).cloned();
        set(out, X_FORWARDED_HOST, trusted(&X_FORWARDED_HOST).or(host));
        let uri = parts
            .uri
            .path_and_query()
            .and_then(|pq| HeaderValue::from_str(pq.as_str()).ok());
        set(out, X_FORWARDED_URI, trusted(&X_FORWARDED_URI).or(uri));
    }
}

fn set(out: &mut HeaderMap, name: HeaderName, value: Option<HeaderValue>) {
    match value {
        Some(v) => {
            out.insert(name, v);
        }
        None => {
            out.remove(name);
        }
    }
}
