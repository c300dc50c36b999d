//! `retryExpression`: when the buffering middleware sends a request again.
//!
//! The language is the one Traefik's buffering middleware documents: `IsNetworkError()`,
//! `Attempts()` and `ResponseCode()`, integer literals, the comparisons `== != < <= > >=`,
//! `!`, `&&`, `||` and parentheses, e.g. `IsNetworkError() && Attempts() < 2`.

use std::fmt;

/// A parsed retry expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryExpr {
    /// `IsNetworkError()`: the answer was 502 or 504 (no server answered, or a gateway
    /// behind it did not), as Traefik's buffering middleware defines it.
    NetworkError,
    /// A comparison of two integers.
    Cmp(Int, CmpOp, Int),
    /// `!e`.
    Not(Box<RetryExpr>),
    /// `a && b`.
    And(Box<RetryExpr>, Box<RetryExpr>),
    /// `a || b`.
    Or(Box<RetryExpr>, Box<RetryExpr>),
}

/// An integer in an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int {
    /// `Attempts()`: tries made so far (1 after the first).
    Attempts,
    /// `ResponseCode()`: the status of the last answer.
    ResponseCode,
    /// A literal.
    Lit(i64),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl RetryExpr {
    /// Parses `src`; the error says what was found where and what was expected.
    pub fn parse(src: &str) -> Result<RetryExpr, String> {
        let tokens = lex(src)?;
        let mut p = Parser { tokens, pos: 0 };
        let e = p.expr()?;
        match p.peek() {
            None => Ok(e),
            Some(t) => Err(format!(
                "unexpected {} at offset {}, expected && or || or the end",
                t.tok, t.at
            )),
        }
    }

    /// Whether to try again after `attempts` tries, the last answered with `code`.
    pub fn eval(&self, attempts: u32, code: u16) -> bool {
        match self {
            RetryExpr::NetworkError => code == 502 || code == 504,
            RetryExpr::Cmp(a, op, b) => {
                let (a, b) = (a.value(attempts, code), b.value(attempts, code));
                match op {
                    CmpOp::Eq => a == b,
                    CmpOp::Ne => a != b,
                    CmpOp::Lt => a < b,
                    CmpOp::Le => a <= b,
                    CmpOp::Gt => a > b,
                    CmpOp::Ge => a >= b,
                }
            }
            RetryExpr::Not(e) => !e.eval(attempts, code),
            RetryExpr::And(a, b) => a.eval(attempts, code) && b.eval(attempts, code),
            RetryExpr::Or(a, b) => a.eval(attempts, code) || b.eval(attempts, code),
        }
    }
}

impl Int {
    fn value(self, attempts: u32, code: u16) -> i64 {
        match self {
            Int::Attempts => i64::from(attempts),
            Int::ResponseCode => i64::from(code),
            Int::Lit(n) => n,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Int(i64),
    LParen,
    RParen,
    And,
    Or,
    Not,
    Cmp(CmpOp),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Int(n) => write!(f, "`{n}`"),
            Tok::LParen => f.write_str("`(`"),
            Tok::RParen => f.write_str("`)`"),
            Tok::And => f.write_str("`&&`"),
            Tok::Or => f.write_str("`||`"),
            Tok::Not => f.write_str("`!`"),
            Tok::Cmp(op) => f.write_str(match op {
                CmpOp::Eq => "`==`",
                CmpOp::Ne => "`!=`",
                CmpOp::Lt => "`<`",
                CmpOp::Le => "`<=`",
                CmpOp::Gt => "`>`",
                CmpOp::Ge => "`>=`",
            }),
        }
    }
}

struct Token {
    tok: Tok,
    at: usize,
}

fn lex(src: &str) -> Result<Vec<Token>, String> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let at = i;
        let two = bytes.get(i..i + 2);
        let (tok, len) = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            _ if two == Some(b"&&") => (Tok::And, 2),
            _ if two == Some(b"||") => (Tok::Or, 2),
            _ if two == Some(b"==") => (Tok::Cmp(CmpOp::Eq), 2),
            _ if two == Some(b"!=") => (Tok::Cmp(CmpOp::Ne), 2),
            _ if two == Some(b"<=") => (Tok::Cmp(CmpOp::Le), 2),
            _ if two == Some(b">=") => (Tok::Cmp(CmpOp::Ge), 2),
            b'<' => (Tok::Cmp(CmpOp::Lt), 1),
            b'>' => (Tok::Cmp(CmpOp::Gt), 1),
            b'!' => (Tok::Not, 1),
            b'0'..=b'9' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(bytes.len(), |n| i + n);
                let n = src[i..end]
                    .parse::<i64>()
                    .map_err(|_| format!("number at offset {i} is too large"))?;
                (Tok::Int(n), end - i)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map_or(bytes.len(), |n| i + n);
                (Tok::Ident(src[i..end].to_owned()), end - i)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(format!("unexpected character {ch:?} at offset {i}"));
            }
        };
        out.push(Token { tok, at });
        i += len;
    }
    Ok(out)
}

