//! Go RE2 syntax → Rust `regex` syntax.
//!
//! Traefik compiles rule regexes with Go's `regexp`. The two dialects mostly agree; the
//! differences this module smooths over, so that anything Go accepts keeps working:
//! * a `{` that does not start a valid `{n}`, `{n,}` or `{n,m}` is a literal in Go
//!   (``PathRegexp(`/{path:(css|js)}`)`` compiles and matches the literal text);
//! * a stray `}` or `]` is a literal in Go;
//! * `\d \w \s \b` and their negations are ASCII-only in Go, Unicode-aware in Rust;
//! * inside a class, Go has no nesting or set operators (`[[]`, `[a&&b]`, `[--/]` are plain);
//! * `\<` `\>` are literal characters in Go, word boundaries in Rust;
//! * octal escapes (`\012`) and `\Q...\E` exist only in Go (Rust lacks `\Q`);
//! * Go limits counted repetition to 1000.

use regex::{Regex, RegexBuilder};

use crate::error::RuleError;

/// Compiled-program cap, so a hostile pattern cannot eat memory (Go has a similar program-size cap).
const SIZE_LIMIT: usize = 8 << 20;
/// Go's `maxRepeat`.
const MAX_REPEAT: u32 = 1000;

/// Compile a Go RE2 regex as Traefik would, translated to Rust regex semantics.
///
/// Unanchored like Go's `MatchString`. Errors carry the byte offset in `pattern`
/// (0 when the problem is only detected by the Rust compiler).
pub fn go_regex(pattern: &str) -> Result<Regex, RuleError> {
    let translated = translate(pattern)?;
    RegexBuilder::new(&translated)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| {
            // Rust's syntax errors are multi-line with their own caret; keep the final sentence.
            let text = e.to_string();
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid regex")
                .trim()
                .trim_start_matches("error: ")
                .to_owned();
            RuleError::new(pattern, 0, format!("invalid regular expression: {last}"))
        })
}

/// Rewrites Go syntax into equivalent Rust syntax (see the module docs).
pub fn translate(pattern: &str) -> Result<String, RuleError> {
    let mut t = Translator {
        src: pattern,
        chars: pattern.char_indices().collect(),
        i: 0,
        out: String::with_capacity(pattern.len() + 8),
    };
    t.run()?;
    Ok(t.out)
}

struct Translator<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
    out: String,
}

