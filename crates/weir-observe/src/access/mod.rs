//! Access logs (`accessLog`): Traefik's common log format or JSON with Traefik's field
//! names, filters, per-field and per-header modes. Lines are formatted and written on a
//! dedicated thread fed by a bounded queue: when the disk or pipe is slow the queue fills
//! and lines are dropped (and counted), requests never wait.

mod clock;
mod encode;
mod fields;
mod format;
mod memo;
mod writer;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, Method, Version};
use weir_config::static_config::AccessLog as AccessLogConfig;

pub use writer::Writer;

use crate::metrics::Metrics;

/// Lines queued for the writer before new ones are dropped, when `bufferingSize` is 0.
pub const DEFAULT_QUEUE: usize = 4096;

/// Output layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Traefik's common log format (CLF plus request count, router, service URL, duration).
    Common,
    /// The CLF part only.
    GenericClf,
    /// One JSON object per line.
    Json,
}

/// What happens to a header in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderMode {
    /// Logged as is.
    Keep,
    /// Not logged.
    Drop,
    /// Logged as `REDACTED`.
    Redact,
}

/// Status code filter: single codes and ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFilter(Vec<(u16, u16)>);

impl StatusFilter {
    fn matches(&self, code: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&code))
    }
}

/// The access log settings, resolved from the static configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// File to append to; `None` is stdout.
    pub file: Option<std::path::PathBuf>,
    /// Layout.
    pub format: Format,
    /// Queue length before lines are dropped (`bufferingSize`, default
    /// [`DEFAULT_QUEUE`]).
    pub queue: usize,
    /// Log requests to weir's own routers.
    pub add_internals: bool,
    status: Option<StatusFilter>,
    retry_attempts: bool,
    min_duration: Option<Duration>,
    fields: fields::FieldSet,
    header_default: HeaderMode,
    header_modes: Vec<(String, HeaderMode)>,
    /// Whether any header is logged (decided once, not per request).
    wants_headers: bool,
    /// How the common log format prints `Referer` and `User-Agent`: as the header modes
    /// say, so by default (headers dropped) `"-" "-"`, as Traefik.
    clf_referer: HeaderMode,
    clf_user_agent: HeaderMode,
}

impl Settings {
    /// Resolves `accessLog`; problems (unknown format, bad status range) are returned as
    /// warnings naming the field, with the default used instead.
    pub fn from_static(c: &AccessLogConfig) -> (Settings, Vec<String>) {
        let mut warnings = Vec::new();
        let format = match c.format.to_ascii_lowercase().as_str() {
            "" | "common" => Format::Common,
            "genericclf" => Format::GenericClf,
            "json" => Format::Json,
            other => {
                warnings.push(format!(
                    "accessLog.format: unknown format {other:?}; using common"
                ));
                Format::Common
            }
        };
        let mut ranges = Vec::new();
        for s in &c.filters.status_codes {
            let parsed = match s.split_once('-') {
                Some((a, b)) => a
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .zip(b.trim().parse::<u16>().ok()),
                None => s.trim().parse::<u16>().ok().map(|c| (c, c)),
            };
            match parsed {
                Some((lo, hi)) if lo <= hi => ranges.push((lo, hi)),
                _ => warnings.push(format!(
                    "accessLog.filters.statusCodes: {s:?} is not a code or a range like \"400-499\"; ignored"
                )),
            }
        }
        let header_mode = |s: &str, field: &str, warnings: &mut Vec<String>| match s
            .to_ascii_lowercase()
            .as_str()
        {
            "keep" => Some(HeaderMode::Keep),
            "drop" => Some(HeaderMode::Drop),
            "redact" => Some(HeaderMode::Redact),
            other => {
                warnings.push(format!(
                    "{field}: unknown mode {other:?} (keep, drop, redact)"
                ));
                None
            }
        };
        // An unknown default mode keeps headers, as Traefik's check falls back to keep.
        let header_default = header_mode(
            &c.fields.headers.default_mode,
            "accessLog.fields.headers.defaultMode",
            &mut warnings,
        )
        .unwrap_or(HeaderMode::Keep);
        let mut header_modes = Vec::new();
        for (name, mode) in &c.fields.headers.names {
            if let Some(m) = header_mode(
                mode,
                &format!("accessLog.fields.headers.names.{name}"),
                &mut warnings,
            ) {
                header_modes.push((name.to_ascii_lowercase(), m));
            }
        }
        let fields_keep = !c.fields.default_mode.eq_ignore_ascii_case("drop");
        let field_modes: Vec<(String, Option<bool>)> = c
            .fields
            .names
            .iter()
            .map(|(k, v)| {
                let keep = match v.to_ascii_lowercase().as_str() {
                    "keep" => Some(true),
                    "drop" => Some(false),
                    other => {
                        warnings.push(format!(
                            "accessLog.fields.names.{k}: unknown mode {other:?} (keep, drop); the default mode applies"
                        ));
                        None
                    }
                };
                (k.clone(), keep)
            })
            .collect();
        let wants_headers = header_default != HeaderMode::Drop
            || header_modes.iter().any(|(_, m)| *m != HeaderMode::Drop);
        let clf = |name| match format {
            Format::Json => HeaderMode::Drop,
            Format::Common | Format::GenericClf => mode_for(header_default, &header_modes, name),
        };
        let (clf_referer, clf_user_agent) = (clf("Referer"), clf("User-Agent"));
        let settings = Settings {
            file: (!c.file_path.trim().is_empty()).then(|| c.file_path.trim().into()),
            format,
            queue: usize::try_from(c.buffering_size)
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or(DEFAULT_QUEUE),
            add_internals: c.add_internals,
            status: (!ranges.is_empty()).then_some(StatusFilter(ranges)),
            retry_attempts: c.filters.retry_attempts,
            min_duration: c.filters.min_duration.to_std_nonzero(),
            fields: fields::FieldSet::new(fields_keep, &field_modes),
            header_default,
            header_modes,
            wants_headers,
            clf_referer,
            clf_user_agent,
        };
        (settings, warnings)
    }

