//! The canonical host routers match on: the absolute-form authority if the request-target
//! has one (it wins over `Host:`, RFC 9112 §3.2.2), else the `Host` header; lower-cased,
//! without port or IPv6 brackets.

use std::borrow::Cow;

use http::header::HOST;
use http::{HeaderMap, Request, Uri};

/// Returns the request's host as sent (authority or `Host` header), port included.
pub fn raw_host<B>(req: &Request<B>) -> Option<&str> {
    raw_host_parts(req.uri(), req.headers())
}

/// [`raw_host`] on a request's parts.
pub fn raw_host_parts<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    if let Some(authority) = uri.authority() {
        return Some(authority.as_str());
    }
    headers.get(HOST).and_then(|v| v.to_str().ok())
}

/// Strips the port and IPv6 brackets and lower-cases; borrows when nothing changes.
pub fn canonical(raw: &str) -> Cow<'_, str> {
    let raw = raw.trim();
    let host = if let Some(rest) = raw.strip_prefix('[') {
        // "[::1]:8080" or "[::1]"
        rest.split(']').next().unwrap_or(rest)
    } else if raw.bytes().filter(|&b| b == b':').count() == 1 {
        raw.split(':').next().unwrap_or(raw)
    } else {
        // No port, or a bare IPv6 address without brackets.
        raw
    };
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}

/// The port part of a raw host, if any: after the last `:` that follows any `]`, when
/// that is the only `:` outside brackets (a bare IPv6 address has no port).
pub fn port(raw: &str) -> Option<&str> {
    // One pass from the end: this runs for every proxied request (`X-Forwarded-Port`).
    let mut colon = None;
    for (i, &b) in raw.as_bytes().iter().enumerate().rev() {
        match b {
            b']' => break,
            b':' if colon.is_some() => return None,
            b':' => colon = Some(i),
            _ => {}
        }
    }
    raw.get(colon? + 1..).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_hosts() {
        let cases = [
            ("example.com", "example.com"),
            ("Example.COM:8080", "example.com"),
            ("[::1]:8000", "::1"),
            ("[FE80::1]", "fe80::1"),
            ("::1", "::1"),
            ("127.0.0.1:80", "127.0.0.1"),
            ("", ""),
            ("whoami.local.", "whoami.local."),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical(raw), want, "{raw}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(port("example.com:8080"), Some("8080"));
        assert_eq!(port("example.com"), None);
        assert_eq!(port("[::1]:443"), Some("443"));
        assert_eq!(port("[::1]"), None);
        assert_eq!(port("::1"), None);
        assert_eq!(port("[::1:80"), None, "no closing bracket: a bare address");
        assert_eq!(port("example.com:"), None);
        assert_eq!(port("127.0.0.1:8080"), Some("8080"));
    }

    #[test]
    fn absolute_form_wins_over_host_header() {
        let req = Request::builder()
            .uri("http://a.example/x")
            .header(HOST, "b.example")
            .body(())
            .unwrap();
        assert_eq!(raw_host(&req), Some("a.example"));
        let req = Request::builder()
            .uri("/x")
            .header(HOST, "b.example:81")
            .body(())
            .unwrap();
        assert_eq!(raw_host(&req), Some("b.example:81"));
    }
}