impl Translator<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|&(_, c)| c)
    }

    fn pos(&self) -> usize {
        self.chars.get(self.i).map_or(self.src.len(), |&(p, _)| p)
    }

    fn err(&self, pos: usize, msg: &str) -> RuleError {
        RuleError::new(self.src, pos, format!("invalid regular expression: {msg}"))
    }

    fn run(&mut self) -> Result<(), RuleError> {
        // Go rejects stacked repetitions (`a**`, `a+*`); Rust would accept them.
        let mut after_repeat = false;
        while let Some(c) = self.peek(0) {
            let is_repeat = matches!(c, '*' | '+' | '?')
                || (c == '{' && repeat_body(self.src.get(self.pos()..).unwrap_or("")).is_some());
            if is_repeat {
                if after_repeat {
                    return Err(self.err(self.pos(), "invalid nested repetition operator"));
                }
                after_repeat = true;
                if c != '{' {
                    self.out.push(c);
                    self.i += 1;
                } else {
                    self.brace()?;
                }
                // A trailing `?` makes the repetition lazy; it is part of the same operator.
                if self.peek(0) == Some('?') {
                    self.out.push('?');
                    self.i += 1;
                }
                continue;
            }
            after_repeat = false;
            match c {
                '(' if self.peek(1) == Some('?') => {
                    self.out.push_str("(?");
                    self.i += 2;
                }
                '\\' => self.escape()?,
                '[' => self.class()?,
                '{' => self.brace()?,
                '}' | ']' => {
                    self.out.push('\\');
                    self.out.push(c);
                    self.i += 1;
                }
                _ => {
                    self.out.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(())
    }

    /// `{` starts a counted repetition only in the exact forms `{n}`, `{n,}`, `{n,m}`.
    fn brace(&mut self) -> Result<(), RuleError> {
        let start = self.pos();
        let rest = self.src.get(start..).unwrap_or("");
        let Some((body, len)) = repeat_body(rest) else {
            self.out.push_str("\\{");
            self.i += 1;
            return Ok(());
        };
        for n in body.split(',').filter(|s| !s.is_empty()) {
            if n.parse::<u32>().map_or(true, |v| v > MAX_REPEAT) {
                return Err(self.err(start, &format!("invalid repeat count `{{{body}}}`")));
            }
        }
        self.out.push_str(&rest[..len]);
        self.i += rest[..len].chars().count();
        Ok(())
    }

    fn escape(&mut self) -> Result<(), RuleError> {
        let at = self.pos();
        let Some(n) = self.peek(1) else {
            return Err(self.err(at, "trailing backslash at end of expression"));
        };
        if let Some(class) = perl_class(n) {
            self.out.push_str(class);
            self.i += 2;
            return Ok(());
        }
        match n {
            'b' | 'B' => {
                self.out
                    .push_str(if n == 'b' { "(?-u:\\b)" } else { "(?-u:\\B)" });
                self.i += 2;
            }
            'Q' => {
                self.i += 2;
                let start = self.pos();
                let rest = self.src.get(start..).unwrap_or("");
                let lit_len = rest.find("\\E").unwrap_or(rest.len());
                self.out.push_str(&regex::escape(&rest[..lit_len]));
                let skip = (lit_len + 2).min(rest.len());
                self.i += rest[..skip].chars().count();
            }
            'A' | 'z' => {
                self.out.push('\\');
                self.out.push(n);
                self.i += 2;
            }
            'p' | 'P' => {
                // Copy the escape with its `{...}` body untouched by the brace rewrite.
                self.out.push('\\');
                self.out.push(n);
                self.i += 2;
                if self.peek(0) == Some('{') {
                    while let Some(c) = self.peek(0) {
                        self.out.push(c);
                        self.i += 1;
                        if c == '}' {
                            break;
                        }
                    }
                }
            }
            _ => {
                let c = self.simple_escape()?;
                self.push_literal(c);
            }
        }
        Ok(())
    }

    /// Escapes that denote one character, valid both inside and outside classes.
    fn simple_escape(&mut self) -> Result<char, RuleError> {
        let at = self.pos();
        let n = self
            .peek(1)
            .ok_or_else(|| self.err(at, "trailing backslash"))?;
        self.i += 2;
        let c = match n {
            'a' => '\x07',
            'f' => '\x0c',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'v' => '\x0b',
            '0'..='7' => {
                // Go: `\0` or two+ digits; a lone `\1`..`\7` would be a backreference (error).
                let mut v = n.to_digit(8).unwrap_or(0);
                let mut digits = 1;
                while digits < 3 {
                    match self.peek(0).and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            digits += 1;
                            self.i += 1;
                        }
                        None => break,
                    }
                }
                if n != '0' && digits == 1 {
                    return Err(self.err(at, "backreferences are not supported"));
                }
                char::from_u32(v).ok_or_else(|| self.err(at, "invalid octal escape"))?
            }
            'x' => {
                let hex: String = if self.peek(0) == Some('{') {
                    self.i += 1;
                    let mut h = String::new();
                    loop {
                        match self.peek(0) {
                            Some('}') => break,
                            Some(c) if c.is_ascii_hexdigit() => h.push(c),
                            _ => return Err(self.err(at, "invalid escape sequence")),
                        }
                        self.i += 1;
                    }
                    self.i += 1;
                    h
                } else {
                    let h: String = [self.peek(0), self.peek(1)].into_iter().flatten().collect();
                    self.i += 2;
                    h
                };
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| !hex.is_empty())
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.err(at, "invalid escape sequence"))?
            }
            // Go: any ASCII punctuation may be escaped and means itself.
            c if c.is_ascii_punctuation() => c,
            _ => return Err(self.err(at, &format!("invalid escape sequence `\\{n}`"))),
        };
        Ok(c)
    }

    fn push_literal(&mut self, c: char) {
        if c.is_alphanumeric() || c == ' ' || c == '_' {
            self.out.push(c);
        } else {
            self.out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
        }
    }

    /// A Go character class, re-emitted item by item with every punctuation escaped
    /// (Rust classes would read `[`, `&&`, `--`, `~~` as nesting or set operations).
    fn class(&mut self) -> Result<(), RuleError> {
        let open = self.pos();
        self.i += 1;
        self.out.push('[');
        if self.peek(0) == Some('^') {
            self.out.push('^');
            self.i += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(self.err(open, "missing closing ]"));
            };
            if c == ']' && !first {
                self.i += 1;
                self.out.push(']');
                return Ok(());
            }
            first = false;
            if c == '[' && self.peek(1) == Some(':') {
                let start = self.pos();
                let rest = self.src.get(start..).unwrap_or("");
                if let Some(end) = rest.find(":]") {
                    let name = &rest[..end + 2];
                    let ok = POSIX_CLASSES.contains(&name[2..end].trim_start_matches('^'));
                    if !ok {
                        return Err(self.err(start, "invalid character class range"));
                    }
                    self.out.push_str(name);
                    self.i += name.chars().count();
                    continue;
                }
            }
            if c == '\\' {
                if let Some(class) = self.peek(1).and_then(perl_class) {
                    self.out.push_str(class);
                    self.i += 2;
                    continue;
                }
                if let Some(p @ ('p' | 'P')) = self.peek(1) {
                    self.out.push('\\');
                    self.out.push(p);
                    self.i += 2;
                    if self.peek(0) == Some('{') {
                        while let Some(c) = self.peek(0) {
                            self.out.push(c);
                            self.i += 1;
                            if c == '}' {
                                break;
                            }
                        }
                    } else if let Some(c) = self.peek(0) {
                        self.out.push(c);
                        self.i += 1;
                    }
                    continue;
                }
            }
            let lo = self.class_char()?;
            if self.peek(0) == Some('-') && self.peek(1).is_some_and(|c| c != ']') {
                let at = self.pos();
                self.i += 1;
                let hi = self.class_char()?;
                if hi < lo {
                    return Err(self.err(at, "invalid character class range"));
                }
                self.push_class_char(lo);
                self.out.push('-');
                self.push_class_char(hi);
            } else {
                self.push_class_char(lo);
            }
        }
    }

    fn class_char(&mut self) -> Result<char, RuleError> {
        match self.peek(0) {
            Some('\\') => self.simple_escape(),
            Some(c) => {
                self.i += 1;
                Ok(c)
            }
            None => Err(self.err(self.src.len(), "missing closing ]")),
        }
    }

    fn push_class_char(&mut self, c: char) {
        if c.is_alphanumeric() {
            self.out.push(c);
        } else {
            self.out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
        }
    }
}

const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// Go's Perl classes are ASCII-only; spell them out so Rust does not widen them to Unicode.
fn perl_class(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "[0-9]",
        'D' => "[^0-9]",
        'w' => "[0-9A-Za-z_]",
        'W' => "[^0-9A-Za-z_]",
        's' => "[\\t\\n\\x0C\\r ]",
        'S' => "[^\\t\\n\\x0C\\r ]",
        _ => return None,
    })
}

/// If `s` starts with `{n}`, `{n,}` or `{n,m}`, returns the inner text and the byte length.
fn repeat_body(s: &str) -> Option<(&str, usize)> {
    let close = s.find('}')?;
    let body = s.get(1..close)?;
    let (min, max) = match body.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (body, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let ok = !min.is_empty() && digits(min) && max.is_none_or(digits);
    ok.then_some((body, close + 1))
}