    /// The mode of header `name`. Authorization, Proxy-Authorization and Cookie are
    /// redacted unless named explicitly: a `keep` default must not leak credentials.
    pub fn header_mode(&self, name: &str) -> HeaderMode {
        mode_for(self.header_default, &self.header_modes, name)
    }

    /// Whether any header is written (then load balancers keep the server's headers).
    pub fn logs_headers(&self) -> bool {
        self.wants_headers
    }

    /// Whether a finished request is logged, as Traefik decides: no filter logs all;
    /// otherwise any matching filter does.
    pub fn keep(&self, status: u16, duration: Duration, retries: u32) -> bool {
        if self.status.is_none() && !self.retry_attempts && self.min_duration.is_none() {
            return true;
        }
        self.status.as_ref().is_some_and(|f| f.matches(status))
            || (self.retry_attempts && retries > 0)
            || self.min_duration.is_some_and(|m| duration > m)
    }

    /// The headers of `map` as logged (name, value), per the header modes, in the byte
    /// order of their names.
    #[inline]
    fn headers(&self, map: &HeaderMap) -> Vec<(String, String)> {
        if !self.wants_headers {
            return Vec::new();
        }
        self.kept_headers(map)
    }

    fn kept_headers(&self, map: &HeaderMap) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for name in map.keys() {
            let value = match self.header_mode(name.as_str()) {
                HeaderMode::Drop => continue,
                HeaderMode::Redact => "REDACTED".to_owned(),
                HeaderMode::Keep => String::from_utf8_lossy(&all_values(map, name)).into_owned(),
            };
            out.push((canonical_header(name.as_str()), value));
        }
        // In the byte order of their names, as the JSON line writes them.
        out.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        out
    }
}

/// [`Settings::header_mode`] from the default and the named modes.
fn mode_for(default: HeaderMode, modes: &[(String, HeaderMode)], name: &str) -> HeaderMode {
    if let Some((_, m)) = modes.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        return *m;
    }
    let sensitive = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|s| s.eq_ignore_ascii_case(name));
    match default {
        HeaderMode::Keep if sensitive => HeaderMode::Redact,
        m => m,
    }
}

/// Every value of the header `name` in `map`, joined by commas, as Traefik logs a header
/// sent more than once.
fn all_values(map: &HeaderMap, name: impl http::header::AsHeaderName) -> Vec<u8> {
    let values: Vec<&[u8]> = map
        .get_all(name)
        .iter()
        .map(http::HeaderValue::as_bytes)
        .collect();
    values.join(&b","[..])
}

/// The text a common-format line needs of the request header `name` in `mode`: nothing
/// unless kept; `first`, its first value, unless it came more than once (`repeated`, as
/// the header scan found), then all of them joined.
fn kept_text<'a>(
    mode: HeaderMode,
    map: &HeaderMap,
    name: http::HeaderName,
    first: &'a [u8],
    repeated: bool,
) -> Cow<'a, [u8]> {
    match mode {
        HeaderMode::Keep if repeated => Cow::Owned(all_values(map, name)),
        HeaderMode::Keep => Cow::Borrowed(first),
        HeaderMode::Drop | HeaderMode::Redact => Cow::Borrowed(&[]),
    }
}

/// `content-type` → `Content-Type`, as Go prints header names.
fn canonical_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper = c == '-';
    }
    out
}

/// The texts of a request a line prints, copied as they came into one buffer when the
/// request arrives (one allocation instead of one per text; checked for UTF-8 by the
/// writer, off the request's path).
#[derive(Debug, Default)]
pub(crate) struct RequestText {
    buf: Vec<u8>,
    /// Where each part but the last ends (see [`RequestText::new`]).
    ends: [usize; 4],
}

