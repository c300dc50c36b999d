//! `ipAllowList` (and its deprecated name `ipWhiteList`): only clients from given ranges.

use http::{Request, Response, StatusCode};
use weir_config::dynamic::IpAllowList as Config;

use super::Middleware;
use super::ip::{Cidr, IpStrategy, parse_ranges};
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::status_response;

/// Lets requests whose client IP (found by `ipStrategy`) is in `sourceRange` through;
/// answers the others with `rejectStatusCode` (403 by default).
pub struct IpAllowList {
    ranges: Vec<Cidr>,
    strategy: IpStrategy,
    reject: StatusCode,
}

impl IpAllowList {
    /// `sourceRange` must not be empty.
    pub fn new(c: &Config) -> Result<Self, String> {
        if c.source_range.is_empty() {
            return Err("sourceRange is empty".into());
        }
        let ranges = parse_ranges("sourceRange", &c.source_range)?;
        let reject = u16::try_from(c.reject_status_code)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .filter(|s| s.as_u16() >= 100)
            .ok_or_else(|| {
                format!(
                    "rejectStatusCode {} is not an HTTP status",
                    c.reject_status_code
                )
            })?;
        Ok(Self {
            ranges,
            strategy: IpStrategy::new(c.ip_strategy.as_ref())?,
            reject,
        })
    }
}

impl Middleware for IpAllowList {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let allowed = self
            .strategy
            .client_ip(&req, cx)
            .is_some_and(|ip| self.ranges.iter().any(|r| r.contains(ip)));
        if allowed {
            return next.handle(req, cx);
        }
        tracing::debug!(router = ?cx.router, client = %cx.client_addr, "ipAllowList rejected");
        let resp = status_response(self.reject);
        Box::pin(async move { resp })
    }
}
