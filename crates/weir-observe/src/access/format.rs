//! Formatting a [`Record`] as Traefik does.

use std::fmt::Write;

use http::Version;
use std::borrow::Cow;

use super::{Format, Record, Settings};
use crate::time::Utc;

fn proto(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// Appends `r` as one line (with the newline) to `out`.
pub(crate) fn line(s: &Settings, r: &Record, out: &mut String) {
    match s.format {
        Format::Json => json(s, r, out),
        Format::Common | Format::GenericClf => clf(s, r, out),
    }
    out.push('\n');
}

/// `"value"`, or `-` when missing or empty (Traefik's toLogEntry for quoted fields).
fn quoted(v: Option<&str>) -> String {
    match v {
        Some(v) if !v.is_empty() => format!("\"{}\"", v.replace('"', "\\\"")),
        _ => "\"-\"".to_owned(),
    }
}

fn clf(s: &Settings, r: &Record, out: &mut String) {
    let c = &r.capture;
    let keep = |f: &str| s.keeps_field(f);
    let dash = |ok: bool, v: String| if ok { v } else { "-".to_owned() };
    let _ = write!(
        out,
        "{} - {} [{}] \"{} {} {}\" {} {} {} {}",
        dash(keep("ClientHost"), c.client.ip().to_string()),
        dash(
            keep("ClientUsername"),
            r.username.as_deref().unwrap_or("-").to_owned()
        ),
        dash(keep("StartUTC"), Utc::from_system(c.start).clf()),
        dash(keep("RequestMethod"), c.method.to_string()),
        dash(keep("RequestPath"), c.uri.clone()),
        dash(keep("RequestProtocol"), proto(c.version).to_owned()),
        dash(keep("DownstreamStatus"), r.status.to_string()),
        dash(keep("DownstreamContentSize"), r.size.to_string()),
        quoted(c.referer.as_deref()),
        quoted(c.user_agent.as_deref()),
    );
    if s.format == Format::GenericClf {
        return;
    }
    let _ = write!(
        out,
        " {} {} {} {}ms",
        dash(keep("RequestCount"), r.count.to_string()),
        quoted(r.router.as_deref().filter(|_| keep("RouterName"))),
        quoted(r.service_url.as_deref().filter(|_| keep("ServiceURL"))),
        r.duration.as_millis()
    );
}

/// A JSON value of a log line.
enum Val<'a> {
    Str(Cow<'a, str>),
    Num(u64),
    Time(Utc),
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Str(Cow::Borrowed(v))
    }
}

impl From<String> for Val<'_> {
    fn from(v: String) -> Self {
        Val::Str(Cow::Owned(v))
    }
}

impl From<u64> for Val<'_> {
    fn from(v: u64) -> Self {
        Val::Num(v)
    }
}

