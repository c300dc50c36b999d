//! `stripPrefix`: remove a path prefix before forwarding.

use http::{Request, Response};
use weir_config::dynamic::StripPrefix as Config;

use super::Middleware;
use super::uri::{FORWARDED_PREFIX, append_header, bad_rewrite, ensure_leading_slash, set_path};
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Removes the first of `prefixes` the path starts with (plain string prefix, so `/api`
/// also strips `/apiv2` to `/v2`), keeps a leading `/`, and adds the prefix removed as
/// `X-Forwarded-Prefix`. A path with none of the prefixes passes unchanged.
pub struct StripPrefix {
    prefixes: Vec<String>,
}

impl StripPrefix {
    /// Takes the prefixes as given.
    pub fn new(c: &Config) -> Result<Self, String> {
        Ok(Self {
            prefixes: c.prefixes.clone(),
        })
    }
}

impl Middleware for StripPrefix {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let path = req.uri().path();
        if let Some(prefix) = self.prefixes.iter().find(|p| path.starts_with(p.as_str())) {
            let rest = ensure_leading_slash(&path[prefix.len()..]).into_owned();
            if set_path(&mut req, &rest).is_err() {
                return Box::pin(async { bad_rewrite() });
            }
            append_header(&mut req, FORWARDED_PREFIX, prefix.trim());
        }
        next.handle(req, cx)
    }
}
