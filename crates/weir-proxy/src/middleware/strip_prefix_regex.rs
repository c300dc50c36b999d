//! `stripPrefixRegex`: remove a path prefix matched by a regex.

use http::{Request, Response};
use regex::Regex;
use weir_config::dynamic::StripPrefixRegex as Config;

use super::Middleware;
use super::uri::{FORWARDED_PREFIX, append_header, bad_rewrite, ensure_leading_slash, set_path};
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Each regex is anchored at the start of the path; the first that matches a non-empty
/// prefix has that prefix removed and sent as `X-Forwarded-Prefix`.
pub struct StripPrefixRegex {
    regexes: Vec<Regex>,
}

impl StripPrefixRegex {
    /// Compiles the regexes (anchored with `^`).
    pub fn new(c: &Config) -> Result<Self, String> {
        let regexes = c
            .regex
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Regex::new(&format!("^(?:{r})")).map_err(|e| format!("regex[{i}] {r:?}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { regexes })
    }
}

impl Middleware for StripPrefixRegex {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let path = req.uri().path();
        let found = self
            .regexes
            .iter()
            .find_map(|r| r.find(path).filter(|m| !m.is_empty()).map(|m| m.end()));
        if let Some(end) = found {
            let prefix = path[..end].to_owned();
            let rest = ensure_leading_slash(&path[end..]).into_owned();
            if set_path(&mut req, &rest).is_err() {
                return Box::pin(async { bad_rewrite() });
            }
            append_header(&mut req, FORWARDED_PREFIX, &prefix);
        }
        next.handle(req, cx)
    }
}
