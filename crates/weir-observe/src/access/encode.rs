//! Numbers, addresses and JSON strings appended to a line's bytes by hand. Through `fmt`
//! and a byte-by-byte escape loop, formatting a JSON line cost as much as proxying the
//! request it describes.

use std::io::Write;
use std::net::IpAddr;

/// "00" to "99": numbers are written two digits at a time.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The two digits of `v % 100`.
fn pair(v: u64) -> [u8; 2] {
    let i = usize::try_from(v % 100).unwrap_or(0) * 2;
    [PAIRS[i], PAIRS[i + 1]]
}

/// `v` in decimal.
pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    // Most numbers of a line (status, sizes, ports, counts) are short: fixed-length
    // copies the compiler writes inline.
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    if v < 100 {
        out.extend_from_slice(&pair(v));
        return;
    }
    if v < 10_000 {
        let [a, b] = pair(v / 100);
        let [c, d] = pair(v);
        if v < 1000 {
            out.extend_from_slice(&[b, c, d]);
        } else {
            out.extend_from_slice(&[a, b, c, d]);
        }
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    while v >= 100 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&pair(v));
        v /= 100;
    }
    if v >= 10 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&pair(v));
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

/// `v % 100` as two digits.
pub(crate) fn push_2_digits(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&pair(v.into()));
}

/// A year as four digits (0 to 9999).
pub(crate) fn push_4_digits(out: &mut Vec<u8>, v: i64) {
    let v = u64::try_from(v.clamp(0, 9999)).unwrap_or(0);
    let [a, b] = pair(v / 100);
    let [c, d] = pair(v);
    out.extend_from_slice(&[a, b, c, d]);
}

/// A second's fraction of `nanos` (1 to 999,999,999) as nine digits with the trailing
/// zeros trimmed, as Go's `RFC3339Nano`.
pub(crate) fn push_nanos(out: &mut Vec<u8>, nanos: u32) {
    let mut v = u64::from(nanos % 1_000_000_000);
    let mut buf = [b'0'; 10];
    let mut i = buf.len();
    while i > 1 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&pair(v));
        v /= 100;
    }
    // buf[1..] holds the nine digits.
    let digits = &buf[1..];
    let len = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
    out.extend_from_slice(&digits[..len]);
}

/// `ip` as Go prints it (`10.0.0.7`, `::1`).
pub(crate) fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            push_u64(out, a.into());
            out.push(b'.');
            push_u64(out, b.into());
            out.push(b'.');
            push_u64(out, c.into());
            out.push(b'.');
            push_u64(out, d.into());
        }
        // Rare enough on an access log's hot path for `fmt`; writing to a Vec cannot fail.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// `v` as a JSON string literal, quotes included.
pub(crate) fn push_json_str(out: &mut Vec<u8>, v: &str) {
    out.push(b'"');
    push_json_inner(out, v.as_bytes());
    out.push(b'"');
}

/// `v` escaped for the inside of a JSON string literal; bytes that are not UTF-8 become
/// U+FFFD.
pub(crate) fn push_json_inner(out: &mut Vec<u8>, v: &[u8]) {
    if !needs_escape(v) {
        out.extend_from_slice(v);
        return;
    }
    let text = String::from_utf8_lossy(v);
    let bytes = text.as_bytes();
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        plain = i + 1;
    }
    out.extend_from_slice(&bytes[plain..]);
}

/// Whether `bytes` hold a control character, `"`, `\` or anything beyond ASCII (which
/// must be checked for UTF-8), eight bytes at a time (the "has a byte less than n" and
/// "has a zero byte" word tricks).
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let special = |x: u64| {
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let quote = zero_byte(x ^ (ONES * u64::from(b'"')));
        let backslash = zero_byte(x ^ (ONES * u64::from(b'\\')));
        control | quote | backslash | (x & HIGH) != 0
    };
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
    if bytes.len() < 8 {
        // Most of a line's strings (host, port, a short path) are this short.
        return bytes
            .iter()
            .any(|&b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x80);
    }
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        if special(word(chunk)) {
            return true;
        }
    }
    // The tail, as the last eight bytes (overlapping bytes already checked).
    !chunks.remainder().is_empty() && special(word(&bytes[bytes.len() - 8..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: &str) -> String {
        let mut out = Vec::new();
        push_json_str(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_what_json_requires_wherever_it_sits() {
        // Every position in and around a word, so both the word check and the tail run.
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
            for at in 0..20 {
                let mut v: String = "abcdefghijklmnopqrs".chars().take(at).collect();
                v.push(special);
                v.push_str("é~\u{7f}tail");
                let text = json(&v);
                let back: String = serde_json::from_str(&text).unwrap();
                // A control character or quote left raw fails the parse or the round trip.
                assert_eq!(back, v, "{text}");
            }
        }
        // Strings shorter than a word, with the special byte at each position.
        for special in ['"', '\\', '\n', '\u{1}', 'é'] {
            for len in 1..8 {
                for at in 0..len {
                    let v: String = (0..len)
                        .map(|i| if i == at { special } else { 'x' })
                        .collect();
                    assert!(needs_escape(v.as_bytes()), "{v:?}");
                    let back: String = serde_json::from_str(&json(&v)).unwrap();
                    assert_eq!(back, v);
                }
            }
        }
        assert!(!needs_escape(b"/a?b=1") && !needs_escape(b"") && !needs_escape(b"~~~~~~~~~"));
        assert_eq!(json("plain/path?x=1 é"), "\"plain/path?x=1 é\"");
        assert_eq!(json("a\u{1}"), "\"a\\u0001\"");
        let mut out = Vec::new();
        push_json_inner(&mut out, b"ok\xffok\xc3\xa9");
        assert_eq!(String::from_utf8(out).unwrap(), "ok\u{fffd}oké");
    }

    #[test]
    fn numbers_print_in_decimal() {
        for v in [
            0,
            7,
            10,
            99,
            100,
            101,
            999,
            1000,
            65535,
            702_351,
            1_000_000_007,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            push_u64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        let mut out = Vec::new();
        push_2_digits(&mut out, 7);
        push_4_digits(&mut out, 2006);
        push_4_digits(&mut out, 33);
        out.push(b' ');
        for nanos in [1, 500_000_000, 120_000_000, 123_456_789, 5_000] {
            push_nanos(&mut out, nanos);
            out.push(b' ');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "0720060033 000000001 5 12 123456789 000005 "
        );
    }

    #[test]
    fn addresses_print_like_go() {
        let mut out = Vec::new();
        for ip in ["10.0.255.7", "::1", "0.0.0.0", "2001:db8::7"] {
            push_ip(&mut out, ip.parse().unwrap());
            out.push(b' ');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "10.0.255.7 ::1 0.0.0.0 2001:db8::7 "
        );
    }
}
