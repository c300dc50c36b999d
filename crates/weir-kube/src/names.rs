//! Generated names, following Traefik's scheme so the API and metrics look familiar.

use aws_lc_rs::digest;

/// Traefik's `provider.Normalize`: every run of characters that are neither letters nor
/// digits becomes one `-`, and leading and trailing runs are dropped.
/// `normalize("default/whoami.80") == "default-whoami-80"`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(part);
    }
    out
}

/// The first `bytes` bytes of SHA-256(`text`), in lower-case hex.
pub fn sha256_prefix(text: &str, bytes: usize) -> String {
    let d = digest::digest(&digest::SHA256, text.as_bytes());
    d.as_ref()
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An IngressRoute router's name: `Normalize(ns-name-<sha256(match)[:10 bytes]>)`.
pub fn ingress_route_router(namespace: &str, name: &str, rule: &str) -> String {
    normalize(&format!("{namespace}-{name}-{}", sha256_prefix(rule, 10)))
}

/// `Normalize(namespace-name)`: middlewares, TraefikServices, TLS options, transports.
pub fn object_id(namespace: &str, name: &str) -> String {
    normalize(&format!("{namespace}-{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_traefik() {
        assert_eq!(normalize("default/whoami.80"), "default-whoami-80");
        assert_eq!(normalize("-a--b_c-"), "a-b-c");
        assert_eq!(normalize("ns-ing-/api(/|$)(.*)"), "ns-ing-api");
    }

    #[test]
    fn router_name_matches_traefik_fixture() {
        // Traefik's test fixture: default-test-route-6b204d94623b3df4370c.
        assert_eq!(
            ingress_route_router(
                "default",
                "test.route",
                "Host(`foo.com`) && PathPrefix(`/bar`)"
            ),
            "default-test-route-6b204d94623b3df4370c"
        );
    }
}
