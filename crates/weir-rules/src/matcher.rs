//! Compiled matcher tree and its evaluation against a [`RequestView`].

use std::borrow::Cow;

use http::HeaderName;
use regex::Regex;

use crate::ast::{Call, Expr, MatcherKind};
use crate::error::RuleError;
use crate::host::{self, HostPattern};
use crate::ip::IpNet;
use crate::query;
use crate::regex::go_regex;
use crate::request::RequestView;

/// A compiled rule. `&&`/`||` chains are flattened so evaluation depth stays small.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Leaf(Leaf),
}

#[derive(Debug, Clone)]
pub(crate) enum Leaf {
    Host(HostPattern),
    HostRegexp(Regex),
    Path(String),
    PathPrefix(String),
    PathRegexp(Regex),
    Method(String),
    /// `None`: the key is not a valid header name, so no request can carry it.
    Header(Option<HeaderName>, String),
    HeaderRegexp(Option<HeaderName>, Regex),
    Query(String, String),
    QueryRegexp(String, Regex),
    ClientIp(IpNet),
}

impl Node {
    pub(crate) fn compile(src: &str, expr: &Expr) -> Result<Node, RuleError> {
        Ok(match expr {
            Expr::Matcher(call) => Node::Leaf(compile_leaf(src, call)?),
            Expr::Not(inner) => Node::Not(Box::new(Node::compile(src, inner)?)),
            Expr::And(..) => {
                let mut parts = Vec::new();
                flatten(expr, true, &mut parts);
                Node::All(compile_all(src, &parts)?)
            }
            Expr::Or(..) => {
                let mut parts = Vec::new();
                flatten(expr, false, &mut parts);
                Node::Any(compile_all(src, &parts)?)
            }
        })
    }

    pub(crate) fn matches(&self, req: &RequestView<'_>) -> bool {
        match self {
            Node::All(nodes) => nodes.iter().all(|n| n.matches(req)),
            Node::Any(nodes) => nodes.iter().any(|n| n.matches(req)),
            Node::Not(n) => !n.matches(req),
            Node::Leaf(leaf) => leaf.matches(req),
        }
    }
}

fn compile_all(src: &str, parts: &[&Expr]) -> Result<Vec<Node>, RuleError> {
    parts.iter().map(|e| Node::compile(src, e)).collect()
}

/// Collects the operands of a chain of the same operator.
fn flatten<'e>(expr: &'e Expr, and: bool, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::And(l, r) if and => {
            flatten(l, and, out);
            flatten(r, and, out);
        }
        Expr::Or(l, r) if !and => {
            flatten(l, and, out);
            flatten(r, and, out);
        }
        other => out.push(other),
    }
}

fn compile_leaf(src: &str, call: &Call) -> Result<Leaf, RuleError> {
    let arg = |i: usize| call.args.get(i).map(String::as_str).unwrap_or("");
    let at = |i: usize, msg: String| RuleError::new(src, call.arg_position(i), msg);
    // Regex errors point inside the argument: offset of the literal + 1 (opening quote) + offset
    // in the pattern, which is exact for backtick strings and close for escaped ones.
    let re = |i: usize| {
        go_regex(arg(i)).map_err(|e| {
            let pos = call.arg_position(i) + 1 + e.position;
            RuleError::new(src, pos, format!("{}: {}", call.kind.name(), e.message))
        })
    };
    let header = |i: usize| HeaderName::from_bytes(arg(i).as_bytes()).ok();
    Ok(match call.kind {
        MatcherKind::Host => {
            host::validate(arg(0)).map_err(|m| at(0, m))?;
            Leaf::Host(HostPattern::new(arg(0)))
        }
        MatcherKind::HostRegexp => {
            if !arg(0).is_ascii() {
                return Err(at(
                    0,
                    "invalid value for HostRegexp matcher, non-ASCII characters are not allowed"
                        .to_owned(),
                ));
            }
            Leaf::HostRegexp(re(0)?)
        }
        MatcherKind::Path | MatcherKind::PathPrefix => {
            let p = arg(0);
            if !p.starts_with('/') {
                return Err(at(0, format!("path `{p}` does not start with a `/`")));
            }
            if call.kind == MatcherKind::Path {
                Leaf::Path(p.to_owned())
            } else {
                Leaf::PathPrefix(p.to_owned())
            }
        }
        MatcherKind::PathRegexp => Leaf::PathRegexp(re(0)?),
        MatcherKind::Method => Leaf::Method(arg(0).to_ascii_uppercase()),
        MatcherKind::Header => Leaf::Header(header(0), arg(1).to_owned()),
        MatcherKind::HeaderRegexp => Leaf::HeaderRegexp(header(0), re(1)?),
        MatcherKind::Query => Leaf::Query(arg(0).to_owned(), arg(1).to_owned()),
        // With one argument QueryRegexp is Query(key), i.e. an empty value.
        MatcherKind::QueryRegexp if call.args.len() == 1 => {
            Leaf::Query(arg(0).to_owned(), String::new())
        }
        MatcherKind::QueryRegexp => Leaf::QueryRegexp(arg(0).to_owned(), re(1)?),
        MatcherKind::ClientIP => Leaf::ClientIp(IpNet::parse(arg(0)).ok_or_else(|| {
            at(
                0,
                format!(
                    "invalid value `{}` for ClientIP matcher, expected an IP or a CIDR",
                    arg(0)
                ),
            )
        })?),
    })
}

/// Regexes see text; bytes that are not UTF-8 become U+FFFD, like Go's rune decoding.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

impl Leaf {
    fn matches(&self, req: &RequestView<'_>) -> bool {
        match self {
            Leaf::Host(p) => p.matches(req.host),
            Leaf::HostRegexp(re) => re.is_match(req.host),
            Leaf::Path(p) => req.path == p,
            Leaf::PathPrefix(p) => req.path.starts_with(p.as_str()),
            Leaf::PathRegexp(re) => re.is_match(req.path),
            Leaf::Method(m) => req.method.as_str() == m,
            Leaf::Header(name, value) => name.as_ref().is_some_and(|n| {
                req.headers
                    .get_all(n)
                    .iter()
                    .any(|v| v.as_bytes() == value.as_bytes())
            }),
            Leaf::HeaderRegexp(name, re) => name.as_ref().is_some_and(|n| {
                req.headers
                    .get_all(n)
                    .iter()
                    .any(|v| re.is_match(&text(v.as_bytes())))
            }),
            Leaf::Query(key, value) => query::has_pair(req.query, key, value),
            Leaf::QueryRegexp(key, re) => {
                query::any_value(req.query, key, |v| re.is_match(&text(v)))
            }
            Leaf::ClientIp(net) => req.client_ip.is_some_and(|ip| net.contains(ip)),
        }
    }
}
