//! Query parameters of the list endpoints: `search`, `status`, `serviceName`,
//! `middlewareName`, `sortBy`, `direction`, `page`, `per_page` (Traefik's names and
//! defaults).

use std::ops::Range;

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
    pub search: String,
    pub status: String,
    pub service_name: String,
    pub middleware_name: String,
    pub order: Order,
}

impl Params {
    pub fn parse(query: &str) -> Params {
        let mut p = Params::default();
        let (mut sort_by, mut direction) = (None, None);
        for pair in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(&v.replace('+', " "));
            match k {
                "search" => p.search = v.to_lowercase(),
                "status" => p.status = v,
                "serviceName" => p.service_name = v,
                "middlewareName" => p.middleware_name = v,
                "sortBy" => sort_by = Some(v),
                "direction" => direction = Some(v),
                "page" => {
                    if let Ok(n) = v.parse::<usize>()
                        && n > 0
                    {
                        p.page.number = n;
                    }
                }
                "per_page" => {
                    if let Ok(n) = v.parse::<usize>()
                        && n > 0
                    {
                        p.page.per_page = n;
                    }
                }
                _ => {}
            }
        }
        p.order = Order::new(sort_by.as_deref(), direction.as_deref());
        p
    }

    /// These parameters in name order, whatever `sortBy` and `direction` say.
    pub fn by_name(&self) -> Params {
        Params {
            order: Order::default(),
            ..self.clone()
        }
    }

    /// Whether an element with `name` (and `extra` searchable text) and `status` passes
    /// the `search` and `status` filters.
    pub fn keeps(&self, name: &str, extra: &str, status: &str) -> bool {
        (self.status.is_empty() || self.status == status)
            && (self.search.is_empty()
                || name.to_lowercase().contains(&self.search)
                || extra.to_lowercase().contains(&self.search))
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
        let p = Params::parse("search=Who&status=enabled&page=2&per_page=x");
        assert_eq!(p.search, "who");
        assert_eq!(p.page.number, 2);
        assert_eq!(p.page.per_page, 100);
        assert!(p.keeps("whoami@file", "", "enabled"));
        assert!(!p.keeps("echo@file", "", "enabled"));
    }
}
