//! A server's URL, parsed once when the configuration is compiled.

use std::sync::Arc;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Uri};

use crate::body::Body;

/// How weir talks to a server, from its URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerScheme {
    /// `http://`: HTTP/1.1 over TCP.
    Http,
    /// `https://`: TLS, HTTP/2 or HTTP/1.1 by ALPN.
    Https,
    /// `h2c://`: HTTP/2 with prior knowledge over TCP (gRPC without TLS).
    H2c,
}

/// Why a server URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The URL does not parse.
    #[error("invalid server URL {url:?}: {source}")]
    Invalid {
        /// The URL as configured.
        url: String,
        /// The parser's complaint.
        source: http::uri::InvalidUri,
    },
    /// The scheme is none of `http`, `https`, `h2c`.
    #[error("unsupported scheme in server URL {0:?} (expected http, https or h2c)")]
    Scheme(String),
    /// The URL has no host.
    #[error("server URL {0:?} has no host")]
    NoHost(String),
}

/// A parsed server URL (`loadBalancer.servers[].url`).
///
/// Traefik v3 ignores the URL's path unless the server sets `preservePath: true`; then the
/// path is joined in front of the request path with a single slash.
#[derive(Debug, Clone)]
pub struct ServerTarget {
    url: Arc<str>,
    scheme: ServerScheme,
    authority: Authority,
    path_prefix: Option<Arc<str>>,
}

impl ServerTarget {
    /// Parses `url` (`http://10.0.0.1:8080`, `https://api.example.com`, `h2c://grpc:50051`).
    /// With `preserve_path`, the URL's path is prepended to every request path.
    pub fn parse(url: &str, preserve_path: bool) -> Result<Self, TargetError> {
        let uri: Uri = url.parse().map_err(|source| TargetError::Invalid {
            url: url.to_owned(),
            source,
        })?;
        let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => ServerScheme::Http,
            Some("https") => ServerScheme::Https,
            Some("h2c") => ServerScheme::H2c,
            _ => return Err(TargetError::Scheme(url.to_owned())),
        };
        let authority = match uri.authority() {
            Some(a) if !a.host().is_empty() => a.clone(),
            _ => return Err(TargetError::NoHost(url.to_owned())),
        };
        let path_prefix = if preserve_path {
            let p = uri.path().trim_end_matches('/');
            (!p.is_empty()).then(|| Arc::from(p))
        } else {
            None
        };
        Ok(Self {
            url: Arc::from(url),
            scheme,
            authority,
            path_prefix,
        })
    }

    /// The URL as configured; the identity used by sticky cookies and health state.
    pub fn url(&self) -> &Arc<str> {
        &self.url
    }

    /// The scheme.
    pub fn scheme(&self) -> ServerScheme {
        self.scheme
    }

    /// `host[:port]` as written in the URL.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The path joined in front of request paths (only with `preservePath`).
    pub fn path_prefix(&self) -> Option<&str> {
        self.path_prefix.as_deref()
    }

    /// The port to connect to, the scheme's default when the URL has none.
    pub fn port(&self) -> u16 {
        self.authority
            .port_u16()
            .unwrap_or(if self.scheme == ServerScheme::Https {
                443
            } else {
                80
            })
    }

    /// The path and query for a request to this server: the prefix (with `preservePath`)
    /// joined with `req`'s path and query.
    pub(crate) fn path_and_query(&self, req: &Request<Body>) -> Result<PathAndQuery, http::Error> {
        let pq = req.uri().path_and_query();
        Ok(match (&self.path_prefix, pq) {
            (None, Some(pq)) => pq.clone(),
            (None, None) => PathAndQuery::from_static("/"),
            (Some(prefix), pq) => {
                let path = pq.map_or("/", PathAndQuery::path);
                let path = if path.starts_with('/') { path } else { "/" };
                let mut s = String::with_capacity(prefix.len() + path.len() + 16);
                s.push_str(prefix);
                s.push_str(path);
                if let Some(q) = pq.and_then(PathAndQuery::query) {
                    s.push('?');
                    s.push_str(q);
                }
                PathAndQuery::try_from(s)?
            }
        })
    }

    /// The URI for a request to this server: the scheme on the wire (`h2c` becomes `http`),
    /// this server's authority, and [`path_and_query`](Self::path_and_query).
    pub(crate) fn request_uri(&self, req: &Request<Body>) -> Result<Uri, http::Error> {
        let pq = self.path_and_query(req)?;
        let scheme = if self.scheme == ServerScheme::Https {
            Scheme::HTTPS
        } else {
            Scheme::HTTP
        };
        Uri::builder()
            .scheme(scheme)
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
    }
}

/// A URL host as a socket address or a name wants it: an IPv6 literal without its
/// brackets.
pub(crate) fn unbracketed(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri_for(target: &ServerTarget, path: &str) -> String {
        let req = Request::builder()
            .uri(path)
            .body(crate::body::empty())
            .expect("request");
        target.request_uri(&req).expect("uri").to_string()
    }

    #[test]
    fn parses_schemes_and_ports() {
        let t = ServerTarget::parse("http://10.0.0.1:8080", false).expect("parse");
        assert_eq!(t.scheme(), ServerScheme::Http);
        assert_eq!(t.port(), 8080);
        let t = ServerTarget::parse("https://example.com", false).expect("parse");
        assert_eq!(t.port(), 443);
        let t = ServerTarget::parse("h2c://grpc:50051", false).expect("parse");
        assert_eq!(t.scheme(), ServerScheme::H2c);
        assert_eq!(uri_for(&t, "/a?b"), "http://grpc:50051/a?b");
        assert!(ServerTarget::parse("ftp://x", false).is_err());
        assert!(ServerTarget::parse("/just/a/path", false).is_err());
    }

    #[test]
    fn path_is_ignored_unless_preserved() {
        let t = ServerTarget::parse("http://h:1/api/", false).expect("parse");
        assert_eq!(uri_for(&t, "/x?q=1"), "http://h:1/x?q=1");
        let t = ServerTarget::parse("http://h:1/api/", true).expect("parse");
        assert_eq!(uri_for(&t, "/x?q=1"), "http://h:1/api/x?q=1");
        assert_eq!(uri_for(&t, "/"), "http://h:1/api/");
        let t = ServerTarget::parse("http://h:1/api", true).expect("parse");
        assert_eq!(uri_for(&t, "/x"), "http://h:1/api/x");
    }
}
