//! `tls.options.<name>` to a rustls `ServerConfig`.
//!
//! Go names (as Traefik takes them) map onto rustls: versions, cipher suites and curves.
//! rustls has no TLS 1.0/1.1 and no CBC, RC4, 3DES or static-RSA suites; asking for them
//! is a warning and they are left out, so the result is never weaker than asked for.

use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::{CryptoProvider, SupportedKxGroup, aws_lc_rs};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ProducesTickets, StoresServerSessions, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};
use weir_config::dynamic::TlsOptions;

use super::client_auth::AcceptAnyClientCert;
use super::load::{describe, parse_certs, read_source};
use super::store::{CertStore, SniResolver};

/// ALPN protocol ids weir can serve. `acme-tls/1` (in Traefik's default list) is left out:
/// weir has no ACME solver to answer it.
const SERVABLE_ALPN: &[&str] = &["h2", "http/1.1"];

/// Session state kept for one option set across reloads, so clients can resume.
#[derive(Clone)]
pub struct SessionState {
    /// Session ticket keys.
    pub ticketer: Arc<dyn ProducesTickets>,
    /// Stateful session cache.
    pub cache: Arc<dyn StoresServerSessions + Send + Sync>,
}

/// A built option set: its config, and warnings about what could not be honoured.
pub struct BuiltOptions {
    /// The server configuration.
    pub config: Arc<ServerConfig>,
    /// Non-fatal problems.
    pub warnings: Vec<String>,
}

/// Builds the server configuration for one option set.
pub fn build(
    opts: &TlsOptions,
    store: Arc<ArcSwap<CertStore>>,
    sessions: Option<&SessionState>,
) -> Result<BuiltOptions, String> {
    let mut warnings = Vec::new();
    let (min, max) = versions(opts, &mut warnings)?;
    let tls12_suites = tls12_suites(&opts.cipher_suites, &mut warnings)?;
    let mut protocol_versions: Vec<&'static SupportedProtocolVersion> = Vec::new();
    if min <= 12 && max >= 12 {
        if tls12_suites.is_empty() {
            if max < 13 {
                return Err("cipherSuites: no TLS 1.2 suite weir supports is listed".to_owned());
            }
            warnings
                .push("cipherSuites: no supported TLS 1.2 suite; only TLS 1.3 is offered".into());
        } else {
            protocol_versions.push(&rustls::version::TLS12);
        }
    }
    if max >= 13 {
        protocol_versions.push(&rustls::version::TLS13);
    }
    let mut cipher_suites: Vec<SupportedCipherSuite> = aws_lc_rs::DEFAULT_CIPHER_SUITES
        .iter()
        .copied()
        .filter(|s| s.version() == &rustls::version::TLS13)
        .collect();
    cipher_suites.extend(tls12_suites);
    let kx_groups = kx_groups(&opts.curve_preferences, &mut warnings)?;
    let provider = Arc::new(CryptoProvider {
        cipher_suites,
        kx_groups,
        ..aws_lc_rs::default_provider()
    });
    let verifier = client_verifier(opts, &provider)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&protocol_versions)
        .map_err(|e| format!("inconsistent options: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SniResolver::new(store, opts.sni_strict)));
    config.alpn_protocols = Vec::new();
    for p in &opts.alpn_protocols {
        if SERVABLE_ALPN.contains(&p.as_str()) {
            config.alpn_protocols.push(p.as_bytes().to_vec());
        } else if p != "acme-tls/1" {
            warnings.push(format!(
                "alpnProtocols: {p:?} is not served by weir; ignored"
            ));
        }
    }
    if let Some(sessions) = sessions {
        config.session_storage = sessions.cache.clone();
        if !opts.disable_session_tickets {
            config.ticketer = sessions.ticketer.clone();
        }
    }
    if opts.disable_session_tickets {
        config.send_tls13_tickets = 0;
    }
    config.ignore_client_order = opts.prefer_server_cipher_suites.unwrap_or(false);
    Ok(BuiltOptions {
        config: Arc::new(config),
        warnings,
    })
}

/// Fresh session state (ticket keys rotate on their own).
pub fn new_sessions() -> Result<SessionState, String> {
    let ticketer = aws_lc_rs::Ticketer::new().map_err(|e| e.to_string())?;
    Ok(SessionState {
        ticketer,
        cache: rustls::server::ServerSessionMemoryCache::new(4096),
    })
}

fn parse_version(v: &str, field: &str) -> Result<Option<u8>, String> {
    Ok(match v {
        "" => None,
        "VersionTLS10" => Some(10),
        "VersionTLS11" => Some(11),
        "VersionTLS12" => Some(12),
        "VersionTLS13" => Some(13),
        other => {
            return Err(format!(
                "{field}: unknown version {other:?} (VersionTLS10..VersionTLS13)"
            ));
        }
    })
}

fn versions(opts: &TlsOptions, warnings: &mut Vec<String>) -> Result<(u8, u8), String> {
    let min = parse_version(&opts.min_version, "minVersion")?.unwrap_or(12);
    let max = parse_version(&opts.max_version, "maxVersion")?.unwrap_or(13);
    if max < 12 {
        return Err(format!(
            "maxVersion {}: TLS 1.0 and 1.1 are not supported; nothing left to offer",
            opts.max_version
        ));
    }
    if min < 12 {
        warnings.push(format!(
            "minVersion {}: TLS 1.0 and 1.1 are not supported; TLS 1.2 is the minimum",
            opts.min_version
        ));
    }
    if min > max {
        return Err(format!(
            "minVersion {} is above maxVersion {}",
            opts.min_version, opts.max_version
        ));
    }
    Ok((min.max(12), max))
}

/// The TLS 1.2 suites for `names`, or the secure defaults when empty. TLS 1.3 suites are
/// not configurable (as in Go) and always on.
fn tls12_suites(
    names: &[String],
    warnings: &mut Vec<String>,
) -> Result<Vec<SupportedCipherSuite>, String> {
    let tls12 = || {
        aws_lc_rs::DEFAULT_CIPHER_SUITES
            .iter()
            .copied()
            .filter(|s| s.version() == &rustls::version::TLS12)
    };
    if names.is_empty() {
        return Ok(tls12().collect());
    }
    let mut out = Vec::new();
    for name in names {
        let full = if name.ends_with("_CHACHA20_POLY1305") {
            format!("{name}_SHA256")
        } else {
            name.clone()
        };
        if let Some(s) = tls12().find(|s| s.suite().as_str() == Some(full.as_str())) {
            if !out.contains(&s) {
                out.push(s);
            }
        } else if matches!(
            full.as_str(),
            "TLS_AES_128_GCM_SHA256" | "TLS_AES_256_GCM_SHA384" | "TLS_CHACHA20_POLY1305_SHA256"
        ) {
            // TLS 1.3 suites: always on, as in Go.
        } else if name.starts_with("TLS_") && is_known_weak(name) {
            warnings.push(format!(
                "cipherSuites: {name} is weak and not supported; ignored"
            ));
        } else {
            return Err(format!("cipherSuites: unknown cipher suite {name:?}"));
        }
    }
    Ok(out)
}

fn is_known_weak(name: &str) -> bool {
    ["_CBC_", "_RC4_", "_3DES_", "TLS_RSA_WITH_"]
        .iter()
        .any(|p| name.contains(p))
}

fn kx_groups(
    names: &[String],
    warnings: &mut Vec<String>,
) -> Result<Vec<&'static dyn SupportedKxGroup>, String> {
    use aws_lc_rs::kx_group;
    if names.is_empty() {
        return Ok(aws_lc_rs::DEFAULT_KX_GROUPS.to_vec());
    }
    let mut out: Vec<&'static dyn SupportedKxGroup> = Vec::new();
    for name in names {
        let group: &'static dyn SupportedKxGroup = match name.as_str() {
            "X25519" | "x25519" => kx_group::X25519,
            "CurveP256" | "P256" | "secp256r1" => kx_group::SECP256R1,
            "CurveP384" | "P384" | "secp384r1" => kx_group::SECP384R1,
            "X25519MLKEM768" | "x25519mlkem768" => kx_group::X25519MLKEM768,
            "CurveP521" | "P521" | "secp521r1" => {
                warnings.push(format!(
                    "curvePreferences: {name} is not supported; ignored"
                ));
                continue;
            }
            other => return Err(format!("curvePreferences: unknown curve {other:?}")),
        };
        if !out.iter().any(|g| g.name() == group.name()) {
            out.push(group);
        }
    }
    if out.is_empty() {
        return Err("curvePreferences: no supported curve left".to_owned());
    }
    Ok(out)
}

