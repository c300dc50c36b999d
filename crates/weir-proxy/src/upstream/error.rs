//! Upstream failures and the answers weir gives for them.

use http::{HeaderValue, Response, StatusCode, header};

use crate::body::{self, Body, BoxError};

/// What went wrong talking to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// Connecting failed: refused, reset, unreachable, DNS, TLS handshake or `dialTimeout`.
    /// The server never saw the request. Answered with 502.
    Connect,
    /// The connection broke after the request was (maybe partly) sent and before response
    /// headers arrived. Answered with 502.
    Request,
    /// `responseHeaderTimeout` elapsed. Answered with 504.
    ResponseHeaderTimeout,
    /// An upgrade (WebSocket) was accepted by the server but could not be tunnelled, or the
    /// request could not be turned into an upstream request. Answered with 502.
    Protocol,
}

/// A failed forward, carrying the answer to give and whether retrying elsewhere is safe.
#[derive(Debug)]
pub struct UpstreamError {
    kind: UpstreamErrorKind,
    retryable: bool,
    source: BoxError,
}

impl std::fmt::Display for UpstreamError {
    /// The kind and the whole cause chain (`client error (Connect): tcp connect error:
    /// Connection refused`), since the outer errors of hyper say little.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upstream {:?} error: {}", self.kind, self.source)?;
        let mut cause = self.source.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

impl std::error::Error for UpstreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

impl UpstreamError {
    pub(crate) fn new(
        kind: UpstreamErrorKind,
        retryable: bool,
        source: impl Into<BoxError>,
    ) -> Self {
        Self {
            kind,
            retryable,
            source: source.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> UpstreamErrorKind {
        self.kind
    }

    /// The status Traefik answers with: 504 for a response header timeout, 502 otherwise.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            UpstreamErrorKind::ResponseHeaderTimeout => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    /// Whether sending the same request to a server again is safe: always for
    /// [`UpstreamErrorKind::Connect`] (the server never saw it), and for the other kinds only
    /// when the request was replayable (no body, idempotent method or `Idempotency-Key`).
    /// The caller still needs its own copy of the request to retry: `forward` consumed it.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The plain-text answer for this error (`Bad Gateway` / `Gateway Timeout`), marked
    /// with an [`UpstreamFailure`] extension so middlewares (retry) can tell it from an
    /// answer the server gave.
    pub fn to_response(&self) -> Response<Body> {
        let mut resp = status_response(self.status());
        resp.extensions_mut().insert(UpstreamFailure {
            kind: self.kind,
            retryable: self.retryable,
        });
        resp
    }
}

/// Marks a response weir wrote because no server answered (see
/// [`UpstreamError::to_response`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamFailure {
    /// What went wrong.
    pub kind: UpstreamErrorKind,
    /// Whether sending the request again is safe (see [`UpstreamError::is_retryable`]).
    pub retryable: bool,
}

/// A plain-text response whose body is the status' reason phrase, as Traefik writes its own
/// errors (`Bad Gateway`, `Gateway Timeout`, `Service Unavailable`).
pub fn status_response(status: StatusCode) -> Response<Body> {
    let text = status.canonical_reason().unwrap_or("");
    let mut resp = Response::new(body::full(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    resp
}
