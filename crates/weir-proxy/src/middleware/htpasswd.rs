//! htpasswd entries: bcrypt (`$2y$`, `$2a$`, `$2b$`), SHA-1 (`{SHA}`), Apache MD5
//! (`$apr1$`) and MD5-crypt (`$1$`); anything else is compared as plain text, as Apache's
//! htpasswd and Traefik accept.

use base64::Engine as _;
use md5::{Digest, Md5};
use sha1::Sha1;
// `Sha1::digest` comes from `Digest` (re-exported by both crates).

/// A stored password hash.
#[derive(Debug, Clone)]
pub enum Hash {
    /// bcrypt: costly, verified off the async threads.
    Bcrypt(String),
    /// `{SHA}` + base64 of the SHA-1 digest.
    Sha1([u8; 20]),
    /// `$apr1$salt$hash` or `$1$salt$hash`.
    Md5Crypt {
        /// `$apr1$` or `$1$`.
        magic: &'static str,
        /// Up to 8 characters.
        salt: String,
        /// The whole stored string.
        full: String,
    },
    /// Plain text.
    Plain(String),
}

impl Hash {
    /// Parses the hash part of a `user:hash` line.
    pub fn parse(s: &str) -> Result<Hash, String> {
        if s.starts_with("$2") {
            bcrypt::verify("", s)
                .map_err(|e| format!("invalid bcrypt hash: {e}"))
                .map(|_| Hash::Bcrypt(s.to_owned()))
        } else if let Some(b64) = s.strip_prefix("{SHA}") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| "invalid {SHA} hash: not base64".to_owned())?;
            let digest: [u8; 20] = bytes
                .try_into()
                .map_err(|_| "invalid {SHA} hash: not 20 bytes".to_owned())?;
            Ok(Hash::Sha1(digest))
        } else if let Some((magic, rest)) = s
            .strip_prefix("$apr1$")
            .map(|r| ("$apr1$", r))
            .or_else(|| s.strip_prefix("$1$").map(|r| ("$1$", r)))
        {
            let (salt, _) = rest
                .split_once('$')
                .ok_or_else(|| format!("invalid {magic} hash: no salt"))?;
            let salt: String = salt.chars().take(8).collect();
            Ok(Hash::Md5Crypt {
                magic,
                salt,
                full: s.to_owned(),
            })
        } else {
            Ok(Hash::Plain(s.to_owned()))
        }
    }

    /// Whether `password` matches. bcrypt is slow by design: call this off the async
    /// threads for [`Hash::Bcrypt`] (see [`Hash::is_costly`]).
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            Hash::Bcrypt(h) => bcrypt::verify(password, h).unwrap_or(false),
            Hash::Sha1(d) => ct_eq(&Sha1::digest(password), d),
            Hash::Md5Crypt { magic, salt, full } => ct_eq(
                md5_crypt(password, salt.as_bytes(), magic).as_bytes(),
                full.as_bytes(),
            ),
            Hash::Plain(p) => ct_eq(password, p.as_bytes()),
        }
    }

    /// Whether verifying takes long enough to need a blocking thread.
    pub fn is_costly(&self) -> bool {
        matches!(self, Hash::Bcrypt(_))
    }
}

/// Compares without stopping at the first difference.
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The MD5-crypt algorithm (Poul-Henning Kamp's; Apache's `$apr1$` differs only in the
/// magic string).
fn md5_crypt(pw: &[u8], salt: &[u8], magic: &str) -> String {
    let alt = Md5::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(pw)
        .chain_update(magic.as_bytes())
        .chain_update(salt);
    let mut left = pw.len();
    while left > 0 {
        let n = left.min(16);
        ctx.update(&alt[..n]);
        left -= n;
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&pw[..1]);
        }
        i >>= 1;
    }
    let mut fin = ctx.finalize();
    for round in 0..1000 {
        let mut c = Md5::new();
        if round & 1 == 1 {
            c.update(pw);
        } else {
            c.update(fin);
        }
        if round % 3 != 0 {
            c.update(salt);
        }
        if round % 7 != 0 {
            c.update(pw);
        }
        if round & 1 == 1 {
            c.update(fin);
        } else {
            c.update(pw);
        }
        fin = c.finalize();
    }
    let mut out = String::with_capacity(magic.len() + salt.len() + 23);
    out.push_str(magic);
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    let mut put = |v: u32, n: usize| {
        let mut v = v;
        for _ in 0..n {
            out.push(char::from(ITOA64[(v & 0x3f) as usize]));
            v >>= 6;
        }
    };
    let b = |i: usize| u32::from(fin[i]);
    for (x, y, z) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        put((b(x) << 16) | (b(y) << 8) | b(z), 4);
    }
    put(b(11), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hashes() {
        // openssl passwd -apr1 -salt Xy7pQ2ab s3cret
        let apr1 = Hash::parse("$apr1$Xy7pQ2ab$1zId9SyCUTSIYrasyHET11").unwrap();
        assert!(apr1.verify(b"s3cret"));
        assert!(!apr1.verify(b"s3cret!"));
        let sha = Hash::parse("{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=").unwrap();
        assert!(sha.verify(b"sha-pass"));
        assert!(!sha.verify(b"nope"));
        let b = bcrypt::hash_with_result("b-pass", 4)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoY);
        let h = Hash::parse(&b).unwrap();
        assert!(h.is_costly() && h.verify(b"b-pass") && !h.verify(b"x"));
        assert!(Hash::parse("$2y$05$tooshort").is_err());
        assert!(Hash::parse("{SHA}!!").is_err());
        assert!(Hash::parse("plain").unwrap().verify(b"plain"));
    }
}
