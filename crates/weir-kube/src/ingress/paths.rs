//! Ingress hosts and paths as weir rules, with the precedence the Kubernetes API
//! documents: the host first (exact, then one-label wildcard, then no host), then the
//! longest path, then Exact before Prefix.

/// How a path is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMode {
    /// `Exact`.
    Exact,
    /// `Prefix`, element-wise.
    Prefix,
    /// `ImplementationSpecific` without regex mode: a plain string prefix (as ingress-nginx
    /// and Traefik do).
    StringPrefix,
    /// ingress-nginx regex mode (`use-regex` or `rewrite-target`): a case-insensitive
    /// regex anchored at the start.
    Regex,
}

/// Checks a host as the API validates it: no IP, no port, a `*.` wildcard only as the
/// whole first label.
pub fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Ok(());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "host {host:?} is an IP address; Ingress hosts must be DNS names"
        ));
    }
    let rest = host.strip_prefix("*.").unwrap_or(host);
    let ok = !rest.is_empty()
        && rest.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !ok {
        return Err(format!(
            "host {host:?} is not a lower-case DNS name (a wildcard must be a whole first label, as in *.example.com)"
        ));
    }
    Ok(())
}

/// The host tier used for precedence.
pub fn host_tier(host: &str) -> i64 {
    if host.is_empty() {
        1
    } else if host.starts_with("*.") {
        2
    } else {
        3
    }
}

/// `Host(...)` for a rule host and its aliases, or `None` for every host.
pub fn host_matcher(hosts: &[String]) -> Option<String> {
    match hosts {
        [] => None,
        [h] => Some(format!("Host(`{h}`)")),
        many => Some(format!(
            "({})",
            many.iter()
                .map(|h| format!("Host(`{h}`)"))
                .collect::<Vec<_>>()
                .join(" || ")
        )),
    }
}

/// Checks a path; Exact and Prefix paths follow the API's validation.
pub fn check_path(path: &str, mode: PathMode) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("path {path:?} must be absolute (start with /)"));
    }
    if path.chars().any(|c| c.is_control() || c == '`') {
        return Err(format!(
            "path {path:?} holds a control character or a backquote"
        ));
    }
    if path.len() > 4096 {
        return Err("path is longer than 4096 characters".into());
    }
    if matches!(mode, PathMode::Exact | PathMode::Prefix) {
        for bad in ["//", "/./", "/../", "%2f", "%2F"] {
            if path.contains(bad) {
                return Err(format!("path {path:?} must not contain {bad:?}"));
            }
        }
        if path.ends_with("/..") || path.ends_with("/.") {
            return Err(format!("path {path:?} must not end with /.. or /."));
        }
    }
    Ok(())
}

/// The path part of a rule.
pub fn path_matcher(path: &str, mode: PathMode) -> String {
    match mode {
        PathMode::Exact => format!("Path(`{path}`)"),
        PathMode::Prefix => {
            let trimmed = path.trim_end_matches('/');
            if trimmed.is_empty() {
                "PathPrefix(`/`)".to_owned()
            } else {
                // Element-wise: `/foo` and `/foo/` match `/foo`, `/foo/` and `/foo/bar`,
                // never `/foobar`.
                format!("(Path(`{trimmed}`) || PathPrefix(`{trimmed}/`))")
            }
        }
        PathMode::StringPrefix => format!("PathPrefix(`{path}`)"),
        PathMode::Regex => format!("PathRegexp(`{}`)", regex_of(path)),
    }
}

/// The regex of a regex-mode path: case-insensitive, anchored at the start only (an
/// nginx `location ~* "^path"`).
pub fn regex_of(path: &str) -> String {
    format!("(?i)^{path}")
}

/// The priority of a path rule: host tier, then path length, then Exact before Prefix.
/// `extra` breaks ties for routers that must win over their path's (canary headers).
pub fn priority(host: &str, path: &str, mode: PathMode, extra: i64) -> i64 {
    let len = i64::try_from(path.len().min(100_000)).unwrap_or(100_000);
    host_tier(host) * 1_000_000 + len * 4 + if mode == PathMode::Exact { 2 } else { 0 } + extra
}

/// Priority of the fallback to an Ingress' default backend for one of its hosts: below
/// every path of that host, above every rule of a lower host tier.
pub fn fallback_priority(host: &str) -> i64 {
    host_tier(host) * 1_000_000 - 1
}

/// Priority of the catch-all default backend (as Traefik's `default-router`).
pub const DEFAULT_ROUTER_PRIORITY: i64 = i32::MIN as i64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert!(check_host("foo.bar.com").is_ok());
        assert!(check_host("*.foo.com").is_ok());
        assert!(check_host("*").is_err());
        assert!(check_host("a.*.com").is_err());
        assert!(check_host("10.0.0.1").is_err());
        assert!(check_host("Foo.com").is_err());
        assert!(check_host("foo.com:80").is_err());
    }

    #[test]
    fn paths() {
        assert!(check_path("/foo", PathMode::Prefix).is_ok());
        assert!(check_path("foo", PathMode::Prefix).is_err());
        assert!(check_path("/a//b", PathMode::Exact).is_err());
        assert!(check_path("/a/..", PathMode::Exact).is_err());
        assert!(check_path("/api(/|$)(.*)", PathMode::Regex).is_ok());
        assert_eq!(path_matcher("/", PathMode::Prefix), "PathPrefix(`/`)");
        assert_eq!(
            path_matcher("/aaa/bbb/", PathMode::Prefix),
            "(Path(`/aaa/bbb`) || PathPrefix(`/aaa/bbb/`))"
        );
    }

    #[test]
    fn precedence() {
        assert!(
            priority("a.com", "/", PathMode::Prefix, 0)
                > priority("*.a.com", "/long/path", PathMode::Prefix, 0)
        );
        assert!(
            priority("", "/foo/", PathMode::Prefix, 0) > priority("", "/foo", PathMode::Prefix, 0)
        );
        assert!(
            priority("", "/foo", PathMode::Exact, 0) > priority("", "/foo", PathMode::Prefix, 0)
        );
        assert!(fallback_priority("a.com") < priority("a.com", "/", PathMode::Prefix, 0));
        assert!(fallback_priority("a.com") > priority("", "/very/long", PathMode::Exact, 0));
    }
}
