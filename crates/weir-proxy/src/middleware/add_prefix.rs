//! `addPrefix`: put a prefix in front of the path.

use http::{Request, Response};
use weir_config::dynamic::AddPrefix as Config;

use super::Middleware;
use super::uri::{bad_rewrite, set_path};
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Forwards `prefix + path` (`/` added in front when the prefix lacks it).
pub struct AddPrefix {
    prefix: String,
}

impl AddPrefix {
    /// `prefix` is required.
    pub fn new(c: &Config) -> Result<Self, String> {
        if c.prefix.is_empty() {
            return Err("prefix cannot be empty".into());
        }
        let prefix = if c.prefix.starts_with('/') {
            c.prefix.clone()
        } else {
            format!("/{}", c.prefix)
        };
        Ok(Self { prefix })
    }
}

impl Middleware for AddPrefix {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let path = format!("{}{}", self.prefix, req.uri().path());
        if set_path(&mut req, &path).is_err() {
            return Box::pin(async { bad_rewrite() });
        }
        next.handle(req, cx)
    }
}