fn client_verifier(
    opts: &TlsOptions,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let ca = &opts.client_auth;
    let kind = match ca.client_auth_type.as_str() {
        // With CAs but no type, verification is what the user means.
        "" if !ca.ca_files.is_empty() => "RequireAndVerifyClientCert",
        "" => "NoClientCert",
        k => k,
    };
    let roots = || -> Result<Arc<RootCertStore>, String> {
        if ca.ca_files.is_empty() {
            return Err(format!("clientAuth: {kind} needs caFiles"));
        }
        let mut roots = RootCertStore::empty();
        for f in &ca.ca_files {
            let what = describe(f);
            let pem = read_source(f).map_err(|e| format!("clientAuth.caFiles: {what}: {e}"))?;
            for cert in parse_certs(&pem).map_err(|e| format!("clientAuth.caFiles: {what}: {e}"))? {
                roots
                    .add(cert)
                    .map_err(|e| format!("clientAuth.caFiles: {what}: {e}"))?;
            }
        }
        Ok(Arc::new(roots))
    };
    let verifier: Arc<dyn ClientCertVerifier> = match kind {
        "NoClientCert" => WebPkiClientVerifier::no_client_auth(),
        "RequestClientCert" => Arc::new(AcceptAnyClientCert::new(provider.clone(), false)),
        "RequireAnyClientCert" => Arc::new(AcceptAnyClientCert::new(provider.clone(), true)),
        "VerifyClientCertIfGiven" => {
            WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| format!("clientAuth: {e}"))?
        }
        "RequireAndVerifyClientCert" => {
            WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .build()
                .map_err(|e| format!("clientAuth: {e}"))?
        }
        other => {
            return Err(format!(
                "clientAuth.clientAuthType: unknown type {other:?} (NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)"
            ));
        }
    };
    Ok(verifier)
}
