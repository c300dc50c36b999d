//! `forwardAuth`: asks an authentication server about each request.
//!
//! The request's headers (all, or `authRequestHeaders`) go to `address` with the
//! `X-Forwarded-Method/Proto/Host/Uri/For` headers describing the original request. A 2xx
//! answer lets the request go on, with the headers named by `authResponseHeaders` and
//! `authResponseHeadersRegex` copied from the answer; any other answer goes back to the
//! client as the authentication server wrote it (status, headers, body), its relative
//! `Location` resolved against `address` unless `preserveLocationHeader`. An unreachable
//! or silent authentication server answers 500, as Traefik does.

mod build;
mod cookies;
mod location;
mod request;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::LOCATION;
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use regex::Regex;

use super::Middleware;
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::{ServerTarget, UpstreamClient};

/// How long the authentication server has to answer (Traefik's client timeout).
const AUTH_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of an allowing answer's body is read so its connection can be reused.
const DRAIN_LIMIT: usize = 64 * 1024;

/// The built `forwardAuth` middleware.
pub struct ForwardAuth {
    client: UpstreamClient,
    target: ServerTarget,
    /// The address' path and query: the authentication request's target.
    path_and_query: PathAndQuery,
    trust_forward_header: bool,
    response_headers: Vec<HeaderName>,
    response_headers_regex: Option<Regex>,
    /// `None`: every request header goes to the authentication server.
    request_headers: Option<Vec<HeaderName>>,
    auth_cookies: Vec<String>,
    forward_body: bool,
    max_body_size: Option<usize>,
    max_response_body_size: Option<usize>,
    preserve_location_header: bool,
    preserve_request_method: bool,
    signin: Option<HeaderValue>,
    /// `headerField`: the auth answer's header naming the user, for the access log.
    user_header: Option<HeaderName>,
}

/// What the authentication server decided.
enum Verdict {
    /// 2xx: go on; the answer's headers.
    Allow(HeaderMap),
    /// Anything else: this response goes to the client.
    Deny(Response<Body>),
}

fn status(code: StatusCode) -> Response<Body> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = code;
    resp
}

/// Why a body could not be read whole.
enum ReadError {
    /// Over the limit.
    TooLarge,
    /// The peer failed mid-body.
    Failed,
}

