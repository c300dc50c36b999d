//! Content sniffing as Go's `http.DetectContentType` does it (the WHATWG MIME sniffing
//! signatures Traefik relies on): the first 512 bytes decide, and anything not recognised
//! is `text/plain; charset=utf-8` when it holds no binary bytes, `application/octet-stream`
//! otherwise.

/// How many leading bytes are looked at.
pub const SNIFF_LEN: usize = 512;

/// A fixed-position signature: `data[i] & mask[i] == pat[i]` for every `i`.
struct Sig {
    pat: &'static [u8],
    /// `None`: every byte must be equal.
    mask: Option<&'static [u8]>,
    /// Leading whitespace is skipped first.
    skip_ws: bool,
    ct: &'static str,
}

const fn exact(pat: &'static [u8], ct: &'static str) -> Sig {
    Sig {
        pat,
        mask: None,
        skip_ws: false,
        ct,
    }
}

const fn masked(mask: &'static [u8], pat: &'static [u8], ct: &'static str) -> Sig {
    Sig {
        pat,
        mask: Some(mask),
        skip_ws: false,
        ct,
    }
}

const HTML: &str = "text/html; charset=utf-8";

/// HTML tags recognised at the start (after whitespace), case-insensitively, when followed
/// by a space or `>`.
const HTML_TAGS: &[&[u8]] = &[
    b"<!DOCTYPE HTML",
    b"<HTML",
    b"<HEAD",
    b"<SCRIPT",
    b"<IFRAME",
    b"<H1",
    b"<DIV",
    b"<FONT",
    b"<TABLE",
    b"<A",
    b"<STYLE",
    b"<TITLE",
    b"<B",
    b"<BODY",
    b"<BR",
    b"<P",
    b"<!--",
];

const RIFF4: &[u8] = b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF";

