//! weir's data plane.
//!
//! The flow inside this crate follows a request:
//! [`entrypoint`] accepts connections and speaks HTTP/1.1 and HTTP/2; [`pipeline`] normalises
//! the request (path, canonical host, forwarded headers); the current [`table::RoutingTable`]
//! (compiled from the dynamic configuration by [`compile`]) picks a router; the router's
//! [`Handler`] chain runs and ends in a [`service`], which picks a server and forwards through
//! the pooled [`upstream`] client. [`tls`] terminates TLS (certificates by SNI, options,
//! client authentication).

pub mod body;
pub mod compile;
pub mod entrypoint;
pub mod handler;
mod hex;
pub mod internal;
pub mod middleware;
pub mod pipeline;
pub mod service;
pub mod table;
pub mod tls;
pub mod upstream;

pub use body::{Body, BoxError};
pub use handler::{BoxFuture, Handler, RequestContext};
