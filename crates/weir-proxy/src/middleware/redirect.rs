//! The redirect answer shared by `redirectScheme` and `redirectRegex`.

use http::{HeaderValue, Method, Response, StatusCode, header};

use crate::body::{self, Body};

/// The status of a redirect: 302, or 301 when `permanent`; for methods other than GET and
/// HEAD, 307 or 308 so the client repeats the method and body.
pub(crate) fn redirect_status(permanent: bool, method: &Method) -> StatusCode {
    let keep_method = method != Method::GET && method != Method::HEAD;
    match (permanent, keep_method) {
        (false, false) => StatusCode::FOUND,
        (false, true) => StatusCode::TEMPORARY_REDIRECT,
        (true, false) => StatusCode::MOVED_PERMANENTLY,
        (true, true) => StatusCode::PERMANENT_REDIRECT,
    }
}

/// A redirect to `location`: 302 (307 for methods other than GET and HEAD), or 301 (308)
/// when `permanent`, with the status text as body, as Traefik answers. HEAD gets the same
/// status as GET (RFC 9110: the same header fields), so `curl -I` shows the 301 a browser
/// would get.
pub(super) fn redirect(location: &str, permanent: bool, method: &Method) -> Response<Body> {
    let status = redirect_status(permanent, method);
    let Ok(value) = HeaderValue::from_str(location) else {
        return crate::upstream::status_response(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let text = status.canonical_reason().unwrap_or("");
    let mut resp = Response::new(body::full(text));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::LOCATION, value);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
