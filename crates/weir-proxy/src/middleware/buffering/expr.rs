//! `retryExpression`: when the buffering middleware sends a request again.
//!
//! The functions are the ones Traefik's buffering middleware documents, `IsNetworkError()`
//! (a condition), `Attempts()` and `ResponseCode()` (numbers), in the shared
//! [predicate](super::super::predicate) language with whole-number literals, e.g.
//! `IsNetworkError() && Attempts() < 2`.

use super::super::predicate::{Cond, Eval, Function, Signature, Type};

/// A parsed retry expression.
pub type RetryExpr = Cond<RetryFn>;

/// A call of one of the retry functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryFn {
    /// `IsNetworkError()`: the answer was 502 or 504 (no server answered, or a gateway
    /// behind it did not), as Traefik's buffering middleware defines it.
    NetworkError,
    /// `Attempts()`: tries made so far.
    Attempts,
    /// `ResponseCode()`: the status of the last answer.
    ResponseCode,
}

impl Function for RetryFn {
    const TABLE: &'static [Signature] = &[
        Signature::new("IsNetworkError", 0, Type::Bool),
        Signature::new("Attempts", 0, Type::Num),
        Signature::new("ResponseCode", 0, Type::Num),
    ];
    const INTEGERS_ONLY: bool = true;

    fn build(index: usize, _: &[(f64, usize)], _: usize) -> Result<Self, String> {
        Ok(match index {
            0 => RetryFn::NetworkError,
            1 => RetryFn::Attempts,
            _ => RetryFn::ResponseCode,
        })
    }
}

/// Evaluated on the tries made so far (1 after the first) and the status of the last answer.
impl Eval<(u32, u16)> for RetryFn {
    fn truth(&self, &(_, code): &(u32, u16)) -> bool {
        code == 502 || code == 504
    }

    fn value(&self, &(attempts, code): &(u32, u16)) -> f64 {
        match self {
            RetryFn::Attempts => f64::from(attempts),
            _ => f64::from(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(e: &RetryExpr, attempts: u32, code: u16) -> bool {
        e.eval(&(attempts, code))
    }

    #[test]
    fn documented_example() {
        let e = RetryExpr::parse("IsNetworkError() && Attempts() < 2").unwrap();
        assert!(eval(&e, 1, 502));
        assert!(eval(&e, 1, 504));
        assert!(!eval(&e, 2, 502));
        assert!(!eval(&e, 1, 200));
        assert!(!eval(&e, 1, 500));
    }

    #[test]
    fn functions_read_the_outcome() {
        let e = RetryExpr::parse("ResponseCode() == 503 || IsNetworkError() && Attempts() <= 3")
            .unwrap();
        assert!(eval(&e, 9, 503));
        assert!(eval(&e, 3, 502));
        assert!(!eval(&e, 4, 502));
        let e = RetryExpr::parse("(ResponseCode() >= 500) && !(Attempts() > 1)").unwrap();
        assert!(eval(&e, 1, 500));
        assert!(!eval(&e, 2, 500));
        assert!(!eval(&e, 1, 499));
    }

    #[test]
    fn clear_errors() {
        for (src, want) in [
            ("IsNetworkError(1)", "takes no arguments"),
            ("Foo()", "unknown function `Foo`"),
            ("Attempts()", "expected a comparison"),
            ("IsNetworkError() < 2", "only numbers can be compared"),
            ("Attempts() < 2.5", "column 14: 2.5 is not a whole number"),
            ("Attempts() < 99999999999999999999", "too large"),
        ] {
            let err = RetryExpr::parse(src).unwrap_err();
            assert!(err.contains(want), "{src:?}: {err}");
        }
    }
}
