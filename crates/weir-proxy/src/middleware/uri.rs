//! Request-target helpers shared by the path middlewares.

use http::uri::PathAndQuery;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri};

use crate::body::Body;
use crate::upstream::status_response;

/// `X-Forwarded-Prefix`, set by the strip-prefix middlewares.
pub(super) const FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
/// `X-Replaced-Path`, set by the replace-path middlewares.
pub(super) const REPLACED_PATH: HeaderName = HeaderName::from_static("x-replaced-path");

/// Replaces the request's path (already percent-encoded), keeping its query. `Err` when
/// the result is not a valid request target.
pub(super) fn set_path<B>(req: &mut Request<B>, path: &str) -> Result<(), ()> {
    let path = if path.is_empty() { "/" } else { path };
    let pq = match req.uri().query() {
        Some(q) => PathAndQuery::try_from(format!("{path}?{q}")),
        None => PathAndQuery::try_from(path),
    }
    .map_err(|_| ())?;
    let mut parts = std::mem::take(req.uri_mut()).into_parts();
    parts.path_and_query = Some(pq);
    *req.uri_mut() = Uri::from_parts(parts).map_err(|_| ())?;
    Ok(())
}

/// `str` with a leading `/` (an empty string stays empty).
pub(super) fn ensure_leading_slash(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_empty() || s.starts_with('/') {
        s.into()
    } else {
        format!("/{s}").into()
    }
}

/// Appends `value` to header `name` (a path; always visible ASCII in a valid target).
pub(super) fn append_header<B>(req: &mut Request<B>, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        req.headers_mut().append(name, v);
    }
}

/// The answer when a rewrite produced an invalid target (a configuration problem).
pub(super) fn bad_rewrite() -> Response<Body> {
    status_response(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Go's `url.QueryEscape`: unreserved characters stay, the rest become `%XX`; a space
/// becomes `+` when `plus_for_space` (Go's form) and `%20` otherwise.
pub(super) fn query_escape(s: &str, plus_for_space: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if plus_for_space => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_path_keeps_query() {
        let mut req = Request::get("/a/b?x=1").body(()).unwrap_or_default();
        set_path(&mut req, "/c").unwrap_or_default();
        assert_eq!(req.uri(), "/c?x=1");
        set_path(&mut req, "").unwrap_or_default();
        assert_eq!(req.uri(), "/?x=1");
        assert!(set_path(&mut req, "/bad path").is_err());
        assert_eq!(ensure_leading_slash("x"), "/x");
        assert_eq!(ensure_leading_slash(""), "");
    }
}
