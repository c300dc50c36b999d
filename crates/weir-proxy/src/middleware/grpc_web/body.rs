//! The body translations of gRPC-Web: base64 text requests decoded on the way in, and on the
//! way out the HTTP/2 trailers written into the body as a trailer frame (text mode:
//! everything base64-encoded). Both stream: nothing is buffered beyond three bytes.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use base64::Engine as _;
use bytes::{BufMut as _, Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Frame, SizeHint};

use crate::body::{Body, BoxError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Decodes a `grpc-web-text` request body: base64, possibly as several padded segments.
pub(super) struct DecodeText {
    inner: Body,
    /// Characters not yet decoded (fewer than four after each frame).
    carry: Vec<u8>,
}

impl DecodeText {
    pub(super) fn new(inner: Body) -> Self {
        Self {
            inner,
            carry: Vec::new(),
        }
    }
}

/// Decodes whole groups of four characters (each group on its own, so padded segments may
/// follow each other) and keeps the rest in `carry`.
fn decode_groups(carry: &mut Vec<u8>) -> Result<Bytes, BoxError> {
    let whole = carry.len() / 4 * 4;
    let mut out = BytesMut::with_capacity(whole / 4 * 3);
    let mut buf = [0u8; 3];
    for group in carry[..whole].chunks_exact(4) {
        let n = B64
            .decode_slice(group, &mut buf)
            .map_err(|e| format!("grpc-web-text request body: {e}"))?;
        out.put_slice(&buf[..n]);
    }
    carry.drain(..whole);
    Ok(out.freeze())
}

impl http_body::Body for DecodeText {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    // Trailers on a request have nothing to translate.
                    if let Ok(data) = frame.into_data() {
                        self.carry
                            .extend(data.iter().filter(|b| !b.is_ascii_whitespace()));
                        let decoded = decode_groups(&mut self.carry)?;
                        if !decoded.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(decoded))));
                        }
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None if self.carry.is_empty() => return Poll::Ready(None),
                None => {
                    return Poll::Ready(Some(Err(
                        "grpc-web-text request body: truncated base64".into()
                    )));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.carry.is_empty() && self.inner.is_end_stream()
    }
}

/// The gRPC-Web trailer frame for `trailers`: flag `0x80`, a 4-byte length, then
/// `name: value\r\n` lines.
pub(super) fn trailer_frame(trailers: &HeaderMap) -> Bytes {
    let mut block = BytesMut::new();
    for (name, value) in trailers {
        block.put_slice(name.as_str().as_bytes());
        block.put_slice(b": ");
        block.put_slice(value.as_bytes());
        block.put_slice(b"\r\n");
    }
    let mut frame = BytesMut::with_capacity(5 + block.len());
    frame.put_u8(0x80);
    frame.put_u32(u32::try_from(block.len()).unwrap_or(u32::MAX));
    frame.put_slice(&block);
    frame.freeze()
}

/// A gRPC response body as gRPC-Web: data as it comes, then the trailers as a trailer
/// frame; with `text`, each piece base64-encoded (padded) on its own.
pub(super) struct EncodeResponse {
    inner: Body,
    text: bool,
    done: bool,
}

impl EncodeResponse {
    pub(super) fn new(inner: Body, text: bool) -> Self {
        Self {
            inner,
            text,
            done: false,
        }
    }

    fn out(&self, bytes: Bytes) -> Frame<Bytes> {
        if self.text {
            Frame::data(Bytes::from(B64.encode(&bytes)))
        } else {
            Frame::data(bytes)
        }
    }
}

impl http_body::Body for EncodeResponse {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        loop {
            match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if data.is_empty() => {}
                    Ok(data) => return Poll::Ready(Some(Ok(self.out(data)))),
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            self.done = true;
                            let block = trailer_frame(&trailers);
                            return Poll::Ready(Some(Ok(self.out(block))));
                        }
                    }
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    self.done = true;
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_concatenated_padded_segments() {
        let mut carry = b"aGk=aGVsbG8=QQ".to_vec();
        assert_eq!(
            decode_groups(&mut carry).expect("decodes").as_ref(),
            b"hihello"
        );
        assert_eq!(carry, b"QQ");
        carry.extend_from_slice(b"==");
        assert_eq!(decode_groups(&mut carry).expect("decodes").as_ref(), b"A");
        let mut bad = b"!!!!".to_vec();
        assert!(decode_groups(&mut bad).is_err());
    }

    #[test]
    fn trailer_frame_layout() {
        let mut t = HeaderMap::new();
        t.insert("grpc-status", http::HeaderValue::from_static("0"));
        let f = trailer_frame(&t);
        assert_eq!(f.as_ref(), b"\x80\x00\x00\x00\x10grpc-status: 0\r\n");
    }
}
