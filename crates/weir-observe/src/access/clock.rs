//! Timestamps for log lines: the civil calendar from a day count (Howard Hinnant's
//! algorithm), and a cache of the current second's text (a line's times, and most
//! consecutive lines, fall within the same second). Local time, as Traefik writes
//! `StartLocal` and `time`, is UTC shifted by the zone's offset at that second, which
//! chrono reads from `TZ` or `/etc/localtime` as Go does; it is looked up only when the
//! second changes.

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

    /// `02/Jan/2006:15:04:05`, the common log format's time without its offset, appended
    /// to `out`.
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

/// Where the local time of an instant comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Zone {
    /// The process's time zone (`TZ`, else `/etc/localtime`; UTC when neither is found).
    Local,
    /// A fixed offset east of UTC, in seconds.
    Fixed(i32),
}

impl Zone {
    /// The offset east of UTC, in seconds, at `secs` since the epoch.
    fn offset(self, secs: i64) -> i32 {
        use chrono::{Offset, TimeZone};
        match self {
            Zone::Fixed(offset) => offset,
            Zone::Local => chrono::DateTime::from_timestamp(secs, 0).map_or(0, |utc| {
                chrono::Local
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc()
            }),
        }
    }
}

/// How a layout prints a UTC offset: RFC 3339 (`Z`, `+05:30`) or the common log format's
/// (` +0000`, ` +0530`).
#[derive(Debug, Clone, Copy)]
enum OffsetStyle {
    Rfc3339,
    Clf,
}

/// One layout in one zone: the text of its last second and of that second's offset,
/// kept until the second changes.
#[derive(Debug)]
struct Kept {
    zone: Zone,
    style: OffsetStyle,
    render: fn(&Utc, &mut Vec<u8>),
    secs: Option<i64>,
    text: Vec<u8>,
    offset: Vec<u8>,
}

impl Kept {
    fn new(zone: Zone, style: OffsetStyle, render: fn(&Utc, &mut Vec<u8>)) -> Kept {
        Kept {
            zone,
            style,
            render,
            secs: None,
            text: Vec::new(),
            offset: Vec::new(),
        }
    }

    /// The second `secs` since the epoch, in this zone, and its offset.
    fn get(&mut self, secs: i64) -> (&[u8], &[u8]) {
        if self.secs != Some(secs) {
            let offset = self.zone.offset(secs);
            self.text.clear();
            (self.render)(
                &Utc::from_secs(secs.saturating_add(offset.into())),
                &mut self.text,
            );
            self.offset.clear();
            write_offset(&mut self.offset, offset, self.style);
            self.secs = Some(secs);
        }
        (&self.text, &self.offset)
    }
}

/// Go's `Z07:00` (RFC 3339: `Z` for UTC) or `-0700` (the common log format), to the
/// minute as Go prints them.
fn write_offset(out: &mut Vec<u8>, offset: i32, style: OffsetStyle) {
    let minutes = offset.unsigned_abs() / 60;
    let sign = if offset < 0 { b'-' } else { b'+' };
    match style {
        OffsetStyle::Rfc3339 if minutes == 0 => out.push(b'Z'),
        OffsetStyle::Rfc3339 => {
            out.push(sign);
            push_2_digits(out, minutes / 60);
            out.push(b':');
            push_2_digits(out, minutes % 60);
        }
        OffsetStyle::Clf => {
            out.extend_from_slice(&[b' ', sign]);
            push_2_digits(out, minutes / 60);
            push_2_digits(out, minutes % 60);
        }
    }
}

/// Timestamps for log lines, with the text of the last second formatted kept per layout
/// and zone.
#[derive(Debug)]
pub(crate) struct Clock {
    /// `2006-01-02T15:04:05` and `Z`.
    rfc3339: Kept,
    /// The same in local time, with its offset.
    rfc3339_local: Kept,
    /// `02/Jan/2006:15:04:05` and ` +0000`.
    clf: Kept,
    /// The same in local time, with its offset.
    clf_local: Kept,
    /// The fraction of a second of the last [`Clock::start_times`], with its dot.
    fraction: Vec<u8>,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::with_zone(Zone::Local)
    }
}

