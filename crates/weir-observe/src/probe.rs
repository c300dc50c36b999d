//! Observing one request: [`Observer::begin`] when it arrives, [`Probe::finish`] when the
//! response head is ready; the numbers are recorded when the response body is done (or
//! dropped), so durations and byte counts cover the whole exchange.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::Response;
use http_body::{Body, Frame, SizeHint};

use crate::access::{AccessLogger, Record};
use crate::labels::{SeriesKey, is_grpc, method_index};
use crate::metrics::{HeaderValues, Metrics, RouteHandles, RouteObservability, VALUE_SEPARATOR};
use crate::origin::{Origin, Tracked};
use crate::scan::RequestHeaders;
use crate::tls_labels::TlsLabel;

/// What an observed request asks of the handlers on its way (load balancers, middlewares
/// that re-encode or discard responses); nothing at all without metrics or an access log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    /// Load balancers leave an [`Origin`] in the request's [`Answered`].
    pub origin: bool,
    /// An access log is written: load balancers note when they begin forwarding (its
    /// `OriginDuration` and `Overhead`, a clock read per request) and compress counts the
    /// bytes it reads ([`OriginBytes`]).
    pub log: bool,
    /// The access log writes headers: load balancers keep the server's.
    pub log_headers: bool,
    /// The request's labels when its route records metrics: a response weir discards
    /// counts on its service with them ([`Answered::discard`]).
    pub labels: Option<RequestLabels>,
}

/// How many times the retry middleware sent the request again, put in the final
/// response's extensions (for `service_retries_total` and the access log's
/// `RetryAttempts`).
#[derive(Debug, Clone, Copy)]
pub struct Retries(pub u32);

/// The response body's size before a middleware re-encoded it (compress), counted as the
/// body is read; put in the response's extensions by that middleware (the access log's
/// `OriginContentSize` and `GzipRatio`).
#[derive(Debug, Clone, Default)]
pub struct OriginBytes(pub Arc<AtomicU64>);

/// The user an authentication middleware let in, put in the response's extensions (the
/// access log's `ClientUsername`).
#[derive(Debug, Clone)]
pub struct ClientUsername(pub Arc<str>);

/// Who sent a request: the client's address and, over TLS, the connection's labels and
/// the subject of the client's certificate.
#[derive(Debug, Clone, Copy)]
pub struct Peer<'a> {
    /// The client's address.
    pub addr: SocketAddr,
    /// TLS version and cipher, over TLS.
    pub tls: Option<TlsLabel>,
    /// The client certificate's subject (the access log's `TLSClientSubject`).
    pub tls_client_subject: Option<&'a Arc<str>>,
    /// The request's `X-Forwarded-For` when the entrypoint trusts the client's forwarded
    /// headers (the access log's `ClientHost`, as Traefik); `None` otherwise.
    pub forwarded_for: Option<&'a [u8]>,
}

/// Metrics and access log, shared by every entrypoint.
#[derive(Debug)]
pub struct Observer {
    metrics: Option<Arc<Metrics>>,
    access: Option<AccessLogger>,
    requests: AtomicU64,
    /// What every request asks, before its labels (decided once).
    wanted: Wanted,
    /// Each entrypoint's `observability` (table order), for requests no router took;
    /// a routed request follows its router's switches.
    entrypoints: Vec<RouteObservability>,
}

impl Observer {
    /// An observer recording into `metrics` and logging to `access` (either may be off).
    pub fn new(metrics: Option<Arc<Metrics>>, access: Option<AccessLogger>) -> Self {
        let wanted = Wanted {
            origin: true,
            log: access.is_some(),
            log_headers: access.as_ref().is_some_and(|a| a.settings().logs_headers()),
            labels: None,
        };
        Observer {
            metrics,
            access,
            requests: AtomicU64::new(0),
            wanted,
            entrypoints: Vec::new(),
        }
    }

