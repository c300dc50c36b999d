//! `Host(...)` matching: exact, `*`, one-label wildcard, trailing-dot tolerance.

/// A compiled `Host` value, lower-cased.
#[derive(Debug, Clone)]
pub(crate) enum HostPattern {
    /// `*`: every request, including one without a host.
    Any,
    /// A host name or address.
    Exact(String),
    /// Anything starting with `*` other than `*` itself: the first request label is replaced by
    /// `*` and the result compared with the pattern, so `*.example.com` covers exactly one label.
    Wildcard(String),
}

impl HostPattern {
    pub(crate) fn new(value: &str) -> HostPattern {
        let v = value.to_ascii_lowercase();
        if v == "*" {
            HostPattern::Any
        } else if v.starts_with('*') {
            HostPattern::Wildcard(v)
        } else {
            HostPattern::Exact(v)
        }
    }

    /// `host` is the canonical request host (lower-cased, no port); may end with a dot.
    pub(crate) fn matches(&self, host: &str) -> bool {
        let pat = match self {
            HostPattern::Any => return true,
            HostPattern::Exact(p) | HostPattern::Wildcard(p) => p.as_str(),
        };
        if host.is_empty() {
            return false;
        }
        // A trailing dot on either side is tolerated (one dot, as Traefik does).
        let host_nodot = host.strip_suffix('.');
        let pat_nodot = pat.strip_suffix('.');
        let eq = |h: &str, p: &str| match self {
            HostPattern::Wildcard(_) => wildcard_eq(h, p),
            _ => h == p,
        };
        eq(host, pat)
            || pat_nodot.is_some_and(|p| eq(host, p))
            || host_nodot.is_some_and(|h| eq(h, pat))
    }
}

/// Go: `labels := strings.Split(domain, "."); labels[0] = "*"; EqualFold(expr, join(labels))`.
fn wildcard_eq(host: &str, pat: &str) -> bool {
    match host.find('.') {
        Some(dot) => pat.strip_prefix('*') == host.get(dot..),
        None => pat == "*",
    }
}

/// The key a host is indexed under: trailing dots removed, so every trailing-dot variant
/// that can match lands in the same bucket (the full matcher still decides).
pub(crate) fn index_key(host: &str) -> &str {
    host.trim_end_matches('.')
}

/// For `*.example.com`, the parent suffix `example.com`; `None` for other wildcards.
pub(crate) fn wildcard_parent(pat: &str) -> Option<&str> {
    pat.strip_prefix("*.")
        .map(index_key)
        .filter(|p| !p.is_empty())
}

/// The parent-suffix key of a request host: everything after its first label.
pub(crate) fn request_parent(host: &str) -> Option<&str> {
    host.find('.')
        .and_then(|d| host.get(d + 1..))
        .map(index_key)
}

/// Rejects values that cannot be a host (`Host(`/`)` is an error in Traefik).
pub(crate) fn validate(value: &str) -> Result<(), String> {
    if !value.is_ascii() {
        return Err(format!(
            "invalid value `{value}` for Host matcher, non-ASCII characters are not allowed"
        ));
    }
    let bad = value.chars().find(|c| {
        c.is_ascii_control() || c.is_ascii_whitespace() || "/?#@\\%,;\"'`<>|^{}".contains(*c)
    });
    match bad {
        Some(c) => Err(format!(
            "invalid value `{value}` for Host matcher: `{c}` is not allowed in a host"
        )),
        None => Ok(()),
    }
}
