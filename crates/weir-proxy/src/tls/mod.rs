//! TLS termination: certificates and the SNI resolver ([`store`]), option sets as rustls
//! server configurations ([`options`]), compiling the `tls` section ([`compile`]) and the
//! per-entrypoint choice of configuration by SNI ([`EntrypointTls`]).
//!
//! What outlives a reload lives in [`TlsRegistry`]: the certificate store behind an
//! `ArcSwap` (the resolvers of every configuration read it, so a reload changes the
//! certificates of new handshakes only) and each option set's session state.

mod client_auth;
pub mod compile;
pub mod load;
pub mod options;
pub mod store;
pub mod subject;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;

pub use compile::{CertReport, TlsCompiled, compile_tls};
pub use load::{CertInfo, LoadedCert};
pub use store::{CertStore, DEFAULT_CERT_CN, SniResolver};

/// The crypto provider weir uses (aws-lc-rs).
pub fn provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// TLS state that outlives reloads.
pub struct TlsRegistry {
    store: Arc<ArcSwap<CertStore>>,
    sessions: Mutex<HashMap<String, options::SessionState>>,
}

impl Default for TlsRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsRegistry {
    /// An empty registry (the store serves the generated default certificate).
    pub fn new() -> Self {
        Self {
            store: Arc::new(ArcSwap::from_pointee(CertStore::default())),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The swappable store the resolvers read.
    pub fn store(&self) -> Arc<ArcSwap<CertStore>> {
        self.store.clone()
    }

    /// Session state for the option set identified by `key` (its name and content), made
    /// on first use and kept while the option set stays the same.
    fn sessions_for(&self, key: &str) -> Result<options::SessionState, String> {
        let mut map = self
            .sessions
            .lock()
            .map_err(|_| "session registry poisoned".to_owned())?;
        if let Some(s) = map.get(key) {
            return Ok(s.clone());
        }
        let s = options::new_sessions()?;
        map.insert(key.to_owned(), s.clone());
        Ok(s)
    }

    /// Forgets session state of option sets no longer in use.
    fn retain_sessions(&self, keys: &[String]) {
        if let Ok(mut map) = self.sessions.lock() {
            map.retain(|k, _| keys.contains(k));
        }
    }
}

/// One entrypoint's TLS: the configuration to use per SNI (from the hosts of its TLS
/// routers and their options) and the default one.
pub struct EntrypointTls {
    by_host: HashMap<String, Arc<ServerConfig>>,
    default: Arc<ServerConfig>,
}

impl EntrypointTls {
    /// A TLS setup using `default` for every name not in `by_host`.
    pub fn new(by_host: HashMap<String, Arc<ServerConfig>>, default: Arc<ServerConfig>) -> Self {
        Self { by_host, default }
    }

    /// The configuration for a ClientHello with this server name.
    pub fn config_for(&self, sni: Option<&str>) -> Arc<ServerConfig> {
        if let Some(sni) = sni
            && !self.by_host.is_empty()
        {
            let sni = sni.trim_end_matches('.').to_ascii_lowercase();
            if let Some(c) = self.by_host.get(&sni) {
                return c.clone();
            }
        }
        self.default.clone()
    }

    /// Whether a request for `host` on a connection made with `sni` must be refused (421):
    /// the host is served with different TLS options than the SNI got, so the client
    /// would dodge them (Traefik's SNI check against domain fronting).
    pub fn misdirected(&self, sni: Option<&str>, host: &str) -> bool {
        if self.by_host.is_empty() || sni.is_some_and(|s| s.eq_ignore_ascii_case(host)) {
            return false;
        }
        let Some(for_host) = self.by_host.get(host) else {
            return false;
        };
        !Arc::ptr_eq(for_host, &self.config_for(sni))
    }
}

/// What a TLS connection negotiated; requests on it carry it in their extensions
/// (`req.extensions().get::<Arc<TlsInfo>>()`), for middlewares such as
/// `passTLSClientCert` and for access logs and metrics.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// The SNI the client sent, lower-cased.
    pub server_name: Option<String>,
    /// `TLSv1_3` or `TLSv1_2`.
    pub version: &'static str,
    /// The cipher suite's IANA name.
    pub cipher: &'static str,
    /// The negotiated ALPN protocol.
    pub alpn: Option<Vec<u8>>,
    /// The client's certificate chain (leaf first), when it sent one.
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// `version` and `cipher` as the labels of `*_requests_tls_total`.
    pub metrics_label: weir_observe::TlsLabel,
    /// The client certificate's subject as Go prints it (the access log's
    /// `TLSClientSubject`), when the client sent one.
    pub client_subject: Option<Arc<str>>,
}