    /// Sets each entrypoint's `observability` switches (table order; an entrypoint left
    /// out has both on). They apply to the requests no router took (a 404); a routed
    /// request follows its router's switches, which default to its entrypoint's.
    pub fn with_entrypoints(mut self, switches: Vec<RouteObservability>) -> Self {
        self.entrypoints = switches;
        self
    }

    /// The switches of entrypoint `index`.
    fn entrypoint_switches(&self, index: usize) -> RouteObservability {
        self.entrypoints.get(index).copied().unwrap_or_default()
    }

    /// The metrics registry, if on.
    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.metrics.as_ref()
    }

    /// The access logger, if on.
    pub fn access_log(&self) -> Option<&AccessLogger> {
        self.access.as_ref()
    }

    /// Counts an open connection on entrypoint `index` until the guard drops.
    pub fn connection(&self, index: usize) -> Option<ConnectionGuard> {
        let m = self.metrics.as_ref()?;
        m.entrypoint(index)?.connection_opened();
        Some(ConnectionGuard {
            metrics: m.clone(),
            index,
        })
    }

    /// Starts observing a request that arrived on entrypoint `index` (named `entrypoint`)
    /// from `peer`. Call before the request's headers are rewritten.
    pub fn begin(
        self: &Arc<Self>,
        index: usize,
        entrypoint: &Arc<str>,
        parts: &http::request::Parts,
        peer: Peer<'_>,
    ) -> Probe {
        let header_values = self
            .metrics
            .as_ref()
            .filter(|m| !m.config().header_labels.is_empty())
            .map(|m| header_values(&m.config().header_labels, parts));
        let found = RequestHeaders::scan(&parts.headers);
        let start = Instant::now();
        Probe {
            observer: self.clone(),
            start,
            method: method_index(&parts.method),
            protocol: found.protocol(),
            request_body: None,
            entrypoint: index,
            route: None,
            tls: peer.tls,
            header_values,
            capture: self
                .access
                .as_ref()
                .map(|a| a.capture(parts, &found, peer, entrypoint, start)),
            origin: None,
        }
    }
}

/// The values of the `headerLabels` headers, joined (empty when absent; `Host` falls back
/// to the request target's authority, as HTTP/2 carries it there).
fn header_values(labels: &[(String, String)], parts: &http::request::Parts) -> HeaderValues {
    let value = |header: &str| {
        let found = parts.headers.get(header).and_then(|v| v.to_str().ok());
        match found {
            None if header.eq_ignore_ascii_case("host") => {
                parts.uri.authority().map(|a| a.as_str())
            }
            v => v,
        }
        .unwrap_or("")
    };
    // Sized exactly first, so the string is allocated once (and not shrunk into a box).
    let separators = labels.len().saturating_sub(1);
    let len = labels.iter().map(|(_, h)| value(h).len()).sum::<usize>() + separators;
    let mut joined = String::with_capacity(len);
    for (i, (_, header)) in labels.iter().enumerate() {
        if i > 0 {
            joined.push(VALUE_SEPARATOR);
        }
        joined.push_str(value(header));
    }
    joined.into_boxed_str()
}

/// Decrements the open connection gauge when dropped.
#[derive(Debug)]
pub struct ConnectionGuard {
    metrics: Arc<Metrics>,
    index: usize,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Some(e) = self.metrics.entrypoint(self.index) {
            e.connection_closed();
        }
    }
}

/// One request being observed.
#[derive(Debug)]
pub struct Probe {
    observer: Arc<Observer>,
    start: Instant,
    method: u8,
    protocol: u8,
    /// The request body's bytes as read, when it has a body ([`Probe::count_request_body`]).
    request_body: Option<Arc<AtomicU64>>,
    entrypoint: usize,
    route: Option<Arc<RouteHandles>>,
    tls: Option<TlsLabel>,
    header_values: Option<HeaderValues>,
    capture: Option<Box<Record>>,
    /// The server that answered ([`Probe::answered_by`]).
    origin: Option<Origin>,
}

