//! UTC timestamps for log lines, without a date library: the civil calendar from a day
//! count (Howard Hinnant's algorithm).

use std::time::{SystemTime, UNIX_EPOCH};

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Utc {
    pub fn from_system(t: SystemTime) -> Utc {
        let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            ),
            Err(_) => (0, 0),
        };
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Utc {
            year,
            month,
            day,
            hour: u32::try_from(rem / 3600).unwrap_or(0),
            minute: u32::try_from(rem % 3600 / 60).unwrap_or(0),
            second: u32::try_from(rem % 60).unwrap_or(0),
            nanos,
        }
    }

    /// `02/Jan/2006:15:04:05 +0000`, the common log format's time.
    pub fn clf(&self) -> String {
        let month = MONTHS
            .get(usize::try_from(self.month).unwrap_or(1).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        format!(
            "{:02}/{month}/{:04}:{:02}:{:02}:{:02} +0000",
            self.day, self.year, self.hour, self.minute, self.second
        )
    }

    /// RFC 3339 with nanoseconds, `Z` suffix (Go's `RFC3339Nano` trims trailing zeros).
    #[cfg(test)]
    pub fn rfc3339(&self) -> String {
        let mut s = String::with_capacity(30);
        self.write_rfc3339(&mut s);
        s
    }

    /// [`rfc3339`](Self::rfc3339) appended to `out`, digit by digit: access logs write two
    /// per line, and `format!` costs several times the rest of the line.
    pub fn write_rfc3339(&self, out: &mut String) {
        fn digits(out: &mut String, v: u64, width: usize) {
            let mut buf = [b'0'; 20];
            let mut v = v;
            let mut i = buf.len();
            while v > 0 || i == buf.len() {
                i -= 1;
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            let start = buf.len().saturating_sub(width).min(i);
            out.extend(buf[start..].iter().map(|&b| b as char));
        }
        digits(out, u64::try_from(self.year).unwrap_or(0), 4);
        out.push('-');
        digits(out, u64::from(self.month), 2);
        out.push('-');
        digits(out, u64::from(self.day), 2);
        out.push('T');
        digits(out, u64::from(self.hour), 2);
        out.push(':');
        digits(out, u64::from(self.minute), 2);
        out.push(':');
        digits(out, u64::from(self.second), 2);
        if self.nanos > 0 {
            out.push('.');
            let mut frac = self.nanos;
            let mut width = 9;
            while frac.is_multiple_of(10) {
                frac /= 10;
                width -= 1;
            }
            digits(out, u64::from(frac), width);
        }
        out.push('Z');
    }
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        // 2006-01-02T15:04:05.5Z
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 500_000_000);
        let u = Utc::from_system(t);
        assert_eq!(u.clf(), "02/Jan/2006:15:04:05 +0000");
        assert_eq!(u.rfc3339(), "2006-01-02T15:04:05.5Z");
        // a leap day
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(Utc::from_system(t).rfc3339(), "2000-02-29T00:00:00Z");
        // fractions keep their leading zeros and lose their trailing ones
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 120_000_000);
        assert_eq!(Utc::from_system(t).rfc3339(), "2006-01-02T15:04:05.12Z");
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 1);
        assert_eq!(
            Utc::from_system(t).rfc3339(),
            "2006-01-02T15:04:05.000000001Z"
        );
    }
}
