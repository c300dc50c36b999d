//! `compress`: gzip, brotli or zstd responses, streamed chunk by chunk.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use async_compression::Level;
use async_compression::tokio::write::{BrotliEncoder, GzipEncoder, ZstdEncoder};
use bytes::Bytes;
use futures_util::FutureExt as _;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, RANGE, VARY};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Frame;
use tokio::io::AsyncWriteExt as _;
use weir_config::dynamic::Compress as Config;

use super::Middleware;
use crate::body::{self, Body, BoxError};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// A content coding weir can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    Brotli,
    Zstd,
}

impl Coding {
    fn parse(s: &str) -> Option<Coding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gzip" => Some(Coding::Gzip),
            "br" => Some(Coding::Brotli),
            "zstd" => Some(Coding::Zstd),
            _ => None,
        }
    }

    fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }
}

/// Compresses responses with the coding the client prefers among `encodings` (ties go to
/// the configured order), unless: the request asks for a range or is `HEAD`; the response
/// is already encoded, has no body (1xx, 204, 304) or is partial (206); its
/// `Content-Length` is below `minResponseBodyBytes`; or its media type is excluded
/// (`application/grpc` always is) or not included. Each chunk from the upstream is
/// compressed and flushed as it arrives: nothing is buffered whole, and streamed responses
/// stay streamed.
pub struct Compress {
    encodings: Vec<Coding>,
    default: Option<Coding>,
    excluded: Vec<String>,
    included: Vec<String>,
    min_bytes: u64,
}

fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn media_types(field: &str, list: &[String]) -> Result<Vec<String>, String> {
    list.iter()
        .map(|t| {
            let m = media_type(t);
            match m.split_once('/') {
                Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok(m),
                _ => Err(format!("{field}: {t:?} is not a media type")),
            }
        })
        .collect()
}

