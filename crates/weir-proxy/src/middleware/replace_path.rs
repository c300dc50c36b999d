//! `replacePath`: forward to a fixed path.

use http::{Request, Response};
use weir_config::dynamic::ReplacePath as Config;

use super::Middleware;
use super::uri::{REPLACED_PATH, append_header, set_path};
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Replaces the path (the query stays) and sends the original as `X-Replaced-Path`.
pub struct ReplacePath {
    path: String,
}

impl ReplacePath {
    /// Checks that `path` is a valid request path.
    pub fn new(c: &Config) -> Result<Self, String> {
        let mut probe = Request::new(());
        set_path(&mut probe, &c.path)
            .map_err(|()| format!("path {:?} is not a valid URL path", c.path))?;
        Ok(Self {
            path: c.path.clone(),
        })
    }
}

impl Middleware for ReplacePath {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let original = req.uri().path().to_owned();
        // Checked at build time: cannot fail.
        let _ = set_path(&mut req, &self.path);
        append_header(&mut req, REPLACED_PATH, &original);
        next.handle(req, cx)
    }
}
