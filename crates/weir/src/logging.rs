//! Process logs through `tracing`: text (Traefik's `common`) or JSON, level from the static
//! configuration's `log` section. `RUST_LOG`, when set, overrides the level with a full
//! filter for debugging.

use tracing_subscriber::EnvFilter;

/// Maps Traefik's level names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC) to a filter.
pub fn level_filter(level: &str) -> &'static str {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" | "WARNING" => "warn",
        _ => "error",
    }
}

/// Installs the global subscriber. `json` selects JSON lines; anything else is text.
pub fn init(level: &str, json: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(level_filter(level)));
    // Colours only for a person at a terminal; files and log collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_target(false).try_init()
    };
    // A second init (tests) keeps the first subscriber; nothing to report.
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_traefik_levels() {
        assert_eq!(level_filter("DEBUG"), "debug");
        assert_eq!(level_filter("info"), "info");
        assert_eq!(level_filter("WARN"), "warn");
        assert_eq!(level_filter("FATAL"), "error");
        assert_eq!(level_filter("PANIC"), "error");
        assert_eq!(level_filter("nonsense"), "error");
    }
}
