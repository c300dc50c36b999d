//! The `Location` of a denial, resolved against the authentication server's address as Go's
//! `Response.Location` does, so a relative redirect still points at the auth server.

use http::HeaderValue;
use http::uri::PathAndQuery;

use crate::upstream::{ServerScheme, ServerTarget};

/// `Ok(None)`: keep the header as it is (already absolute, or empty). `Err`: unreadable.
pub(super) fn resolve(
    target: &ServerTarget,
    base: &PathAndQuery,
    loc: &HeaderValue,
) -> Result<Option<HeaderValue>, ()> {
    let loc = loc.to_str().map_err(|_| ())?;
    if loc.is_empty() || has_scheme(loc) {
        return Ok(None);
    }
    let scheme = match target.scheme() {
        ServerScheme::Https => "https",
        ServerScheme::Http | ServerScheme::H2c => "http",
    };
    let authority = target.authority().as_str();
    let resolved = if let Some(rest) = loc.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if loc.starts_with('/') {
        format!("{scheme}://{authority}{loc}")
    } else if loc.starts_with('?') {
        format!("{scheme}://{authority}{}{loc}", base.path())
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{scheme}://{authority}{dir}{loc}")
    };
    HeaderValue::try_from(resolved).map(Some).map_err(|_| ())
}

/// Whether `loc` starts with `scheme:` (RFC 3986: a letter, then letters, digits, `+-.`).
fn has_scheme(loc: &str) -> bool {
    let Some((scheme, _)) = loc.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(address: &str, loc: &str) -> String {
        let target = ServerTarget::parse(address, false).expect("target");
        let uri: http::Uri = address.parse().expect("uri");
        let base = uri.path_and_query().cloned().expect("pq");
        match resolve(&target, &base, &HeaderValue::from_str(loc).expect("value")) {
            Ok(Some(v)) => v.to_str().expect("str").to_owned(),
            Ok(None) => loc.to_owned(),
            Err(()) => "error".into(),
        }
    }

    #[test]
    fn resolves_like_go() {
        let a = "http://auth:9000/api/verify?x=1";
        assert_eq!(run(a, "https://login.example/"), "https://login.example/");
        assert_eq!(run(a, "/login?rd=1"), "http://auth:9000/login?rd=1");
        assert_eq!(run(a, "login"), "http://auth:9000/api/login");
        assert_eq!(run(a, "//sso.example/x"), "http://sso.example/x");
        assert_eq!(run(a, "?again"), "http://auth:9000/api/verify?again");
        assert_eq!(run("https://auth/", "in"), "https://auth/in");
    }
}
