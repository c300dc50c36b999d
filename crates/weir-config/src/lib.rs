//! weir's configuration: the Traefik-compatible static and dynamic models, and parsing
//! of YAML/TOML documents, flags and environment variables with located diagnostics.
//!
//! - [`dynamic::Configuration`]: routers, services, middlewares, TLS (`http`, `tcp`,
//!   `udp`, `tls`), same names and defaults as Traefik v3.
//! - [`static_config::StaticConfiguration`]: entrypoints, providers, API, observability.
//! - [`load`]: `parse_dynamic`, `parse_static`, `load_dynamic_file`, `load_static_file`.
//! - [`flags`]: Traefik-style `--a.b.c=value` flags and `WEIR_A_B_C` variables.
//!
//! Keys of known structures are matched case-insensitively (like Traefik's paerser);
//! user-chosen names (routers, headers) keep their case. Unknown keys are reported as
//! warnings with their line, never silently dropped.

mod de;
pub mod diagnostic;
pub mod duration;
pub mod dynamic;
pub mod flags;
pub mod load;
mod node;
pub mod static_config;

pub use diagnostic::{ConfigError, Diagnostic, Origin, Parsed, Severity};
pub use duration::Duration;
pub use load::{
    Format, load_dynamic_file, load_static_file, parse_dynamic, parse_dynamic_as, parse_static,
    parse_static_as,
};

/// Whether `n` is 0: fields Traefik tags `omitempty` skip it when serialized.
pub(crate) fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}
