//! A streamed body cut at a maximum length, for the buffering middleware's non-buffering
//! modes: the bytes flow on as they come, and the body fails once it passes the limit.
//! Also [`linger`], which reads what is left of a refused request body.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt as _;

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};

use crate::body::{Body, BoxError};

/// The error a [`Capped`] body ends with.
#[derive(Debug)]
pub(super) struct TooLarge(pub(super) u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "body is larger than the limit of {} bytes", self.0)
    }
}

impl std::error::Error for TooLarge {}

/// `inner`, failing with [`TooLarge`] as soon as more than `max` bytes went through.
/// A request body passes `exceeded`: it is set then, so whoever sent the body can tell why
/// it failed, and the rest of `inner` is read and discarded (see [`linger`]) because the
/// client waits for an answer.
pub(super) struct Capped {
    inner: Option<Body>,
    max: u64,
    seen: u64,
    exceeded: Option<Arc<AtomicBool>>,
}

impl Capped {
    pub(super) fn new(inner: Body, max: u64, exceeded: Option<Arc<AtomicBool>>) -> Self {
        Self {
            inner: Some(inner),
            max,
            seen: 0,
            exceeded,
        }
    }
}

impl http_body::Body for Capped {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let Some(inner) = &mut this.inner else {
            return Poll::Ready(Some(Err(Box::new(TooLarge(this.max)))));
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.seen += data.len() as u64;
            if this.seen > this.max {
                let rest = this.inner.take();
                if let Some(exceeded) = &this.exceeded {
                    exceeded.store(true, Ordering::Release);
                    if let Some(rest) = rest {
                        linger(rest);
                    }
                }
                return Poll::Ready(Some(Err(Box::new(TooLarge(this.max)))));
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(SizeHint::default, |b| b.size_hint())
    }
}

/// How long a refused request body is read at most, and how long a pause in it may last
/// (nginx's `lingering_time` and `lingering_timeout`).
const LINGER_TOTAL: Duration = Duration::from_secs(30);
const LINGER_IDLE: Duration = Duration::from_secs(5);

/// Reads and discards what is left of a request body weir refused (413), in the
/// background, for a bounded time. An HTTP/1.1 client is usually still sending when the
/// answer goes out; closing the connection on unread bytes would reset it and could destroy
/// the answer before the client reads it. Draining instead lets the client finish and read
/// the 413 (and keeps the connection usable), as nginx's lingering close does.
pub(super) fn linger(mut body: Body) {
    if body.is_end_stream() {
        return;
    }
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + LINGER_TOTAL;
        loop {
            let frame = tokio::time::timeout(LINGER_IDLE, body.frame());
            match tokio::time::timeout_at(deadline, frame).await {
                Ok(Ok(Some(Ok(_)))) => {}
                _ => return,
            }
        }
    });
}
