//! The circuit breaker's functions, as Traefik documents them: `NetworkErrorRatio()`,
//! `ResponseCodeRatio(from, to, dividedFrom, dividedTo)` and `LatencyAtQuantileMS(quantile)`,
//! all numbers, used in the shared [predicate](super::super::predicate) language.

use super::super::predicate::{Cond, Eval, Function, Signature, Type};

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
pub type Expr = Cond<Func>;

/// A call of one of the circuit breaker's functions, its arguments checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Func {
    /// `NetworkErrorRatio()`.
    NetworkErrorRatio,
    /// `ResponseCodeRatio(from, to, dividedFrom, dividedTo)`.
    ResponseCodeRatio(u16, u16, u16, u16),
    /// `LatencyAtQuantileMS(q)`.
    LatencyAtQuantileMs(f64),
}

impl Function for Func {
    const TABLE: &'static [Signature] = &[
        Signature::new("NetworkErrorRatio", 0, Type::Num),
        Signature::new("ResponseCodeRatio", 4, Type::Num),
        Signature::new("LatencyAtQuantileMS", 1, Type::Num),
    ];

    fn build(index: usize, args: &[(f64, usize)], col: usize) -> Result<Self, String> {
        let code = |&(v, c): &(f64, usize)| -> Result<u16, String> {
            if v.fract() == 0.0 && (0.0..=1000.0).contains(&v) {
                Ok(v as u16)
            } else {
                Err(format!("column {c}: {v} is not a status code"))
            }
        };
        match (index, args) {
            (0, _) => Ok(Func::NetworkErrorRatio),
            (1, [a, b, c, d]) => {
                let (a, b, c, d) = (code(a)?, code(b)?, code(c)?, code(d)?);
                if a >= b || c >= d {
                    return Err(format!(
                        "column {col}: ResponseCodeRatio ranges must go up (from < to, dividedFrom < dividedTo)"
                    ));
                }
                Ok(Func::ResponseCodeRatio(a, b, c, d))
            }
            (_, [(q, qcol)]) => {
                if !(0.0..=100.0).contains(q) || *q == 0.0 {
                    return Err(format!(
                        "column {qcol}: quantile {q} must be above 0 and at most 100"
                    ));
                }
                Ok(Func::LatencyAtQuantileMs(*q))
            }
            _ => Err(format!("column {col}: wrong arguments")),
        }
    }
}

impl<M: Metrics + ?Sized> Eval<M> for Func {
    fn truth(&self, _: &M) -> bool {
        false // no condition function
    }

    fn value(&self, m: &M) -> f64 {
        match *self {
            Func::NetworkErrorRatio => m.network_error_ratio(),
            Func::ResponseCodeRatio(a, b, c, d) => m.response_code_ratio(a, b, c, d),
            Func::LatencyAtQuantileMs(q) => m.latency_at_quantile_ms(q),
        }
    }
}

/// Parses an expression; the error names the column.
pub fn parse(s: &str) -> Result<Expr, String> {
    Expr::parse(s)
}

/// Whether any operand reads latencies (so they need recording).
pub fn uses_latency(e: &Expr) -> bool {
    e.any_call(&|f| matches!(f, Func::LatencyAtQuantileMs(_)))
}

#[cfg(test)]
mod tests {
    use super::super::super::predicate::{Num, Op};
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
                Num::Call(Func::ResponseCodeRatio(500, 600, 0, 600)),
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
    fn errors_name_the_column() {
        for (s, want) in [
            ("", "empty"),
            (
                "NetworkErrorRatio() > 0.5 &&",
                "column 29: expected a number",
            ),
            ("Foo() > 1", "column 1: unknown function `Foo`"),
            (
                "ResponseCodeRatio(500, 600) > 1",
                "column 1: ResponseCodeRatio takes 4",
            ),
            ("ResponseCodeRatio(600, 500, 0, 600) > 1", "must go up"),
            (
                "ResponseCodeRatio(500, 600.5, 0, 600) > 1",
                "column 24: 600.5 is not a status code",
            ),
            ("LatencyAtQuantileMS(150) > 1", "column 21: quantile 150"),
            ("NetworkErrorRatio()", "expected a comparison"),
        ] {
            let err = parse(s).expect_err(s);
            assert!(err.contains(want), "{s:?}: {err}");
        }
    }

    #[test]
    fn latency_use_is_detected() {
        let uses = |s| uses_latency(&parse(s).unwrap_or_else(|e| panic!("{e}")));
        assert!(uses(
            "NetworkErrorRatio() > 1 || LatencyAtQuantileMS(50) > 1"
        ));
        assert!(!uses("NetworkErrorRatio() > 1"));
    }
}
