//! `redirectScheme`: redirect to another scheme (and port), e.g. HTTP to HTTPS.

use http::header::HOST;
use http::{Request, Response};
use weir_config::dynamic::RedirectScheme as Config;

use super::Middleware;
use super::redirect::redirect;
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Redirects to `scheme://host[:port]/path?query` unless the request already has that URL.
///
/// The request counts as HTTPS when the connection is TLS or `X-Forwarded-Proto` is
/// `https` (kept from the client only when the entrypoint trusts it). The port is left
/// out when it is the scheme's default.
pub struct RedirectScheme {
    scheme: String,
    /// `:port`, or empty.
    port: String,
    permanent: bool,
}

impl RedirectScheme {
    /// Checks the options: `scheme` is required, `port` must be a port number.
    pub fn new(c: &Config) -> Result<Self, String> {
        if c.scheme.is_empty() {
            return Err("scheme cannot be empty".into());
        }
        if !c
            .scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(format!("scheme {:?} is not a URL scheme", c.scheme));
        }
        if !c.port.is_empty() && c.port.parse::<u16>().is_err() {
            return Err(format!("port {:?} is not a port number", c.port));
        }
        let default_port = matches!(
            (c.scheme.as_str(), c.port.as_str()),
            ("http", "80") | ("https", "443")
        );
        let port = if c.port.is_empty() || default_port {
            String::new()
        } else {
            format!(":{}", c.port)
        };
        Ok(Self {
            scheme: c.scheme.clone(),
            port,
            permanent: c.permanent,
        })
    }
}

/// Splits a `Host` value into host and `:port` (empty when absent).
pub(super) fn split_host(host: &str) -> (&str, &str) {
    match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']') && host[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            (&host[..i], &host[i..])
        }
        _ => (host, ""),
    }
}

impl Middleware for RedirectScheme {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let raw_host = req
            .headers()
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let (host, port) = split_host(raw_host);
        let https = cx.tls
            || req
                .headers()
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes() == b"https");
        let current = if https { "https" } else { "http" };
        let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        if current == self.scheme && port == self.port {
            return next.handle(req, cx);
        }
        let location = format!("{}://{host}{}{target}", self.scheme, self.port);
        let resp = redirect(&location, self.permanent, req.method());
        Box::pin(async move { resp })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_hosts() {
        assert_eq!(split_host("a.test:8000"), ("a.test", ":8000"));
        assert_eq!(split_host("a.test"), ("a.test", ""));
        assert_eq!(split_host("[::1]:80"), ("[::1]", ":80"));
        assert_eq!(split_host("[::1]"), ("[::1]", ""));
    }

    #[test]
    fn checks_options() {
        let ok = |scheme: &str, port: &str| {
            RedirectScheme::new(&Config {
                scheme: scheme.into(),
                port: port.into(),
                permanent: false,
            })
        };
        assert!(ok("", "").is_err());
        assert!(ok("https", "x").is_err());
        assert_eq!(ok("https", "443").map(|r| r.port).unwrap_or_default(), "");
        assert_eq!(
            ok("https", "8443").map(|r| r.port).unwrap_or_default(),
            ":8443"
        );
    }
}
