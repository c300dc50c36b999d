//! The dashboard's files, compiled into the binary (no CDN: it works offline).

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use weir_proxy::body::{self, Body};

const INDEX: &str = include_str!("../assets/index.html");
const APP: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

/// The file at `path` under `/dashboard/`.
pub(crate) fn asset(path: &str) -> Response<Body> {
    let (content, kind) = match path {
        "" | "index.html" => (INDEX, "text/html; charset=utf-8"),
        "app.js" => (APP, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return super::text(StatusCode::NOT_FOUND, "404 page not found\n"),
    };
    let mut resp = Response::new(body::full(content));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    // Small files, and a new binary may change them: always revalidate.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
