//! The rustls client configuration for the API server: its CA (or the public roots, or no
//! verification with `insecure-skip-tls-verify`) and the client certificate, if any.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::client::{ApiConfig, ApiError};

/// Builds the TLS configuration (reads the PEM files now).
pub fn client_config(config: &ApiConfig) -> Result<rustls::ClientConfig, ApiError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let builder = if config.insecure_skip_tls_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        builder.with_root_certificates(roots(config)?)
    };
    match &config.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let what = format!("client certificate {}", cert.describe());
            let chain = certificates(&cert.read("client certificate")?, &what)?;
            if chain.is_empty() {
                return Err(ApiError::Config(format!("{what}: no certificate")));
            }
            let key_what = format!("client key {}", key.describe());
            let key_pem = key.read("client key")?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|e| ApiError::Config(format!("{key_what}: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ApiError::Config(format!("{what}: {e}")))
        }
    }
}

/// The PEM certificates in `pem`; `what` names the file in the error.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, ApiError> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::Config(format!("{what}: {e}")))
}

fn roots(config: &ApiConfig) -> Result<RootCertStore, ApiError> {
    let mut roots = RootCertStore::empty();
    let Some(ca) = &config.ca else {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(roots);
    };
    let what = format!("CA {}", ca.describe());
    let certs = certificates(&ca.read("CA file")?, &what)?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(ApiError::Config(format!("{what}: no usable certificate")));
    }
    Ok(roots)
}

/// `insecure-skip-tls-verify`: any certificate is accepted, but the handshake signatures
/// are still checked (so the connection is at least to the key holder of that certificate).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
