//! Formatting a [`Record`] as Traefik does, into the writer's byte buffer.

use std::io::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use http::Version;

use super::clock::Clock;
use super::encode::{needs_escape, push_ip, push_json_inner, push_json_str, push_u64};
use super::fields::Field;
use super::memo::{Memo, RouteKey};
use super::{Format, HeaderMode, Record, Settings};

fn proto(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// Formats lines; owned by the writer thread.
#[derive(Debug, Default)]
pub(crate) struct Formatter {
    clock: Clock,
    memo: Memo,
}

impl Formatter {
    /// A formatter whose local time is `zone`'s.
    #[cfg(test)]
    fn with_zone(zone: super::clock::Zone) -> Formatter {
        Formatter {
            clock: Clock::with_zone(zone),
            memo: Memo::default(),
        }
    }

    /// Appends `r`, which arrived at wall-clock time `start`, as one line (with the
    /// newline) to `out`.
    pub(crate) fn line(&mut self, s: &Settings, r: &Record, start: SystemTime, out: &mut Vec<u8>) {
        match s.format {
            Format::Json => self.json(s, r, start, out),
            Format::Common | Format::GenericClf => clf(s, r, start, out, &mut self.clock),
        }
        out.push(b'\n');
    }
}

/// `"value"`, or `"-"` when missing or empty (Traefik's toLogEntry for quoted fields);
/// a `"` inside is escaped so the line still splits on its quotes.
fn push_quoted(out: &mut Vec<u8>, v: &[u8]) {
    if v.is_empty() {
        out.extend_from_slice(b"\"-\"");
        return;
    }
    out.push(b'"');
    if needs_escape(v) {
        for &b in String::from_utf8_lossy(v).as_bytes() {
            if b == b'"' {
                out.push(b'\\');
            }
            out.push(b);
        }
    } else {
        out.extend_from_slice(v);
    }
    out.push(b'"');
}

/// A request header's quoted field in the common log format, per its header mode.
fn push_header(out: &mut Vec<u8>, mode: HeaderMode, v: &[u8]) {
    match mode {
        HeaderMode::Redact => out.extend_from_slice(b"\"REDACTED\""),
        HeaderMode::Drop => out.extend_from_slice(b"\"-\""),
        HeaderMode::Keep => push_quoted(out, v),
    }
}

/// Traefik's common log format: `host - user [time] "method path proto" status size
/// "referer" "agent"`, then (not for genericCLF) `count "router" "url" durationms`.
fn clf(s: &Settings, r: &Record, start: SystemTime, out: &mut Vec<u8>, clock: &mut Clock) {
    let keep = |f: Field| s.fields.has(f);
    let dash = |out: &mut Vec<u8>, ok: bool, write: &dyn Fn(&mut Vec<u8>)| {
        if ok { write(out) } else { out.push(b'-') }
    };
    dash(
        out,
        keep(Field::ClientHost),
        &|o| match r.text.forwarded_for() {
            [] => push_ip(o, r.client.ip()),
            forwarded => o.extend_from_slice(forwarded),
        },
    );
    out.extend_from_slice(b" - ");
    dash(out, keep(Field::ClientUsername), &|o| {
        o.extend_from_slice(r.username.as_deref().unwrap_or("-").as_bytes());
    });
    out.extend_from_slice(b" [");
    // StartUTC's time, or StartLocal's in local time when StartUTC is dropped, as Traefik.
    if keep(Field::StartUTC) || keep(Field::StartLocal) {
        clock.write_clf(out, start, !keep(Field::StartUTC));
    } else {
        out.push(b'-');
    }
    out.extend_from_slice(b"] \"");
    dash(out, keep(Field::RequestMethod), &|o| {
        o.extend_from_slice(r.method.as_str().as_bytes());
    });
    out.push(b' ');
    dash(out, keep(Field::RequestPath), &|o| {
        o.extend_from_slice(r.text.path());
    });
    out.push(b' ');
    dash(out, keep(Field::RequestProtocol), &|o| {
        o.extend_from_slice(proto(r.version).as_bytes());
    });
    out.extend_from_slice(b"\" ");
    dash(out, keep(Field::DownstreamStatus), &|o| {
        push_u64(o, r.status.into());
    });
    out.push(b' ');
    dash(out, keep(Field::DownstreamContentSize), &|o| {
        push_u64(o, r.size)
    });
    out.push(b' ');
    push_header(out, s.clf_referer, r.text.referer());
    out.push(b' ');
    push_header(out, s.clf_user_agent, r.text.user_agent());
    if s.format == Format::GenericClf {
        return;
    }
    out.push(b' ');
    dash(out, keep(Field::RequestCount), &|o| push_u64(o, r.count));
    out.push(b' ');
    fn kept(keep: bool, v: Option<&Arc<str>>) -> &[u8] {
        match v {
            Some(v) if keep => v.as_bytes(),
            _ => &[],
        }
    }
    push_quoted(out, kept(keep(Field::RouterName), r.router.as_ref()));
    out.push(b' ');
    push_quoted(out, kept(keep(Field::ServiceURL), r.service_url.as_ref()));
    out.push(b' ');
    // A dropped Duration prints as 0ms, as Traefik.
    let millis = if keep(Field::Duration) {
        u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX)
    } else {
        0
    };
    push_u64(out, millis);
    out.extend_from_slice(b"ms");
}

