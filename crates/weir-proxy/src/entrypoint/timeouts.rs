//! Timeouts against slow clients that hyper's header read timeout does not cover:
//! `readTimeout` over the request body and `writeTimeout` over the response.
//!
//! - [`DeadlineBody`]: the request body must be read completely within `readTimeout` of the
//!   request's arrival (Go's `ReadTimeout`, which Traefik uses, covers the whole request).
//!   Only waits on the client count: when the upstream stops reading, the body is not
//!   polled and nothing fires.
//! - [`WriteStall`]: a write to the client that makes no progress for `writeTimeout` fails
//!   the connection, so a client that stops reading cannot hold buffers and a task forever.
//!   This is a per-write inactivity bound (like nginx's `send_timeout`) rather than Go's
//!   deadline on the whole response, so long downloads to healthy clients are not cut.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::body::BoxError;

/// A request body that fails once its deadline has passed while waiting on the client.
pub struct DeadlineBody<B> {
    inner: B,
    /// When the body must be complete (`None`: too far away to matter).
    deadline: Option<Instant>,
    /// Armed the first time the body waits on the client: most bodies (empty, or in the
    /// request's first packets) never do, and skip the timer's allocation.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    /// `inner` must be read completely within `timeout` from now.
    pub fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Instant::now().checked_add(timeout),
            timer: None,
        }
    }
}

/// The error a [`DeadlineBody`] ends with.
#[derive(Debug, thiserror::Error)]
#[error("the client did not send the request body within readTimeout")]
pub struct BodyReadTimeout;

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let Some(deadline) = self.deadline else {
                    return Poll::Pending;
                };
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                ready!(timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(BodyReadTimeout.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Client connection IO whose writes fail after `timeout` without progress.
pub struct WriteStall<IO> {
    io: IO,
    timeout: Option<Duration>,
    /// Armed while a write is pending.
    stall: Option<Pin<Box<Sleep>>>,
}

impl<IO> WriteStall<IO> {
    /// Wraps `io`; `None` disables the bound.
    pub fn new(io: IO, timeout: Option<Duration>) -> Self {
        Self {
            io,
            timeout,
            stall: None,
        }
    }

    /// Called when a write is pending: arms the stall timer if needed and reports whether
    /// it has expired.
    fn stalled(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(timeout) = self.timeout else {
            return false;
        };
        let sleep = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + timeout)));
        sleep.as_mut().poll(cx).is_ready()
    }

    fn progress<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(r) => {
                self.stall = None;
                Poll::Ready(r)
            }
            Poll::Pending if self.stalled(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read the response within writeTimeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WriteStall<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WriteStall<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.progress(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.progress(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_flush(cx);
        self.progress(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn body_deadline_fires_only_while_waiting_on_the_client() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(1);
        let stream = http_body_util::StreamBody::new(tokio_stream_from(rx));
        let mut body = DeadlineBody::new(stream, Duration::from_secs(5));
        tx.send(Ok(Frame::data(Bytes::from_static(b"a"))))
            .await
            .unwrap();
        assert!(body.frame().await.unwrap().is_ok());
        // Nothing more arrives: the deadline ends the body with an error.
        let err = body.frame().await.unwrap().unwrap_err();
        assert!(err.is::<BodyReadTimeout>(), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_beyond_the_clocks_range_never_fires() {
        let (_tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(1);
        let stream = http_body_util::StreamBody::new(tokio_stream_from(rx));
        let mut body = DeadlineBody::new(stream, Duration::MAX);
        let waited = tokio::time::timeout(Duration::from_secs(365 * 86_400), body.frame()).await;
        assert!(waited.is_err(), "still waiting on the client a year later");
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_never_progresses_times_out() {
        // A 16-byte pipe nobody reads from.
        let (client, _server) = tokio::io::duplex(16);
        let mut io = WriteStall::new(client, Some(Duration::from_secs(3)));
        let err = io.write_all(&[0u8; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_that_progress_are_not_cut() {
        let (client, mut server) = tokio::io::duplex(16);
        let reader = tokio::spawn(async move {
            let mut sink = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut server, &mut sink)
                .await
                .unwrap();
            sink.len()
        });
        let mut io = WriteStall::new(client, Some(Duration::from_secs(3)));
        io.write_all(&[1u8; 4096]).await.unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        assert_eq!(reader.await.unwrap(), 4096);
    }
    fn tokio_stream_from(
        rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, BoxError>>,
    ) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, BoxError>> + Unpin {
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}
