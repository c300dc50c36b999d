//! The dashboard's files, compiled into the binary (no CDN: it works offline).

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use weir_proxy::body::{self, Body};

const INDEX: &str = include_str!("../assets/index.html");
const APP: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

/// The page, with `initial` (HTML) in place of the view until the script's first poll:
/// the routers show without JavaScript too (and to `curl`).
pub(crate) fn index(initial: &str) -> Response<Body> {
    respond(
        INDEX.replacen("<!--INITIAL-->", initial, 1),
        "text/html; charset=utf-8",
    )
}

/// Escapes text for HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The file at `path` under `/dashboard/` (not the page itself, see [`index`]).
pub(crate) fn asset(path: &str) -> Response<Body> {
    let (content, kind) = match path {
        "app.js" => (APP, "text/javascript; charset=utf-8"),
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return super::text(StatusCode::NOT_FOUND, "404 page not found\n"),
    };
    respond(content.to_owned(), kind)
}

fn respond(content: String, kind: &'static str) -> Response<Body> {
    let mut resp = Response::new(body::full(content));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    // Small files, and a new binary may change them: always revalidate.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
