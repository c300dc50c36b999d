//! The certificate store and the SNI resolver that reads it.
//!
//! Selection, as Traefik does it: a certificate whose SAN equals the SNI, then one whose
//! wildcard SAN (`*.example.com`) covers exactly one label of it, then the store's default
//! certificate, then the self-signed default generated at start. With `sniStrict` only the
//! first two count.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::load::{CertInfo, LoadedCert, cert_info};

/// Certificates by name, plus the default. Immutable; replaced whole on reload.
#[derive(Debug, Default)]
pub struct CertStore {
    exact: HashMap<String, LoadedCert>,
    /// Keyed by the part after `*.`.
    wildcard: HashMap<String, LoadedCert>,
    default: Option<LoadedCert>,
}

impl CertStore {
    /// Adds a certificate under each of its SANs. The first certificate for a name wins
    /// (files are read in configuration order), as in Traefik.
    pub fn add(&mut self, cert: &LoadedCert) {
        for san in &cert.info.sans {
            let san = san.trim_end_matches('.');
            if let Some(parent) = san.strip_prefix("*.") {
                self.wildcard
                    .entry(parent.to_owned())
                    .or_insert_with(|| cert.clone());
            } else {
                self.exact
                    .entry(san.to_owned())
                    .or_insert_with(|| cert.clone());
            }
        }
    }

    /// Sets the store's default certificate.
    pub fn set_default(&mut self, cert: LoadedCert) {
        self.default = Some(cert);
    }

    /// The certificate for `sni` by SAN (exact, then one-label wildcard), if any.
    pub fn by_name(&self, sni: &str) -> Option<&LoadedCert> {
        let sni = sni.trim_end_matches('.');
        if let Some(c) = self.exact.get(sni) {
            return Some(c);
        }
        let (_, parent) = sni.split_once('.')?;
        self.wildcard.get(parent)
    }

    /// The default certificate: the configured one, else the generated one.
    pub fn default_cert(&self) -> Option<&LoadedCert> {
        self.default.as_ref().or_else(|| generated_default())
    }

    /// Whether a certificate other than the defaults covers `host`.
    pub fn covers(&self, host: &str) -> bool {
        self.by_name(host).is_some()
    }
}

/// Picks a certificate per ClientHello from a store that can be swapped at any time: a
/// reload replaces the store and the next handshake sees it; connections already
/// established keep the certificate they negotiated.
#[derive(Debug)]
pub struct SniResolver {
    store: Arc<ArcSwap<CertStore>>,
    strict: bool,
}

impl SniResolver {
    /// A resolver over `store`; `strict` (`sniStrict`) refuses names no certificate covers.
    pub fn new(store: Arc<ArcSwap<CertStore>>, strict: bool) -> Self {
        Self { store, strict }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let store = self.store.load();
        if let Some(sni) = hello.server_name() {
            let sni = sni.to_ascii_lowercase();
            if let Some(c) = store.by_name(&sni) {
                return Some(c.key.clone());
            }
            if self.strict {
                tracing::debug!(sni, "sniStrict: no certificate for this name");
                return None;
            }
        } else if self.strict {
            tracing::debug!("sniStrict: the client sent no server name");
            return None;
        }
        store.default_cert().map(|c| c.key.clone())
    }
}

/// The self-signed certificate served when nothing else matches (Traefik's "TRAEFIK
/// DEFAULT CERT"), generated once per process so it stays the same across reloads.
pub fn generated_default() -> Option<&'static LoadedCert> {
    static CERT: OnceLock<Option<LoadedCert>> = OnceLock::new();
    CERT.get_or_init(|| match generate_default() {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!("cannot generate the default self-signed certificate: {e}");
            None
        }
    })
    .as_ref()
}

/// Common name of the generated default certificate.
pub const DEFAULT_CERT_CN: &str = "WEIR DEFAULT CERT";

fn generate_default() -> Result<LoadedCert, String> {
    let mut params = rcgen::CertificateParams::new(vec!["weir.default.invalid".to_owned()])
        .map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, DEFAULT_CERT_CN);
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    let der = cert.der().clone();
    let key_der = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = super::provider();
    let mut info: CertInfo = cert_info(&der, "generated default")?;
    // It serves unknown names; it does not claim any.
    info.sans.clear();
    let ck = CertifiedKey::from_der(vec![der], key_der, &provider).map_err(|e| e.to_string())?;
    Ok(LoadedCert {
        key: Arc::new(ck),
        info,
    })
}
