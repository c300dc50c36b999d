//! What happens to every request before routing: path normalisation, the canonical host,
//! hop-by-hop stripping and the forwarded headers.

pub mod headers;
pub mod host;
pub mod path;