/// Reads `body` whole, up to `limit` bytes when set.
async fn collect(mut body: Body, limit: Option<usize>) -> Result<Bytes, ReadError> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReadError::Failed)?;
        if let Ok(data) = frame.into_data() {
            if limit.is_some_and(|l| buf.len() + data.len() > l) {
                return Err(ReadError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

impl ForwardAuth {
    /// Sends `auth_req` and reads the verdict, within [`AUTH_TIMEOUT`].
    async fn ask(&self, auth_req: Request<Body>) -> Verdict {
        let exchange = async {
            let resp = match self.client.forward(auth_req, &self.target).await {
                Ok(resp) => resp,
                Err(err) => {
                    tracing::debug!(address = %self.target.url(), error = %err, "forwardAuth: authentication server unreachable");
                    return Verdict::Deny(status(StatusCode::INTERNAL_SERVER_ERROR));
                }
            };
            let (parts, body) = resp.into_parts();
            if parts.status.is_success() {
                // Read (a bounded part of) the body so the connection can be reused.
                let limit = self.max_response_body_size.unwrap_or(DRAIN_LIMIT);
                if let Err(ReadError::TooLarge) = collect(body, Some(limit)).await
                    && self.max_response_body_size.is_some()
                {
                    return Verdict::Deny(status(StatusCode::UNAUTHORIZED));
                }
                return Verdict::Allow(parts.headers);
            }
            let body = match self.max_response_body_size {
                Some(limit) => match collect(body, Some(limit)).await {
                    Ok(bytes) => body::full(bytes),
                    Err(ReadError::TooLarge) => {
                        return Verdict::Deny(status(StatusCode::UNAUTHORIZED));
                    }
                    Err(ReadError::Failed) => {
                        return Verdict::Deny(status(StatusCode::INTERNAL_SERVER_ERROR));
                    }
                },
                // Streamed as it comes: nothing to buffer.
                None => body,
            };
            Verdict::Deny(self.denial(parts.status, parts.headers, body))
        };
        match tokio::time::timeout(AUTH_TIMEOUT, exchange).await {
            Ok(verdict) => verdict,
            Err(_) => {
                tracing::debug!(address = %self.target.url(), "forwardAuth: authentication server timed out");
                Verdict::Deny(status(StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }

    /// The client's answer when the authentication server said no.
    fn denial(&self, code: StatusCode, mut headers: HeaderMap, body: Body) -> Response<Body> {
        if code == StatusCode::UNAUTHORIZED
            && let Some(signin) = &self.signin
        {
            let mut resp = status(StatusCode::FOUND);
            resp.headers_mut().insert(LOCATION, signin.clone());
            return resp;
        }
        if !self.preserve_location_header
            && let Some(loc) = headers.get(LOCATION)
        {
            match location::resolve(&self.target, &self.path_and_query, loc) {
                Ok(Some(resolved)) => {
                    headers.insert(LOCATION, resolved);
                }
                Ok(None) => {}
                Err(()) => return status(StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
        let mut resp = Response::new(body);
        *resp.status_mut() = code;
        *resp.headers_mut() = headers;
        resp
    }

    /// Copies the allowed headers of the authentication answer onto the request.
    fn copy_response_headers(&self, auth: &HeaderMap, req: &mut HeaderMap) {
        for name in &self.response_headers {
            req.remove(name);
            for v in auth.get_all(name) {
                req.append(name.clone(), v.clone());
            }
        }
        if let Some(re) = &self.response_headers_regex {
            // Traefik matches Go's canonical header names (`X-Auth-User`).
            let matches = |name: &HeaderName| re.is_match(&canonical(name.as_str()));
            let stale: Vec<HeaderName> = req.keys().filter(|n| matches(n)).cloned().collect();
            for name in stale {
                req.remove(&name);
            }
            for (name, v) in auth {
                if matches(name) {
                    req.append(name.clone(), v.clone());
                }
            }
        }
    }
}

/// Go's canonical form of a header name: `x-auth-user` → `X-Auth-User`.
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// Reads a request body whole, up to `limit` bytes.
async fn read_body(body: Body, limit: Option<usize>) -> Result<Bytes, StatusCode> {
    collect(body, limit).await.map_err(|e| match e {
        // Traefik answers 401 to a body over maxBodySize.
        ReadError::TooLarge => StatusCode::UNAUTHORIZED,
        ReadError::Failed => StatusCode::BAD_REQUEST,
    })
}

impl Middleware for ForwardAuth {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let (body, auth_body) = if self.forward_body {
                match read_body(body, self.max_body_size).await {
                    Ok(bytes) => (body::full(bytes.clone()), Some(bytes)),
                    Err(code) => return status(code),
                }
            } else {
                (body, None)
            };
            let auth_req = self.auth_request(&parts, cx, auth_body);
            let auth_headers = match self.ask(auth_req).await {
                Verdict::Allow(headers) => headers,
                Verdict::Deny(resp) => return resp,
            };
            self.copy_response_headers(&auth_headers, &mut parts.headers);
            let cookies = self.cookies_to_add(&auth_headers);
            let user = self
                .user_header
                .as_ref()
                .and_then(|h| auth_headers.get(h))
                .and_then(|v| v.to_str().ok())
                .filter(|u| !u.is_empty())
                .map(Arc::<str>::from);
            let mut resp = next.handle(Request::from_parts(parts, body), cx).await;
            if !cookies.is_empty() {
                cookies::merge(resp.headers_mut(), cookies);
            }
            if let Some(user) = user {
                resp.extensions_mut()
                    .insert(weir_observe::ClientUsername(user));
            }
            resp
        })
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn canonical_names() {
        assert_eq!(canonical("x-auth-user"), "X-Auth-User");
        assert_eq!(canonical("www-authenticate"), "Www-Authenticate");
        assert_eq!(canonical("a"), "A");
    }
}
