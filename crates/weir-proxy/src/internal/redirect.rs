//! The entrypoint redirection (`entryPoints.<ep>.http.redirections.entryPoint`): every
//! plain request on the entrypoint is sent to the same host and path with another scheme
//! and port, as Traefik's generated `<ep>-to-<to>` router with its `redirectScheme` does.

use http::header::{HOST, LOCATION};
use http::{HeaderValue, Request, Response};

use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Redirects to `scheme://host[:port]/path?query`.
#[derive(Debug, Clone)]
pub struct RedirectScheme {
    scheme: String,
    port: Option<u16>,
    permanent: bool,
}

impl RedirectScheme {
    /// A redirect to `scheme` on `port` (left out of the URL when it is the scheme's
    /// default); `permanent` answers 301/308 rather than 302/307.
    pub fn new(scheme: &str, port: Option<u16>, permanent: bool) -> Self {
        let scheme = scheme.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "https" | "wss" => Some(443),
            "http" | "ws" => Some(80),
            _ => None,
        };
        Self {
            port: port.filter(|p| Some(*p) != default),
            scheme,
            permanent,
        }
    }

    /// The `Location` for a request to `host` (with or without port) and `path_and_query`.
    pub fn location(&self, host: &str, path_and_query: &str) -> String {
        let host = strip_port(host);
        match self.port {
            Some(p) => format!("{}://{host}:{p}{path_and_query}", self.scheme),
            None => format!("{}://{host}{path_and_query}", self.scheme),
        }
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest
            .split_once(']')
            .map_or(host, |(ip, _)| &host[..ip.len() + 2]);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

impl Handler for RedirectScheme {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        _cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let host = req
                .headers()
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .or_else(|| req.uri().host())
                .unwrap_or_default();
            let pq = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let status = crate::middleware::redirect_status(self.permanent, req.method());
            let mut resp = Response::new(body::empty());
            *resp.status_mut() = status;
            if let Ok(v) = HeaderValue::try_from(self.location(host, pq)) {
                resp.headers_mut().insert(LOCATION, v);
            }
            resp
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_keeps_host_path_and_query_and_drops_default_ports() {
        let r = RedirectScheme::new("https", Some(443), true);
        assert_eq!(
            r.location("whoami.local:8000", "/a?b=1"),
            "https://whoami.local/a?b=1"
        );
        let r = RedirectScheme::new("https", Some(8443), true);
        assert_eq!(
            r.location("whoami.local", "/"),
            "https://whoami.local:8443/"
        );
        assert_eq!(r.location("[::1]:80", "/"), "https://[::1]:8443/");
    }
}
