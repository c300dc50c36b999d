//! weir's observability: the Prometheus metrics registry with Traefik's metric families,
//! per-request observation (metrics and access log) and the access log writer.
//!
//! The request path only touches atomics: metric handles for routers and services are
//! resolved when a configuration is compiled ([`Metrics::route_handles`]) and carried by
//! the route; a request records into them when its response body is done.

pub mod access;
pub mod labels;
pub mod metrics;
mod origin;
mod probe;
mod scan;
pub mod tls_labels;

pub use metrics::{
    CertExpiry, Metrics, MetricsConfig, RouteHandles, RouteObservability, SeriesSet, ServiceHandle,
};
pub use origin::{Answered, Origin, Tracked};
pub use probe::{
    ClientUsername, ConnectionGuard, CountedBody, Metered, Observer, OriginBytes, Peer, Probe,
    RequestLabels, Retries, Wanted,
};
pub use tls_labels::TlsLabel;