/// The signatures after the HTML tags, in Go's order (the first match wins).
const SIGS: &[Sig] = &[
    Sig {
        pat: b"<?xml",
        mask: None,
        skip_ws: true,
        ct: "text/xml; charset=utf-8",
    },
    exact(b"%PDF-", "application/pdf"),
    exact(b"%!PS-Adobe-", "application/postscript"),
    // Byte order marks.
    masked(
        b"\xFF\xFF\x00\x00",
        b"\xFE\xFF\x00\x00",
        "text/plain; charset=utf-16be",
    ),
    masked(
        b"\xFF\xFF\x00\x00",
        b"\xFF\xFE\x00\x00",
        "text/plain; charset=utf-16le",
    ),
    masked(
        b"\xFF\xFF\xFF\x00",
        b"\xEF\xBB\xBF\x00",
        "text/plain; charset=utf-8",
    ),
    // Images.
    exact(b"\x00\x00\x01\x00", "image/x-icon"),
    exact(b"\x00\x00\x02\x00", "image/x-icon"),
    exact(b"BM", "image/bmp"),
    exact(b"GIF87a", "image/gif"),
    exact(b"GIF89a", "image/gif"),
    masked(
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF",
        b"RIFF\x00\x00\x00\x00WEBPVP",
        "image/webp",
    ),
    exact(b"\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
    exact(b"\xFF\xD8\xFF", "image/jpeg"),
    // Audio and video (mp4 is checked separately, right after these).
    masked(RIFF4, b"FORM\x00\x00\x00\x00AIFF", "audio/aiff"),
    exact(b"ID3", "audio/mpeg"),
    exact(b"OggS\x00", "application/ogg"),
    exact(b"MThd\x00\x00\x00\x06", "audio/midi"),
    masked(RIFF4, b"RIFF\x00\x00\x00\x00AVI ", "video/avi"),
    masked(RIFF4, b"RIFF\x00\x00\x00\x00WAVE", "audio/wave"),
];

/// The signatures after mp4, in Go's order.
const LATE_SIGS: &[Sig] = &[
    exact(b"\x1A\x45\xDF\xA3", "video/webm"),
    // Fonts.
    masked(
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xFF\xFF",
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00LP",
        "application/vnd.ms-fontobject",
    ),
    exact(b"\x00\x01\x00\x00", "font/ttf"),
    exact(b"OTTO", "font/otf"),
    exact(b"ttcf", "font/collection"),
    exact(b"wOFF", "font/woff"),
    exact(b"wOF2", "font/woff2"),
    // Archives.
    exact(b"\x1F\x8B\x08", "application/x-gzip"),
    exact(b"PK\x03\x04", "application/zip"),
    exact(b"Rar!\x1A\x07\x00", "application/x-rar-compressed"),
    exact(b"Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
    exact(b"\x00\x61\x73\x6D", "application/wasm"),
];

fn is_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Bytes that make a body binary rather than text.
fn is_binary(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F)
}

impl Sig {
    fn matches(&self, data: &[u8], first_non_ws: usize) -> bool {
        let data = if self.skip_ws {
            &data[first_non_ws..]
        } else {
            data
        };
        if data.len() < self.pat.len() {
            return false;
        }
        match self.mask {
            None => data.starts_with(self.pat),
            Some(mask) => self
                .pat
                .iter()
                .zip(mask)
                .zip(data)
                .all(|((p, m), d)| d & m == *p),
        }
    }
}

fn html(data: &[u8], tag: &[u8]) -> bool {
    // The tag plus one terminating byte.
    if data.len() <= tag.len() {
        return false;
    }
    let same = tag.iter().zip(data).all(|(t, d)| {
        let d = if t.is_ascii_uppercase() { d & 0xDF } else { *d };
        *t == d
    });
    same && matches!(data[tag.len()], b' ' | b'>')
}

fn mp4(data: &[u8]) -> bool {
    if data.len() < 12 {
        return false;
    }
    let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    if data.len() < size || !size.is_multiple_of(4) || &data[4..8] != b"ftyp" {
        return false;
    }
    (8..size)
        .step_by(4)
        .filter(|st| *st != 12)
        .any(|st| data.get(st..st + 3) == Some(b"mp4"))
}

/// The media type of a body starting with `data`.
pub fn detect(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(SNIFF_LEN)];
    let first_non_ws = data.iter().position(|b| !is_ws(*b)).unwrap_or(data.len());
    if HTML_TAGS.iter().any(|t| html(&data[first_non_ws..], t)) {
        return HTML;
    }
    if let Some(s) = SIGS.iter().find(|s| s.matches(data, first_non_ws)) {
        return s.ct;
    }
    if mp4(data) {
        return "video/mp4";
    }
    if let Some(s) = LATE_SIGS.iter().find(|s| s.matches(data, first_non_ws)) {
        return s.ct;
    }
    if data[first_non_ws..].iter().any(|b| is_binary(*b)) {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    use super::detect;

    /// Cases from Go's own sniffing tests (`net/http/sniff_test.go`) for the common types.
    #[test]
    fn as_go_detects() {
        for (data, want) in [
            (&b""[..], "text/plain; charset=utf-8"),
            (b"\x01\x02\x03", "application/octet-stream"),
            (b"\n<html>blah</html>", "text/html; charset=utf-8"),
            (
                b"<HtMl><bOdY>blah blah blah</body></html>",
                "text/html; charset=utf-8",
            ),
            (b"<!DOCTYPE html>\n<p>x", "text/html; charset=utf-8"),
            (b"  <!-- c -->", "text/html; charset=utf-8"),
            (b"<htmlx>", "text/plain; charset=utf-8"),
            (b"\n<?xml!", "text/xml; charset=utf-8"),
            (b"{\"a\": 1}", "text/plain; charset=utf-8"),
            (b"plain text", "text/plain; charset=utf-8"),
            (b"%PDF-1.7", "application/pdf"),
            (b"\xFE\xFF\x00\x41", "text/plain; charset=utf-16be"),
            (b"\xEF\xBB\xBFhello", "text/plain; charset=utf-8"),
            (b"GIF87a", "image/gif"),
            (b"GIF89a...", "image/gif"),
            (b"\x89PNG\x0D\x0A\x1A\x0A\x00", "image/png"),
            (b"\xFF\xD8\xFF\xE0", "image/jpeg"),
            (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
            (b"BMxxxx", "image/bmp"),
            (b"ID3\x03", "audio/mpeg"),
            (b"OggS\x00\x02", "application/ogg"),
            (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wave"),
            (
                b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat",
                "video/mp4",
            ),
            (b"\x1A\x45\xDF\xA3\x01", "video/webm"),
            (b"wOFF\x00\x01", "font/woff"),
            (b"wOF2\x00\x01", "font/woff2"),
            (b"\x1F\x8B\x08\x00", "application/x-gzip"),
            (b"PK\x03\x04\x14\x00", "application/zip"),
            (b"\x00\x61\x73\x6D\x01\x00", "application/wasm"),
        ] {
            assert_eq!(detect(data), want, "{data:?}");
        }
    }

    #[test]
    fn only_the_first_512_bytes_count() {
        let mut data = vec![b'a'; 512];
        data.push(0);
        assert_eq!(detect(&data), "text/plain; charset=utf-8");
        data[10] = 0;
        assert_eq!(detect(&data), "application/octet-stream");
    }
}
