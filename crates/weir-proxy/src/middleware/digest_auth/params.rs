//! The parameters of an `Authorization: Digest ...` header (RFC 7616 §3.4).

use std::collections::HashMap;

/// `key=value` pairs after `Digest `, keys lower-cased, quoted values unescaped. `None`
/// when the header is not a Digest one or does not parse.
pub(super) fn parse(header: &[u8]) -> Option<HashMap<String, String>> {
    let s = std::str::from_utf8(header).ok()?;
    let rest = s
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("digest "))
        .map(|_| &s[7..])?;
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c.to_ascii_lowercase());
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        // A repeated parameter makes the header ambiguous.
        if out.insert(key, value).is_some() {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_quoted_and_bare_values() {
        let p =
            parse(br#"Digest username="Mufasa", realm="a \"b\"", nonce=abc,qop=auth, nc=00000001"#)
                .expect("parses");
        assert_eq!(p["username"], "Mufasa");
        assert_eq!(p["realm"], "a \"b\"");
        assert_eq!(p["nonce"], "abc");
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["nc"], "00000001");
        assert!(parse(b"Basic abc").is_none());
        assert!(parse(br#"Digest username="open"#).is_none());
        assert!(parse(b"Digest a=1, a=2").is_none());
    }
}
