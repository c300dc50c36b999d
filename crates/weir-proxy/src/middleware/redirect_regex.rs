//! `redirectRegex`: redirect when the request URL matches a regex.

use http::header::HOST;
use http::{Request, Response};
use regex::Regex;
use weir_config::dynamic::RedirectRegex as Config;

use super::Middleware;
use super::redirect::redirect;
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Matches `regex` against the request URL (`scheme://host[:port]/path?query`, scheme
/// `https` on TLS connections) and redirects to `replacement` with `$1`/`${name}` groups
/// filled in. A URL that does not match, or that the replacement leaves unchanged, goes on
/// to the next handler.
pub struct RedirectRegex {
    regex: Regex,
    replacement: String,
    permanent: bool,
}

impl RedirectRegex {
    /// Compiles the regex.
    pub fn new(c: &Config) -> Result<Self, String> {
        if c.regex.is_empty() {
            return Err("regex cannot be empty".into());
        }
        let regex = Regex::new(&c.regex).map_err(|e| format!("regex {:?}: {e}", c.regex))?;
        Ok(Self {
            regex,
            replacement: c.replacement.clone(),
            permanent: c.permanent,
        })
    }
}

impl Middleware for RedirectRegex {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let host = req
            .headers()
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let scheme = if cx.tls { "https" } else { "http" };
        let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let url = format!("{scheme}://{host}{target}");
        if !self.regex.is_match(&url) {
            return next.handle(req, cx);
        }
        let location = self.regex.replace_all(&url, self.replacement.as_str());
        if location == url {
            return next.handle(req, cx);
        }
        let resp = redirect(&location, self.permanent, req.method());
        Box::pin(async move { resp })
    }
}
