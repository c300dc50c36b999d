//! The upstream client: pooled HTTP/1.1, h2c and HTTPS connections to servers.
//!
//! [`UpstreamClient`] is built once per `serversTransport` from [`TransportSettings`] and
//! forwards requests to a [`ServerTarget`]; failures come back as [`UpstreamError`], which
//! knows its answer (502 or 504). [`TransportRegistry`] keeps clients, and with them their
//! connection pools, alive across configuration reloads.

mod client;
mod connector;
mod error;
mod h1pool;
mod registry;
mod settings;
mod target;
mod tls;
mod upgrade;

pub use client::{ClientBuildError, UpstreamClient, strip_hop_by_hop};
pub use error::{UpstreamError, UpstreamErrorKind, UpstreamFailure, status_response};
pub use registry::TransportRegistry;
pub use settings::{
    DEFAULT_MAX_IDLE_CONNS_PER_HOST, GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST, TransportSettings,
};
pub use target::{ServerScheme, ServerTarget, TargetError};
pub use tls::{ClientIdentity, TlsSettingsError};