impl Probe {
    /// The request was routed to `router` with `handles`.
    pub fn routed(&mut self, router: &Arc<str>, handles: &Arc<RouteHandles>) {
        if let Some(line) = &mut self.capture {
            line.router = Some(router.clone());
        }
        self.route = Some(handles.clone());
    }

    /// What the handlers on the request's way should do for it (call after
    /// [`Probe::routed`]).
    pub fn wanted(&self) -> Wanted {
        let records = self.route.as_ref().is_some_and(|r| r.counted());
        Wanted {
            labels: records.then_some(RequestLabels {
                method: self.method,
                protocol: self.protocol,
            }),
            ..self.observer.wanted
        }
    }

    /// Counts the request body's bytes as they are read: the metrics' request bytes and
    /// the access log's `RequestContentSize` are what was read, as Traefik counts them,
    /// not what `Content-Length` announced (0 for a body nobody read).
    pub fn count_request_body<B>(&mut self, body: B) -> CountedBody<B> {
        let (body, count) = CountedBody::new(body);
        self.request_body = Some(count);
        body
    }

    /// The handlers are done: `origin` answered the response they return (from the
    /// request's [`crate::Answered`]; `None` when weir answered itself).
    pub fn answered_by(&mut self, origin: Option<Origin>) {
        self.origin = origin;
    }

    /// Wraps the response so the request is recorded when its body is done.
    pub fn finish<B>(mut self, resp: Response<B>) -> Response<Metered<B>> {
        let status = resp.status().as_u16();
        let retries = resp.extensions().get::<Retries>().map_or(0, |r| r.0);
        let internal = self.route.as_ref().is_some_and(|r| r.internal);
        let skip = match &self.route {
            Some(r) => r.skip_access_log,
            None => {
                !self
                    .observer
                    .entrypoint_switches(self.entrypoint)
                    .access_log
            }
        };
        let log = self.capture.is_some()
            && !skip
            && (!internal
                || self
                    .observer
                    .access
                    .as_ref()
                    .is_some_and(|a| a.settings().add_internals));
        let origin = self.origin.take();
        // The line keeps what only the response head has; a request not logged drops it.
        let mut origin_bytes = None;
        match (&mut self.capture, &self.observer.access) {
            (Some(line), Some(logger)) if log => {
                line.response_headers = logger.response_headers(resp.headers());
                let ext = resp.extensions();
                line.username = ext.get::<ClientUsername>().map(|u| u.0.clone());
                origin_bytes = ext.get::<OriginBytes>().map(|o| o.0.clone());
            }
            _ => self.capture = None,
        }
        // gRPC's code label is its status, from the headers of a trailers-only response or
        // (see Metered) the trailers; Unknown (2) when there is none, as Traefik.
        let grpc_status =
            is_grpc(self.protocol).then(|| grpc_status(resp.headers()).unwrap_or(GRPC_UNKNOWN));
        let (parts, body) = resp.into_parts();
        let done = Done {
            probe: self,
            status,
            grpc_status,
            origin,
            retries,
            origin_bytes,
            bytes: 0,
        };
        Response::from_parts(
            parts,
            Metered {
                inner: body,
                done: Some(done),
            },
        )
    }
}

#[derive(Debug)]
struct Done {
    probe: Probe,
    status: u16,
    /// For gRPC requests, the `grpc-status` seen so far (the metrics' `code`).
    grpc_status: Option<u16>,
    origin: Option<Origin>,
    retries: u32,
    /// The body's size before compress re-encoded it, for a logged line.
    origin_bytes: Option<Arc<AtomicU64>>,
    bytes: u64,
}