/// Writes `"Key":value,` for the kept fields of one JSON line.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    settings: &'a Settings,
}

impl Object<'_> {
    /// Writes the key and returns the buffer for the value, or `None` when the field is
    /// dropped.
    #[inline(always)]
    fn key(&mut self, field: Field) -> Option<&mut Vec<u8>> {
        if !self.settings.fields.has(field) {
            return None;
        }
        self.out.extend_from_slice(field.key().as_bytes());
        Some(self.out)
    }

    #[inline(always)]
    fn str(&mut self, field: Field, v: &[u8]) {
        if let Some(out) = self.key(field) {
            out.push(b'"');
            push_json_inner(out, v);
            out.extend_from_slice(b"\",");
        }
    }

    #[inline(always)]
    fn num(&mut self, field: Field, v: u64) {
        if let Some(out) = self.key(field) {
            push_u64(out, v);
            out.push(b',');
        }
    }

    /// A string value known to need no escaping (digits, addresses, times), written by
    /// `write`.
    #[inline(always)]
    fn plain(&mut self, field: Field, write: impl FnOnce(&mut Vec<u8>)) {
        if let Some(out) = self.key(field) {
            out.push(b'"');
            write(out);
            out.extend_from_slice(b"\",");
        }
    }

    /// Logged headers as `"prefix_Name":"value",`, given in byte order of their names
    /// ([`Settings::headers`]).
    fn headers(&mut self, prefix: &str, headers: &[(String, String)]) {
        for (name, value) in headers {
            self.out.push(b'"');
            self.out.extend_from_slice(prefix.as_bytes());
            push_json_inner(self.out, name.as_bytes());
            self.out.extend_from_slice(b"\":");
            push_json_str(self.out, value);
            self.out.push(b',');
        }
    }
}

