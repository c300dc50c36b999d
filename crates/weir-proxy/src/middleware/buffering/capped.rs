//! A streamed body cut at a maximum length, for the buffering middleware's non-buffering
//! modes: the bytes flow on as they come, and the body fails once it passes the limit.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

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

pin_project_lite::pin_project! {
    /// `inner`, failing with [`TooLarge`] as soon as more than `max` bytes went through;
    /// `exceeded` is set then, so whoever sent the body can tell why it failed.
    pub(super) struct Capped {
        #[pin]
        inner: Body,
        max: u64,
        seen: u64,
        exceeded: Arc<AtomicBool>,
    }
}

impl Capped {
    pub(super) fn new(inner: Body, max: u64, exceeded: Arc<AtomicBool>) -> Self {
        Self {
            inner,
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
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            *this.seen += data.len() as u64;
            if *this.seen > *this.max {
                this.exceeded.store(true, Ordering::Release);
                return Poll::Ready(Some(Err(Box::new(TooLarge(*this.max)))));
            }
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
