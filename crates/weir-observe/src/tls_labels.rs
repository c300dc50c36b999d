//! The `tls_version` and `tls_cipher` label values of `*_requests_tls_total`, as Traefik
//! writes them (`1.2`, `1.3`; Go's cipher suite names), packed into one small index so a
//! request counts into a fixed array slot.

/// Versions with their own label value; anything else is `unknown`.
const VERSIONS: [(&str, &str); 4] = [
    ("TLSv1_3", "1.3"),
    ("TLSv1_2", "1.2"),
    ("TLSv1_1", "1.1"),
    ("TLSv1_0", "1.0"),
];

/// Cipher suites (rustls's name, the label Traefik writes); anything else is `unknown`.
const CIPHERS: [(&str, &str); 9] = [
    ("TLS13_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
    ("TLS13_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    (
        "TLS13_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
];

/// Distinct (version, cipher) label pairs, `unknown` of each included.
pub const TLS_LABELS: usize = (VERSIONS.len() + 1) * (CIPHERS.len() + 1);

/// A (tls_version, tls_cipher) label pair, computed once per TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsLabel(u8);

impl TlsLabel {
    /// From rustls's protocol version (`TLSv1_3`) and cipher suite (`TLS13_AES_128_GCM_SHA256`)
    /// names.
    pub fn new(version: &str, cipher: &str) -> Self {
        let v = VERSIONS
            .iter()
            .position(|(n, _)| *n == version)
            .unwrap_or(VERSIONS.len());
        let c = CIPHERS
            .iter()
            .position(|(n, _)| *n == cipher)
            .unwrap_or(CIPHERS.len());
        TlsLabel(u8::try_from(v * (CIPHERS.len() + 1) + c).unwrap_or(u8::MAX))
    }

    /// Its slot, below [`TLS_LABELS`].
    pub fn index(self) -> usize {
        usize::from(self.0).min(TLS_LABELS - 1)
    }

    /// The pair for a slot index.
    pub fn labels(index: usize) -> (&'static str, &'static str) {
        let v = index / (CIPHERS.len() + 1);
        let c = index % (CIPHERS.len() + 1);
        (
            VERSIONS.get(v).map_or("unknown", |p| p.1),
            CIPHERS.get(c).map_or("unknown", |p| p.1),
        )
    }
}

/// A certificate serial number given in hex (colons allowed) as the decimal string Traefik
/// writes in the `serial` label; the input unchanged when it is not hex.
pub fn serial_decimal(hex: &str) -> String {
    let digits: Vec<u8> = hex
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_default();
    if digits.is_empty() {
        return hex.to_owned();
    }
    // Repeated division by ten of the base-16 digit string.
    let mut number = digits;
    let mut out = Vec::new();
    while number.iter().any(|d| *d != 0) {
        let mut rest = 0u32;
        let mut next = Vec::with_capacity(number.len());
        for d in &number {
            let cur = rest * 16 + u32::from(*d);
            let q = u8::try_from(cur / 10).unwrap_or(0);
            rest = cur % 10;
            if !(next.is_empty() && q == 0) {
                next.push(q);
            }
        }
        out.push(char::from_digit(rest, 10).unwrap_or('0'));
        number = next;
    }
    if out.is_empty() {
        return "0".to_owned();
    }
    out.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_labels_round_trip() {
        let l = TlsLabel::new("TLSv1_3", "TLS13_AES_256_GCM_SHA384");
        assert_eq!(
            TlsLabel::labels(l.index()),
            ("1.3", "TLS_AES_256_GCM_SHA384")
        );
        let l = TlsLabel::new("TLSv1_2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(
            TlsLabel::labels(l.index()),
            ("1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        let l = TlsLabel::new("SSLv3", "whatever");
        assert_eq!(TlsLabel::labels(l.index()), ("unknown", "unknown"));
        assert!(l.index() < TLS_LABELS);
    }

    #[test]
    fn serials_in_decimal() {
        assert_eq!(serial_decimal("ff"), "255");
        assert_eq!(serial_decimal("01:00"), "256");
        assert_eq!(serial_decimal("00"), "0");
        assert_eq!(
            serial_decimal("0123456789abcdef0123"),
            "5373003642731685151011"
        );
        assert_eq!(serial_decimal("zz"), "zz");
    }
}
