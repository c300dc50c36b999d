//! Entrypoints: listeners that accept connections and serve HTTP/1.1 and HTTP/2 (h2c prior
//! knowledge) on them, until shutdown.

mod listener;
mod request;
mod serve;

pub use listener::bind;
pub use serve::{Entrypoint, EntrypointSettings, Shared};
