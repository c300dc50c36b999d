//! The little predicate language Traefik's middlewares share (the circuit breaker's
//! `expression`, buffering's `retryExpression`): function calls with number arguments,
//! number literals, the comparisons `>`, `<`, `>=`, `<=`, `==`, `!=`, `!`, `&&`, `||` and
//! parentheses. Each middleware brings its own functions ([`Function`]); names, arity and
//! types (condition or number) are checked once, when the configuration is compiled, and
//! errors name the column where the problem is.

/// What a function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A condition, usable alone or with `!`, `&&`, `||`.
    Bool,
    /// A number, to be compared.
    Num,
}

/// One function of a middleware's language: its name, arity and type.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    /// The name, e.g. `NetworkErrorRatio`.
    pub name: &'static str,
    /// How many number arguments it takes.
    pub arity: usize,
    /// What it returns.
    pub ty: Type,
}

impl Signature {
    /// The function `name`, taking `arity` numbers, returning `ty`.
    pub const fn new(name: &'static str, arity: usize, ty: Type) -> Self {
        Self { name, arity, ty }
    }
}

/// The functions of one middleware's language.
pub trait Function: Sized {
    /// The known functions.
    const TABLE: &'static [Signature];
    /// Whether number literals must be whole (and exact as such).
    const INTEGERS_ONLY: bool = false;
    /// Builds the call of `TABLE[index]` (name and arity already checked); `args` are the
    /// arguments with their columns, `col` the column of the name.
    fn build(index: usize, args: &[(f64, usize)], col: usize) -> Result<Self, String>;
}

/// How a middleware's function calls evaluate on what they read, `I`.
pub trait Eval<I: ?Sized> {
    /// The value of a [`Type::Bool`] function.
    fn truth(&self, input: &I) -> bool;
    /// The value of a [`Type::Num`] function.
    fn value(&self, input: &I) -> f64;
}

/// A parsed condition over the functions `F`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond<F> {
    /// `a || b`.
    Or(Box<Cond<F>>, Box<Cond<F>>),
    /// `a && b`.
    And(Box<Cond<F>>, Box<Cond<F>>),
    /// `!a`.
    Not(Box<Cond<F>>),
    /// A condition function.
    Call(F),
    /// `a <op> b` between numbers.
    Cmp(Op, Num<F>, Num<F>),
}

/// A number operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Num<F> {
    /// A literal.
    Lit(f64),
    /// A number function.
    Call(F),
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

impl<F: Function> Cond<F> {
    /// Parses `s`; the error names the column and what was expected there.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("expression is empty".into());
        }
        let mut p = Parser::<F> {
            toks: lex(s)?,
            pos: 0,
            end: s.chars().count() + 1,
            _f: std::marker::PhantomData,
        };
        let start = p.col();
        let e = p.or()?;
        let e = p.cond(e, start)?;
        if let Some((t, col)) = p.toks.get(p.pos) {
            return Err(format!("column {col}: unexpected {}", describe(t)));
        }
        Ok(e)
    }
}

