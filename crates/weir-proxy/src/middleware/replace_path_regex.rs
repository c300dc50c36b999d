//! `replacePathRegex`: rewrite the path with a regex.

use http::{Request, Response};
use regex::Regex;
use weir_config::dynamic::ReplacePathRegex as Config;

use super::Middleware;
use super::uri::{REPLACED_PATH, append_header, bad_rewrite, set_path};
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};

/// When `regex` matches the (percent-encoded) path, every match is replaced by
/// `replacement` (`$1`/`${name}` groups), and the original path is sent as
/// `X-Replaced-Path`. Other paths pass unchanged.
pub struct ReplacePathRegex {
    regex: Regex,
    replacement: String,
}

impl ReplacePathRegex {
    /// Compiles the regex.
    pub fn new(c: &Config) -> Result<Self, String> {
        let regex = Regex::new(&c.regex).map_err(|e| format!("regex {:?}: {e}", c.regex))?;
        Ok(Self {
            regex,
            replacement: c.replacement.clone(),
        })
    }
}

impl Middleware for ReplacePathRegex {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let path = req.uri().path();
        if !self.replacement.is_empty() && self.regex.is_match(path) {
            let original = path.to_owned();
            let replaced = self
                .regex
                .replace_all(&original, self.replacement.as_str())
                .into_owned();
            if set_path(&mut req, &replaced).is_err() {
                return Box::pin(async { bad_rewrite() });
            }
            append_header(&mut req, REPLACED_PATH, &original);
        }
        next.handle(req, cx)
    }
}