impl Formatter {
    /// One JSON object per line with the keys in byte order, as Traefik (Go's JSON of a
    /// map) writes them: the fields in [`Field`]'s declared order, with the `downstream_`
    /// headers before `entryPointName` and the `request_` headers between `msg` and `time`.
    fn json(&mut self, s: &Settings, r: &Record, start: SystemTime, out: &mut Vec<u8>) {
        let (host, port) = split_host_port(r.text.host());
        let path = r.text.path();
        // Token characters only: nothing to escape.
        let method = r.method.as_str().as_bytes();
        let protocol = proto(r.version).as_bytes();
        let tls = r.tls.map(|t| crate::TlsLabel::labels(t.index()));
        out.push(b'{');
        let mut o = Object { out, settings: s };
        let ip = r.client.ip();
        let client = self.memo.client(ip, |b| push_ip(b, ip));
        o.plain(Field::ClientAddr, |b| {
            if ip.is_ipv6() {
                b.push(b'[');
                b.extend_from_slice(client);
                b.push(b']');
            } else {
                b.extend_from_slice(client);
            }
            b.push(b':');
            push_u64(b, r.client.port().into());
        });
        match r.text.forwarded_for() {
            [] => o.plain(Field::ClientHost, |b| b.extend_from_slice(client)),
            forwarded => o.str(Field::ClientHost, forwarded),
        }
        o.plain(Field::ClientPort, |b| push_u64(b, r.client.port().into()));
        match &r.username {
            Some(user) => o.str(Field::ClientUsername, user.as_bytes()),
            None => o.plain(Field::ClientUsername, |b| b.push(b'-')),
        }
        o.num(Field::DownstreamContentSize, r.size);
        o.num(Field::DownstreamStatus, r.status.into());
        let nanos = u64::try_from(r.duration.as_nanos()).unwrap_or(u64::MAX);
        o.num(Field::Duration, nanos);
        // As Traefik: the origin fields are 0 when weir answered itself; the origin's size
        // is the body before compress re-encoded it.
        let origin_size = match r.origin_status {
            Some(_) => r.origin_size.unwrap_or(r.size),
            None => 0,
        };
        // The ratio of the origin's size to the size sent, when they differ.
        if origin_size != r.size
            && r.size != 0
            && let Some(b) = o.key(Field::GzipRatio)
        {
            // Rust prints the shortest decimal that reads back the same, as Go's JSON.
            let _ = write!(b, "{}", origin_size as f64 / r.size as f64);
            b.push(b',');
        }
        o.num(Field::OriginContentSize, origin_size);
        // The server's share of the duration: from when the load balancer forwarded (the
        // whole duration when that was not measured); the rest is weir's `Overhead`.
        let overhead = match r.origin_status {
            Some(_) => r.overhead.unwrap_or_default().min(r.duration),
            None => r.duration,
        };
        let overhead_nanos = u64::try_from(overhead.as_nanos()).unwrap_or(u64::MAX);
        o.num(Field::OriginDuration, nanos.saturating_sub(overhead_nanos));
        o.num(Field::OriginStatus, r.origin_status.unwrap_or(0).into());
        o.num(Field::Overhead, overhead_nanos);
        o.str(Field::RequestAddr, r.text.host());
        o.num(Field::RequestContentSize, r.content_length);
        o.num(Field::RequestCount, r.count);
        o.str(Field::RequestHost, host);
        o.plain(Field::RequestMethod, |b| b.extend_from_slice(method));
        o.str(Field::RequestPath, path);
        o.str(Field::RequestPort, port.unwrap_or(b"-"));
        o.plain(Field::RequestProtocol, |b| b.extend_from_slice(protocol));
        o.plain(Field::RequestScheme, |b| {
            b.extend_from_slice(if r.tls.is_some() { b"https" } else { b"http" });
        });
        o.num(Field::RetryAttempts, r.retries.into());
        let route = RouteKey {
            router: r.router.as_ref(),
            service: r.service.as_ref(),
            url: r.service_url.as_ref(),
        };
        let route = self.memo.route(route, |b| {
            let mut o = Object {
                out: b,
                settings: s,
            };
            if let Some(router) = &r.router {
                o.str(Field::RouterName, router.as_bytes());
            }
            if let Some(url) = &r.service_url {
                o.str(Field::ServiceAddr, url_authority(url).as_bytes());
            }
            if let Some(service) = &r.service {
                o.str(Field::ServiceName, service.as_bytes());
            }
            if let Some(url) = &r.service_url {
                o.str(Field::ServiceURL, url.as_bytes());
            }
        });
        o.out.extend_from_slice(route);
        // StartLocal in the process's time zone, StartUTC in UTC, as Traefik writes them.
        let times = self.clock.start_times(start);
        o.plain(Field::StartLocal, |b| {
            times.local.iter().for_each(|p| b.extend_from_slice(p))
        });
        o.plain(Field::StartUTC, |b| {
            times.utc.iter().for_each(|p| b.extend_from_slice(p))
        });
        if let Some((version, cipher)) = tls {
            o.str(Field::TLSCipher, cipher.as_bytes());
            if let Some(subject) = &r.tls_client_subject {
                o.str(Field::TLSClientSubject, subject.as_bytes());
            }
            o.str(Field::TLSVersion, version.as_bytes());
        }
        o.headers("downstream_", &r.response_headers);
        let entrypoint = self.memo.entrypoint(&r.entrypoint, |b| {
            Object {
                out: b,
                settings: s,
            }
            .str(Field::entryPointName, r.entrypoint.as_bytes());
        });
        o.out.extend_from_slice(entrypoint);
        o.out.extend_from_slice(br#""level":"info","msg":"","#);
        if let Some(origin) = &r.origin_headers {
            o.headers("origin_", &s.headers(origin));
        }
        o.headers("request_", &r.request_headers);
        // The time the line was logged: when the response ended, to the second, in local
        // time, as logrus's default RFC 3339 timestamp.
        o.out.extend_from_slice(br#""time":""#);
        self.clock.write_local_seconds(o.out, start + r.duration);
        o.out.extend_from_slice(b"\"}");
    }
}

/// `http://10.0.0.1:80/x` → `10.0.0.1:80`.
fn url_authority(url: &str) -> &str {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .or_else(|| url.split_once("://").map(|(_, rest)| rest))
        .unwrap_or(url);
    let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
    &rest[..end]
}

/// `host:port` → (`host`, `port`), with IPv6 brackets removed from the host as Go does.
fn split_host_port(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    if s.first() == Some(&b'[')
        && let Some(close) = s.iter().position(|&c| c == b']')
    {
        let port = s[close + 1..].strip_prefix(b":");
        return (&s[1..close], port);
    }
    let mut colons = s.iter().enumerate().filter(|&(_, &c)| c == b':');
    match (colons.next(), colons.next()) {
        (Some((at, _)), None) => (&s[..at], Some(&s[at + 1..])),
        _ => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::clock::Zone;
    use crate::access::{RequestText, sample_record as record};
    use serde_json::Value;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    /// When the test record arrived: 2006-01-02T15:04:05Z.
    fn start() -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_136_214_245)
    }

    /// `r` as a line, with local time at UTC.
    fn text(s: &Settings, r: &Record) -> String {
        text_in(Zone::Fixed(0), s, r)
    }

    fn text_in(zone: Zone, s: &Settings, r: &Record) -> String {
        let mut out = Vec::new();
        Formatter::with_zone(zone).line(s, r, start(), &mut out);
        String::from_utf8(out).unwrap()
    }

    /// StartLocal and `time` are in the zone's local time with its offset, StartUTC in
    /// UTC; the common format prints StartUTC's time, StartLocal's when StartUTC is
    /// dropped, as Traefik.
    #[test]
    fn local_times_are_in_the_processs_zone() {
        let india = Zone::Fixed(5 * 3600 + 30 * 60);
        let c = weir_config::static_config::AccessLog {
            format: "json".into(),
            ..Default::default()
        };
        let (json, _) = Settings::from_static(&c);
        let v: Value = serde_json::from_str(text_in(india, &json, &record()).trim()).unwrap();
        assert_eq!(
            (&v["StartLocal"], &v["StartUTC"], &v["time"]),
            (
                &Value::from("2006-01-02T20:34:05+05:30"),
                &Value::from("2006-01-02T15:04:05Z"),
                &Value::from("2006-01-02T20:34:05+05:30")
            )
        );
        let (common, _) = Settings::from_static(&Default::default());
        let line = text_in(india, &common, &record());
        assert!(line.contains(" [02/Jan/2006:15:04:05 +0000] "), "{line}");
        let mut c = weir_config::static_config::AccessLog::default();
        c.fields.names.insert("StartUTC".into(), "drop".into());
        let (local, _) = Settings::from_static(&c);
        let line = text_in(india, &local, &record());
        assert!(line.contains(" [02/Jan/2006:20:34:05 +0530] "), "{line}");
    }

    #[test]
    fn common_line_has_traefiks_layout() {
        // Headers are dropped by default, Referer and User-Agent with them, as Traefik.
        let (s, _) = Settings::from_static(&Default::default());
        let out = text(&s, &record());
        assert_eq!(
            out,
            "10.0.0.7 - - [02/Jan/2006:15:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 345 \"-\" \"-\" 7 \"whoami@file\" \"http://127.0.0.1:9101\" 12ms\n"
        );
        let mut c = weir_config::static_config::AccessLog::default();
        c.fields.headers.default_mode = "keep".into();
        let (keep, _) = Settings::from_static(&c);
        assert!(text(&keep, &record()).contains(" 345 \"-\" \"curl/8\" 7 "));
        c.fields
            .headers
            .names
            .insert("User-Agent".into(), "redact".into());
        let (redact, _) = Settings::from_static(&c);
        assert!(text(&redact, &record()).contains(" 345 \"-\" \"REDACTED\" 7 "));
        let s = keep;
        // Dropped fields: StartUTC falls back to StartLocal, a dropped Duration is 0ms.
        let mut c = weir_config::static_config::AccessLog::default();
        for f in ["StartUTC", "Duration"] {
            c.fields.names.insert(f.into(), "drop".into());
        }
        let (dropped, _) = Settings::from_static(&c);
        let out = text(&dropped, &record());
        assert!(out.contains(" [02/Jan/2006:15:04:05 +0000] "), "{out}");
        assert!(out.ends_with(" 0ms\n"), "{out}");
        c.fields.names.insert("StartLocal".into(), "drop".into());
        let (dropped, _) = Settings::from_static(&c);
        assert!(text(&dropped, &record()).contains(" - - [-] "));
        // An authenticated user takes the second field, as in Traefik.
        let mut r = record();
        r.username = Some(Arc::from("alice"));
        let out = text(&s, &r);
        assert!(out.starts_with("10.0.0.7 - alice [02/Jan/2006"), "{out}");
        // A quote inside a quoted field is escaped; bytes that are not UTF-8 are replaced.
        let mut r = record();
        r.text = RequestText::new([b"h", b"/", b"x", b"say \"hi\" \xff", b""]);
        let out = text(&s, &r);
        assert!(out.contains(" \"x\" \"say \\\"hi\\\" \u{fffd}\" "), "{out}");
    }

    #[test]
    fn json_line_has_traefiks_fields() {
        let mut c = weir_config::static_config::AccessLog {
            format: "json".into(),
            ..Default::default()
        };
        c.fields.names.insert("ClientPort".into(), "drop".into());
        // The origin's headers are filtered when the line is written.
        c.fields.headers.default_mode = "keep".into();
        let (s, _) = Settings::from_static(&c);
        let out = text(&s, &record());
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["RequestHost"], "whoami.local");
        assert_eq!(v["RequestPort"], "8000");
        assert_eq!(v["DownstreamStatus"], 200);
        assert_eq!(v["Duration"], 12_000_000);
        assert_eq!(v["ServiceAddr"], "127.0.0.1:9101");
        assert_eq!(v["request_Authorization"], "REDACTED");
        assert_eq!(v["origin_Content-Type"], "text/html");
        assert_eq!(v["downstream_Content-Type"], "text/plain");
        assert!(v.get("ClientPort").is_none());
        // A Traefik v1 field, not written by Traefik v3.
        assert!(v.get("RequestLine").is_none());
        // The server's part of the duration, and weir's.
        assert_eq!(v["OriginDuration"], 10_000_000);
        assert_eq!(v["Overhead"], 2_000_000);
        assert_eq!(v["OriginStatus"], 200);
        assert_eq!(v["OriginContentSize"], 345);
        assert_eq!(v["ClientUsername"], "-");
        assert!(v.get("TLSVersion").is_none());

        let mut r = record();
        r.tls = Some(crate::TlsLabel::new("TLSv1_3", "TLS13_AES_128_GCM_SHA256"));
        r.tls_client_subject = Some(Arc::from("CN=client,O=Acme\\, Inc."));
        r.username = Some(Arc::from("alice"));
        let out = text(&s, &r);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["TLSVersion"], "1.3");
        assert_eq!(v["TLSCipher"], "TLS_AES_128_GCM_SHA256");
        assert_eq!(v["RequestScheme"], "https");
        assert_eq!(v["ClientUsername"], "alice");
        assert_eq!(v["TLSClientSubject"], "CN=client,O=Acme\\, Inc.");

