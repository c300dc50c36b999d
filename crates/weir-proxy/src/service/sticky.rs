//! Sticky sessions by cookie, as Traefik's `sticky.cookie`.

use std::collections::HashMap;

use http::header::{self, HeaderMap, HeaderValue};

/// The `SameSite` attribute of the sticky cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=None`
    None,
    /// `SameSite=Lax`
    Lax,
    /// `SameSite=Strict`
    Strict,
}

impl SameSite {
    /// Traefik's `sameSite` values (`none`, `lax`, `strict`, any case); anything else means
    /// no attribute.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "lax" => Some(Self::Lax),
            "strict" => Some(Self::Strict),
            _ => None,
        }
    }
}

/// `sticky.cookie` settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StickyCookie {
    /// The cookie name; see [`StickyCookie::new`] for the default.
    pub name: String,
    /// `Secure`.
    pub secure: bool,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite`, none by default.
    pub same_site: Option<SameSite>,
    /// `Max-Age`: 0 omits it (a session cookie), negative writes `Max-Age=0`.
    pub max_age: i64,
    /// `Path` (Traefik: `/`).
    pub path: String,
    /// `Domain`, none by default.
    pub domain: Option<String>,
}

impl StickyCookie {
    /// Settings with Traefik's defaults for service `service_name`: the name is `name` made
    /// cookie-safe (invalid characters become `_`), or when empty
    /// [`default_cookie_name`]`(service_name)`; path `/`; no other attribute.
    pub fn new(name: Option<&str>, service_name: &str) -> Self {
        let name = match name {
            Some(n) if !n.is_empty() => n
                .chars()
                .map(|c| if is_token_char(c) { c } else { '_' })
                .collect(),
            _ => default_cookie_name(service_name),
        };
        Self {
            name,
            secure: false,
            http_only: false,
            same_site: None,
            max_age: 0,
            path: "/".into(),
            domain: None,
        }
    }

    /// The `Set-Cookie` value pinning a client to `value`, attributes in Go's order.
    pub(crate) fn set_cookie(&self, value: &str) -> Option<HeaderValue> {
        let mut s = format!("{}={}", self.name, value);
        if !self.path.is_empty() {
            s.push_str("; Path=");
            s.push_str(&self.path);
        }
        if let Some(domain) = self.domain.as_deref().filter(|d| !d.is_empty()) {
            s.push_str("; Domain=");
            s.push_str(domain.trim_start_matches('.'));
        }
        if self.max_age > 0 {
            s.push_str(&format!("; Max-Age={}", self.max_age));
        } else if self.max_age < 0 {
            s.push_str("; Max-Age=0");
        }
        if self.http_only {
            s.push_str("; HttpOnly");
        }
        if self.secure {
            s.push_str("; Secure");
        }
        match self.same_site {
            Some(SameSite::None) => s.push_str("; SameSite=None"),
            Some(SameSite::Lax) => s.push_str("; SameSite=Lax"),
            Some(SameSite::Strict) => s.push_str("; SameSite=Strict"),
            None => {}
        }
        HeaderValue::try_from(s).ok()
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Traefik's default sticky cookie name: `"_" + hex(sha1("_TRAEFIK_BACKEND_" + service))`
/// cut to 6 characters (`pkg/server/cookie/cookie.go`).
pub fn default_cookie_name(service_name: &str) -> String {
    let digest = sha1(format!("_TRAEFIK_BACKEND_{service_name}").as_bytes());
    let mut name = format!("_{}", crate::hex::lower(&digest[..3]));
    name.truncate(6);
    name
}

/// The cookie value for a server or child service: FNV-1 64 of its name (the server URL or
/// the child service name) in hex, as Traefik v3 writes it.
pub fn cookie_value(name: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name.as_bytes() {
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        hash ^= u64::from(b);
    }
    format!("{hash:x}")
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn find_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.trim_matches('"'))
        })
}

/// Sticky state of one balancer: the settings, each target's `Set-Cookie` header, and the
/// lookup from cookie value (hash, or the raw name as older Traefik wrote it) to target.
#[derive(Debug)]
pub(crate) struct Sticky {
    cookie: StickyCookie,
    set_cookies: Box<[Option<HeaderValue>]>,
    lookup: HashMap<Box<str>, usize>,
}

impl Sticky {
    pub(crate) fn new<'a>(cookie: StickyCookie, names: impl Iterator<Item = &'a str>) -> Self {
        let mut set_cookies = Vec::new();
        let mut lookup = HashMap::new();
        for (i, name) in names.enumerate() {
            let value = cookie_value(name);
            set_cookies.push(cookie.set_cookie(&value));
            lookup.entry(value.into_boxed_str()).or_insert(i);
            lookup.entry(Box::from(name)).or_insert(i);
        }
        Self {
            cookie,
            set_cookies: set_cookies.into_boxed_slice(),
            lookup,
        }
    }

    /// The target the request's cookie pins, if any.
    pub(crate) fn pinned(&self, headers: &HeaderMap) -> Option<usize> {
        let value = find_cookie(headers, &self.cookie.name)?;
        self.lookup.get(value).copied()
    }

    /// Adds the cookie pinning the client to target `i`.
    pub(crate) fn set(&self, headers: &mut HeaderMap, i: usize) {
        if let Some(Some(v)) = self.set_cookies.get(i) {
            headers.append(header::SET_COOKIE, v.clone());
        }
    }
}

/// SHA-1, only for Traefik's cookie names.
fn sha1(data: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_vectors() {
        assert_eq!(
            crate::hex::lower(&sha1(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            crate::hex::lower(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            crate::hex::lower(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn default_name_is_underscore_and_five_hex_digits() {
        let name = default_cookie_name("whoami@file");
        assert_eq!(name.len(), 6);
        assert!(name.starts_with('_'));
        let digest = crate::hex::lower(&sha1(b"_TRAEFIK_BACKEND_whoami@file"));
        assert_eq!(&name[1..], &digest[..5]);
    }

    #[test]
    fn fnv1_64() {
        // FNV-1 64 test vectors: "" and "a".
        assert_eq!(cookie_value(""), "cbf29ce484222325");
        assert_eq!(cookie_value("a"), "af63bd4c8601b7be");
    }

    #[test]
    fn set_cookie_attributes() {
        let mut c = StickyCookie::new(Some("my cookie"), "svc");
        assert_eq!(c.name, "my_cookie");
        c.secure = true;
        c.http_only = true;
        c.same_site = SameSite::parse("LAX");
        c.max_age = 60;
        c.domain = Some("example.com".into());
        assert_eq!(
            c.set_cookie("v").expect("header"),
            "my_cookie=v; Path=/; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn finds_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; _abcde=xyz"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(find_cookie(&h, "_abcde"), Some("xyz"));
        assert_eq!(find_cookie(&h, "b"), Some("2"));
        assert_eq!(find_cookie(&h, "c"), None);
    }
}