impl<F> Cond<F> {
    /// Whether the condition holds for `input`.
    pub fn eval<I: ?Sized>(&self, input: &I) -> bool
    where
        F: Eval<I>,
    {
        match self {
            Cond::Or(a, b) => a.eval(input) || b.eval(input),
            Cond::And(a, b) => a.eval(input) && b.eval(input),
            Cond::Not(a) => !a.eval(input),
            Cond::Call(f) => f.truth(input),
            Cond::Cmp(op, a, b) => {
                let value = |n: &Num<F>| match n {
                    Num::Lit(v) => *v,
                    Num::Call(f) => f.value(input),
                };
                let (a, b) = (value(a), value(b));
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

    /// Whether any call in the condition satisfies `p`.
    pub fn any_call(&self, p: &impl Fn(&F) -> bool) -> bool {
        match self {
            Cond::Or(a, b) | Cond::And(a, b) => a.any_call(p) || b.any_call(p),
            Cond::Not(a) => a.any_call(p),
            Cond::Call(f) => p(f),
            Cond::Cmp(_, a, b) => [a, b]
                .into_iter()
                .any(|n| matches!(n, Num::Call(f) if p(f))),
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
    Not,
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
            ('!', _) => (Tok::Not, 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            (',', _) => (Tok::Comma, 1),
            (c, _) if c.is_ascii_digit() || c == '.' || c == '-' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_ascii_digit()
                        || matches!(chars[j], '.' | 'e' | 'E')
                        || (matches!(chars[j], '-' | '+') && matches!(chars[j - 1], 'e' | 'E')))
                {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let v: f64 = text
                    .parse()
                    .map_err(|_| format!("column {col}: `{text}` is not a number"))?;
                if !v.is_finite() {
                    return Err(format!("column {col}: `{text}` is not a finite number"));
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

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("number {v}"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Op(_) => "comparison".into(),
        Tok::And => "`&&`".into(),
        Tok::Or => "`||`".into(),
        Tok::Not => "`!`".into(),
    }
}

/// A parsed operand before its use tells whether it had to be a condition or a number.
enum Term<F> {
    Bool(Cond<F>),
    Num(Num<F>),
}

struct Parser<F> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    _f: std::marker::PhantomData<F>,
}

impl<F: Function> Parser<F> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, c)| *c)
    }

    fn next_desc(&self) -> String {
        self.peek().map_or("end of expression".into(), describe)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        let hit = self.peek() == Some(t);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), String> {
        if self.eat(want) {
            Ok(())
        } else {
            Err(format!(
                "column {}: expected {what}, found {}",
                self.col(),
                self.next_desc()
            ))
        }
    }

    fn functions() -> String {
        let names: Vec<_> = F::TABLE.iter().map(|s| format!("{}()", s.name)).collect();
        names.join(", ")
    }

    /// `t`, which began at column `start`, used as a condition.
    fn cond(&self, t: Term<F>, start: usize) -> Result<Cond<F>, String> {
        match t {
            Term::Bool(c) => Ok(c),
            Term::Num(_) => Err(format!(
                "column {}: expected a comparison (>, <, >=, <=, ==, !=) after the value at column {start}, found {}",
                self.col(),
                self.next_desc()
            )),
        }
    }

    fn or(&mut self) -> Result<Term<F>, String> {
        let start = self.col();
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            let l = self.cond(left, start)?;
            self.pos += 1;
            let rstart = self.col();
            let r = self.and()?;
            left = Term::Bool(Cond::Or(Box::new(l), Box::new(self.cond(r, rstart)?)));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Term<F>, String> {
        let start = self.col();
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            let l = self.cond(left, start)?;
            self.pos += 1;
            let rstart = self.col();
            let r = self.unary()?;
            left = Term::Bool(Cond::And(Box::new(l), Box::new(self.cond(r, rstart)?)));
        }
        Ok(left)
    }

    /// `!x`, or an operand maybe compared with another.
    fn unary(&mut self) -> Result<Term<F>, String> {
        if self.eat(&Tok::Not) {
            let start = self.col();
            let t = self.unary()?;
            return Ok(Term::Bool(Cond::Not(Box::new(self.cond(t, start)?))));
        }
        let start = self.col();
        let left = self.term()?;
        let Some(Tok::Op(op)) = self.peek().cloned() else {
            return Ok(left);
        };
        self.pos += 1;
        let rstart = self.col();
        let right = self.term()?;
        Ok(Term::Bool(Cond::Cmp(
            op,
            number(left, start)?,
            number(right, rstart)?,
        )))
    }

    fn term(&mut self) -> Result<Term<F>, String> {
        let col = self.col();
        match self.peek().cloned() {
            Some(Tok::Num(v)) => {
                self.pos += 1;
                if F::INTEGERS_ONLY && v.fract() != 0.0 {
                    return Err(format!("column {col}: {v} is not a whole number"));
                }
                if F::INTEGERS_ONLY && v.abs() > 9_007_199_254_740_992.0 {
                    return Err(format!("column {col}: {v} is too large"));
                }
                Ok(Term::Num(Num::Lit(v)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let t = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(t)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                self.expect(&Tok::LParen, &format!("`(` after {name}"))?;
                let mut args = Vec::new();
                if self.peek() != Some(&Tok::RParen) {
                    loop {
                        let acol = self.col();
                        let Some(Tok::Num(v)) = self.peek().cloned() else {
                            return Err(format!(
                                "column {acol}: expected a number argument of {name}, found {}",
                                self.next_desc()
                            ));
                        };
                        self.pos += 1;
                        args.push((v, acol));
                        if !self.eat(&Tok::Comma) {
                            break;
                        }
                    }
                }
                self.expect(&Tok::RParen, "`)`")?;
                self.call(&name, &args, col)
            }
            _ => Err(format!(
                "column {col}: expected a number, a function ({}) or `(`, found {}",
                Self::functions(),
                self.next_desc()
            )),
        }
    }

    fn call(&self, name: &str, args: &[(f64, usize)], col: usize) -> Result<Term<F>, String> {
        let Some(index) = F::TABLE.iter().position(|s| s.name == name) else {
            return Err(format!(
                "column {col}: unknown function `{name}` (known: {})",
                Self::functions()
            ));
        };
        let sig = F::TABLE[index];
        if args.len() != sig.arity {
            return Err(match sig.arity {
                0 => format!("column {col}: {name} takes no arguments"),
                n => format!(
                    "column {col}: {name} takes {n} argument(s), got {}",
                    args.len()
                ),
            });
        }
        let f = F::build(index, args, col)?;
        Ok(match sig.ty {
            Type::Bool => Term::Bool(Cond::Call(f)),
            Type::Num => Term::Num(Num::Call(f)),
        })
    }
}

/// `t`, which began at column `start`, used as a number.
fn number<F>(t: Term<F>, start: usize) -> Result<Num<F>, String> {
    match t {
        Term::Num(n) => Ok(n),
        Term::Bool(_) => Err(format!(
            "column {start}: only numbers can be compared, this operand is a condition"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test language: `Flag()` (a condition), `X()` and `Pick(a, b)` (numbers).
    #[derive(Debug, Clone, PartialEq)]
    enum T {
        Flag,
        X,
        Pick(f64),
    }

    impl Function for T {
        const TABLE: &'static [Signature] = &[
            Signature::new("Flag", 0, Type::Bool),
            Signature::new("X", 0, Type::Num),
            Signature::new("Pick", 2, Type::Num),
        ];
        fn build(index: usize, args: &[(f64, usize)], _: usize) -> Result<Self, String> {
            Ok(match index {
                0 => T::Flag,
                1 => T::X,
                _ => T::Pick(args[0].0 + args[1].0),
            })
        }
    }

    impl Eval<(bool, f64)> for T {
        fn truth(&self, input: &(bool, f64)) -> bool {
            input.0
        }
        fn value(&self, input: &(bool, f64)) -> f64 {
            match self {
                T::Pick(v) => *v,
                _ => input.1,
            }
        }
    }

    fn eval(s: &str, flag: bool, x: f64) -> bool {
        Cond::<T>::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .eval(&(flag, x))
    }

    #[test]
    fn parses_the_tree() {
        assert_eq!(
            Cond::<T>::parse("Pick(1, 2.5) > 0.25"),
            Ok(Cond::Cmp(Op::Gt, Num::Call(T::Pick(3.5)), Num::Lit(0.25)))
        );
        assert_eq!(
            Cond::<T>::parse("!Flag()"),
            Ok(Cond::Not(Box::new(Cond::Call(T::Flag))))
        );
    }

    #[test]
    fn precedence_parentheses_and_operators() {
        // && binds tighter than ||.
        let e = "X() > 0.5 || X() < 0.1 && Flag()";
        assert!(eval(e, false, 0.6));
        assert!(!eval(e, false, 0.05));
        assert!(eval(e, true, 0.05));
        let e = "(X() > 0.5 || X() < 0.1) && Flag()";
        assert!(!eval(e, false, 0.6));
        assert!(eval(e, true, 0.6));
        for (op, want) in [
            (">=", true),
            ("<=", true),
            ("==", true),
            ("!=", false),
            ("<", false),
            (">", false),
        ] {
            assert_eq!(eval(&format!("0.5 {op} X()"), false, 0.5), want, "{op}");
        }
        assert!(eval("((X())) > 1e-1", false, 0.2));
        assert!(eval("(X() >= 500) && !(Flag())", false, 500.0));
        assert!(!eval("!(X() > 1) || !Flag()", true, 2.0));
        assert!(eval("X() > -1", false, 0.0));
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        for (s, want) in [
            ("", "empty"),
            (
                "X() >",
                "column 6: expected a number, a function (Flag(), X(), Pick()) or `(`",
            ),
            ("X() > 0.5 &&", "column 13: expected a number"),
            ("X() 0.5", "column 5: expected a comparison"),
            (
                "X()",
                "column 4: expected a comparison (>, <, >=, <=, ==, !=) after the value at column 1",
            ),
            ("X() && Flag()", "column 5: expected a comparison"),
            ("!X()", "column 5: expected a comparison"),
            ("Flag() < 2", "column 1: only numbers can be compared"),
            ("2 < Flag()", "column 5: only numbers can be compared"),
            ("X( > 0.5", "column 4: expected a number argument of X"),
            ("Flag", "column 5: expected `(` after Flag"),
            ("Flag(1)", "column 1: Flag takes no arguments"),
            ("Pick(1) > 1", "column 1: Pick takes 2 argument(s), got 1"),
            (
                "Foo() > 1",
                "column 1: unknown function `Foo` (known: Flag(), X(), Pick())",
            ),
            ("X() > 0.5 $", "column 11: unexpected character '$'"),
            ("X() > 0.5)", "column 10: unexpected `)`"),
            ("X() > 1 > 2", "column 9: unexpected comparison"),
            (
                "(X() > 0.5",
                "column 11: expected `)`, found end of expression",
            ),
            ("X() > 1e999", "column 7: `1e999` is not a finite number"),
            ("X() > 1.2.3", "column 7: `1.2.3` is not a number"),
        ] {
            let err = Cond::<T>::parse(s).expect_err(s);
            assert!(err.contains(want), "{s:?}: {err}");
        }
    }
}
