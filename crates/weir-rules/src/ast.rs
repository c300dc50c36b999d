//! The rule syntax tree and its rendering back to rule source.

use std::fmt;

/// The HTTP matchers of the Traefik v3 rule language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatcherKind {
    /// `Host(domain)`
    Host,
    /// `HostRegexp(re)`
    HostRegexp,
    /// `Path(path)`
    Path,
    /// `PathPrefix(prefix)`
    PathPrefix,
    /// `PathRegexp(re)`
    PathRegexp,
    /// `Method(method)`
    Method,
    /// `Header(key, value)`
    Header,
    /// `HeaderRegexp(key, re)`
    HeaderRegexp,
    /// `Query(key[, value])`
    Query,
    /// `QueryRegexp(key[, re])`
    QueryRegexp,
    /// `ClientIP(ip-or-cidr)`
    ClientIP,
}

impl MatcherKind {
    /// Every matcher, in documentation order.
    pub const ALL: [MatcherKind; 11] = [
        MatcherKind::Host,
        MatcherKind::HostRegexp,
        MatcherKind::Path,
        MatcherKind::PathPrefix,
        MatcherKind::PathRegexp,
        MatcherKind::Method,
        MatcherKind::Header,
        MatcherKind::HeaderRegexp,
        MatcherKind::Query,
        MatcherKind::QueryRegexp,
        MatcherKind::ClientIP,
    ];

    /// The canonical spelling, e.g. `PathPrefix`.
    pub fn name(self) -> &'static str {
        match self {
            MatcherKind::Host => "Host",
            MatcherKind::HostRegexp => "HostRegexp",
            MatcherKind::Path => "Path",
            MatcherKind::PathPrefix => "PathPrefix",
            MatcherKind::PathRegexp => "PathRegexp",
            MatcherKind::Method => "Method",
            MatcherKind::Header => "Header",
            MatcherKind::HeaderRegexp => "HeaderRegexp",
            MatcherKind::Query => "Query",
            MatcherKind::QueryRegexp => "QueryRegexp",
            MatcherKind::ClientIP => "ClientIP",
        }
    }

    /// Accepted number of arguments, inclusive.
    pub fn arity(self) -> (usize, usize) {
        match self {
            MatcherKind::Header | MatcherKind::HeaderRegexp => (2, 2),
            MatcherKind::Query | MatcherKind::QueryRegexp => (1, 2),
            _ => (1, 1),
        }
    }

    /// Resolves a matcher name. Traefik accepts exactly four spellings: canonical
    /// (`PathPrefix`), all-lower, all-upper and Title case (`Pathprefix`); `pathPrefix` is unknown.
    pub fn from_name(name: &str) -> Option<MatcherKind> {
        MatcherKind::ALL.into_iter().find(|k| {
            let canon = k.name();
            if name.len() != canon.len() {
                return false;
            }
            if name == canon
                || name == canon.to_ascii_lowercase()
                || name == canon.to_ascii_uppercase()
            {
                return true;
            }
            let mut chars = name.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.as_str().chars().all(|c| !c.is_ascii_uppercase())
                && name.eq_ignore_ascii_case(canon)
        })
    }
}

/// A matcher call, e.g. ``Header(`X-Env`, `prod`)``.
#[derive(Debug, Clone)]
pub struct Call {
    /// Which matcher.
    pub kind: MatcherKind,
    /// Unescaped string arguments.
    pub args: Vec<String>,
    /// Byte offset of the matcher name in the source (0 when built by hand).
    pub(crate) name_pos: usize,
    /// Byte offset of each argument literal (empty when built by hand).
    pub(crate) arg_pos: Vec<usize>,
}

impl Call {
    /// Builds a call by hand (positions unknown).
    pub fn new(kind: MatcherKind, args: Vec<String>) -> Self {
        Call {
            kind,
            args,
            name_pos: 0,
            arg_pos: Vec::new(),
        }
    }

    /// Byte offset of argument `i`, falling back to the name's offset.
    pub(crate) fn arg_position(&self, i: usize) -> usize {
        self.arg_pos.get(i).copied().unwrap_or(self.name_pos)
    }
}

/// Source positions are bookkeeping, not meaning: two calls are equal when kind and args are.
impl PartialEq for Call {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.args == other.args
    }
}
impl Eq for Call {}

/// A rule expression. `!` is kept as written (no De Morgan rewrite: it does not change matching).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A matcher call.
    Matcher(Call),
    /// `!e`
    Not(Box<Expr>),
    /// `l && r`
    And(Box<Expr>, Box<Expr>),
    /// `l || r`
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Binding strength used to decide where parentheses are needed when rendering.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) | Expr::Matcher(_) => 3,
        }
    }

    fn fmt_min(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.precedence() < min {
            write!(f, "(")?;
            self.fmt_min(f, 0)?;
            return write!(f, ")");
        }
        match self {
            Expr::Matcher(call) => {
                write!(f, "{}(", call.kind.name())?;
                for (i, arg) in call.args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write_string_literal(f, arg)?;
                }
                write!(f, ")")
            }
            Expr::Not(inner) => {
                write!(f, "!")?;
                inner.fmt_min(f, 3)
            }
            // Both operators parse left-associative, so a same-operator right child needs parens.
            Expr::And(l, r) => {
                l.fmt_min(f, 2)?;
                write!(f, " && ")?;
                r.fmt_min(f, 3)
            }
            Expr::Or(l, r) => {
                l.fmt_min(f, 1)?;
                write!(f, " || ")?;
                r.fmt_min(f, 2)
            }
        }
    }
}

/// Renders as rule source that parses back to the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_min(f, 0)
    }
}

/// Backticks when possible (the Traefik convention), else a Go interpreted string.
fn write_string_literal(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if !s.contains('`') && !s.contains('\r') {
        return write!(f, "`{s}`");
    }
    write!(f, "\"")?;
    for c in s.chars() {
        match c {
            '"' => write!(f, "\\\"")?,
            '\\' => write!(f, "\\\\")?,
            '\n' => write!(f, "\\n")?,
            '\r' => write!(f, "\\r")?,
            '\t' => write!(f, "\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    write!(f, "\"")
}
