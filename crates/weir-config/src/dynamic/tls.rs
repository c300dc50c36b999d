//! The `tls` section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::http::{Certificate, Domain};

/// The `tls` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsConfiguration {
    /// Certificates.
    pub certificates: Vec<CertAndStores>,
    /// Named TLS options (`default` applies to routers without `tls.options`).
    pub options: BTreeMap<String, TlsOptions>,
    /// Named certificate stores (only `default` is used).
    pub stores: BTreeMap<String, Store>,
}

/// `tls.certificates[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CertAndStores {
    /// Certificate file or PEM.
    pub cert_file: String,
    /// Key file or PEM.
    pub key_file: String,
    /// Stores the certificate goes to (default: `default`).
    pub stores: Vec<String>,
}

/// `tls.options.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsOptions {
    /// `VersionTLS12` etc. (empty: TLS 1.2).
    pub min_version: String,
    /// Maximum version (empty: newest).
    pub max_version: String,
    /// Cipher suites (TLS 1.2 names).
    pub cipher_suites: Vec<String>,
    /// Curves.
    pub curve_preferences: Vec<String>,
    /// Client certificate authentication.
    pub client_auth: ClientAuth,
    /// Reject unknown SNI instead of serving the default certificate.
    pub sni_strict: bool,
    /// ALPN (default `h2, http/1.1, acme-tls/1`).
    pub alpn_protocols: Vec<String>,
    /// Disable session tickets.
    pub disable_session_tickets: bool,
    /// Deprecated (no effect in TLS 1.3).
    pub prefer_server_cipher_suites: Option<bool>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            min_version: String::new(),
            max_version: String::new(),
            cipher_suites: Vec::new(),
            curve_preferences: Vec::new(),
            client_auth: ClientAuth::default(),
            sni_strict: false,
            alpn_protocols: vec!["h2".into(), "http/1.1".into(), "acme-tls/1".into()],
            disable_session_tickets: false,
            prefer_server_cipher_suites: None,
        }
    }
}

/// `clientAuth`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClientAuth {
    /// CA files (or PEM).
    pub ca_files: Vec<String>,
    /// `NoClientCert`, `RequestClientCert`, `RequireAnyClientCert`,
    /// `VerifyClientCertIfGiven`, `RequireAndVerifyClientCert`.
    pub client_auth_type: String,
}

/// `tls.stores.<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Store {
    /// Certificate served when no other matches.
    pub default_certificate: Option<Certificate>,
    /// Generate the default certificate through a resolver.
    pub default_generated_cert: Option<GeneratedCert>,
}

/// `defaultGeneratedCert`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GeneratedCert {
    /// Resolver name.
    pub resolver: String,
    /// Domain.
    pub domain: Option<Domain>,
}
