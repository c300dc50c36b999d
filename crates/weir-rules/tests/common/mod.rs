//! Shared test helpers: an owned request that lends a `RequestView`.
#![allow(dead_code)]

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use weir_rules::{RequestView, Rule};

#[derive(Clone, Debug)]
pub struct Req {
    pub host: String,
    pub path: String,
    pub method: Method,
    pub headers: HeaderMap,
    pub query: String,
    pub client_ip: Option<std::net::IpAddr>,
}

impl Default for Req {
    fn default() -> Self {
        Req {
            host: "example.com".into(),
            path: "/".into(),
            method: Method::GET,
            headers: HeaderMap::new(),
            query: String::new(),
            client_ip: None,
        }
    }
}

impl Req {
    pub fn host(h: &str) -> Req {
        Req {
            host: h.into(),
            ..Req::default()
        }
    }
    pub fn path(p: &str) -> Req {
        Req {
            path: p.into(),
            ..Req::default()
        }
    }
    pub fn query(q: &str) -> Req {
        Req {
            query: q.into(),
            ..Req::default()
        }
    }
    pub fn method(m: &str) -> Req {
        Req {
            method: Method::from_bytes(m.as_bytes()).unwrap(),
            ..Req::default()
        }
    }
    pub fn ip(ip: &str) -> Req {
        Req {
            client_ip: Some(ip.parse().unwrap()),
            ..Req::default()
        }
    }
    pub fn headers(pairs: &[(&str, &str)]) -> Req {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Req {
            headers,
            ..Req::default()
        }
    }
    pub fn view(&self) -> RequestView<'_> {
        RequestView {
            host: &self.host,
            path: &self.path,
            method: &self.method,
            headers: &self.headers,
            query: &self.query,
            client_ip: self.client_ip,
        }
    }
}

/// Parses `rule` (must be valid) and evaluates it.
pub fn matches(rule: &str, req: &Req) -> bool {
    Rule::parse(rule)
        .unwrap_or_else(|e| panic!("rule {rule:?} should parse: {e}"))
        .matches(&req.view())
}

/// Asserts each (request, expected) pair for one rule.
pub fn check(rule: &str, cases: &[(Req, bool)]) {
    let parsed = Rule::parse(rule).unwrap_or_else(|e| panic!("rule {rule:?} should parse: {e}"));
    for (req, want) in cases {
        assert_eq!(
            parsed.matches(&req.view()),
            *want,
            "rule {rule:?} on {req:?}"
        );
    }
}