        assert_in_byte_order(&out, &v);

        // Answered by weir itself: the origin fields are 0, all of the duration is weir's.
        let mut r = record();
        r.origin_status = None;
        r.service_url = None;
        r.overhead = None;
        let v: Value = serde_json::from_str(text(&s, &r).trim()).unwrap();
        assert_eq!(
            [
                &v["OriginStatus"],
                &v["OriginDuration"],
                &v["OriginContentSize"]
            ],
            [0, 0, 0]
        );
        assert_eq!(v["Overhead"], 12_000_000);
        // Origin 0 bytes against 345 sent, as Traefik computes it from its zeroed fields.
        assert_eq!(v["GzipRatio"], 0.0);
        // A trusted client's X-Forwarded-For is the ClientHost, as Traefik.
        let mut r = record();
        r.text = RequestText::new([b"h", b"/", b"", b"", b"203.0.113.9, 10.0.0.1"]);
        let v: Value = serde_json::from_str(text(&s, &r).trim()).unwrap();
        assert_eq!(v["ClientHost"], "203.0.113.9, 10.0.0.1");
        assert_eq!(v["ClientAddr"], "10.0.0.7:51234");

        // One formatter for several lines, as the writer: what it keeps from line to line
        // (the client's address, the route) follows each line's own values.
        let mut f = Formatter::with_zone(Zone::Fixed(0));
        let mut seen = Vec::new();
        for (client, router) in [
            ("10.0.0.7:51234", "a@file"),
            ("[::1]:6000", "a@file"),
            ("10.0.0.8:80", "b@file"),
            ("10.0.0.8:81", "a@file"),
        ] {
            let mut r = record();
            r.client = client.parse().unwrap();
            r.router = Some(Arc::from(router));
            let mut out = Vec::new();
            f.line(&s, &r, start(), &mut out);
            let v: Value = serde_json::from_slice(&out).unwrap();
            seen.push(format!(
                "{} {} {}",
                v["ClientAddr"], v["ClientHost"], v["RouterName"]
            ));
        }
        assert_eq!(
            seen,
            [
                r#""10.0.0.7:51234" "10.0.0.7" "a@file""#,
                r#""[::1]:6000" "::1" "a@file""#,
                r#""10.0.0.8:80" "10.0.0.8" "b@file""#,
                r#""10.0.0.8:81" "10.0.0.8" "a@file""#,
            ]
        );

