//! Label values as Traefik computes them: method and protocol of a request, packed into a
//! small key so a series is found without hashing strings.

use http::{HeaderMap, Method};

/// Methods with their own label value; anything else is `EXTENSION_METHOD`, which keeps
/// the label set bounded whatever clients send.
const METHODS: [&str; 10] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "EXTENSION_METHOD",
];

/// The `protocol` label values.
const PROTOCOLS: [&str; 5] = ["http", "websocket", "sse", "grpc", "grpc-web"];

/// Protocol indices into the label table.
pub(crate) const HTTP: u8 = 0;
pub(crate) const WEBSOCKET: u8 = 1;
pub(crate) const SSE: u8 = 2;
pub(crate) const GRPC: u8 = 3;
pub(crate) const GRPC_WEB: u8 = 4;

/// Index of `method` in the method label table.
pub fn method_index(method: &Method) -> u8 {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::CONNECT => 5,
        Method::OPTIONS => 6,
        Method::TRACE => 7,
        Method::PATCH => 8,
        _ => 9,
    }
}

/// The method label for an index from [`method_index`].
pub fn method_label(index: u8) -> &'static str {
    METHODS
        .get(usize::from(index))
        .copied()
        .unwrap_or("EXTENSION_METHOD")
}

/// Index of the request's protocol, decided as Traefik does, in this order: `websocket`
/// when `Connection` lists `upgrade` and `Upgrade` lists `websocket`, `sse` when `Accept`
/// lists `text/event-stream`, `grpc-web` and `grpc` by the `Content-Type` prefix, else
/// `http`.
pub fn protocol_index(headers: &HeaderMap) -> u8 {
    crate::scan::RequestHeaders::scan(headers).protocol()
}

/// Whether protocol index `protocol` is `grpc` or `grpc-web`.
pub fn is_grpc(protocol: u8) -> bool {
    matches!(protocol, GRPC | GRPC_WEB)
}

/// Whether comma-separated `value` has an item equal to `token`, ignoring case and
/// surrounding spaces.
pub(crate) fn lists(value: &[u8], token: &[u8]) -> bool {
    // Most requests: the header is absent, shorter than the token, or one item.
    if value.len() < token.len() {
        return false;
    }
    if !value.contains(&b',') {
        return value.trim_ascii().eq_ignore_ascii_case(token);
    }
    value
        .split(|&b| b == b',')
        .any(|item| item.trim_ascii().eq_ignore_ascii_case(token))
}

/// The protocol label for an index from [`protocol_index`].
pub fn protocol_label(index: u8) -> &'static str {
    PROTOCOLS.get(usize::from(index)).copied().unwrap_or("http")
}

/// A series key: status code, method and protocol packed in 32 bits. Never 0 (codes
/// start at 100), so 0 marks an empty slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesKey(pub u32);

impl SeriesKey {
    /// Packs the three labels.
    pub fn new(code: u16, method: u8, protocol: u8) -> Self {
        SeriesKey((u32::from(code) << 16) | (u32::from(method) << 8) | u32::from(protocol))
    }

    /// The status code.
    pub fn code(self) -> u16 {
        u16::try_from(self.0 >> 16).unwrap_or(0)
    }

    /// The method label.
    pub fn method(self) -> &'static str {
        method_label(u8::try_from((self.0 >> 8) & 0xff).unwrap_or(9))
    }

    /// The protocol label.
    pub fn protocol(self) -> &'static str {
        protocol_label(u8::try_from(self.0 & 0xff).unwrap_or(0))
    }
}

/// Escapes a label value for the text exposition format (backslash, quote, newline).
pub fn escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{ACCEPT, CONNECTION, CONTENT_TYPE, UPGRADE};

    #[test]
    fn key_round_trips() {
        let k = SeriesKey::new(503, method_index(&Method::PATCH), 3);
        assert_eq!(k.code(), 503);
        assert_eq!(k.method(), "PATCH");
        assert_eq!(k.protocol(), "grpc");
        let other = Method::from_bytes(b"PURGE").unwrap_or(Method::GET);
        assert_eq!(method_label(method_index(&other)), "EXTENSION_METHOD");
    }

    #[test]
    fn protocols_from_headers_in_traefiks_order() {
        let label = |pairs: &[(http::header::HeaderName, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(k.clone(), http::HeaderValue::from_static(v));
            }
            protocol_label(protocol_index(&h))
        };
        assert_eq!(label(&[]), "http");
        assert_eq!(
            label(&[(ACCEPT, "application/json, Text/Event-Stream")]),
            "sse"
        );
        assert_eq!(label(&[(ACCEPT, "text/event-streams")]), "http");
        assert_eq!(label(&[(CONTENT_TYPE, "application/grpc+proto")]), "grpc");
        assert_eq!(
            label(&[(CONTENT_TYPE, "application/grpc-web+proto")]),
            "grpc-web"
        );
        // Go compares the content type's prefix with case.
        assert_eq!(label(&[(CONTENT_TYPE, "Application/gRPC")]), "http");
        // sse is decided before grpc.
        assert_eq!(
            label(&[
                (ACCEPT, "text/event-stream"),
                (CONTENT_TYPE, "application/grpc")
            ]),
            "sse"
        );
        // websocket needs both Connection: upgrade and Upgrade: websocket.
        assert_eq!(label(&[(UPGRADE, "websocket")]), "http");
        assert_eq!(
            label(&[(CONNECTION, "keep-alive, Upgrade"), (UPGRADE, "WebSocket")]),
            "websocket"
        );
    }

    #[test]
    fn escapes_label_values() {
        let mut s = String::new();
        escape("a\"b\\c\nd", &mut s);
        assert_eq!(s, "a\\\"b\\\\c\\nd");
    }
}
