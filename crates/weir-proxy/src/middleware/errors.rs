//! `errors`: answer given statuses with a page from another service.

use std::collections::HashMap;

use http::header::HOST;
use http::{Request, Response, StatusCode, Uri};
use weir_config::dynamic::ErrorPage as Config;

use super::Middleware;
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext, SharedHandler};

/// Parses status ranges (`"500-599"`, `"404"`, `"400,401"`) for `field`.
pub(super) fn parse_status_ranges(field: &str, list: &[String]) -> Result<Vec<(u16, u16)>, String> {
    let code = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| format!("{field}: {s:?} is not an HTTP status"))
    };
    let mut out = Vec::new();
    for entry in list {
        for part in entry.split(',').filter(|p| !p.trim().is_empty()) {
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (code(a)?, code(b)?),
                None => (code(part)?, code(part)?),
            };
            if a > b {
                return Err(format!("{field}: range {part:?} is reversed"));
            }
            out.push((a, b));
        }
    }
    Ok(out)
}

/// Percent-encodes everything but unreserved characters (Go's `url.QueryEscape`, with
/// spaces as `%20`).
fn query_escape(s: &str) -> String {
    super::uri::query_escape(s, false)
}

/// When the rest of the chain answers with a status in `status`, asks `service` for
/// `GET <query>` (with `{status}`, `{originalStatus}` and `{url}` filled in, and the
/// original `Host`) and sends that page with the original status (or its
/// `statusRewrites` replacement). The original body is dropped.
pub struct Errors {
    ranges: Vec<(u16, u16)>,
    rewrites: HashMap<u16, StatusCode>,
    service: SharedHandler,
    query: String,
}

impl Errors {
    /// Checks the options; `service` is the built error-page service.
    pub fn new(c: &Config, service: SharedHandler) -> Result<Self, String> {
        let ranges = parse_status_ranges("status", &c.status)?;
        if ranges.is_empty() {
            return Err("status is empty".into());
        }
        let mut rewrites = HashMap::new();
        for (from, to) in &c.status_rewrites {
            let to = u16::try_from(*to)
                .ok()
                .and_then(|t| StatusCode::from_u16(t).ok())
                .ok_or_else(|| format!("statusRewrites.{from}: {to} is not an HTTP status"))?;
            for (a, b) in parse_status_ranges("statusRewrites", std::slice::from_ref(from))? {
                for code in a..=b {
                    rewrites.insert(code, to);
                }
            }
        }
        let query = if c.query.is_empty() {
            "/".to_owned()
        } else if c.query.starts_with('/') {
            c.query.clone()
        } else {
            format!("/{}", c.query)
        };
        Ok(Self {
            ranges,
            rewrites,
            service,
            query,
        })
    }
}

impl Middleware for Errors {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let host = req.headers().get(HOST).cloned();
            let url = req.uri().clone();
            let tracked = cx.observe.track();
            let resp = next.handle(req, cx).await;
            let original = resp.status();
            let code = original.as_u16();
            if !self.ranges.iter().any(|(a, b)| (*a..=*b).contains(&code)) {
                return resp;
            }
            let status = self.rewrites.get(&code).copied().unwrap_or(original);
            let target = self
                .query
                .replace("{status}", status.as_str())
                .replace("{originalStatus}", original.as_str())
                .replace("{url}", &query_escape(&url.to_string()));
            let Ok(uri) = target.parse::<Uri>() else {
                return resp;
            };
            // The failure counts on the service that gave it, as in Traefik; the page counts
            // on its own service.
            cx.answered.discard(tracked, &resp);
            drop(resp);
            let mut page_req = Request::new(body::empty());
            *page_req.uri_mut() = uri;
            if let Some(h) = host {
                page_req.headers_mut().insert(HOST, h);
            }
            let page = self.service.handle(page_req, cx).await;
            let (mut parts, page_body) = page.into_parts();
            parts.status = status;
            Response::from_parts(parts, page_body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_escaping() {
        let r = parse_status_ranges("s", &["500-599".into(), "404,418".into()]).unwrap();
        assert_eq!(r, [(500, 599), (404, 404), (418, 418)]);
        assert!(parse_status_ranges("s", &["599-500".into()]).is_err());
        assert!(parse_status_ranges("s", &["abc".into()]).is_err());
        assert_eq!(query_escape("/a b?x=1"), "%2Fa%20b%3Fx%3D1");
    }
}
