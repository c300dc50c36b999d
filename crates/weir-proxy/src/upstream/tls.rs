//! TLS towards servers: roots, `insecureSkipVerify`, `serverName`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::settings::TransportSettings;

/// Why a transport's TLS settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum TlsSettingsError {
    /// A `rootCAs` entry could not be read or holds no certificate.
    #[error("rootCAs entry {entry:?}: {reason}")]
    RootCa {
        /// The entry (a path, or the start of inline PEM).
        entry: String,
        /// What failed.
        reason: String,
    },
    /// `serverName` is not a valid DNS name or IP address.
    #[error("invalid serverName {0:?}")]
    ServerName(String),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn root_store(settings: &TransportSettings) -> Result<RootCertStore, TlsSettingsError> {
    let mut store = RootCertStore::empty();
    if settings.root_cas.is_empty() {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    }
    for entry in &settings.root_cas {
        let short = || entry.chars().take(64).collect::<String>();
        let certs: Result<Vec<CertificateDer<'static>>, _> = if entry.contains("-----BEGIN") {
            CertificateDer::pem_slice_iter(entry.as_bytes()).collect()
        } else {
            CertificateDer::pem_file_iter(entry)
                .map_err(|e| TlsSettingsError::RootCa {
                    entry: short(),
                    reason: e.to_string(),
                })?
                .collect()
        };
        let certs = certs.map_err(|e| TlsSettingsError::RootCa {
            entry: short(),
            reason: e.to_string(),
        })?;
        if certs.is_empty() {
            return Err(TlsSettingsError::RootCa {
                entry: short(),
                reason: "no certificate found".into(),
            });
        }
        for cert in certs {
            store.add(cert).map_err(|e| TlsSettingsError::RootCa {
                entry: short(),
                reason: e.to_string(),
            })?;
        }
    }
    Ok(store)
}

/// A client certificate chain (leaf first) and its key, shown to servers that ask for one.
#[derive(Debug)]
pub struct ClientIdentity {
    /// The certificate chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

/// The rustls client configuration for a transport, without ALPN (callers set it), showing
/// `identity` to servers that ask for a client certificate.
pub(crate) fn client_config(
    settings: &TransportSettings,
    identity: Option<ClientIdentity>,
) -> Result<ClientConfig, TlsSettingsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if settings.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
    } else {
        builder.with_root_certificates(root_store(settings)?)
    };
    Ok(match identity {
        Some(id) => builder.with_client_auth_cert(id.chain, id.key)?,
        None => builder.with_no_client_auth(),
    })
}

/// The `serverName` override as a rustls name, if set.
pub(crate) fn server_name_override(
    settings: &TransportSettings,
) -> Result<Option<ServerName<'static>>, TlsSettingsError> {
    settings
        .server_name
        .as_deref()
        .map(|name| {
            ServerName::try_from(super::target::unbracketed(name).to_owned())
                .map_err(|_| TlsSettingsError::ServerName(name.to_owned()))
        })
        .transpose()
}

/// `insecureSkipVerify`: accepts any certificate and any handshake signature, like Go's
/// `InsecureSkipVerify`. The connection is encrypted but not authenticated.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
