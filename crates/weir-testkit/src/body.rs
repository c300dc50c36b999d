//! Response bodies for custom upstream servers: whole, empty, chunked with delays, or fed
//! from a channel (to stream, stall, or abort mid-body).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use tokio::sync::mpsc;

/// The body type every test server answers with.
pub type TestBody = BoxBody<Bytes, std::io::Error>;

/// A whole body (sent with a `content-length`).
pub fn full(data: impl Into<Bytes>) -> TestBody {
    Full::new(data.into())
        .map_err(|e: Infallible| match e {})
        .boxed()
}

/// An empty body.
pub fn empty() -> TestBody {
    Empty::new().map_err(|e: Infallible| match e {}).boxed()
}

/// A body of `len` bytes of `b'x'` (for big-body tests), sent whole.
pub fn big(len: usize) -> TestBody {
    full(vec![b'x'; len])
}

/// A streamed body with no known length (chunked on HTTP/1.1): each chunk is sent after
/// `delay`.
pub fn chunked(chunks: Vec<Bytes>, delay: Duration) -> TestBody {
    let (tx, body) = channel();
    tokio::spawn(async move {
        for chunk in chunks {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
    });
    body
}

/// A streamed body fed through a [`BodySender`]. The body ends when the sender is dropped;
/// [`BodySender::abort`] ends it with an error instead (the connection is cut mid-body).
pub fn channel() -> (BodySender, TestBody) {
    let (tx, rx) = mpsc::channel(16);
    (BodySender { tx }, ChannelBody { rx }.boxed())
}

/// The sending half of [`channel`].
#[derive(Debug, Clone)]
pub struct BodySender {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl BodySender {
    /// Sends one chunk; fails when the receiver (the connection) is gone.
    pub async fn send(&self, data: impl Into<Bytes>) -> anyhow::Result<()> {
        self.tx
            .send(Ok(data.into()))
            .await
            .map_err(|_| anyhow::anyhow!("body receiver dropped"))
    }

    /// Ends the body with an error, so the server resets the stream/connection.
    pub async fn abort(self) {
        let _ = self
            .tx
            .send(Err(std::io::Error::other("aborted by test")))
            .await;
    }
}

struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
