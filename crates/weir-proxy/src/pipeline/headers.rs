//! Hop-by-hop stripping and the `X-Forwarded-*` headers, in Traefik's order: decide trust,
//! drop untrusted forwarded headers, strip hop-by-hop headers (never letting a client's
//! `Connection` list remove the headers weir manages), then set weir's own.

use std::net::IpAddr;

use http::header::{
    CONNECTION, Entry, HeaderMap, HeaderName, HeaderValue, TE, TRANSFER_ENCODING, UPGRADE,
};

/// Headers weir sets for the upstream; a client may not remove them via `Connection`.
pub(crate) const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
const X_FORWARDED_SERVER: HeaderName = HeaderName::from_static("x-forwarded-server");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

static MANAGED: [&str; 8] = [
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-server",
    "x-forwarded-uri",
    "x-forwarded-method",
    "x-real-ip",
];

/// Client-supplied headers dropped unless the peer is trusted, with their underscore
/// spellings (some servers treat `X_Forwarded_For` as `X-Forwarded-For`).
static UNTRUSTED: [&str; 22] = [
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-server",
    "x-forwarded-uri",
    "x-forwarded-method",
    "x-forwarded-prefix",
    "x-forwarded-tls-client-cert",
    "x-forwarded-tls-client-cert-info",
    "x-real-ip",
    "x_forwarded_for",
    "x_forwarded_proto",
    "x_forwarded_host",
    "x_forwarded_port",
    "x_forwarded_server",
    "x_forwarded_uri",
    "x_forwarded_method",
    "x_forwarded_prefix",
    "x_forwarded_tls_client_cert",
    "x_forwarded_tls_client_cert_info",
    "x_real_ip",
];

/// Whether `name` (lower case) is a hop-by-hop header (RFC 9110 §7.6.1) or one of the
/// legacy ones proxies still see: `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`,
/// `Transfer-Encoding`, `Upgrade`. Requests and responses both drop these.
pub(crate) fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "proxy-connection" | "te" | "transfer-encoding" | "upgrade"
    )
}

/// Hop-by-hop headers removed from requests; `TE` is handled apart (`trailers` stays).
static HOP_BY_HOP: [HeaderName; 6] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    http::header::PROXY_AUTHENTICATE,
    TRANSFER_ENCODING,
    UPGRADE,
];

/// A set of trusted networks for `forwardedHeaders.trustedIPs`.
#[derive(Debug, Clone, Default)]
pub struct TrustedNets {
    insecure: bool,
    nets: Vec<(IpAddr, u8)>,
}

impl TrustedNets {
    /// Parses `trustedIPs` entries (addresses or CIDRs); `insecure` trusts everyone.
    /// Returns the entries that failed to parse alongside.
    pub fn new(insecure: bool, entries: &[String]) -> (Self, Vec<String>) {
        let mut nets = Vec::new();
        let mut bad = Vec::new();
        for e in entries {
            match parse_cidr(e.trim()) {
                Some(n) => nets.push(n),
                None => bad.push(e.clone()),
            }
        }
        (Self { insecure, nets }, bad)
    }

    /// Whether headers from `ip` are trusted.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.insecure || self.nets.iter().any(|&(net, len)| in_net(ip, net, len))
    }
}

/// Parses `10.0.0.0/8`, `::1` or `fd00::/8`.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    match s.split_once('/') {
        Some((ip, len)) => {
            let ip: IpAddr = ip.parse().ok()?;
            let len: u8 = len.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            (len <= max).then_some((ip, len))
        }
        None => {
            let ip: IpAddr = s.parse().ok()?;
            Some((ip, if ip.is_ipv4() { 32 } else { 128 }))
        }
    }
}

/// Whether `ip` lies in `net/len`, comparing IPv4-mapped IPv6 addresses as IPv4.
pub fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let ip = ip.to_canonical();
    match (ip, net.to_canonical()) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len.min(32)))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len.min(128)))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Removes hop-by-hop headers and those the client named in `Connection`, except the ones
/// weir manages. `TE: trailers` survives (gRPC needs it). Returns the `Upgrade` value when
/// the request asked for one, so the caller can restore it for the upstream.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) -> Option<HeaderValue> {
    // One pass over the names finds which are there: most requests carry none of them,
    // and a keep-alive HTTP/1.1 client only `Connection`, so only those present are
    // looked up again to be removed.
    let mut present = 0u8;
    let mut te = false;
    for name in headers.keys() {
        if let Some(i) = HOP_BY_HOP.iter().position(|h| h == name) {
            present |= 1 << i;
        } else if name == TE {
            te = true;
        }
    }
    if present == 0 && !te {
        return None;
    }
    // As Go's reverse proxy: `TE: trailers` is passed on even when `Connection` lists TE.
    let keep_te = te
        && headers.get_all(TE).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("trailers"))
            })
        });
    let mut upgrade = None;
    // `Connection` is HOP_BY_HOP[0]; a clone shares its bytes while headers are removed.
    if present & 1 != 0
        && let Some(conn) = headers.get(CONNECTION).cloned()
    {
        for token in conn.to_str().unwrap_or("").split(',').map(str::trim) {
            if token.eq_ignore_ascii_case("upgrade") {
                upgrade = headers.get(UPGRADE).cloned();
            }
            let hop = HOP_BY_HOP
                .iter()
                .any(|h| token.eq_ignore_ascii_case(h.as_str()))
                || token.eq_ignore_ascii_case(TE.as_str());
            let managed = MANAGED.iter().any(|m| token.eq_ignore_ascii_case(m));
            if !token.is_empty() && !hop && !managed {
                headers.remove(token);
            }
        }
    }
    for (i, name) in HOP_BY_HOP.iter().enumerate() {
        if present & (1 << i) != 0 {
            headers.remove(name);
        }
    }
    if te {
        headers.remove(TE);
    }
    if keep_te {
        headers.insert(TE, HeaderValue::from_static("trailers"));
    }
    upgrade
}

