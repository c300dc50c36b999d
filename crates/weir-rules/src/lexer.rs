//! Tokenizer for the Go expression subset Traefik rules use.

use crate::error::RuleError;

/// One token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Ident(String),
    /// A string literal, already unescaped.
    Str(String),
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    Eof,
}

/// Splits `src` into tokens. Whitespace (including newlines) is free between tokens.
///
/// On a lexical error, returns the tokens before it (ended by `Eof` at the error position) and
/// the error, so the parser can report a more telling error that occurs earlier
/// (``Host(example.com)`` is about the unquoted argument, not about the `.`).
pub(crate) fn tokenize(src: &str) -> (Vec<Token>, Option<RuleError>) {
    let mut out = Vec::new();
    let err = lex_into(src, &mut out).err();
    let end = err.as_ref().map_or(src.len(), |e| e.position);
    out.push(Token {
        kind: Tok::Eof,
        pos: end,
    });
    (out, err)
}

fn lex_into(src: &str, out: &mut Vec<Token>) -> Result<(), RuleError> {
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b',' => Tok::Comma,
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                return Err(RuleError::new(src, i, "unexpected operator `!=`"));
            }
            b'!' => Tok::Not,
            b'&' | b'|' => {
                if bytes.get(i + 1) != Some(&c) {
                    let op = if c == b'&' { "&" } else { "|" };
                    return Err(RuleError::new(
                        src,
                        i,
                        format!("unexpected operator `{op}`, expected `{op}{op}`"),
                    ));
                }
                i += 2;
                out.push(Token {
                    kind: if c == b'&' { Tok::And } else { Tok::Or },
                    pos: start,
                });
                continue;
            }
            b'`' => {
                let (s, end) = raw_string(src, i)?;
                i = end;
                out.push(Token {
                    kind: Tok::Str(s),
                    pos: start,
                });
                continue;
            }
            b'"' => {
                let (s, end) = interpreted_string(src, i)?;
                i = end;
                out.push(Token {
                    kind: Tok::Str(s),
                    pos: start,
                });
                continue;
            }
            b'\'' => {
                return Err(RuleError::new(
                    src,
                    i,
                    "single quotes are not allowed, use `backticks` or \"double quotes\"",
                ));
            }
            b'0'..=b'9' => {
                return Err(RuleError::new(
                    src,
                    i,
                    "numbers are not allowed, arguments must be string literals",
                ));
            }
            _ => {
                let rest = src.get(i..).unwrap_or("");
                let len: usize = rest
                    .chars()
                    .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                    .map(char::len_utf8)
                    .sum();
                if len == 0 {
                    let ch = rest.chars().next().unwrap_or('?');
                    return Err(RuleError::new(
                        src,
                        i,
                        format!("unexpected character `{ch}`"),
                    ));
                }
                i += len;
                out.push(Token {
                    kind: Tok::Ident(rest[..len].to_owned()),
                    pos: start,
                });
                continue;
            }
        };
        i += 1;
        out.push(Token { kind, pos: start });
    }
    Ok(())
}

/// A Go raw string: no escapes, may span lines; carriage returns are dropped (Go spec).
fn raw_string(src: &str, open: usize) -> Result<(String, usize), RuleError> {
    let body_start = open + 1;
    let rest = src.get(body_start..).unwrap_or("");
    match rest.find('`') {
        Some(len) => {
            let s: String = rest[..len].chars().filter(|c| *c != '\r').collect();
            Ok((s, body_start + len + 1))
        }
        None => Err(RuleError::new(src, open, "unterminated raw string literal")),
    }
}

/// A Go interpreted string with its escapes. Returns the value and the offset after the closing quote.
fn interpreted_string(src: &str, open: usize) -> Result<(String, usize), RuleError> {
    let bytes = src.as_bytes();
    // Bytes, not chars: `\xNN` and octal escapes produce raw bytes in Go.
    let mut buf: Vec<u8> = Vec::new();
    let mut i = open + 1;
    loop {
        let Some(&c) = bytes.get(i) else {
            return Err(RuleError::new(src, open, "unterminated string literal"));
        };
        match c {
            b'"' => break,
            b'\n' => return Err(RuleError::new(src, open, "unterminated string literal")),
            b'\\' => {
                let esc_pos = i;
                let Some(&e) = bytes.get(i + 1) else {
                    return Err(RuleError::new(src, open, "unterminated string literal"));
                };
                i += 2;
                let simple = match e {
                    b'a' => Some(0x07),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0c),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(0x0b),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    _ => None,
                };
                if let Some(b) = simple {
                    buf.push(b);
                    continue;
                }
                let bad = |msg: &str| RuleError::new(src, esc_pos, msg.to_owned());
                match e {
                    b'0'..=b'7' => {
                        let digits = bytes
                            .get(i - 1..i + 2)
                            .ok_or_else(|| bad("invalid octal escape"))?;
                        let mut v: u32 = 0;
                        for d in digits {
                            if !(b'0'..=b'7').contains(d) {
                                return Err(bad("invalid octal escape, expected 3 octal digits"));
                            }
                            v = v * 8 + u32::from(d - b'0');
                        }
                        let byte = u8::try_from(v).map_err(|_| bad("octal escape value > 255"))?;
                        buf.push(byte);
                        i += 2;
                    }
                    b'x' | b'u' | b'U' => {
                        let n = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = src
                            .get(i..i + n)
                            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                            .ok_or_else(|| bad("invalid hex escape"))?;
                        let v =
                            u32::from_str_radix(hex, 16).map_err(|_| bad("invalid hex escape"))?;
                        i += n;
                        if e == b'x' {
                            buf.push(v as u8);
                        } else {
                            let ch = char::from_u32(v)
                                .ok_or_else(|| bad("escape is not a valid Unicode code point"))?;
                            let mut tmp = [0u8; 4];
                            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                    }
                    _ => return Err(bad("unknown escape sequence")),
                }
            }
            _ => {
                buf.push(c);
                i += 1;
            }
        }
    }
    let s = String::from_utf8(buf)
        .map_err(|_| RuleError::new(src, open, "string literal is not valid UTF-8"))?;
    Ok((s, i + 1))
}
