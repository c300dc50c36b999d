//! The request as rules see it.

use std::net::IpAddr;

/// A view of the request, all pre-normalised by the caller.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Canonical host: lower-cased, no port, no IPv6 brackets; a trailing dot is left in place
    /// (matchers tolerate it). May be empty (HTTP/1.0 without `Host`).
    pub host: &'a str,
    /// The routing path (already normalised and decoded by the caller).
    pub path: &'a str,
    /// Request method, compared case-sensitively.
    pub method: &'a http::Method,
    /// Request headers.
    pub headers: &'a http::HeaderMap,
    /// Raw query string without `?`, `""` if none. Parsed with Go `url.Query` semantics.
    pub query: &'a str,
    /// The peer address (never taken from `X-Forwarded-For`); `None` means `ClientIP` never matches.
    pub client_ip: Option<IpAddr>,
}
