//! `addAuthCookiesToResponse`: cookies the authentication server set, added to the response.

use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};

use super::ForwardAuth;

/// The name of the cookie a `Set-Cookie` value sets.
fn cookie_name(v: &HeaderValue) -> Option<&str> {
    let s = v.to_str().ok()?;
    let (name, _) = s.split_once('=')?;
    Some(name.trim())
}

impl ForwardAuth {
    /// The authentication answer's `Set-Cookie` values whose cookie is listed.
    pub(super) fn cookies_to_add(&self, auth: &HeaderMap) -> Vec<HeaderValue> {
        if self.auth_cookies.is_empty() {
            return Vec::new();
        }
        auth.get_all(SET_COOKIE)
            .iter()
            .filter(|v| cookie_name(v).is_some_and(|n| self.auth_cookies.iter().any(|c| c == n)))
            .cloned()
            .collect()
    }
}

/// Adds `cookies` to a response, replacing the cookies of the same names it already sets.
pub(super) fn merge(headers: &mut HeaderMap, cookies: Vec<HeaderValue>) {
    let names: Vec<String> = cookies
        .iter()
        .filter_map(|c| cookie_name(c).map(str::to_owned))
        .collect();
    let kept: Vec<HeaderValue> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter(|v| !cookie_name(v).is_some_and(|n| names.iter().any(|m| m == n)))
        .cloned()
        .collect();
    headers.remove(SET_COOKIE);
    for v in kept.into_iter().chain(cookies) {
        headers.append(SET_COOKIE, v);
    }
}
