//! UTC timestamps for log lines, without a date library: the civil calendar from a day
//! count (Howard Hinnant's algorithm), and a cache of the current second's text (a line's
//! times, and most consecutive lines, fall within the same second).

use std::time::{SystemTime, UNIX_EPOCH};

use super::encode::{push_2_digits, push_4_digits, push_nanos};

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds and nanoseconds since the Unix epoch (0 before it).
fn since_epoch(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(_) => (0, 0),
    }
}

impl Utc {
    pub fn from_secs(secs: i64) -> Utc {
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
        }
    }

    /// `02/Jan/2006:15:04:05 +0000`, the common log format's time, appended to `out`.
    pub fn write_clf(&self, out: &mut Vec<u8>) {
        let month = MONTHS
            .get(usize::try_from(self.month).unwrap_or(1).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        push_2_digits(out, self.day);
        out.push(b'/');
        out.extend_from_slice(month.as_bytes());
        out.push(b'/');
        push_4_digits(out, self.year);
        out.push(b':');
        self.write_clock(out);
        out.extend_from_slice(b" +0000");
    }

    /// `2006-01-02T15:04:05`.
    fn write_rfc3339_seconds(&self, out: &mut Vec<u8>) {
        push_4_digits(out, self.year);
        out.push(b'-');
        push_2_digits(out, self.month);
        out.push(b'-');
        push_2_digits(out, self.day);
        out.push(b'T');
        self.write_clock(out);
    }

    /// `15:04:05`.
    fn write_clock(&self, out: &mut Vec<u8>) {
        push_2_digits(out, self.hour);
        out.push(b':');
        push_2_digits(out, self.minute);
        out.push(b':');
        push_2_digits(out, self.second);
    }
}

/// The text of one second in one layout, kept until the second changes.
#[derive(Debug, Default)]
struct Kept {
    secs: Option<i64>,
    text: Vec<u8>,
}

impl Kept {
    fn get(&mut self, secs: i64, render: impl FnOnce(&Utc, &mut Vec<u8>)) -> &[u8] {
        if self.secs != Some(secs) {
            self.text.clear();
            render(&Utc::from_secs(secs), &mut self.text);
            self.secs = Some(secs);
        }
        &self.text
    }
}

/// Timestamps for log lines, with the text of the last second formatted kept per layout.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// `2006-01-02T15:04:05`.
    rfc3339: Kept,
    /// `02/Jan/2006:15:04:05 +0000`.
    clf: Kept,
}

impl Clock {
    /// `t` in RFC 3339 with a `Z` suffix; with `nanos`, the fraction as Go's
    /// `RFC3339Nano` writes it (trailing zeros trimmed).
    pub fn write_rfc3339(&mut self, out: &mut Vec<u8>, t: SystemTime, nanos: bool) {
        let (secs, frac) = since_epoch(t);
        out.extend_from_slice(self.rfc3339.get(secs, Utc::write_rfc3339_seconds));
        if nanos && frac > 0 {
            out.push(b'.');
            push_nanos(out, frac);
        }
        out.push(b'Z');
    }

    /// The common log format's time of `t`.
    pub fn write_clf(&mut self, out: &mut Vec<u8>, t: SystemTime) {
        out.extend_from_slice(self.clf.get(since_epoch(t).0, Utc::write_clf));
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

    fn rfc3339(clock: &mut Clock, t: SystemTime) -> String {
        let mut out = Vec::new();
        clock.write_rfc3339(&mut out, t, true);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_known_instants() {
        let mut clock = Clock::default();
        // 2006-01-02T15:04:05.5Z
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 500_000_000);
        let mut clf = Vec::new();
        clock.write_clf(&mut clf, t);
        assert_eq!(clf, b"02/Jan/2006:15:04:05 +0000");
        assert_eq!(rfc3339(&mut clock, t), "2006-01-02T15:04:05.5Z");
        let mut seconds = Vec::new();
        clock.write_rfc3339(&mut seconds, t, false);
        assert_eq!(seconds, b"2006-01-02T15:04:05Z");
        // a leap day
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(&mut clock, t), "2000-02-29T00:00:00Z");
        // fractions keep their leading zeros and lose their trailing ones
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 120_000_000);
        assert_eq!(rfc3339(&mut clock, t), "2006-01-02T15:04:05.12Z");
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 1);
        assert_eq!(rfc3339(&mut clock, t), "2006-01-02T15:04:05.000000001Z");
        // the cached second is replaced when the second changes
        let t = UNIX_EPOCH + Duration::new(1_136_214_246, 0);
        assert_eq!(rfc3339(&mut clock, t), "2006-01-02T15:04:06Z");
    }
}