impl RequestText {
    /// The host, the path, the referer, the user agent and the trusted
    /// `X-Forwarded-For`, in that order (empty when absent or not printed).
    fn new(parts: [&[u8]; 5]) -> RequestText {
        let mut buf = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut ends = [0; 4];
        for (i, part) in parts.iter().enumerate() {
            buf.extend_from_slice(part);
            if let Some(end) = ends.get_mut(i) {
                *end = buf.len();
            }
        }
        RequestText { buf, ends }
    }

    fn part(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        let end = self.ends.get(i).copied().unwrap_or(self.buf.len());
        self.buf.get(start..end).unwrap_or_default()
    }

    /// `Host` (or the request target's authority), with its port if it had one.
    pub(crate) fn host(&self) -> &[u8] {
        self.part(0)
    }

    /// The path and query.
    pub(crate) fn path(&self) -> &[u8] {
        self.part(1)
    }

    /// `Referer`, empty when absent.
    pub(crate) fn referer(&self) -> &[u8] {
        self.part(2)
    }

    /// `User-Agent`, empty when absent.
    pub(crate) fn user_agent(&self) -> &[u8] {
        self.part(3)
    }

    /// `X-Forwarded-For` from a trusted client (the line's `ClientHost`, as Traefik), empty
    /// when absent or not trusted.
    pub(crate) fn forwarded_for(&self) -> &[u8] {
        self.part(4)
    }
}

/// One request's log line before formatting: the request side is captured when it
/// arrives, the rest filled in when its response is done, and the same allocation goes to
/// the writer.
#[derive(Debug)]
pub struct Record {
    /// When the request arrived; the writer turns it into wall-clock time (one clock read
    /// per batch instead of one per request).
    pub(crate) arrived: Instant,
    pub(crate) client: SocketAddr,
    pub(crate) method: Method,
    pub(crate) version: Version,
    pub(crate) text: RequestText,
    pub(crate) tls: Option<crate::TlsLabel>,
    pub(crate) tls_client_subject: Option<Arc<str>>,
    pub(crate) request_headers: Vec<(String, String)>,
    pub(crate) content_length: u64,
    pub(crate) entrypoint: Arc<str>,
    pub(crate) duration: Duration,
    pub(crate) router: Option<Arc<str>>,
    pub(crate) service: Option<Arc<str>>,
    pub(crate) service_url: Option<Arc<str>>,
    /// The status the server answered; `None` when weir answered itself.
    pub(crate) origin_status: Option<u16>,
    /// From arrival until the load balancer forwarded, when measured.
    pub(crate) overhead: Option<Duration>,
    pub(crate) status: u16,
    pub(crate) size: u64,
    /// The body's size before compress re-encoded it, when it did.
    pub(crate) origin_size: Option<u64>,
    pub(crate) count: u64,
    pub(crate) retries: u32,
    pub(crate) username: Option<Arc<str>>,
    pub(crate) response_headers: Vec<(String, String)>,
    /// The server's response headers (`origin_<Name>`), kept by the load balancer only
    /// when headers are logged; filtered and printed by the writer.
    pub(crate) origin_headers: Option<Box<HeaderMap>>,
}

