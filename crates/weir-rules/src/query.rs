//! Query-string access with Go `url.ParseQuery` semantics, without building a map per request.
//!
//! Pairs are separated by `&` and `;` (Traefik lets `;` through as a separator), `+` decodes to a
//! space, `%XX` is decoded, and a pair whose key or value holds a bad escape is dropped whole.

use std::borrow::Cow;

/// True when some pair has key `key` and value `value` (both compared decoded, without allocating).
pub(crate) fn has_pair(query: &str, key: &str, value: &str) -> bool {
    pairs(query, key).any(|v| decoded_eq(v, value.as_bytes()) == Some(true))
}

/// Raw values of the pairs whose decoded key equals `key`.
fn pairs<'q>(query: &'q str, key: &'q str) -> impl Iterator<Item = &'q str> {
    query
        .split(['&', ';'])
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .filter(move |(k, _)| decoded_eq(k, key.as_bytes()) == Some(true))
        .map(|(_, v)| v)
}

/// Calls `f` with the decoded value of every pair whose decoded key equals `key`,
/// stopping at the first `true`.
pub(crate) fn any_value(query: &str, key: &str, mut f: impl FnMut(&[u8]) -> bool) -> bool {
    pairs(query, key).any(|v| decode(v).is_some_and(|value| f(&value)))
}

/// Compares the decoded form of `raw` with `want` without allocating; `None` on a bad escape.
fn decoded_eq(raw: &str, want: &[u8]) -> Option<bool> {
    let mut equal = true;
    let mut n = 0;
    let mut it = DecodeIter::new(raw.as_bytes());
    for b in &mut it {
        let b = b?;
        if want.get(n) != Some(&b) {
            equal = false;
        }
        n += 1;
    }
    Some(equal && n == want.len())
}

/// Decodes a key or value; borrows when there is nothing to decode.
fn decode(raw: &str) -> Option<Cow<'_, [u8]>> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Some(Cow::Borrowed(raw.as_bytes()));
    }
    DecodeIter::new(raw.as_bytes())
        .collect::<Option<Vec<u8>>>()
        .map(Cow::Owned)
}

struct DecodeIter<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> DecodeIter<'a> {
    fn new(raw: &'a [u8]) -> Self {
        DecodeIter { raw, at: 0 }
    }
}

impl Iterator for DecodeIter<'_> {
    type Item = Option<u8>;

    fn next(&mut self) -> Option<Option<u8>> {
        let b = *self.raw.get(self.at)?;
        self.at += 1;
        Some(match b {
            b'+' => Some(b' '),
            b'%' => {
                let hi = self
                    .raw
                    .get(self.at)
                    .and_then(|c| (*c as char).to_digit(16));
                let lo = self
                    .raw
                    .get(self.at + 1)
                    .and_then(|c| (*c as char).to_digit(16));
                self.at += 2;
                match (hi, lo) {
                    (Some(h), Some(l)) => u8::try_from(h * 16 + l).ok(),
                    _ => None,
                }
            }
            b => Some(b),
        })
    }
}