impl Done {
    fn record(self) {
        let p = self.probe;
        let elapsed = p.start.elapsed();
        let request_bytes = p
            .request_body
            .as_ref()
            .map_or(0, |c| c.load(Ordering::Relaxed));
        let code = self.grpc_status.unwrap_or(self.status);
        let key = SeriesKey::new(code, p.method, p.protocol);
        let counted = match &p.route {
            Some(r) => r.counted(),
            None => p.observer.entrypoint_switches(p.entrypoint).metrics,
        };
        if counted {
            if let Some(e) = p
                .observer
                .metrics
                .as_ref()
                .and_then(|m| m.entrypoint(p.entrypoint))
            {
                record(e.series(), &p, key, elapsed, request_bytes, self.bytes);
            }
            if let Some(r) = &p.route {
                if let Some(s) = &r.router {
                    record(s, &p, key, elapsed, request_bytes, self.bytes);
                }
                if let Some(s) = &r.service {
                    if let Some(origin) = &self.origin
                        && let Some(answered) = &origin.service.series
                    {
                        // The status the server gave (a middleware may have changed the
                        // one sent, as errors does for its page), as Traefik measures
                        // around the server.
                        let key = match self.grpc_status {
                            Some(_) => key,
                            None => SeriesKey::new(origin.status, p.method, p.protocol),
                        };
                        record(answered, &p, key, elapsed, request_bytes, self.bytes);
                    }
                    if self.retries > 0 {
                        s.add_retries(u64::from(self.retries));
                    }
                }
            }
        }
        // The probe keeps a line only for a request that is logged.
        if let (Some(mut line), Some(logger)) = (p.capture, p.observer.access.as_ref()) {
            // Counted before the filters, like Traefik's RequestCount.
            line.count = p.observer.requests.fetch_add(1, Ordering::Relaxed) + 1;
            line.content_length = request_bytes;
            line.duration = elapsed;
            if let Some(origin) = self.origin {
                line.origin_headers = origin.headers;
                line.service = Some(origin.service.name.clone());
                line.origin_status = Some(origin.status);
                // Time spent before the load balancer forwarded: routing and middlewares.
                line.overhead = origin.started.map(|t| t.saturating_duration_since(p.start));
                line.service_url = Some(origin.url);
            }
            line.status = self.status;
            line.size = self.bytes;
            line.origin_size = self.origin_bytes.map(|o| o.load(Ordering::Relaxed));
            line.retries = self.retries;
            logger.log(line);
        }
    }
}

/// A request's method and protocol labels, as its probe found them ([`Wanted::labels`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestLabels {
    pub(crate) method: u8,
    pub(crate) protocol: u8,
}

impl Wanted {
    /// Starts timing a response a handler may discard, when its route records metrics
    /// (no clock read otherwise).
    pub fn track(&self) -> Option<Tracked> {
        self.labels.map(|labels| Tracked {
            labels,
            started: Instant::now(),
        })
    }
}

/// gRPC's Unknown status, the code label of a gRPC response without `grpc-status`.
pub(crate) const GRPC_UNKNOWN: u16 = 2;

/// gRPC's highest status code (Unauthenticated).
const GRPC_MAX: u16 = 16;

/// The `grpc-status` of `headers`, when present: a code gRPC defines, or Unknown for
/// anything else, as Traefik (a peer's made-up numbers must not become label values).
pub(crate) fn grpc_status(headers: &http::HeaderMap) -> Option<u16> {
    let value = headers.get("grpc-status")?;
    let code = std::str::from_utf8(value.as_bytes())
        .ok()
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|&c| c <= GRPC_MAX);
    Some(code.unwrap_or(GRPC_UNKNOWN))
}

/// Records one finished request into one entrypoint's, router's or service's series.
fn record(
    set: &crate::SeriesSet,
    p: &Probe,
    key: SeriesKey,
    elapsed: std::time::Duration,
    request_bytes: u64,
    bytes: u64,
) {
    set.record(key, elapsed, request_bytes, bytes);
    if let Some(tls) = p.tls {
        set.record_tls(tls);
    }
    if let Some(values) = &p.header_values {
        set.record_headers(key, values);
    }
}

pin_project_lite::pin_project! {
    /// A body that counts the data bytes read from it: a request's
    /// ([`Probe::count_request_body`]), or a response's before compress re-encodes it
    /// ([`OriginBytes`]).
    pub struct CountedBody<B> {
        #[pin]
        inner: B,
        count: Arc<AtomicU64>,
    }
}