/// The access logger the entrypoints share.
pub struct AccessLogger {
    settings: Arc<Settings>,
    writer: Writer,
    metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for AccessLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLogger")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AccessLogger {
    /// Starts the writer thread. Fails when the file cannot be opened.
    pub fn start(settings: Settings, metrics: Option<Arc<Metrics>>) -> std::io::Result<Self> {
        let settings = Arc::new(settings);
        let writer = Writer::start(settings.clone(), metrics.clone())?;
        Ok(AccessLogger {
            settings,
            writer,
            metrics,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Reopens the file (after logrotate moved it; SIGUSR1).
    pub fn reopen(&self) {
        self.writer.reopen();
    }

    /// Writes what is queued and stops the writer (at shutdown).
    pub fn finish(&self) {
        self.writer.finish();
    }

    /// Captures the request side of a log line for a request that `arrived`; `found`
    /// holds its headers of interest.
    pub(crate) fn capture(
        &self,
        parts: &http::request::Parts,
        found: &crate::scan::RequestHeaders<'_>,
        peer: crate::Peer<'_>,
        entrypoint: &Arc<str>,
        arrived: Instant,
    ) -> Box<Record> {
        let host = found.host.unwrap_or_else(|| {
            parts
                .uri
                .authority()
                .map_or(&[][..], |a| a.as_str().as_bytes())
        });
        let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let clf = |mode, name, first| kept_text(mode, &parts.headers, name, first, found.repeated);
        let referer = clf(
            self.settings.clf_referer,
            http::header::REFERER,
            found.referer,
        );
        let user_agent = clf(
            self.settings.clf_user_agent,
            http::header::USER_AGENT,
            found.user_agent,
        );
        Box::new(Record {
            arrived,
            client: peer.addr,
            method: parts.method.clone(),
            version: parts.version,
            // Referer and User-Agent only for a common-format line that prints them.
            text: RequestText::new([
                host,
                path.as_bytes(),
                &referer,
                &user_agent,
                peer.forwarded_for.unwrap_or_default(),
            ]),
            tls: peer.tls,
            tls_client_subject: peer.tls_client_subject.cloned(),
            request_headers: self.settings.headers(&parts.headers),
            content_length: 0,
            entrypoint: entrypoint.clone(),
            duration: Duration::ZERO,
            router: None,
            service: None,
            service_url: None,
            origin_status: None,
            overhead: None,
            status: 0,
            size: 0,
            origin_size: None,
            count: 0,
            retries: 0,
            username: None,
            response_headers: Vec::new(),
            origin_headers: None,
        })
    }

    /// The response headers a line keeps (none unless headers are logged).
    pub(crate) fn response_headers(&self, headers: &HeaderMap) -> Vec<(String, String)> {
        self.settings.headers(headers)
    }

    /// Queues a finished request if the filters keep it; drops it (counted) when the
    /// writer is behind.
    pub(crate) fn log(&self, record: Box<Record>) {
        if !self
            .settings
            .keep(record.status, record.duration, record.retries)
        {
            return;
        }
        if !self.writer.send(record)
            && let Some(m) = &self.metrics
        {
            m.log_lines_lost(1);
        }
    }
}

/// A logged request for the formatter's and the writer's tests: GET
/// `whoami.local:8000/a?b=1` from 10.0.0.7, answered 200 with 345 bytes in 12 ms.
#[cfg(test)]
pub(crate) fn sample_record() -> Record {
    let mut origin = HeaderMap::new();
    origin.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html"),
    );
    Record {
        arrived: Instant::now(),
        client: SocketAddr::from(([10, 0, 0, 7], 51234)),
        method: Method::GET,
        version: Version::HTTP_11,
        text: RequestText::new([b"whoami.local:8000", b"/a?b=1", b"", b"curl/8", b""]),
        tls: None,
        tls_client_subject: None,
        request_headers: vec![("Authorization".into(), "REDACTED".into())],
        content_length: 0,
        entrypoint: Arc::from("web"),
        duration: Duration::from_millis(12),
        router: Some(Arc::from("whoami@file")),
        service: Some(Arc::from("whoami@file")),
        service_url: Some(Arc::from("http://127.0.0.1:9101")),
        origin_status: Some(200),
        overhead: Some(Duration::from_millis(2)),
        status: 200,
        size: 345,
        origin_size: None,
        count: 7,
        retries: 0,
        username: None,
        response_headers: vec![("Content-Type".into(), "text/plain".into())],
        origin_headers: Some(Box::new(origin)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml_default: &str, names: &[(&str, &str)]) -> Settings {
        let mut c = AccessLogConfig::default();
        c.fields.headers.default_mode = yaml_default.into();
        for (k, v) in names {
            c.fields.headers.names.insert((*k).into(), (*v).into());
        }
        Settings::from_static(&c).0
    }

    #[test]
    fn credentials_are_redacted_unless_named() {
        let s = settings("keep", &[]);
        assert_eq!(s.header_mode("Authorization"), HeaderMode::Redact);
        assert_eq!(s.header_mode("cookie"), HeaderMode::Redact);
        assert_eq!(s.header_mode("User-Agent"), HeaderMode::Keep);
        let s = settings("keep", &[("Authorization", "keep")]);
        assert_eq!(s.header_mode("authorization"), HeaderMode::Keep);
        let s = settings("drop", &[("X-Id", "redact")]);
        assert_eq!(s.header_mode("x-id"), HeaderMode::Redact);
        assert_eq!(s.header_mode("user-agent"), HeaderMode::Drop);
    }

    #[test]
    fn filters_match_like_traefik() {
        let mut c = AccessLogConfig::default();
        c.filters.status_codes = vec!["200".into(), "500-599".into(), "x".into()];
        let (s, warnings) = Settings::from_static(&c);
        assert_eq!(warnings.len(), 1);
        assert!(s.keep(200, Duration::ZERO, 0));
        assert!(s.keep(503, Duration::ZERO, 0));
        assert!(!s.keep(404, Duration::ZERO, 0));
        let (all, _) = Settings::from_static(&AccessLogConfig::default());
        assert!(all.keep(404, Duration::ZERO, 0));
    }

    #[test]
    fn header_names_print_like_go() {
        assert_eq!(canonical_header("x-forwarded-for"), "X-Forwarded-For");
    }
}
