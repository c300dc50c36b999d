//! Go-style durations, as Traefik reads them: `"10s"`, `"1m30s"`, `"100ms"`, or a plain
//! number of seconds (`10`, `"10"`).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// A signed duration with nanosecond precision (Go's `time.Duration`).
///
/// Negative values are meaningful in a few places (e.g. a negative
/// `responseForwarding.flushInterval` means "flush after every write").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    nanos: i64,
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationParseError {
    input: String,
    reason: &'static str,
}

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration { nanos: 0 };

    /// From nanoseconds.
    pub const fn from_nanos(nanos: i64) -> Self {
        Duration { nanos }
    }

    /// From milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Duration {
            nanos: ms.saturating_mul(1_000_000),
        }
    }

    /// From seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Duration {
            nanos: secs.saturating_mul(1_000_000_000),
        }
    }

    /// Nanoseconds (may be negative).
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// True when zero.
    pub const fn is_zero(self) -> bool {
        self.nanos == 0
    }

    /// True when negative.
    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// The std duration, or `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.nanos)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// The std duration, or `None` when zero or negative ("no timeout" in Traefik terms).
    pub fn to_std_nonzero(self) -> Option<std::time::Duration> {
        if self.nanos > 0 { self.to_std() } else { None }
    }

    /// Parses a Go duration (`"1h2m3.5s"`, `"100ms"`, `"-1s"`, `"0"`) or a plain number of
    /// seconds (`"10"`, `"1.5"`).
    pub fn parse(input: &str) -> Result<Self, DurationParseError> {
        let err = |reason| DurationParseError {
            input: input.to_string(),
            reason,
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(err("empty"));
        }
        // Plain number: seconds.
        if s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
        {
            let secs: f64 = s.parse().map_err(|_| err("not a number"))?;
            let nanos = secs * NANOS_PER_SEC as f64;
            if !nanos.is_finite() || nanos.abs() > i64::MAX as f64 {
                return Err(err("out of range"));
            }
            return Ok(Duration {
                nanos: nanos.round() as i64,
            });
        }
        let (neg, mut rest) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if rest.is_empty() {
            return Err(err("missing value"));
        }
        let mut total: i128 = 0;
        while !rest.is_empty() {
            let num_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let num = &rest[..num_end];
            if num.is_empty() || num == "." {
                return Err(err("expected a number"));
            }
            rest = &rest[num_end..];
            let unit_end = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit = &rest[..unit_end];
            rest = &rest[unit_end..];
            let scale: i128 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => NANOS_PER_SEC,
                "m" => 60 * NANOS_PER_SEC,
                "h" => 3600 * NANOS_PER_SEC,
                "" => return Err(err("missing unit (ns, us, ms, s, m, h)")),
                _ => return Err(err("unknown unit (expected ns, us, ms, s, m, h)")),
            };
            let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
            let int: i128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| err("out of range"))?
            };
            let mut frac_nanos: i128 = 0;
            let mut div: i128 = 1;
            for c in frac_part.chars().take(18) {
                let d = c.to_digit(10).ok_or_else(|| err("bad fraction"))?;
                frac_nanos = frac_nanos * 10 + i128::from(d);
                div *= 10;
            }
            total = int
                .checked_mul(scale)
                .and_then(|v| v.checked_add(frac_nanos * scale / div))
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("out of range"))?;
            if total > i128::from(i64::MAX) {
                return Err(err("out of range"));
            }
        }
        let nanos = i64::try_from(total).map_err(|_| err("out of range"))?;
        Ok(Duration {
            nanos: if neg { -nanos } else { nanos },
        })
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Self {
        Duration {
            nanos: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        }
    }
}

impl FromStr for Duration {
    type Err = DurationParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

/// Formats like Go's `time.Duration.String()`: `1h2m3.5s`, `100ms`, `0s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = i128::from(self.nanos);
        if n == 0 {
            return f.write_str("0s");
        }
        if n < 0 {
            f.write_str("-")?;
        }
        let n = n.abs();
        if n < NANOS_PER_SEC {
            let (value, unit, scale) = if n < 1_000 {
                (n, "ns", 1)
            } else if n < 1_000_000 {
                (n, "µs", 1_000)
            } else {
                (n, "ms", 1_000_000)
            };
            return write_frac(f, value, scale, unit);
        }
        let hours = n / (3600 * NANOS_PER_SEC);
        let mins = (n / (60 * NANOS_PER_SEC)) % 60;
        let secs_nanos = n % (60 * NANOS_PER_SEC);
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if hours > 0 || mins > 0 {
            write!(f, "{mins}m")?;
        }
        write_frac(f, secs_nanos, NANOS_PER_SEC, "s")
    }
}

fn write_frac(f: &mut fmt::Formatter<'_>, value: i128, scale: i128, unit: &str) -> fmt::Result {
    let int = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return write!(f, "{int}{unit}");
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    write!(f, "{int}.{}{unit}", digits.trim_end_matches('0'))
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"10s\", \"1m30s\", \"100ms\" or a number of seconds")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(i64::try_from(v).unwrap_or(i64::MAX)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        let nanos = v * NANOS_PER_SEC as f64;
        if !nanos.is_finite() || nanos.abs() > i64::MAX as f64 {
            return Err(E::custom("duration out of range"));
        }
        Ok(Duration::from_nanos(nanos.round() as i64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        Duration::parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("10s", 10_000_000_000),
            ("1m30s", 90_000_000_000),
            ("100ms", 100_000_000),
            ("1.5s", 1_500_000_000),
            ("1h", 3_600_000_000_000),
            ("2h45m", 9_900_000_000_000),
            ("-1s", -1_000_000_000),
            ("10", 10_000_000_000),
            ("0", 0),
            ("0s", 0),
            ("300us", 300_000),
            ("42ns", 42),
        ];
        for (s, n) in cases {
            assert_eq!(Duration::parse(s).unwrap().as_nanos(), n, "{s}");
        }
        for bad in ["", "s", "10x", "1.2.3s", "abc", "-", "99999999999h"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_like_go() {
        let cases = [
            ("0s", "0s"),
            ("1m30s", "1m30s"),
            ("100ms", "100ms"),
            ("1.5s", "1.5s"),
            ("1h", "1h0m0s"),
            ("-2s", "-2s"),
            ("250us", "250µs"),
        ];
        for (s, want) in cases {
            let d = Duration::parse(s).unwrap();
            assert_eq!(d.to_string(), want);
            assert_eq!(Duration::parse(&d.to_string()).unwrap(), d);
        }
    }
}