impl<B> CountedBody<B> {
    /// Wraps `body`; the counter grows as it is read.
    pub fn new(body: B) -> (CountedBody<B>, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        let counted = CountedBody {
            inner: body,
            count: count.clone(),
        };
        (counted, count)
    }
}

impl<B> Body for CountedBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.count.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// A response body that counts its bytes and records the request when it is done.
    pub struct Metered<B> {
        #[pin]
        inner: B,
        done: Option<Done>,
    }

    impl<B> PinnedDrop for Metered<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(done) = this.project().done.take() {
                done.record();
            }
        }
    }
}

impl<B> Body for Metered<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = this.done.as_mut() {
                    if let Some(data) = frame.data_ref() {
                        d.bytes += data.len() as u64;
                    } else if let (Some(code), Some(trailers)) =
                        (d.grpc_status.as_mut(), frame.trailers_ref())
                        && let Some(status) = grpc_status(trailers)
                    {
                        *code = status;
                    }
                }
            }
            Poll::Ready(None) => {
                if let Some(done) = this.done.take() {
                    done.record();
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetricsConfig;
    use http_body_util::{BodyExt, Full};

    /// Drives `body` to its end (every frame is ready at once here).
    fn drain<B: Body + Unpin>(mut body: B) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        while let Poll::Ready(Some(_)) = Pin::new(&mut body).poll_frame(&mut cx) {}
    }

    /// The code labels an entrypoint recorded for three gRPC responses and a plain one.
    #[test]
    fn grpc_requests_are_labelled_with_their_grpc_status() {
        let metrics = Arc::new(Metrics::new(MetricsConfig::default(), &["web".into()]));
        let observer = Arc::new(Observer::new(Some(metrics.clone()), None));
        let name: Arc<str> = Arc::from("web");
        let peer = Peer {
            addr: "127.0.0.1:5000".parse().unwrap_or_else(|_| unreachable!()),
            tls: None,
            tls_client_subject: None,
            forwarded_for: None,
        };
        let request = |content_type: &str| {
            let (parts, ()) = http::Request::post("http://app.test/pkg.Svc/Call")
                .header("content-type", content_type)
                .body(())
                .unwrap_or_default()
                .into_parts();
            parts
        };
        let grpc = request("application/grpc");
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("5"));
        // Status in the trailers.
        let body = Full::new(Bytes::from_static(b"x"))
            .with_trailers(std::future::ready(Some(Ok(trailers))));
        let probe = observer.begin(0, &name, &grpc, peer);
        drain(probe.finish(Response::new(body)).into_body());
        // A trailers-only response: the status in the headers.
        let probe = observer.begin(0, &name, &grpc, peer);
        let mut resp = Response::new(Full::new(Bytes::new()));
        resp.headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("7"));
        drain(probe.finish(resp).into_body());
        // A status gRPC does not define: Unknown, not a new label value.
        let probe = observer.begin(0, &name, &grpc, peer);
        let mut resp = Response::new(Full::new(Bytes::new()));
        resp.headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("4242"));
        drain(probe.finish(resp).into_body());
        // No status at all: Unknown.
        let probe = observer.begin(0, &name, &grpc, peer);
        drain(
            probe
                .finish(Response::new(Full::new(Bytes::new())))
                .into_body(),
        );
        // Not gRPC: the HTTP status.
        let probe = observer.begin(0, &name, &request("text/plain"), peer);
        drain(
            probe
                .finish(Response::new(Full::new(Bytes::new())))
                .into_body(),
        );

        let mut codes: Vec<(u16, &str, u64)> = metrics.entrypoint_snapshots()[0]
            .1
            .iter()
            .map(|s| (s.key.code(), s.key.protocol(), s.count))
            .collect();
        codes.sort_unstable();
        assert_eq!(
            codes,
            [
                (2, "grpc", 2),
                (5, "grpc", 1),
                (7, "grpc", 1),
                (200, "http", 1)
            ]
        );
    }
}
