//! Resolving the static configuration: file (or the embedded default), then `WEIR_*`
//! environment variables, then Traefik-style flags.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use anyhow::{Context, bail};
use weir_config::Diagnostic;
use weir_config::static_config::StaticConfiguration;

use crate::cli::ConfigArgs;

/// Environment variables that configure the binary itself, not the static configuration.
const OWN_VARS: [&str; 3] = ["WEIR_CONFIGFILE", "WEIR_WORKER_THREADS", "WEIR_LOG"];

/// The resolved static configuration.
pub struct StaticSource {
    /// The effective configuration.
    pub config: StaticConfiguration,
    /// Warnings found while reading it.
    pub diagnostics: Vec<Diagnostic>,
    /// True when weir runs on its embedded default (no file, flags or variables).
    pub embedded: bool,
}

/// Reads the static configuration as `args` and the environment say.
pub fn resolve(args: &ConfigArgs) -> anyhow::Result<StaticSource> {
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("WEIR_") && !OWN_VARS.contains(&k.as_str()))
        .collect();
    let (base, diagnostics, embedded) = match &args.config {
        Some(path) => {
            let parsed = weir_config::load_static_file(path)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("reading the static configuration {}", path.display()))?;
            if parsed.has_errors() {
                let errors: Vec<String> = parsed
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect();
                bail!("invalid static configuration:\n  {}", errors.join("\n  "));
            }
            (parsed.value, parsed.diagnostics, false)
        }
        None if args.static_flags.is_empty() && env.is_empty() => {
            (StaticConfiguration::embedded_default(), Vec::new(), true)
        }
        None => (StaticConfiguration::default(), Vec::new(), false),
    };
    let mut diagnostics = diagnostics;
    let config = if args.static_flags.is_empty() && env.is_empty() {
        base
    } else {
        let parsed = weir_config::flags::apply_overrides(&base, &args.static_flags, env)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        diagnostics.extend(parsed.diagnostics);
        parsed.value
    };
    Ok(StaticSource {
        config: config.effective(),
        diagnostics,
        embedded,
    })
}

/// Parses a Traefik entrypoint address: `:8000` (every interface), `127.0.0.1:8000`,
/// `[::1]:8000` or `host:8000`, optionally followed by `/tcp`.
pub fn parse_address(address: &str) -> anyhow::Result<SocketAddr> {
    let address = address.trim();
    let address = address.strip_suffix("/tcp").unwrap_or(address);
    if address.ends_with("/udp") {
        bail!("UDP entrypoints are not supported yet");
    }
    if let Some(port) = address.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .with_context(|| format!("invalid port in address {address:?}"))?;
        return Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port));
    }
    if let Ok(addr) = address.parse::<SocketAddr>() {
        return Ok(addr);
    }
    address
        .to_socket_addrs()
        .with_context(|| format!("invalid address {address:?}"))?
        .next()
        .with_context(|| format!("address {address:?} resolves to nothing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_traefik_addresses() {
        assert_eq!(
            parse_address(":8000").unwrap(),
            "[::]:8000".parse().unwrap()
        );
        assert_eq!(
            parse_address("127.0.0.1:81").unwrap(),
            "127.0.0.1:81".parse().unwrap()
        );
        assert_eq!(
            parse_address("[::1]:82/tcp").unwrap(),
            "[::1]:82".parse().unwrap()
        );
        assert!(parse_address(":99999").is_err());
        assert!(parse_address(":53/udp").is_err());
        assert!(parse_address("nonsense").is_err());
    }
}
