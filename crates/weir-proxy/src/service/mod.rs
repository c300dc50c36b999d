//! HTTP services: load balancers over servers, weighted and mirroring services.
//!
//! Every service is a [`Handler`](crate::Handler) built once per configuration from
//! already-built parts: a [`LoadBalancer`] from servers and an
//! [`UpstreamClient`](crate::upstream::UpstreamClient), a [`Weighted`] or [`Mirroring`]
//! service from child handlers. State that must outlive a reload (health) lives in a
//! [`HealthRegistry`].

mod health;
mod loadbalancer;
mod mirroring;
mod sticky;
mod weighted;
mod wrr;

pub use health::{HealthCheckConfig, HealthRegistry, ServerHealth};
pub use loadbalancer::{LoadBalancer, Server};
pub use mirroring::{MAX_MIRROR_BODY, Mirror, Mirroring};
pub use sticky::{SameSite, StickyCookie, cookie_value, default_cookie_name};
pub use weighted::{Weighted, WeightedChild};

/// Whether a service can take traffic now: a load balancer with a healthy server, a
/// weighted service with an available child. Weighted services skip unavailable children
/// (Traefik's health propagation).
pub trait Availability: Send + Sync {
    /// Whether requests sent now have a server to go to.
    fn is_available(&self) -> bool;
}
