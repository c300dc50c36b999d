//! The circuit breaker's expression language, as Traefik documents it:
//! `NetworkErrorRatio()`, `ResponseCodeRatio(from, to, dividedFrom, dividedTo)` and
//! `LatencyAtQuantileMS(quantile)`, compared with `>`, `<`, `>=`, `<=`, `==`, `!=` to
//! numbers, combined with `&&`, `||` and parentheses. Parsed once, when the configuration
//! is compiled; errors name the column where the problem is.

/// What the expression reads from the statistics.
pub trait Metrics {
    /// Share of requests that failed with a network error, 0 to 1.
    fn network_error_ratio(&self) -> f64;
    /// Requests with a status in `from..to` divided by those in `dfrom..dto`.
    fn response_code_ratio(&self, from: u16, to: u16, dfrom: u16, dto: u16) -> f64;
    /// Latency at `quantile` (percent, 0 to 100), in milliseconds.
    fn latency_at_quantile_ms(&self, quantile: f64) -> f64;
}

/// A parsed expression (its top level is a condition).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a || b`.
    Or(Box<Expr>, Box<Expr>),
    /// `a && b`.
    And(Box<Expr>, Box<Expr>),
    /// `a <op> b` between numbers.
    Cmp(Op, Num, Num),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>`.
    Gt,
    /// `<`.
    Lt,
    /// `>=`.
    Ge,
    /// `<=`.
    Le,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
}

/// A numeric operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Num {
    /// A literal.
    Lit(f64),
    /// `NetworkErrorRatio()`.
    NetworkErrorRatio,
    /// `ResponseCodeRatio(from, to, dividedFrom, dividedTo)`.
    ResponseCodeRatio(u16, u16, u16, u16),
    /// `LatencyAtQuantileMS(q)`.
    LatencyAtQuantileMs(f64),
}

impl Expr {
    /// Whether the condition holds for `m`.
    pub fn eval(&self, m: &dyn Metrics) -> bool {
        match self {
            Expr::Or(a, b) => a.eval(m) || b.eval(m),
            Expr::And(a, b) => a.eval(m) && b.eval(m),
            Expr::Cmp(op, a, b) => {
                let (a, b) = (a.value(m), b.value(m));
                match op {
                    Op::Gt => a > b,
                    Op::Lt => a < b,
                    Op::Ge => a >= b,
                    Op::Le => a <= b,
                    Op::Eq => a == b,
                    Op::Ne => a != b,
                }
            }
        }
    }

    /// Whether any operand reads latencies (so they need recording).
    pub fn uses_latency(&self) -> bool {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => a.uses_latency() || b.uses_latency(),
            Expr::Cmp(_, a, b) => {
                matches!(a, Num::LatencyAtQuantileMs(_)) || matches!(b, Num::LatencyAtQuantileMs(_))
            }
        }
    }
}

impl Num {
    fn value(&self, m: &dyn Metrics) -> f64 {
        match *self {
            Num::Lit(v) => v,
            Num::NetworkErrorRatio => m.network_error_ratio(),
            Num::ResponseCodeRatio(a, b, c, d) => m.response_code_ratio(a, b, c, d),
            Num::LatencyAtQuantileMs(q) => m.latency_at_quantile_ms(q),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    LParen,
    RParen,
    Comma,
    Op(Op),
    And,
    Or,
}

/// Splits `s` into tokens with their 1-based columns.
fn lex(s: &str) -> Result<Vec<(Tok, usize)>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let (tok, len) = match (c, two.as_str()) {
            (_, "&&") => (Tok::And, 2),
            (_, "||") => (Tok::Or, 2),
            (_, ">=") => (Tok::Op(Op::Ge), 2),
            (_, "<=") => (Tok::Op(Op::Le), 2),
            (_, "==") => (Tok::Op(Op::Eq), 2),
            (_, "!=") => (Tok::Op(Op::Ne), 2),
            ('>', _) => (Tok::Op(Op::Gt), 1),
            ('<', _) => (Tok::Op(Op::Lt), 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            (',', _) => (Tok::Comma, 1),
            (c, _) if c.is_ascii_digit() || c == '.' || c == '-' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_ascii_digit()
                        || chars[j] == '.'
                        || chars[j] == 'e'
                        || chars[j] == 'E'
                        || ((chars[j] == '-' || chars[j] == '+')
                            && matches!(chars[j - 1], 'e' | 'E')))
                {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let v: f64 = text
                    .parse()
                    .map_err(|_| format!("column {col}: {text:?} is not a number"))?;
                if !v.is_finite() {
                    return Err(format!("column {col}: {text:?} is not a finite number"));
                }
                (Tok::Num(v), j - i)
            }
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                (Tok::Ident(chars[i..j].iter().collect()), j - i)
            }
            (c, _) => return Err(format!("column {col}: unexpected character {c:?}")),
        };
        out.push((tok, col));
        i += len;
    }
    Ok(out)
}

/// Parses an expression; the error names the column.
pub fn parse(s: &str) -> Result<Expr, String> {
    if s.trim().is_empty() {
        return Err("expression is empty".into());
    }
    let toks = lex(s)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end: s.chars().count() + 1,
    };
    let e = p.or()?;
    if let Some((t, col)) = p.toks.get(p.pos) {
        return Err(format!("column {col}: unexpected {}", describe(t)));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("number {v}"),
        Tok::Ident(s) => format!("{s:?}"),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Op(_) => "comparison".into(),
        Tok::And => "\"&&\"".into(),
        Tok::Or => "\"||\"".into(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, c)| *c)
    }

    fn next_desc(&self) -> String {
        self.peek().map_or("end of expression".into(), describe)
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), String> {
        if self.peek() == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!(
                "column {}: expected {what}, found {}",
                self.col(),
                self.next_desc()
            ))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.condition()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let right = self.condition()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// A parenthesised condition or a comparison.
    fn condition(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Tok::LParen) {
            let start = self.pos;
            self.pos += 1;
            // `(cond)` or a parenthesised number on the left of a comparison.
            if let Ok(e) = self.or()
                && self.peek() == Some(&Tok::RParen)
            {
                self.pos += 1;
                return Ok(e);
            }
            self.pos = start;
        }
        let col = self.col();
        let left = self.number()?;
        let Some(Tok::Op(op)) = self.peek().cloned() else {
            return Err(format!(
                "column {}: expected a comparison (>, <, >=, <=, ==, !=) after the value at column {col}, found {}",
                self.col(),
                self.next_desc()
            ));
        };
        self.pos += 1;
        let right = self.number()?;
        Ok(Expr::Cmp(op, left, right))
    }

    fn number(&mut self) -> Result<Num, String> {
        let col = self.col();
        match self.peek().cloned() {
            Some(Tok::Num(v)) => {
                self.pos += 1;
                Ok(Num::Lit(v))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let n = self.number()?;
                self.expect(&Tok::RParen, "\")\"")?;
                Ok(n)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                self.expect(&Tok::LParen, &format!("\"(\" after {name}"))?;
                let mut args = Vec::new();
                if self.peek() != Some(&Tok::RParen) {
                    loop {
                        let acol = self.col();
                        match self.peek().cloned() {
                            Some(Tok::Num(v)) => {
                                self.pos += 1;
                                args.push((v, acol));
                            }
                            _ => {
                                return Err(format!(
                                    "column {acol}: expected a number argument of {name}, found {}",
                                    self.next_desc()
                                ));
                            }
                        }
                        if self.peek() == Some(&Tok::Comma) {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(&Tok::RParen, "\")\"")?;
                function(&name, &args, col)
            }
            _ => Err(format!(
                "column {col}: expected a number or a function (NetworkErrorRatio, ResponseCodeRatio, LatencyAtQuantileMS), found {}",
                self.next_desc()
            )),
        }
    }
}

fn function(name: &str, args: &[(f64, usize)], col: usize) -> Result<Num, String> {
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "column {col}: {name} takes {n} argument(s), got {}",
                args.len()
            ))
        }
    };
    let code = |(v, c): (f64, usize)| -> Result<u16, String> {
        if v.fract() == 0.0 && (0.0..=1000.0).contains(&v) {
            Ok(v as u16)
        } else {
            Err(format!("column {c}: {v} is not a status code"))
        }
    };
    match name {
        "NetworkErrorRatio" => {
            arity(0)?;
            Ok(Num::NetworkErrorRatio)
        }
        "ResponseCodeRatio" => {
            arity(4)?;
            let (a, b, c, d) = (
                code(args[0])?,
                code(args[1])?,
                code(args[2])?,
                code(args[3])?,
            );
            if a >= b || c >= d {
                return Err(format!(
                    "column {col}: ResponseCodeRatio ranges must go up (from < to, dividedFrom < dividedTo)"
                ));
            }
            Ok(Num::ResponseCodeRatio(a, b, c, d))
        }
        "LatencyAtQuantileMS" => {
            arity(1)?;
            let (q, qcol) = args[0];
            if !(0.0..=100.0).contains(&q) || q == 0.0 {
                return Err(format!(
                    "column {qcol}: quantile {q} must be above 0 and at most 100"
                ));
            }
            Ok(Num::LatencyAtQuantileMs(q))
        }
        other => Err(format!(
            "column {col}: unknown function {other:?} (NetworkErrorRatio, ResponseCodeRatio, LatencyAtQuantileMS)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed {
        net: f64,
        codes: f64,
        latency: f64,
    }

    impl Metrics for Fixed {
        fn network_error_ratio(&self) -> f64 {
            self.net
        }
        fn response_code_ratio(&self, _: u16, _: u16, _: u16, _: u16) -> f64 {
            self.codes
        }
        fn latency_at_quantile_ms(&self, _: f64) -> f64 {
            self.latency
        }
    }

    fn eval(s: &str, net: f64, codes: f64, latency: f64) -> bool {
        parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .eval(&Fixed {
                net,
                codes,
                latency,
            })
    }

    #[test]
    fn parses_traefiks_examples() {
        assert_eq!(
            parse("ResponseCodeRatio(500, 600, 0, 600) > 0.25"),
            Ok(Expr::Cmp(
                Op::Gt,
                Num::ResponseCodeRatio(500, 600, 0, 600),
                Num::Lit(0.25)
            ))
        );
        assert!(eval("NetworkErrorRatio() > 0.5", 0.6, 0.0, 0.0));
        assert!(!eval("NetworkErrorRatio() > 0.5", 0.5, 0.0, 0.0));
        assert!(eval("LatencyAtQuantileMS(50.0) > 100", 0.0, 0.0, 150.0));
        let both = "ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10";
        assert!(eval(both, 0.2, 0.0, 0.0));
        assert!(eval(both, 0.0, 0.31, 0.0));
        assert!(!eval(both, 0.1, 0.3, 0.0));
        let and = "LatencyAtQuantileMS(50.0) > 50 && NetworkErrorRatio() < 0.10";
        assert!(eval(and, 0.0, 0.0, 60.0));
        assert!(!eval(and, 0.2, 0.0, 60.0));
    }

    #[test]
    fn precedence_parentheses_and_operators() {
        // && binds tighter than ||.
        let e = "NetworkErrorRatio() > 0.5 || NetworkErrorRatio() < 0.1 && LatencyAtQuantileMS(99) > 10";
        assert!(eval(e, 0.6, 0.0, 0.0));
        assert!(!eval(e, 0.05, 0.0, 5.0));
        let e = "(NetworkErrorRatio() > 0.5 || NetworkErrorRatio() < 0.1) && LatencyAtQuantileMS(99) > 10";
        assert!(!eval(e, 0.6, 0.0, 5.0));
        assert!(eval(e, 0.6, 0.0, 11.0));
        for (op, want) in [
            (">=", true),
            ("<=", true),
            ("==", true),
            ("!=", false),
            ("<", false),
        ] {
            assert_eq!(
                eval(&format!("0.5 {op} NetworkErrorRatio()"), 0.5, 0.0, 0.0),
                want,
                "{op}"
            );
        }
        assert!(eval("((NetworkErrorRatio())) > 1e-1", 0.2, 0.0, 0.0));
    }

    #[test]
    fn errors_name_the_column() {
        for (s, want) in [
            ("", "empty"),
            ("NetworkErrorRatio() >", "column 22: expected a number"),
            (
                "NetworkErrorRatio() > 0.5 &&",
                "column 29: expected a number",
            ),
            (
                "NetworkErrorRatio() 0.5",
                "column 21: expected a comparison",
            ),
            ("NetworkErrorRatio( > 0.5", "column 20: expected"),
            ("Foo() > 1", "column 1: unknown function \"Foo\""),
            (
                "ResponseCodeRatio(500, 600) > 1",
                "column 1: ResponseCodeRatio takes 4",
            ),
            ("ResponseCodeRatio(600, 500, 0, 600) > 1", "must go up"),
            ("LatencyAtQuantileMS(150) > 1", "column 21: quantile 150"),
            (
                "NetworkErrorRatio() > 0.5 $",
                "column 27: unexpected character '$'",
            ),
            ("NetworkErrorRatio() > 0.5)", "column 26: unexpected \")\""),
            ("(NetworkErrorRatio() > 0.5", "expected"),
        ] {
            let err = parse(s).expect_err(s);
            assert!(err.contains(want), "{s:?}: {err}");
        }
    }

    #[test]
    fn latency_use_is_detected() {
        assert!(
            parse("NetworkErrorRatio() > 1 || LatencyAtQuantileMS(50) > 1")
                .unwrap_or_else(|e| panic!("{e}"))
                .uses_latency()
        );
        assert!(
            !parse("NetworkErrorRatio() > 1")
                .unwrap_or_else(|e| panic!("{e}"))
                .uses_latency()
        );
    }
}