/// What is known about the connection when setting forwarded headers.
#[derive(Debug, Clone, Copy)]
pub struct Forwarding<'a> {
    /// The client's IP as seen on the socket, as header text ([`ip_value`]).
    pub client_ip: Option<&'a HeaderValue>,
    /// Whether the client connection is TLS.
    pub tls: bool,
    /// Whether this is a WebSocket upgrade (proto `ws`/`wss`).
    pub websocket: bool,
    /// The client's `Host` (with port), for `X-Forwarded-Host`/`-Port`; used only when it
    /// is visible ASCII.
    pub host: Option<&'a HeaderValue>,
    /// This machine's hostname, for `X-Forwarded-Server`.
    pub server: &'a HeaderValue,
    /// Whether the peer is trusted to send forwarded headers.
    pub trusted: bool,
}

/// `ip` as header text (`10.1.2.3`, `::1`; an IPv4-mapped IPv6 address as IPv4).
pub fn ip_value(ip: IpAddr) -> Option<HeaderValue> {
    HeaderValue::try_from(ip.to_canonical().to_string()).ok()
}

/// Drops untrusted client forwarded headers, then sets weir's, as Traefik does: existing
/// (trusted) values are kept and the client IP is appended to `X-Forwarded-For`.
pub fn set_forwarded(headers: &mut HeaderMap, f: &Forwarding<'_>) {
    // One pass over the names instead of 22 lookups: most clients send none of them.
    let sent = headers.keys().any(|name| is_forwarded(name.as_str()));
    if sent && !f.trusted {
        for name in UNTRUSTED {
            headers.remove(name);
        }
    }
    // Without a trusted client's own forwarded headers, none of weir's is there: each is
    // inserted without a lookup first (a hash of its name fewer each).
    // The value is made only when it is set.
    let kept = sent && f.trusted;
    let put = |headers: &mut HeaderMap, name: HeaderName, v: &dyn Fn() -> Option<HeaderValue>| {
        if !kept {
            if let Some(v) = v() {
                headers.insert(name, v);
            }
        } else if let Entry::Vacant(slot) = headers.entry(name)
            && let Some(v) = v()
        {
            slot.insert(v);
        }
    };
    // A clone shares the connection's bytes.
    let ip = f.client_ip.cloned();
    let prev = if kept {
        headers.get(&X_FORWARDED_FOR).map(HeaderValue::as_bytes)
    } else {
        None
    };
    let xff = match prev {
        Some(prev) if !prev.is_empty() => ip.as_ref().and_then(|ip| {
            let mut joined = Vec::with_capacity(prev.len() + 2 + ip.len());
            joined.extend_from_slice(prev);
            joined.extend_from_slice(b", ");
            joined.extend_from_slice(ip.as_bytes());
            HeaderValue::from_bytes(&joined).ok()
        }),
        _ => ip.clone(),
    };
    if let Some(v) = xff {
        headers.insert(X_FORWARDED_FOR, v);
    }
    let proto = match (f.tls, f.websocket) {
        (true, true) => "wss",
        (true, false) => "https",
        (false, true) => "ws",
        (false, false) => "http",
    };
    put(headers, X_FORWARDED_PROTO, &|| {
        Some(HeaderValue::from_static(proto))
    });
    // A clone shares the request's bytes: no allocation, no second validation.
    let host = f.host.and_then(|h| Some((h, h.to_str().ok()?)));
    put(headers, X_FORWARDED_HOST, &|| host.map(|(v, _)| v.clone()));
    put(
        headers,
        X_FORWARDED_PORT,
        &|| match host.and_then(|(_, h)| super::host::port(h)) {
            Some(port) => HeaderValue::try_from(port).ok(),
            None => Some(HeaderValue::from_static(if f.tls { "443" } else { "80" })),
        },
    );
    headers.insert(X_FORWARDED_SERVER, f.server.clone());
    // Clones share the connection's bytes.
    put(headers, X_REAL_IP, &|| ip.clone());
}

