//! Entrypoints: listeners that accept connections and serve HTTP/1.1 and HTTP/2 (h2c prior
//! knowledge) on them, until shutdown.

mod listener;
mod request;
mod serve;
mod timeouts;

pub use listener::bind;
pub use serve::{Entrypoint, EntrypointSettings, Shared};
pub use timeouts::{BodyReadTimeout, DeadlineBody, WriteStall};
