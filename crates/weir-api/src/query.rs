//! Query parameters of the list endpoints: `search`, `status`, `serviceName`,
//! `middlewareName`, `sortBy`, `direction`, `page`, `per_page` (Traefik's names and
//! defaults).

use std::ops::Range;

use serde_json::{Map, Value};

use crate::sort::Order;

/// Which page of a list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number.
    pub number: usize,
    /// Items per page (default 100).
    pub per_page: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            number: 1,
            per_page: 100,
        }
    }
}

impl Page {
    /// The item range of this page in a list of `len`, and the next page number (1 after
    /// the last page, as Traefik's `X-Next-Page`); `None` when the page is past the end.
    pub fn slice(&self, len: usize) -> Option<(Range<usize>, usize)> {
        let start = (self.number - 1).saturating_mul(self.per_page);
        if start > len || (start == len && len > 0) {
            return None;
        }
        let end = start.saturating_add(self.per_page).min(len);
        let next = if end < len { self.number + 1 } else { 1 };
        Some((start..end, next))
    }
}

/// Parsed list parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub page: Page,
    /// Why `page` or `per_page` cannot be used (Traefik's message), answered as a 400.
    pub page_error: Option<String>,
    pub search: String,
    pub status: String,
    pub service_name: String,
    pub middleware_name: String,
    pub order: Order,
}

impl Params {
    /// The parameters of `query`; as Go's `url.Values.Get`, the first value of a repeated
    /// name counts.
    pub fn parse(query: &str) -> Params {
        let mut p = Params::default();
        let (mut sort_by, mut direction) = (None, None);
        let mut seen: Vec<&str> = Vec::new();
        for pair in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let v = percent_decode(&v.replace('+', " "));
            match k {
                "search" => p.search = v.to_lowercase(),
                "status" => p.status = v,
                "serviceName" => p.service_name = v,
                "middlewareName" => p.middleware_name = v,
                "sortBy" => sort_by = Some(v),
                "direction" => direction = Some(v),
                "page" | "per_page" if !v.is_empty() => {
                    // Go's Atoi: a sign is allowed, anything else that is not a number is
                    // reported as 0.
                    let n = v.parse::<i64>().unwrap_or(0);
                    match usize::try_from(n) {
                        Ok(n) if n > 0 && k == "page" => p.page.number = n,
                        Ok(n) if n > 0 => p.page.per_page = n,
                        _ => {
                            p.page_error
                                .get_or_insert_with(|| format!("invalid request: {k}: {n}"));
                        }
                    }
                }
                _ => {}
            }
        }
        p.order = Order::new(sort_by.as_deref(), direction.as_deref());
        p
    }

    /// Whether an element with `name` (and `extra` searchable text) and `status` passes
    /// the `search` and `status` filters (the status compared case-insensitively, as
    /// Traefik does).
    pub fn keeps(&self, name: &str, extra: &str, status: &str) -> bool {
        (self.status.is_empty() || self.status.eq_ignore_ascii_case(status))
            && (self.search.is_empty()
                || name.to_lowercase().contains(&self.search)
                || extra.to_lowercase().contains(&self.search))
    }

    /// Whether a router (as the API shows it) passes `serviceName` and `middlewareName`,
    /// matched as Traefik matches them against the configured names: a qualified
    /// `service` (`name@provider`) must equal `serviceName`, an unqualified one its part
    /// before `@`; `middlewareName` must be one of `middlewares` as written.
    pub fn keeps_links(&self, router: &Map<String, Value>) -> bool {
        let service = router.get("service").and_then(Value::as_str).unwrap_or("");
        let service_ok = self.service_name.is_empty()
            || if service.contains('@') {
                self.service_name == service
            } else {
                self.service_name.split('@').next() == Some(service)
            };
        let middleware_ok = self.middleware_name.is_empty()
            || router
                .get("middlewares")
                .and_then(Value::as_array)
                .is_some_and(|m| m.iter().any(|m| m.as_str() == Some(&self.middleware_name)));
        service_ok && middleware_ok
    }
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_like_traefik() {
        let p = Page {
            number: 1,
            per_page: 2,
        };
        assert_eq!(p.slice(5), Some((0..2, 2)));
        let p = Page {
            number: 3,
            per_page: 2,
        };
        assert_eq!(p.slice(5), Some((4..5, 1)));
        let p = Page {
            number: 4,
            per_page: 2,
        };
        assert_eq!(p.slice(5), None);
        assert_eq!(Page::default().slice(0), Some((0..0, 1)));
    }

    #[test]
    fn decodes_and_parses() {
        assert_eq!(percent_decode("whoami%40file"), "whoami@file");
        assert_eq!(percent_decode("bad%4"), "bad%4");
        let p = Params::parse("search=Who&status=Enabled&page=2&per_page=&page=3");
        assert_eq!(p.search, "who");
        assert_eq!(p.page.number, 2, "the first value counts");
        assert_eq!(p.page.per_page, 100, "an empty value is the default");
        assert_eq!(p.page_error, None);
        assert!(p.keeps("whoami@file", "", "enabled"));
        assert!(!p.keeps("echo@file", "", "enabled"));
        let bad = |q: &str| Params::parse(q).page_error;
        assert_eq!(
            bad("per_page=x").as_deref(),
            Some("invalid request: per_page: 0")
        );
        assert_eq!(bad("page=-2").as_deref(), Some("invalid request: page: -2"));
        assert_eq!(
            bad("page=0&per_page=0").as_deref(),
            Some("invalid request: page: 0")
        );
        assert_eq!(bad("page=%2B2"), None, "a sign, as Go reads it");
    }

    #[test]
    fn links_match_as_traefik_matches_them() {
        let router = |v: Value| v.as_object().cloned().unwrap_or_default();
        let plain = router(serde_json::json!({"service": "fii-service", "middlewares": ["auth"]}));
        let qualified = router(serde_json::json!({"service": "fii-service@myprovider"}));
        let p = Params::parse("serviceName=fii-service@myprovider");
        assert!(p.keeps_links(&plain) && p.keeps_links(&qualified));
        let p = Params::parse("serviceName=fii-service");
        assert!(p.keeps_links(&plain) && !p.keeps_links(&qualified));
        let p = Params::parse("serviceName=fii-service@other");
        assert!(p.keeps_links(&plain) && !p.keeps_links(&qualified));
        assert!(Params::parse("middlewareName=auth").keeps_links(&plain));
        assert!(!Params::parse("middlewareName=auth@file").keeps_links(&plain));
        assert!(!Params::parse("middlewareName=auth").keeps_links(&qualified));
    }
}