/// A parsed operand before its type is known.
enum Term {
    Bool(RetryExpr),
    Int(Int),
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

const FUNCTIONS: &str = "IsNetworkError(), Attempts(), ResponseCode()";

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek().is_some_and(|t| t.tok == *tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if t.tok == *tok => Ok(()),
            Some(t) => Err(format!(
                "unexpected {} at offset {}, expected {what}",
                t.tok, t.at
            )),
            None => Err(format!("unexpected end, expected {what}")),
        }
    }

    fn expr(&mut self) -> Result<RetryExpr, String> {
        let mut left = self.and()?;
        while self.eat(&Tok::Or) {
            left = RetryExpr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<RetryExpr, String> {
        let mut left = self.unary()?;
        while self.eat(&Tok::And) {
            left = RetryExpr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<RetryExpr, String> {
        if self.eat(&Tok::Not) {
            return Ok(RetryExpr::Not(Box::new(self.unary()?)));
        }
        let at = self.peek().map(|t| t.at);
        let left = self.term()?;
        let op = match self.peek() {
            Some(Token {
                tok: Tok::Cmp(op), ..
            }) => *op,
            _ => {
                return match left {
                    Term::Bool(e) => Ok(e),
                    Term::Int(_) => Err(format!(
                        "the number at offset {} must be compared (e.g. `Attempts() < 3`)",
                        at.unwrap_or(0)
                    )),
                };
            }
        };
        self.pos += 1;
        let right_at = self.peek().map(|t| t.at);
        let right = self.term()?;
        match (left, right) {
            (Term::Int(a), Term::Int(b)) => Ok(RetryExpr::Cmp(a, op, b)),
            (Term::Bool(_), _) => Err(format!(
                "only numbers can be compared; the operand at offset {} is a condition",
                at.unwrap_or(0)
            )),
            (_, Term::Bool(_)) => Err(format!(
                "only numbers can be compared; the operand at offset {} is a condition",
                right_at.unwrap_or(0)
            )),
        }
    }

    fn term(&mut self) -> Result<Term, String> {
        let Some(t) = self.next() else {
            return Err(format!(
                "unexpected end, expected {FUNCTIONS}, a number or `(`"
            ));
        };
        let at = t.at;
        match t.tok.clone() {
            Tok::Int(n) => Ok(Term::Int(Int::Lit(n))),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(Term::Bool(e))
            }
            Tok::Ident(name) => {
                let term = match name.as_str() {
                    "IsNetworkError" => Term::Bool(RetryExpr::NetworkError),
                    "Attempts" => Term::Int(Int::Attempts),
                    "ResponseCode" => Term::Int(Int::ResponseCode),
                    _ => {
                        return Err(format!(
                            "unknown function `{name}` at offset {at} (known: {FUNCTIONS})"
                        ));
                    }
                };
                self.expect(&Tok::LParen, &format!("`(` after {name}"))?;
                self.expect(&Tok::RParen, &format!("`)`: {name}() takes no arguments"))?;
                Ok(term)
            }
            other => Err(format!(
                "unexpected {other} at offset {at}, expected {FUNCTIONS}, a number or `(`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example() {
        let e = RetryExpr::parse("IsNetworkError() && Attempts() < 2").unwrap();
        assert!(e.eval(1, 502));
        assert!(e.eval(1, 504));
        assert!(!e.eval(2, 502));
        assert!(!e.eval(1, 200));
        assert!(!e.eval(1, 500));
    }

    #[test]
    fn precedence_parentheses_and_negation() {
        let e = RetryExpr::parse("ResponseCode() == 503 || IsNetworkError() && Attempts() <= 3")
            .unwrap();
        assert!(e.eval(9, 503));
        assert!(e.eval(3, 502));
        assert!(!e.eval(4, 502));
        let e = RetryExpr::parse("(ResponseCode() >= 500) && !(Attempts() > 1)").unwrap();
        assert!(e.eval(1, 500));
        assert!(!e.eval(2, 500));
        assert!(!e.eval(1, 499));
        let e = RetryExpr::parse("ResponseCode() != 200").unwrap();
        assert!(e.eval(1, 201) && !e.eval(1, 200));
    }

    #[test]
    fn clear_errors() {
        for (src, want) in [
            ("", "unexpected end"),
            ("IsNetworkError", "`(` after IsNetworkError"),
            ("IsNetworkError(1)", "takes no arguments"),
            ("Foo()", "unknown function `Foo`"),
            ("Attempts()", "must be compared"),
            ("IsNetworkError() < 2", "only numbers can be compared"),
            ("Attempts() < 2 &&", "unexpected end"),
            ("Attempts() < 2 )", "unexpected `)` at offset 15"),
            ("Attempts() < \"2\"", "unexpected character '\"'"),
            ("(IsNetworkError()", "expected `)`"),
            ("Attempts() < 99999999999999999999", "too large"),
        ] {
            let err = RetryExpr::parse(src).unwrap_err();
            assert!(err.contains(want), "{src:?}: {err}");
        }
    }
}
