//! Recursive-descent parser: Go precedence, `!` > `&&` > `||`, both binary operators left-associative.

use crate::ast::{Call, Expr, MatcherKind};
use crate::error::RuleError;
use crate::lexer::{Tok, Token, tokenize};

/// Nesting limit, so a hostile rule cannot overflow the stack.
const MAX_DEPTH: usize = 200;
/// Operator limit: tree depth (and so recursion in compile, drop and eval) is bounded by it.
const MAX_OPERATORS: usize = 2_000;

/// Parses rule source into an expression tree; checks matcher names, arity and empty arguments.
pub(crate) fn parse_expr(src: &str) -> Result<Expr, RuleError> {
    let (tokens, lex_err) = tokenize(src);
    if lex_err.is_none() && matches!(tokens.first().map(|t| &t.kind), Some(Tok::Eof) | None) {
        return Err(RuleError::new(src, 0, "empty rule"));
    }
    let operators = tokens
        .iter()
        .filter(|t| matches!(t.kind, Tok::And | Tok::Or | Tok::Not));
    if let Some(t) = operators.clone().nth(MAX_OPERATORS) {
        return Err(RuleError::new(
            src,
            t.pos,
            format!("rule has more than {MAX_OPERATORS} operators"),
        ));
    }
    let mut p = Parser {
        src,
        tokens,
        at: 0,
        depth: 0,
    };
    let parsed = p.or().and_then(|expr| {
        let tok = p.peek();
        match tok.kind {
            Tok::Eof => Ok(expr),
            _ => Err(p.unexpected(tok, "`&&`, `||` or end of rule")),
        }
    });
    match (parsed, lex_err) {
        (Err(e), Some(lex)) if e.position < lex.position => Err(e),
        (_, Some(lex)) => Err(lex),
        (parsed, None) => parsed,
    }
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Token {
        self.tokens.get(self.at).cloned().unwrap_or(Token {
            kind: Tok::Eof,
            pos: self.src.len(),
        })
    }

    fn bump(&mut self) -> Token {
        let t = self.peek();
        self.at += 1;
        t
    }

    fn err(&self, pos: usize, msg: impl Into<String>) -> RuleError {
        RuleError::new(self.src, pos, msg)
    }

    fn unexpected(&self, tok: Token, expected: &str) -> RuleError {
        let found = match &tok.kind {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(_) => "a string".to_owned(),
            Tok::LParen => "`(`".to_owned(),
            Tok::RParen => "`)`".to_owned(),
            Tok::Comma => "`,`".to_owned(),
            Tok::And => "`&&`".to_owned(),
            Tok::Or => "`||`".to_owned(),
            Tok::Not => "`!`".to_owned(),
            Tok::Eof => "end of rule".to_owned(),
        };
        self.err(tok.pos, format!("expected {expected}, found {found}"))
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.and()?;
        while self.peek().kind == Tok::Or {
            self.bump();
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.unary()?;
        while self.peek().kind == Tok::And {
            self.bump();
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        let tok = self.peek();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(tok.pos, "rule is nested too deeply"));
        }
        let out = match tok.kind {
            Tok::Not => {
                self.bump();
                self.unary().map(|e| Expr::Not(Box::new(e)))
            }
            Tok::LParen => {
                self.bump();
                let inner = self.or()?;
                let close = self.bump();
                if close.kind != Tok::RParen {
                    return Err(self.unexpected(close, "`)`"));
                }
                Ok(inner)
            }
            Tok::Ident(name) => {
                self.bump();
                self.call(&name, tok.pos)
            }
            _ => Err(self.unexpected(tok, "a matcher, `!` or `(`")),
        };
        self.depth -= 1;
        out
    }

    fn call(&mut self, name: &str, name_pos: usize) -> Result<Expr, RuleError> {
        let Some(kind) = MatcherKind::from_name(name) else {
            return Err(self.err(name_pos, format!("unknown matcher `{name}`")));
        };
        let open = self.bump();
        if open.kind != Tok::LParen {
            return Err(self.unexpected(open, &format!("`(` after `{name}`")));
        }
        let mut args = Vec::new();
        let mut arg_pos = Vec::new();
        loop {
            let tok = self.bump();
            match tok.kind {
                Tok::RParen => break,
                Tok::Str(s) => {
                    args.push(s);
                    arg_pos.push(tok.pos);
                }
                Tok::Ident(id) => {
                    return Err(self.err(
                        tok.pos,
                        format!("argument `{id}` must be a string literal (`...` or \"...\")"),
                    ));
                }
                _ => return Err(self.unexpected(tok, "a string argument or `)`")),
            }
            // Go accepts a trailing comma in a call, so `Host(`a`,)` is fine.
            let sep = self.bump();
            match sep.kind {
                Tok::Comma => {}
                Tok::RParen => break,
                _ => return Err(self.unexpected(sep, "`,` or `)`")),
            }
        }
        let (min, max) = kind.arity();
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} or {max}")
            };
            let plural = if max == 1 { "" } else { "s" };
            return Err(self.err(
                name_pos,
                format!(
                    "`{}` expects {want} argument{plural}, got {}",
                    kind.name(),
                    args.len()
                ),
            ));
        }
        if let Some(i) = args.iter().position(String::is_empty) {
            let pos = arg_pos.get(i).copied().unwrap_or(name_pos);
            return Err(self.err(pos, format!("empty argument to `{}`", kind.name())));
        }
        Ok(Expr::Matcher(Call {
            kind,
            args,
            name_pos,
            arg_pos,
        }))
    }
}
