//! Lowercase hexadecimal, for digests and DER bytes in Traefik's formats.

/// `bytes` as lowercase hexadecimal digits.
pub(crate) fn lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_digits_per_byte() {
        assert_eq!(super::lower(&[0x0c, 0x01, 0xff, 0xa0]), "0c01ffa0");
        assert_eq!(super::lower(&[]), "");
    }
}
