//! The body type every handler sees, both for requests and responses.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};

/// Errors carried inside bodies and between layers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed body: requests from clients and responses from upstreams pass through as they
/// arrive, never buffered whole.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// An empty body.
pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A body holding `bytes`, for answers weir writes itself.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Boxes any body whose error converts into [`BoxError`].
pub fn boxed<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// `first` (already read off `rest`) followed by the rest of the body, for a layer that had
/// to look at the start of a body before passing it on.
pub fn prepend(first: Result<http_body::Frame<Bytes>, BoxError>, rest: Body) -> Body {
    use futures_util::StreamExt as _;
    let head = futures_util::stream::once(async move { first });
    http_body_util::StreamBody::new(head.chain(http_body_util::BodyStream::new(rest)))
        .boxed_unsync()
}
