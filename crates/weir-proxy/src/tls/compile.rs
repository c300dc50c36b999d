//! Compiling the `tls` sections of every provider: load the certificates into a new store
//! (a bad one is reported and skipped), build every option set, and swap the store in.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustls::ServerConfig;
use serde::Serialize;
use weir_config::dynamic::{Configuration, TlsOptions};

use super::load::{CertInfo, describe, load_pair, unix_now};
use super::options;
use super::store::CertStore;
use super::{TlsRegistry, provider};
use crate::compile::{ElementReport, Status, qualify};

/// The name of the option set routers get when they name none.
pub const DEFAULT_OPTIONS: &str = "default";

/// One configured certificate and what became of it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertReport {
    /// `certFile` (a path, or `inline PEM`).
    pub cert_file: String,
    /// `keyFile` (a path, or `inline PEM`); the key itself never appears.
    pub key_file: String,
    /// The provider that configured it.
    pub provider: String,
    /// Whether it is the default store's `defaultCertificate`.
    pub default: bool,
    /// Loaded (`enabled`) or not (`disabled`).
    pub status: Status,
    /// Why it was not loaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What the certificate says (when it loaded): names, serial, validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<CertInfo>,
}

/// The compiled `tls` sections.
pub struct TlsCompiled {
    /// Option sets by qualified name (`default`, `name@provider`): the built configuration
    /// or why it could not be built.
    pub options: BTreeMap<String, Result<Arc<ServerConfig>, String>>,
    /// Every option set's report (`usedBy` is filled in by the router compiler).
    pub option_reports: BTreeMap<String, ElementReport>,
    /// Every configured certificate.
    pub certificates: Vec<CertReport>,
    /// The default option set's configuration (the built-in defaults stand in when the
    /// configured `default` is broken).
    pub default_config: Option<Arc<ServerConfig>>,
    /// The store now installed.
    pub store: Arc<CertStore>,
}

impl TlsCompiled {
    /// The qualified option name a router in `provider` means by `name`.
    pub fn option_name(name: &str, provider: &str) -> String {
        if name.is_empty() || name == DEFAULT_OPTIONS {
            DEFAULT_OPTIONS.to_owned()
        } else {
            crate::compile::resolve(name, provider)
        }
    }
}

/// Loads certificates and builds options from every provider's `tls` section, installs the
/// new certificate store into `registry`, and reports.
pub fn compile_tls(
    providers: &[(String, Arc<Configuration>)],
    registry: &TlsRegistry,
) -> TlsCompiled {
    let crypto = provider();
    let now = unix_now();
    let mut store = CertStore::default();
    let mut certificates = Vec::new();
    for (prov, config) in providers {
        for c in &config.tls.certificates {
            let mut report = CertReport {
                cert_file: describe(&c.cert_file),
                key_file: describe(&c.key_file),
                provider: prov.clone(),
                default: false,
                status: Status::Enabled,
                errors: Vec::new(),
                info: None,
            };
            let unused: Vec<&String> = c.stores.iter().filter(|s| *s != "default").collect();
            if !c.stores.is_empty() && unused.len() == c.stores.len() {
                report.status = Status::Warning;
                report.errors.push(format!(
                    "only the store \"default\" is used; stores {unused:?} are ignored, so this certificate is not served"
                ));
                certificates.push(report);
                continue;
            }
            match load_pair(&c.cert_file, &c.key_file, &crypto, now) {
                Ok(cert) => {
                    store.add(&cert);
                    report.info = Some(cert.info);
                }
                Err(e) => {
                    report.status = Status::Disabled;
                    report.errors.push(e);
                }
            }
            certificates.push(report);
        }
        for (name, s) in &config.tls.stores {
            if name != "default" {
                continue;
            }
            if s.default_generated_cert.is_some() {
                tracing::warn!(
                    "tls.stores.default.defaultGeneratedCert: certificate resolvers are not supported; the default certificate is used"
                );
            }
            let Some(dc) = &s.default_certificate else {
                continue;
            };
            let mut report = CertReport {
                cert_file: describe(&dc.cert_file),
                key_file: describe(&dc.key_file),
                provider: prov.clone(),
                default: true,
                status: Status::Enabled,
                errors: Vec::new(),
                info: None,
            };
            match load_pair(&dc.cert_file, &dc.key_file, &crypto, now) {
                Ok(cert) => {
                    report.info = Some(cert.info.clone());
                    store.set_default(cert);
                }
                Err(e) => {
                    report.status = Status::Disabled;
                    report.errors.push(e);
                }
            }
            certificates.push(report);
        }
    }
    let store = Arc::new(store);
    registry.store.store(store.clone());

    // Option sets: the configured ones, plus the built-in `default` when none is given.
    let mut defined: BTreeMap<String, (String, TlsOptions)> = BTreeMap::new();
    for (prov, config) in providers {
        for (name, opts) in &config.tls.options {
            let q = if name == DEFAULT_OPTIONS {
                DEFAULT_OPTIONS.to_owned()
            } else {
                qualify(name, prov)
            };
            defined
                .entry(q)
                .or_insert_with(|| (prov.clone(), opts.clone()));
        }
    }
    let mut options = BTreeMap::new();
    let mut option_reports = BTreeMap::new();
    let mut keys = Vec::new();
    let mut build_one = |name: &str, opts: &TlsOptions| {
        let key = format!(
            "{name}\n{}",
            serde_json::to_string(opts).unwrap_or_default()
        );
        keys.push(key.clone());
        let sessions = registry.sessions_for(&key).ok();
        options::build(opts, registry.store(), sessions.as_ref())
    };
    let builtin = build_one(DEFAULT_OPTIONS, &TlsOptions::default());
    for (name, (prov, opts)) in &defined {
        let mut report = ElementReport {
            kind: "tlsOptions".to_owned(),
            status: Status::Enabled,
            errors: Vec::new(),
            used_by: Vec::new(),
            provider: prov.clone(),
        };
        match build_one(name, opts) {
            Ok(built) => {
                if !built.warnings.is_empty() {
                    report.status = Status::Warning;
                    report.errors = built.warnings;
                }
                options.insert(name.clone(), Ok(built.config));
            }
            Err(e) => {
                report.status = Status::Disabled;
                report.errors.push(e.clone());
                options.insert(name.clone(), Err(e));
            }
        }
        option_reports.insert(name.clone(), report);
    }
    registry.retain_sessions(&keys);
    let default_config = match (options.get(DEFAULT_OPTIONS), builtin) {
        (Some(Ok(c)), _) => c.clone(),
        (_, Ok(b)) => {
            if !options.contains_key(DEFAULT_OPTIONS) {
                options.insert(DEFAULT_OPTIONS.to_owned(), Ok(b.config.clone()));
            }
            b.config
        }
        (_, Err(e)) => {
            // Not expected: the built-in options are valid by construction.
            tracing::error!("cannot build the built-in TLS options: {e}");
            return TlsCompiled {
                options,
                option_reports,
                certificates,
                default_config: None,
                store,
            };
        }
    };
    TlsCompiled {
        options,
        option_reports,
        certificates,
        default_config: Some(default_config),
        store,
    }
}
