//! [`Rule`]: a parsed and compiled rule.

use std::fmt;
use std::sync::Arc;

use crate::ast::{Expr, MatcherKind};
use crate::error::RuleError;
use crate::matcher::Node;
use crate::parser::parse_expr;
use crate::request::RequestView;

/// A parsed rule. Cheap to clone (the compiled tree is shared).
#[derive(Clone)]
pub struct Rule {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    expr: Expr,
    node: Node,
}

impl Rule {
    /// Parses and compiles a Traefik v3 HTTP rule.
    pub fn parse(src: &str) -> Result<Rule, RuleError> {
        let expr = parse_expr(src)?;
        let node = Node::compile(src, &expr)?;
        Ok(Rule {
            inner: Arc::new(Inner {
                source: src.to_owned(),
                expr,
                node,
            }),
        })
    }

    /// The rule text as given.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.inner.expr
    }

    /// Traefik default priority: `len(rule)` in bytes.
    pub fn default_priority(&self) -> i64 {
        i64::try_from(self.inner.source.len()).unwrap_or(i64::MAX)
    }

    /// Domains named by `Host(...)` matchers, lower-cased, in order of appearance, without
    /// duplicates (as Traefik's `ParseDomains`, used for TLS certificate/options lookup).
    /// Negated matchers are included too, as Traefik does.
    pub fn hosts(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack = vec![&self.inner.expr];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Matcher(call) if call.kind == MatcherKind::Host => {
                    if let Some(h) = call.args.first() {
                        let h = h.to_ascii_lowercase();
                        if !out.contains(&h) {
                            out.push(h);
                        }
                    }
                }
                Expr::Matcher(_) => {}
                Expr::Not(inner) => stack.push(inner),
                // Right first so the left operand pops first: source order.
                Expr::And(l, r) | Expr::Or(l, r) => {
                    stack.push(r);
                    stack.push(l);
                }
            }
        }
        out
    }

    /// Evaluates the rule against a request.
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        self.inner.node.matches(req)
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Rule").field(&self.inner.source).finish()
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.inner.source == other.inner.source
    }
}
impl Eq for Rule {}

impl std::str::FromStr for Rule {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Rule, RuleError> {
        Rule::parse(s)
    }
}