        // Escaping round-trips through a real JSON parser.
        let mut r = record();
        r.request_headers = vec![("X-Odd".into(), "a\"b\\c\nd\u{1}é".into())];
        let out = text(&s, &r);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["request_X-Odd"], "a\"b\\c\nd\u{1}é");
        assert_eq!(v["StartUTC"], "2006-01-02T15:04:05Z");
        assert_eq!(
            v["time"], "2006-01-02T15:04:05Z",
            "end of the response, in seconds"
        );
        // A response that ends in the next second: `time` is its end, StartUTC its start.
        let mut slow = record();
        slow.duration = Duration::from_millis(1500);
        let late: Value = serde_json::from_str(text(&s, &slow).trim()).unwrap();
        assert_eq!(
            (&late["StartUTC"], &late["time"]),
            (&v["StartUTC"], &Value::from("2006-01-02T15:04:06Z"))
        );
        assert_eq!(v["downstream_Content-Type"], "text/plain");
        assert_eq!(v["entryPointName"], "web");
        assert_in_byte_order(&out, &v);
        // Every field but the dropped port, and the TLS ones without TLS.
        let dropped = [
            "ClientPort",
            "GzipRatio",
            "TLSCipher",
            "TLSClientSubject",
            "TLSVersion",
        ];
        for name in crate::access::fields::NAMES {
            assert_eq!(v.get(*name).is_some(), !dropped.contains(name), "{name}");
        }
    }

    #[test]
    fn compressed_responses_carry_the_origin_size_and_ratio() {
        let c = weir_config::static_config::AccessLog {
            format: "json".into(),
            ..Default::default()
        };
        let (s, _) = Settings::from_static(&c);
        let mut r = record();
        r.origin_size = Some(1200);
        r.size = 350;
        let out = text(&s, &r);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["OriginContentSize"], 1200);
        assert_eq!(v["DownstreamContentSize"], 350);
        assert_eq!(v["GzipRatio"], 1200.0 / 350.0);
        assert_in_byte_order(&out, &v);
        // Not compressed: no ratio, the origin's size is the size sent.
        let v: Value = serde_json::from_str(text(&s, &record()).trim()).unwrap();
        assert!(v.get("GzipRatio").is_none());
        assert_eq!(v["OriginContentSize"], 345);
    }

    /// The keys appear in `line` in byte order (the parsed map sorts them whatever the
    /// line's order, so their positions in the text are compared).
    fn assert_in_byte_order(line: &str, v: &Value) {
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert!(keys.len() > 30, "{keys:?}");
        let at: Vec<usize> = keys
            .iter()
            .map(|k| line.find(&format!("\"{k}\":")).unwrap())
            .collect();
        for (pair, names) in at.windows(2).zip(keys.windows(2)) {
            assert!(
                pair[0] < pair[1],
                "{} is written after {}",
                names[0],
                names[1]
            );
        }
    }

    #[test]
    fn hosts_and_urls_split_like_go() {
        let split = |s: &'static str| {
            let (h, p) = split_host_port(s.as_bytes());
            (
                std::str::from_utf8(h).unwrap(),
                p.map(|p| std::str::from_utf8(p).unwrap()),
            )
        };
        assert_eq!(split("a.test:8000"), ("a.test", Some("8000")));
        assert_eq!(split("a.test"), ("a.test", None));
        assert_eq!(split("[::1]:443"), ("::1", Some("443")));
        assert_eq!(split("[::1]"), ("::1", None));
        assert_eq!(split("::1"), ("::1", None));
        assert_eq!(url_authority("http://10.0.0.1:80/x"), "10.0.0.1:80");
        assert_eq!(url_authority("https://[::1]:8443"), "[::1]:8443");
        assert_eq!(url_authority("h2c://up:9000/"), "up:9000");
    }
}
