//! `whoami@internal`: the demo service; answers with the request it received, like
//! traefik/whoami, so a newcomer sees what weir forwarded.

use std::fmt::Write;

use http::{Request, Response, StatusCode};

use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// The whoami handler.
pub struct Whoami {
    hostname: String,
}

impl Whoami {
    /// A whoami handler reporting `hostname`.
    pub fn new(hostname: impl Into<String>) -> Self {
        Self {
            hostname: hostname.into(),
        }
    }
}

impl Handler for Whoami {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let mut out = String::with_capacity(512);
            let _ = writeln!(out, "Hostname: {}", self.hostname);
            let _ = writeln!(out, "IP: {}", cx.local_addr.ip());
            let _ = writeln!(out, "RemoteAddr: {}", cx.client_addr);
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let _ = writeln!(out, "{} {} {:?}", req.method(), path, req.version());
            if let Some(host) = super::super::pipeline::host::raw_host(&req) {
                let _ = writeln!(out, "Host: {host}");
            }
            for (name, value) in req.headers() {
                if name == http::header::HOST {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "{}: {}",
                    title_case(name.as_str()),
                    String::from_utf8_lossy(value.as_bytes())
                );
            }
            let mut resp = Response::new(body::full(out));
            *resp.status_mut() = StatusCode::OK;
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            resp
        })
    }
}

/// `x-forwarded-for` → `X-Forwarded-For`, the way Go prints header names.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}