/// One JSON object per line, keys in byte order as Traefik (Go's JSON of a map) writes them.
/// Written straight into `out`: building a JSON map first cost more than proxying the
/// request.
fn json<'r>(s: &Settings, r: &'r Record, out: &mut String) {
    let c = &r.capture;
    let mut fields: Vec<(Cow<'r, str>, Val<'r>)> = Vec::with_capacity(40);
    let mut put = |k: &'static str, v: Val<'r>| {
        if s.keeps_field(k) {
            fields.push((Cow::Borrowed(k), v));
        }
    };
    let start = Utc::from_system(c.start);
    let nanos = |d: std::time::Duration| Val::Num(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    put("StartUTC", Val::Time(start));
    put("StartLocal", Val::Time(start));
    put("Duration", nanos(r.duration));
    put("OriginDuration", nanos(r.duration));
    put("Overhead", Val::Num(0));
    put("ClientAddr", c.client.to_string().into());
    put("ClientHost", c.client.ip().to_string().into());
    put("ClientPort", c.client.port().to_string().into());
    put(
        "ClientUsername",
        r.username.as_deref().unwrap_or("-").into(),
    );
    let (host, port) = split_host_port(&c.host);
    put("RequestAddr", c.host.as_str().into());
    put("RequestHost", host.into());
    put("RequestPort", port.unwrap_or("-").into());
    put("RequestMethod", c.method.as_str().into());
    put("RequestPath", c.uri.as_str().into());
    put("RequestProtocol", proto(c.version).into());
    put(
        "RequestLine",
        format!("{} {} {}", c.method, c.uri, proto(c.version)).into(),
    );
    put(
        "RequestScheme",
        if c.tls.is_some() { "https" } else { "http" }.into(),
    );
    if let Some(tls) = c.tls {
        let (version, cipher) = crate::TlsLabel::labels(tls.index());
        put("TLSVersion", version.into());
        put("TLSCipher", cipher.into());
    }
    put("RequestContentSize", c.content_length.into());
    put("RequestCount", r.count.into());
    put("entryPointName", c.entrypoint.as_ref().into());
    if let Some(router) = &r.router {
        put("RouterName", router.as_ref().into());
    }
    if let Some(service) = &r.service {
        put("ServiceName", service.as_ref().into());
    }
    if let Some(url) = &r.service_url {
        put("ServiceURL", url.as_ref().into());
        let addr = url
            .split_once("://")
            .map_or(url.as_ref(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or("");
        put("ServiceAddr", addr.into());
    }
    if let Some(origin) = r.origin_status {
        put("OriginStatus", u64::from(origin).into());
        put("OriginContentSize", r.size.into());
    }
    put("DownstreamStatus", u64::from(r.status).into());
    put("DownstreamContentSize", r.size.into());
    put("RetryAttempts", u64::from(r.retries).into());
    for (name, value) in &c.request_headers {
        fields.push((format!("request_{name}").into(), value.as_str().into()));
    }
    for (name, value) in &r.response_headers {
        fields.push((format!("downstream_{name}").into(), value.as_str().into()));
    }
    fields.push(("level".into(), "info".into()));
    fields.push(("msg".into(), "".into()));
    fields.push((
        "time".into(),
        Val::Time(Utc::from_system(std::time::SystemTime::now())),
    ));
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, key);
        out.push(':');
        match value {
            Val::Str(v) => push_json_str(out, v),
            Val::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Val::Time(t) => {
                out.push('"');
                t.write_rfc3339(out);
                out.push('"');
            }
        }
    }
    out.push('}');
}

/// `v` as a JSON string literal.
fn push_json_str(out: &mut String, v: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in v.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&v[plain..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&v[plain..]);
    out.push('"');
}

/// `host:port` → (`host`, `port`), with IPv6 brackets kept on the host as Go does not.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((h, tail)) = rest.split_once(']')
    {
        return (h, tail.strip_prefix(':'));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Capture;
    use serde_json::Value;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    fn record() -> Record {
        Record {
            capture: Capture {
                start: UNIX_EPOCH + Duration::from_secs(1_136_214_245),
                client: "10.0.0.7:51234".parse().unwrap(),
                method: http::Method::GET,
                uri: "/a?b=1".into(),
                version: Version::HTTP_11,
                host: "whoami.local:8000".into(),
                tls: None,
                referer: None,
                user_agent: Some("curl/8".into()),
                request_headers: vec![("Authorization".into(), "REDACTED".into())],
                content_length: 0,
                entrypoint: Arc::from("web"),
            },
            duration: Duration::from_millis(12),
            router: Some(Arc::from("whoami@file")),
            service: Some(Arc::from("whoami@file")),
            service_url: Some(Arc::from("http://127.0.0.1:9101")),
            origin_status: Some(200),
            status: 200,
            size: 345,
            count: 7,
            retries: 0,
            username: None,
            response_headers: Vec::new(),
        }
    }

    #[test]
    fn common_line_has_traefiks_layout() {
        let (s, _) = Settings::from_static(&Default::default());
        let mut out = String::new();
        line(&s, &record(), &mut out);
        assert_eq!(
            out,
            "10.0.0.7 - - [02/Jan/2006:15:04:05 +0000] \"GET /a?b=1 HTTP/1.1\" 200 345 \"-\" \"curl/8\" 7 \"whoami@file\" \"http://127.0.0.1:9101\" 12ms\n"
        );
        // An authenticated user takes the second field, as in Traefik.
        let mut r = record();
        r.username = Some(Arc::from("alice"));
        let mut out = String::new();
        line(&s, &r, &mut out);
        assert!(out.starts_with("10.0.0.7 - alice [02/Jan/2006"), "{out}");
    }

    #[test]
    fn json_line_has_traefiks_fields() {
        let mut c = weir_config::static_config::AccessLog {
            format: "json".into(),
            ..Default::default()
        };
        c.fields.names.insert("ClientPort".into(), "drop".into());
        let (s, _) = Settings::from_static(&c);
        let mut out = String::new();
        line(&s, &record(), &mut out);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["RequestHost"], "whoami.local");
        assert_eq!(v["RequestPort"], "8000");
        assert_eq!(v["DownstreamStatus"], 200);
        assert_eq!(v["Duration"], 12_000_000);
        assert_eq!(v["ServiceAddr"], "127.0.0.1:9101");
        assert_eq!(v["request_Authorization"], "REDACTED");
        assert!(v.get("ClientPort").is_none());
        assert_eq!(v["RequestLine"], "GET /a?b=1 HTTP/1.1");
        assert_eq!(v["ClientUsername"], "-");
        assert!(v.get("TLSVersion").is_none());

        let mut r = record();
        r.capture.tls = Some(crate::TlsLabel::new("TLSv1_3", "TLS13_AES_128_GCM_SHA256"));
        r.username = Some(Arc::from("alice"));
        let mut out = String::new();
        line(&s, &r, &mut out);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["TLSVersion"], "1.3");
        assert_eq!(v["TLSCipher"], "TLS_AES_128_GCM_SHA256");
        assert_eq!(v["RequestScheme"], "https");
        assert_eq!(v["ClientUsername"], "alice");

        // Escaping round-trips through a real JSON parser, and keys come in byte order.
        let mut r = record();
        r.capture.request_headers = vec![("X-Odd".into(), "a\"b\\c\nd\u{1}é".into())];
        let mut out = String::new();
        line(&s, &r, &mut out);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["request_X-Odd"], "a\"b\\c\nd\u{1}é");
        assert_eq!(v["StartUTC"], "2006-01-02T15:04:05Z");
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
        let first_key = out.trim_start_matches("{\"").split('"').next().unwrap();
        assert_eq!(
            first_key, sorted[0],
            "written in byte order, not only parsed so"
        );
    }
}
