//! Configuration providers: each translates its source into weir's dynamic model
//! ([`weir_config::dynamic::Configuration`]) and reports what it could not translate.
//!
//! - [`file`]: the file provider (`providers.file`), one file or a directory, watched.
//! - [`qualify`]: `name@provider` naming shared by every provider and the aggregator.

pub mod file;

use weir_config::Diagnostic;
use weir_config::dynamic::Configuration;

/// What a provider produced at one point in time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSnapshot {
    /// The provider's name (`file`, `kubernetescrd`, ...), used to qualify element names.
    pub provider: String,
    /// Element names are *not* qualified yet; the aggregator does that.
    pub config: Configuration,
    /// Warnings and per-element errors, located in their source.
    pub diagnostics: Vec<Diagnostic>,
}

/// Qualifies a reference the way Traefik does: a name that already has `@provider` is
/// kept; otherwise it belongs to `provider` (the provider of the element that refers to
/// it). `qualify("whoami", "file") == "whoami@file"`,
/// `qualify("api@internal", "file") == "api@internal"`.
pub fn qualify(name: &str, provider: &str) -> String {
    if name.contains('@') {
        name.to_string()
    } else {
        format!("{name}@{provider}")
    }
}

/// Splits `name@provider` into its parts (`None` when unqualified). The provider is
/// what follows the last `@`.
pub fn split_qualified(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('@') {
        Some((n, p)) => (n, Some(p)),
        None => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifies_names() {
        assert_eq!(qualify("whoami", "file"), "whoami@file");
        assert_eq!(qualify("api@internal", "file"), "api@internal");
        assert_eq!(qualify("x@kubernetescrd", "file"), "x@kubernetescrd");
        assert_eq!(split_qualified("a@file"), ("a", Some("file")));
        assert_eq!(split_qualified("a"), ("a", None));
    }
}
