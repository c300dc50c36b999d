//! Request path normalisation, as Traefik does it before routing.
//!
//! Three steps, each on the raw (percent-encoded) path:
//! 1. normalise: upper-case percent-escapes and decode the unreserved characters
//!    (`ALPHA / DIGIT / "-" / "." / "_" / "~"`, RFC 3986 §2.3), so `%7e` and `~` route alike;
//! 2. sanitise: remove dot segments and collapse `//` (RFC 3986 §5.2.4), so `/admin/../x`
//!    cannot reach a router by a detour;
//! 3. the *routing path*: percent-decode everything but the reserved set, so `/a%20b` matches
//!    `Path(`/a b`)` while `/a%2Fb` stays one segment.
//!
//! Step 1 and 2 produce the path forwarded upstream; step 3 is only used for matching.

use std::borrow::Cow;

/// Why a path is rejected (answered with 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// A `%` not followed by two hex digits.
    BadEscape,
}

/// Normalises and (when `sanitize` is set) sanitises a raw request path. Borrows when the
/// path is already canonical, which is the common case.
pub fn normalize(raw: &str, sanitize: bool) -> Result<Cow<'_, str>, PathError> {
    let path = normalize_escapes(raw)?;
    if !sanitize || !needs_sanitizing(&path) {
        return Ok(path);
    }
    Ok(Cow::Owned(remove_dot_segments(&path)))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn normalize_escapes(raw: &str) -> Result<Cow<'_, str>, PathError> {
    let bytes = raw.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'%') else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut i = first;
    let mut changed = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            out.push(b as char);
            i += 1;
            continue;
        }
        let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
            return Err(PathError::BadEscape);
        };
        let (Some(hv), Some(lv)) = (hex_val(h), hex_val(l)) else {
            return Err(PathError::BadEscape);
        };
        let decoded = hv * 16 + lv;
        if is_unreserved(decoded) {
            out.push(decoded as char);
            changed = true;
        } else {
            out.push('%');
            out.push(h.to_ascii_uppercase() as char);
            out.push(l.to_ascii_uppercase() as char);
            changed |= h.is_ascii_lowercase() || l.is_ascii_lowercase();
        }
        i += 3;
    }
    // The raw path came from hyper's URI parser, so every other byte is ASCII and pushing
    // bytes as chars above is lossless.
    Ok(if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(raw)
    })
}

fn needs_sanitizing(path: &str) -> bool {
    path.contains("//") || path.split('/').any(|seg| seg == "." || seg == "..")
}

/// RFC 3986 §5.2.4 dot-segment removal, also collapsing empty segments (`//`) as Go's
/// `path.Clean` does, and keeping a trailing slash.
fn remove_dot_segments(path: &str) -> String {
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    let mut stack: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            s => stack.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for seg in &stack {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

fn is_reserved(b: u8) -> bool {
    matches!(
        b,
        b':' | b'/'
            | b'?'
            | b'#'
            | b'['
            | b']'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'%'
    )
}

/// The path routers match against: every escape decoded except the reserved characters.
/// Invalid UTF-8 after decoding is kept escaped, so the result is always valid.
pub fn routing_path(normalized: &str) -> Cow<'_, str> {
    if !normalized.contains('%') {
        return Cow::Borrowed(normalized);
    }
    let bytes = normalized.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex_val),
                bytes.get(i + 2).copied().and_then(hex_val),
            )
            && !is_reserved(h * 16 + l)
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(normalized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_are_borrowed() {
        assert!(matches!(normalize("/a/b", true), Ok(Cow::Borrowed("/a/b"))));
        assert!(matches!(routing_path("/a/b"), Cow::Borrowed("/a/b")));
    }

    #[test]
    fn normalizes_escapes() {
        let cases = [
            ("/%7euser", "/~user"),
            ("/%41%62c", "/Abc"),
            ("/a%2fb", "/a%2Fb"),
            ("/a%2Fb", "/a%2Fb"),
            ("/a%20b", "/a%20b"),
            ("/%e2%82%ac", "/%E2%82%AC"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw, false).as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn rejects_broken_escapes() {
        for raw in ["/a%", "/a%2", "/a%zz", "/%g1"] {
            assert_eq!(normalize(raw, true), Err(PathError::BadEscape), "{raw}");
        }
    }

    #[test]
    fn sanitizes_dot_segments_and_double_slashes() {
        let cases = [
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("//a//b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a/%2e%2e/b", "/b"),
            ("/", "/"),
            ("/..", "/"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw, true).as_deref(), Ok(want), "{raw}");
        }
        assert_eq!(normalize("/a/../b", false).as_deref(), Ok("/a/../b"));
    }

    #[test]
    fn routing_path_keeps_reserved_escapes() {
        assert_eq!(routing_path("/a%20b"), "/a b");
        assert_eq!(routing_path("/a%2Fb"), "/a%2Fb");
        assert_eq!(routing_path("/a%3Fb%25"), "/a%3Fb%25");
        assert_eq!(routing_path("/%E2%82%AC"), "/€");
        assert_eq!(routing_path("/%FF"), "/%FF");
    }
}
