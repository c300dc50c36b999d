//! Reading a body whole before it goes on: in memory up to a threshold, in a temporary file
//! beyond it, so a large upload costs disk rather than RAM. What was read can be replayed
//! as many times as needed (retries), each time with its exact length.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt as _;
use tempfile::TempPath;
use tokio::io::{AsyncRead, AsyncWriteExt as _, ReadBuf};

use crate::body::{self, Body, BoxError};

/// Size of each read from a spooled file.
const READ_CHUNK: u64 = 64 * 1024;

/// Why a body could not be stored.
#[derive(Debug)]
pub(super) enum ReadError {
    /// It is longer than the maximum; what is left of it is given back (to drain it).
    TooLarge(Body),
    /// The peer's body failed (connection cut, read timeout).
    Body(BoxError),
    /// The temporary file could not be created or written.
    Io(io::Error),
}

/// A body read whole.
pub(super) struct Stored {
    data: Data,
    len: u64,
    trailers: Option<HeaderMap>,
}

enum Data {
    Memory(Vec<Bytes>),
    /// The file is deleted when the last reader and the `Stored` are gone.
    File(Arc<TempPath>),
}

/// Reads `body` to its end: up to `mem` bytes in memory, the whole of it in a temporary file
/// (in the system's temporary directory, `TMPDIR`) once it is longer. `max` bounds the
/// total; reading stops as soon as it is passed.
pub(super) async fn read(mut body: Body, mem: u64, max: Option<u64>) -> Result<Stored, ReadError> {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0u64;
    let mut file: Option<(tokio::fs::File, TempPath)> = None;
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ReadError::Body)?;
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
                continue;
            }
        };
        len += data.len() as u64;
        if max.is_some_and(|m| len > m) {
            return Err(ReadError::TooLarge(body));
        }
        if let Some((f, _)) = &mut file {
            f.write_all(&data).await.map_err(ReadError::Io)?;
        } else if len > mem {
            let (mut f, path) = create().await.map_err(ReadError::Io)?;
            for chunk in chunks.drain(..) {
                f.write_all(&chunk).await.map_err(ReadError::Io)?;
            }
            f.write_all(&data).await.map_err(ReadError::Io)?;
            file = Some((f, path));
        } else {
            chunks.push(data);
        }
    }
    let data = match file {
        Some((mut f, path)) => {
            // tokio's file writes in the background: flush waits for the last one.
            f.flush().await.map_err(ReadError::Io)?;
            Data::File(Arc::new(path))
        }
        None => Data::Memory(chunks),
    };
    Ok(Stored {
        data,
        len,
        trailers,
    })
}

async fn create() -> io::Result<(tokio::fs::File, TempPath)> {
    let named =
        tokio::task::spawn_blocking(|| tempfile::Builder::new().prefix("weir-body-").tempfile())
            .await
            .map_err(io::Error::other)??;
    let (file, path) = named.into_parts();
    Ok((tokio::fs::File::from_std(file), path))
}

impl Stored {
    /// Length of the data in bytes.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Whether the data spilled to a file.
    #[cfg(test)]
    pub(super) fn on_disk(&self) -> bool {
        matches!(self.data, Data::File(_))
    }

    /// A body replaying the data (and trailers), with its exact length as size hint.
    pub(super) fn body(&self) -> Body {
        let source = match &self.data {
            Data::Memory(chunks) => Source::Chunks(chunks.clone().into_iter()),
            Data::File(path) => {
                let path = Arc::clone(path);
                let open = Box::pin(async move { tokio::fs::File::open(&*path).await });
                Source::Opening(open)
            }
        };
        body::boxed(Replay {
            source,
            keep: match &self.data {
                Data::File(path) => Some(Arc::clone(path)),
                Data::Memory(_) => None,
            },
            remaining: self.len,
            buf: BytesMut::new(),
            trailers: self.trailers.clone(),
        })
    }
}

type Opening = Pin<Box<dyn Future<Output = io::Result<tokio::fs::File>> + Send>>;

enum Source {
    Chunks(std::vec::IntoIter<Bytes>),
    Opening(Opening),
    Reading(tokio::fs::File),
}

struct Replay {
    source: Source,
    /// Keeps the temporary file until this body is done with it.
    keep: Option<Arc<TempPath>>,
    remaining: u64,
    buf: BytesMut,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for Replay {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            match &mut this.source {
                Source::Chunks(chunks) => match chunks.next() {
                    Some(chunk) => {
                        this.remaining = this.remaining.saturating_sub(chunk.len() as u64);
                        return Poll::Ready(Some(Ok(Frame::data(chunk))));
                    }
                    None => break,
                },
                Source::Opening(open) => {
                    let file = ready!(open.as_mut().poll(cx))?;
                    this.source = Source::Reading(file);
                }
                Source::Reading(file) => {
                    if this.remaining == 0 {
                        this.keep = None;
                        break;
                    }
                    // Bounded by READ_CHUNK, so the cast cannot truncate.
                    #[allow(clippy::cast_possible_truncation)]
                    let want = this.remaining.min(READ_CHUNK) as usize;
                    this.buf.resize(want, 0);
                    let mut rb = ReadBuf::new(&mut this.buf[..]);
                    ready!(Pin::new(file).poll_read(cx, &mut rb))?;
                    let got = rb.filled().len();
                    if got == 0 {
                        return Poll::Ready(Some(Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "buffered body file is shorter than written",
                        )
                        .into())));
                    }
                    this.buf.truncate(got);
                    this.remaining -= got as u64;
                    return Poll::Ready(Some(Ok(Frame::data(this.buf.split().freeze()))));
                }
            }
        }
        Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
            && self.trailers.is_none()
            && matches!(&self.source, Source::Chunks(c) if c.len() == 0)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    fn chunked(parts: &[&'static [u8]]) -> Body {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::from_static(p))))
            .collect();
        body::boxed(http_body_util::StreamBody::new(futures_util::stream::iter(
            frames,
        )))
    }

    async fn collect(b: Body) -> Bytes {
        b.collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn small_bodies_stay_in_memory_and_replay() {
        let s = read(chunked(&[b"ab", b"cd"]), 10, None).await.unwrap();
        assert!(!s.on_disk());
        assert_eq!(s.len(), 4);
        assert_eq!(s.body().size_hint().exact(), Some(4));
        assert_eq!(collect(s.body()).await, "abcd");
        assert_eq!(collect(s.body()).await, "abcd");
    }

    #[tokio::test]
    async fn large_bodies_spill_to_a_file_that_is_removed_after_use() {
        let s = read(chunked(&[b"0123", b"4567", b"89"]), 5, Some(10))
            .await
            .unwrap();
        assert!(s.on_disk());
        let Data::File(path) = &s.data else {
            unreachable!()
        };
        let path = path.to_path_buf();
        assert!(path.exists());
        assert_eq!(collect(s.body()).await, "0123456789");
        let again = s.body();
        drop(s);
        assert!(path.exists(), "a reader still holds the file");
        assert_eq!(collect(again).await, "0123456789");
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn the_maximum_is_enforced_while_reading() {
        let r = read(chunked(&[b"0123", b"4567", b"89"]), 5, Some(9)).await;
        assert!(matches!(r, Err(ReadError::TooLarge(_))));
    }
}