/// Whether `name` (lower case) is one of [`UNTRUSTED`]; most names are told apart by
/// their first two bytes.
fn is_forwarded(name: &str) -> bool {
    (name.starts_with("x-") || name.starts_with("x_")) && UNTRUSTED.contains(&name)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A header map of `pairs`, appended in order (repeated names give several values).
    pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn strips_hop_by_hop_and_connection_listed() {
        let mut h = headers(&[
            ("connection", "keep-alive, x-secret, X-Forwarded-For"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("x-forwarded-for", "1.2.3.4"),
            ("te", "gzip, trailers"),
            ("proxy-connection", "keep-alive"),
            ("accept", "*/*"),
        ]);
        assert_eq!(strip_hop_by_hop(&mut h), None);
        assert!(!h.contains_key("connection"));
        assert!(!h.contains_key("keep-alive"));
        assert!(!h.contains_key("x-secret"));
        assert!(!h.contains_key("proxy-connection"));
        assert_eq!(
            h["x-forwarded-for"], "1.2.3.4",
            "managed header survives Connection"
        );
        assert_eq!(h["te"], "trailers");
        assert_eq!(h["accept"], "*/*");
    }

    #[test]
    fn reports_upgrade() {
        let mut h = headers(&[("connection", "Upgrade"), ("upgrade", "websocket")]);
        assert_eq!(strip_hop_by_hop(&mut h).unwrap(), "websocket");
        assert!(!h.contains_key("upgrade"));
        let mut h = headers(&[("upgrade", "websocket")]);
        assert_eq!(
            strip_hop_by_hop(&mut h),
            None,
            "Upgrade without Connection is not a request"
        );
    }

    static CLIENT: HeaderValue = HeaderValue::from_static("10.1.2.3");

    fn fwd<'a>(
        server: &'a HeaderValue,
        trusted: bool,
        host: Option<&'a HeaderValue>,
    ) -> Forwarding<'a> {
        Forwarding {
            client_ip: Some(&CLIENT),
            tls: false,
            websocket: false,
            host,
            server,
            trusted,
        }
    }

    #[test]
    fn te_trailers_survives_being_listed_in_connection() {
        let mut h = headers(&[
            ("connection", "TE, X-Custom, not a name,,"),
            ("te", "trailers"),
            ("x-custom", "1"),
        ]);
        assert_eq!(strip_hop_by_hop(&mut h), None);
        assert_eq!(h["te"], "trailers");
        assert!(!h.contains_key("x-custom") && !h.contains_key("connection"));
        let mut h = headers(&[("te", "gzip"), ("accept", "*/*")]);
        strip_hop_by_hop(&mut h);
        assert!(!h.contains_key("te"), "only trailers is passed on");
        let mut h = headers(&[("connection", "keep-alive"), ("accept", "*/*")]);
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert_eq!(h["accept"], "*/*");
    }

    #[test]
    fn client_ips_are_written_as_go_prints_them() {
        let text = |ip: &str| ip_value(ip.parse().unwrap()).unwrap();
        assert_eq!(text("10.1.2.3"), "10.1.2.3");
        assert_eq!(text("::ffff:10.1.2.3"), "10.1.2.3");
        assert_eq!(text("2001:db8::7"), "2001:db8::7");
    }

    #[test]
    fn untrusted_forwarded_headers_are_replaced() {
        let server = HeaderValue::from_static("edge-1");
        let mut h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
            ("x-real-ip", "6.6.6.6"),
            ("x_forwarded_for", "6.6.6.6"),
        ]);
        set_forwarded(
            &mut h,
            &fwd(
                &server,
                false,
                Some(&HeaderValue::from_static("Example.com:8000")),
            ),
        );
        assert_eq!(h["x-forwarded-for"], "10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "Example.com:8000");
        assert_eq!(h["x-forwarded-port"], "8000");
        assert_eq!(h["x-forwarded-server"], "edge-1");
        assert_eq!(h["x-real-ip"], "10.1.2.3");
        assert!(!h.contains_key("x_forwarded_for"));
    }

    #[test]
    fn trusted_forwarded_headers_are_kept_and_appended() {
        let server = HeaderValue::from_static("edge-1");
        let mut h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
        ]);
        set_forwarded(
            &mut h,
            &fwd(
                &server,
                true,
                Some(&HeaderValue::from_static("example.com")),
            ),
        );
        assert_eq!(h["x-forwarded-for"], "6.6.6.6, 10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-port"], "80");
    }

    #[test]
    fn trusted_nets() {
        let (t, bad) = TrustedNets::new(false, &["10.0.0.0/8".into(), "::1".into(), "nope".into()]);
        assert_eq!(bad, vec!["nope".to_string()]);
        assert!(t.trusts("10.9.9.9".parse().unwrap()));
        assert!(t.trusts("::ffff:10.0.0.1".parse().unwrap()));
        assert!(t.trusts("::1".parse().unwrap()));
        assert!(!t.trusts("11.0.0.1".parse().unwrap()));
        assert!(
            TrustedNets::new(true, &[])
                .0
                .trusts("1.1.1.1".parse().unwrap())
        );
    }
}