impl Compress {
    /// Checks the options.
    pub fn new(c: &Config) -> Result<Self, String> {
        if !c.excluded_content_types.is_empty() && !c.included_content_types.is_empty() {
            return Err(
                "excludedContentTypes and includedContentTypes are mutually exclusive".into(),
            );
        }
        let mut excluded = media_types("excludedContentTypes", &c.excluded_content_types)?;
        excluded.push("application/grpc".into());
        let included = media_types("includedContentTypes", &c.included_content_types)?;
        let min_bytes = u64::try_from(c.min_response_body_bytes).map_err(|_| {
            format!(
                "minResponseBodyBytes {} must not be negative",
                c.min_response_body_bytes
            )
        })?;
        let encodings = c
            .encodings
            .iter()
            .map(|e| {
                Coding::parse(e)
                    .ok_or_else(|| format!("encodings: {e:?} is not one of gzip, br, zstd"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let default = if c.default_encoding.is_empty() {
            None
        } else {
            Some(Coding::parse(&c.default_encoding).ok_or_else(|| {
                format!(
                    "defaultEncoding {:?} is not one of gzip, br, zstd",
                    c.default_encoding
                )
            })?)
        };
        Ok(Self {
            encodings,
            default,
            excluded,
            included,
            min_bytes,
        })
    }

    /// The coding to use for a request's `Accept-Encoding`, if any.
    fn choose(&self, headers: &HeaderMap) -> Option<Coding> {
        let mut values = headers.get_all(ACCEPT_ENCODING).iter().peekable();
        if values.peek().is_none() {
            return self.default;
        }
        let mut best: Option<(f32, usize, Coding)> = None;
        let mut wildcard: Option<f32> = None;
        for item in values
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
        {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name == "*" {
                wildcard = Some(q);
                continue;
            }
            let Some(coding) = Coding::parse(name) else {
                continue;
            };
            let Some(rank) = self.encodings.iter().position(|c| *c == coding) else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(bq, br, _)| q > bq || (q == bq && rank < br)) {
                best = Some((q, rank, coding));
            }
        }
        match (best, wildcard) {
            (Some((_, _, c)), _) => Some(c),
            (None, Some(q)) if q > 0.0 => self.default.or(self.encodings.first().copied()),
            _ => None,
        }
    }

    fn wants(&self, resp: &Response<Body>) -> bool {
        let status = resp.status();
        if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
            || status == StatusCode::PARTIAL_CONTENT
        {
            return false;
        }
        let h = resp.headers();
        if h.get(CONTENT_ENCODING).is_some_and(|v| !v.is_empty()) {
            return false;
        }
        if let Some(len) = h
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len < self.min_bytes
        {
            return false;
        }
        let media = h
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(media_type);
        match media {
            Some(m) if self.excluded.contains(&m) => false,
            Some(m) if !self.included.is_empty() => self.included.contains(&m),
            None => self.included.is_empty(),
            Some(_) => true,
        }
    }
}

impl Middleware for Compress {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let coding = match self.choose(req.headers()) {
            Some(c) if req.method() != Method::HEAD && !req.headers().contains_key(RANGE) => c,
            _ => return next.handle(req, cx),
        };
        Box::pin(async move {
            let resp = next.handle(req, cx).await;
            if !self.wants(&resp) {
                return resp;
            }
            let (mut parts, inner) = resp.into_parts();
            parts.headers.remove(CONTENT_LENGTH);
            parts
                .headers
                .insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
            parts
                .headers
                .append(VARY, HeaderValue::from_static("Accept-Encoding"));
            let encoder = match coding {
                Coding::Gzip => Encoder::Gzip(GzipEncoder::new(Vec::new())),
                Coding::Brotli => Encoder::Brotli(Box::new(BrotliEncoder::with_quality(
                    Vec::new(),
                    Level::Precise(4),
                ))),
                Coding::Zstd => Encoder::Zstd(ZstdEncoder::new(Vec::new())),
            };
            // The access log's OriginContentSize: what came in, before compression.
            let (inner, origin) = weir_observe::CountedBody::new(inner);
            parts.extensions.insert(weir_observe::OriginBytes(origin));
            let body = CompressBody {
                inner,
                encoder: Some(encoder),
                trailers: None,
            };
            Response::from_parts(parts, body::boxed(body))
        })
    }
}

enum Encoder {
    Gzip(GzipEncoder<Vec<u8>>),
    Brotli(Box<BrotliEncoder<Vec<u8>>>),
    Zstd(ZstdEncoder<Vec<u8>>),
}

/// Runs `$body` with `$e` bound to the encoder, whatever its coding.
macro_rules! with_encoder {
    ($enc:expr, $e:ident => $body:expr) => {
        match $enc {
            Encoder::Gzip($e) => $body,
            Encoder::Brotli($e) => $body,
            Encoder::Zstd($e) => $body,
        }
    };
}

fn pending() -> std::io::Error {
    std::io::Error::other("compressor blocked writing to memory")
}

impl Encoder {
    /// Compresses `data` and flushes, returning the bytes produced. Writing into a `Vec`
    /// never waits, so the futures complete at once.
    fn chunk(&mut self, data: &[u8]) -> std::io::Result<Bytes> {
        with_encoder!(self, e => {
            e.write_all(data).now_or_never().ok_or_else(pending)??;
            e.flush().now_or_never().ok_or_else(pending)??;
            Ok(Bytes::from(std::mem::take(e.get_mut())))
        })
    }

    /// Ends the stream, returning the last bytes.
    fn finish(&mut self) -> std::io::Result<Bytes> {
        with_encoder!(self, e => {
            e.shutdown().now_or_never().ok_or_else(pending)??;
            Ok(Bytes::from(std::mem::take(e.get_mut())))
        })
    }
}

pin_project_lite::pin_project! {
    struct CompressBody {
        #[pin]
        inner: weir_observe::CountedBody<Body>,
        encoder: Option<Encoder>,
        // The upstream's trailers (gRPC status...), sent after the compressed data.
        trailers: Option<HeaderMap>,
    }
}

impl http_body::Body for CompressBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
            };
            let out = match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => encoder.chunk(&data),
                    // Trailers end the body: the compressed stream ends, then they follow.
                    Err(frame) => {
                        *this.trailers = frame.into_trailers().ok();
                        let last = encoder.finish();
                        *this.encoder = None;
                        last
                    }
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    let last = encoder.finish();
                    *this.encoder = None;
                    last
                }
            };
            match out {
                Ok(bytes) if bytes.is_empty() => continue,
                Ok(bytes) => return Poll::Ready(Some(Ok(Frame::data(bytes)))),
                Err(e) => return Poll::Ready(Some(Err(e.into()))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none() && self.trailers.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(encodings: &[&str]) -> Compress {
        Compress::new(&Config {
            encodings: encodings.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        })
        .unwrap()
    }

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[tokio::test]
    async fn trailers_follow_the_compressed_data() {
        use http_body_util::BodyExt as _;
        use tokio::io::AsyncReadExt as _;

        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = vec![
            Ok(Frame::data(Bytes::from_static(b"hello "))),
            Ok(Frame::data(Bytes::from_static(b"world"))),
            Ok(Frame::trailers(trailers.clone())),
        ];
        let inner = body::boxed(http_body_util::StreamBody::new(futures_util::stream::iter(
            frames,
        )));
        let (inner, origin) = weir_observe::CountedBody::new(inner);
        let compressed = CompressBody {
            inner,
            encoder: Some(Encoder::Gzip(GzipEncoder::new(Vec::new()))),
            trailers: None,
        };
        let collected = compressed.collect().await.unwrap();
        assert_eq!(
            origin.load(std::sync::atomic::Ordering::Relaxed),
            11,
            "the bytes read, before compression"
        );
        assert_eq!(collected.trailers(), Some(&trailers));
        let gz = collected.to_bytes();
        let mut plain = String::new();
        async_compression::tokio::bufread::GzipDecoder::new(&gz[..])
            .read_to_string(&mut plain)
            .await
            .unwrap();
        assert_eq!(plain, "hello world");
    }

    #[test]
    fn negotiates() {
        let c = compress(&["gzip", "br", "zstd"]);
        assert_eq!(c.choose(&HeaderMap::new()), None);
        assert_eq!(c.choose(&accept("br, gzip")), Some(Coding::Gzip));
        assert_eq!(
            c.choose(&accept("br;q=1, gzip;q=0.5")),
            Some(Coding::Brotli)
        );
        assert_eq!(c.choose(&accept("zstd")), Some(Coding::Zstd));
        assert_eq!(c.choose(&accept("gzip;q=0, deflate")), None);
        assert_eq!(c.choose(&accept("*")), Some(Coding::Gzip));
        assert_eq!(c.choose(&accept("identity")), None);
        let z = compress(&["zstd", "gzip"]);
        assert_eq!(z.choose(&accept("gzip, zstd, br")), Some(Coding::Zstd));
        assert!(
            Compress::new(&Config {
                encodings: vec!["lzma".into()],
                ..Config::default()
            })
            .is_err()
        );
    }
}