/// A request's start as `StartLocal` and `StartUTC` print it, each in three pieces: the
/// second, its fraction (shared), the offset.
pub(crate) struct StartTimes<'a> {
    pub local: [&'a [u8]; 3],
    pub utc: [&'a [u8]; 3],
}

impl Clock {
    /// A clock whose local time is `zone`'s.
    pub fn with_zone(zone: Zone) -> Clock {
        let utc = Zone::Fixed(0);
        Clock {
            rfc3339: Kept::new(utc, OffsetStyle::Rfc3339, Utc::write_rfc3339_seconds),
            rfc3339_local: Kept::new(zone, OffsetStyle::Rfc3339, Utc::write_rfc3339_seconds),
            clf: Kept::new(utc, OffsetStyle::Clf, Utc::write_clf),
            clf_local: Kept::new(zone, OffsetStyle::Clf, Utc::write_clf),
            fraction: Vec::new(),
        }
    }

    /// `t` in local time, RFC 3339 to the second with its offset (logrus's `time`).
    pub fn write_local_seconds(&mut self, out: &mut Vec<u8>, t: SystemTime) {
        let (text, offset) = self.rfc3339_local.get(since_epoch(t).0);
        out.extend_from_slice(text);
        out.extend_from_slice(offset);
    }

    /// `t` in RFC 3339 with its fraction as Go's `RFC3339Nano` writes it (trailing zeros
    /// trimmed), in local time and in UTC: the fraction is written once for both.
    pub fn start_times(&mut self, t: SystemTime) -> StartTimes<'_> {
        let (secs, frac) = since_epoch(t);
        self.fraction.clear();
        if frac > 0 {
            self.fraction.push(b'.');
            push_nanos(&mut self.fraction, frac);
        }
        let local = self.rfc3339_local.get(secs);
        let utc = self.rfc3339.get(secs);
        StartTimes {
            local: [local.0, &self.fraction, local.1],
            utc: [utc.0, &self.fraction, utc.1],
        }
    }

    /// The common log format's time of `t`, in UTC or (`local`) local time.
    pub fn write_clf(&mut self, out: &mut Vec<u8>, t: SystemTime, local: bool) {
        let kept = if local {
            &mut self.clf_local
        } else {
            &mut self.clf
        };
        let (text, offset) = kept.get(since_epoch(t).0);
        out.extend_from_slice(text);
        out.extend_from_slice(offset);
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

    /// `t` as StartUTC prints it.
    fn rfc3339(clock: &mut Clock, t: SystemTime) -> String {
        String::from_utf8(clock.start_times(t).utc.concat()).unwrap()
    }

    #[test]
    fn formats_known_instants() {
        let mut clock = Clock::default();
        // 2006-01-02T15:04:05.5Z
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 500_000_000);
        let mut clf = Vec::new();
        clock.write_clf(&mut clf, t, false);
        assert_eq!(clf, b"02/Jan/2006:15:04:05 +0000");
        assert_eq!(rfc3339(&mut clock, t), "2006-01-02T15:04:05.5Z");
        let mut seconds = Vec::new();
        Clock::with_zone(Zone::Fixed(0)).write_local_seconds(&mut seconds, t);
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

    /// Local time is the civil time at the zone's offset, printed with that offset as Go
    /// prints it; UTC stays UTC beside it.
    #[test]
    fn local_time_carries_its_offset() {
        // 2006-01-02T15:04:05.5Z
        let t = UNIX_EPOCH + Duration::new(1_136_214_245, 500_000_000);
        let text = |clock: &mut Clock, local: bool| {
            let times = clock.start_times(t);
            let rfc = if local { times.local } else { times.utc }.concat();
            let mut clf = Vec::new();
            clock.write_clf(&mut clf, t, local);
            (
                String::from_utf8(rfc).unwrap(),
                String::from_utf8(clf).unwrap(),
            )
        };
        let mut east = Clock::with_zone(Zone::Fixed(5 * 3600 + 30 * 60));
        assert_eq!(
            text(&mut east, true),
            (
                "2006-01-02T20:34:05.5+05:30".into(),
                "02/Jan/2006:20:34:05 +0530".into()
            )
        );
        assert_eq!(text(&mut east, false).0, "2006-01-02T15:04:05.5Z");
        // West of UTC, across midnight into the previous day.
        let mut west = Clock::with_zone(Zone::Fixed(-16 * 3600));
        assert_eq!(
            text(&mut west, true),
            (
                "2006-01-01T23:04:05.5-16:00".into(),
                "01/Jan/2006:23:04:05 -1600".into()
            )
        );
        // A zone at UTC prints `Z` and `+0000`, as Go's UTC.
        let mut utc = Clock::with_zone(Zone::Fixed(0));
        assert_eq!(
            text(&mut utc, true),
            (
                "2006-01-02T15:04:05.5Z".into(),
                "02/Jan/2006:15:04:05 +0000".into()
            )
        );
    }
}
