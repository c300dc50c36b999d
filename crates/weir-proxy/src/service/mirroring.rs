//! `mirroring` services: the request goes to the main service, and copies to mirrors.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http::{Request, Response, StatusCode, header};
use http_body::{Body as _, Frame};
use http_body_util::BodyExt;

use crate::body::{self, Body, BoxError};
use crate::handler::{BoxFuture, Handler, RequestContext, SharedHandler};
use crate::upstream::status_response;

/// The most weir buffers to mirror a request body when `maxBodySize` is -1 (unlimited in
/// Traefik): larger bodies go to the main service only.
pub const MAX_MIRROR_BODY: usize = 16 * 1024 * 1024;

/// One mirror: a service and the share of requests it gets a copy of.
pub struct Mirror {
    /// The mirror service.
    pub handler: SharedHandler,
    /// Percentage of requests copied to it, 0 to 100.
    pub percent: u32,
}

struct MirrorState {
    handler: SharedHandler,
    percent: u64,
    sent: AtomicU64,
}

/// A Traefik `mirroring` service.
///
/// The main service answers the client. For each request a mirror is due when
/// `sent * 100 < total * percent` (Traefik's deterministic counting), it gets a copy sent
/// fire-and-forget in its own task, and its response is read and discarded. Mirror copies
/// start together with the main request (Traefik sends them after the main response).
///
/// Bodies: a bodiless request is copied as is. With `mirror_body` false, mirrors get the
/// request without its body. With `mirror_body` true, the body is buffered up to
/// `max_body_size` (negative: [`MAX_MIRROR_BODY`]); a larger body streams to the main
/// service only and no mirror gets the request. Upgrade requests are never mirrored.
pub struct Mirroring {
    main: SharedHandler,
    mirrors: Box<[MirrorState]>,
    total: AtomicU64,
    mirror_body: bool,
    max_body_size: usize,
}

impl std::fmt::Debug for Mirroring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirroring")
            .field("mirrors", &self.mirrors.len())
            .field("mirror_body", &self.mirror_body)
            .field("max_body_size", &self.max_body_size)
            .finish_non_exhaustive()
    }
}

impl Mirroring {
    /// A mirroring service sending every request to `main` and copies to `mirrors`.
    pub fn new(
        main: SharedHandler,
        mirrors: Vec<Mirror>,
        mirror_body: bool,
        max_body_size: i64,
    ) -> Self {
        Self {
            main,
            mirrors: mirrors
                .into_iter()
                .map(|m| MirrorState {
                    handler: m.handler,
                    percent: u64::from(m.percent.min(100)),
                    sent: AtomicU64::new(0),
                })
                .collect(),
            total: AtomicU64::new(0),
            mirror_body,
            max_body_size: usize::try_from(max_body_size).unwrap_or(MAX_MIRROR_BODY),
        }
    }

    /// The mirrors due for this request.
    fn due(&self) -> Vec<SharedHandler> {
        if self.mirrors.is_empty() {
            return Vec::new();
        }
        let total = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        self.mirrors
            .iter()
            .filter(|m| {
                m.sent
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sent| {
                        (sent * 100 < total * m.percent).then_some(sent + 1)
                    })
                    .is_ok()
            })
            .map(|m| m.handler.clone())
            .collect()
    }
}

/// Reads `body` up to `limit` bytes: `Ok(Ok(all))` when it ended within the limit,
/// `Ok(Err(body))` with an equivalent body (read part + rest) when it is larger.
async fn buffer(mut body: Body, limit: usize) -> Result<Result<Bytes, Body>, BoxError> {
    let mut buf = BytesMut::new();
    loop {
        match body.frame().await {
            None => return Ok(Ok(buf.freeze())),
            Some(Err(e)) => return Err(e),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    buf.extend_from_slice(&data);
                    if buf.len() > limit {
                        let first = Ok(Frame::data(buf.freeze()));
                        return Ok(Err(crate::body::prepend(first, body)));
                    }
                }
                // Trailers end the body; mirroring drops them.
                Err(_trailers) => return Ok(Ok(buf.freeze())),
            },
        }
    }
}

fn copy_head(parts: &Parts, body: Body) -> Request<Body> {
    let mut req = Request::new(body);
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    *req.version_mut() = parts.version;
    *req.headers_mut() = parts.headers.clone();
    req
}

fn send_mirrors(
    mirrors: Vec<SharedHandler>,
    parts: &Parts,
    body: Option<Bytes>,
    cx: &RequestContext,
) {
    for mirror in mirrors {
        let mut req = match &body {
            Some(bytes) => copy_head(parts, body::full(bytes.clone())),
            None => {
                let mut req = copy_head(parts, body::empty());
                req.headers_mut().remove(header::CONTENT_LENGTH);
                req.headers_mut().remove(header::TRANSFER_ENCODING);
                req
            }
        };
        if let Some(bytes) = &body {
            req.headers_mut()
                .insert(header::CONTENT_LENGTH, bytes.len().into());
        }
        let cx = cx.clone();
        tokio::spawn(async move {
            let tracked = cx.observe.track();
            let resp = mirror.handle(req, &cx).await;
            // Counted on the mirror's service, as Traefik counts what its servers answer.
            cx.answered.discard(tracked, &resp);
            // Discard the answer, reading it so the connection can be reused.
            let mut body = resp.into_body();
            while let Some(frame) = body.frame().await {
                if frame.is_err() {
                    break;
                }
            }
        });
    }
}

impl Handler for Mirroring {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            if req.headers().contains_key(header::UPGRADE) {
                return self.main.handle(req, cx).await;
            }
            let mirrors = self.due();
            if mirrors.is_empty() {
                return self.main.handle(req, cx).await;
            }
            let (parts, body) = req.into_parts();
            if body.is_end_stream() {
                send_mirrors(mirrors, &parts, None, cx);
                return self.main.handle(Request::from_parts(parts, body), cx).await;
            }
            if !self.mirror_body {
                send_mirrors(mirrors, &parts, None, cx);
                return self.main.handle(Request::from_parts(parts, body), cx).await;
            }
            match buffer(body, self.max_body_size).await {
                Ok(Ok(bytes)) => {
                    send_mirrors(mirrors, &parts, Some(bytes.clone()), cx);
                    self.main
                        .handle(Request::from_parts(parts, body::full(bytes)), cx)
                        .await
                }
                Ok(Err(body)) => {
                    tracing::debug!("request body larger than maxBodySize: not mirrored");
                    self.main.handle(Request::from_parts(parts, body), cx).await
                }
                Err(e) => {
                    tracing::debug!(error = %e, "reading the request body to mirror it failed");
                    status_response(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }
        })
    }
}
