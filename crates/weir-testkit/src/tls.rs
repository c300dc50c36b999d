//! A throw-away certificate authority (rcgen) and rustls configurations built from it.

use std::sync::Arc;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A test certificate authority. Issue leaf certificates with [`TestCa::issue`]; give
/// [`TestCa::cert_pem`] to whatever must trust them (weir's `rootCAs`, a client).
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A leaf certificate and its private key, PEM encoded.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// The certificate (leaf only).
    pub cert_pem: String,
    /// The PKCS#8 private key.
    pub key_pem: String,
}

/// The crypto provider the kit uses (aws-lc-rs, the same as weir).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

impl TestCa {
    /// Generates a new CA (ECDSA P-256).
    pub fn new() -> anyhow::Result<TestCa> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "weir-testkit CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(TestCa {
            issuer: Issuer::new(params, key),
            cert_pem: cert.pem(),
        })
    }

    /// The CA certificate, PEM encoded.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Issues a server/client certificate for `names` (DNS names or IP addresses).
    pub fn issue(&self, names: &[&str]) -> anyhow::Result<IssuedCert> {
        let sans: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(sans)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A rustls server configuration with a certificate for `names`, ALPN `h2` then
    /// `http/1.1`.
    pub fn server_config(&self, names: &[&str]) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let issued = self.issue(names)?;
        let certs = vec![CertificateDer::from_pem_slice(issued.cert_pem.as_bytes())?];
        let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes())?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .context("building the server TLS config")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl TestCa {
    /// Like [`TestCa::server_config`], but the handshake requires a client certificate
    /// issued by `client_ca` (mutual TLS, as an API server with client-certificate auth).
    pub fn server_config_requiring_client_cert(
        &self,
        names: &[&str],
        client_ca: &TestCa,
    ) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let issued = self.issue(names)?;
        let certs = vec![CertificateDer::from_pem_slice(issued.cert_pem.as_bytes())?];
        let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes())?;
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(
            client_ca.cert_pem().as_bytes(),
        )?)?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .context("building the client certificate verifier")?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs, key)
            .context("building the server TLS config")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A rustls client configuration trusting only the CAs in `ca_pem` (one or more PEM
/// certificates), offering the given ALPN protocols (e.g. `&[b"h2", b"http/1.1"]`).
pub fn client_config(ca_pem: &str, alpn: &[&[u8]]) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.context("parsing CA PEM")?)?;
    }
    anyhow::ensure!(!roots.is_empty(), "no certificate in CA PEM");
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

impl IssuedCert {
    /// The certificate in DER, to compare with what a server presented.
    pub fn der(&self) -> anyhow::Result<CertificateDer<'static>> {
        Ok(CertificateDer::from_pem_slice(self.cert_pem.as_bytes())?)
    }
}

impl TestCa {
    /// Issues a certificate for `names` with a chosen serial number (big-endian bytes) and
    /// expiry date (midnight UTC), for checking what weir reports about it.
    pub fn issue_with(
        &self,
        names: &[&str],
        serial: &[u8],
        not_after: (i32, u8, u8),
    ) -> anyhow::Result<IssuedCert> {
        let sans: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(sans)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.serial_number = Some(rcgen::SerialNumber::from_slice(serial));
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Issues a certificate for `names` that expires `valid_for` from now.
    pub fn issue_expiring_in(
        &self,
        names: &[&str],
        valid_for: std::time::Duration,
    ) -> anyhow::Result<IssuedCert> {
        let sans: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(sans)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.not_after = x509_parser::time::ASN1Time::now().to_datetime() + valid_for;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Issues a certificate for `names` that expired yesterday.
    pub fn issue_expired(&self, names: &[&str]) -> anyhow::Result<IssuedCert> {
        let sans: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(sans)?;
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 2);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Which TLS versions a test client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versions {
    /// TLS 1.2 and 1.3.
    Both,
    /// TLS 1.2 only.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

impl Versions {
    fn list(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        match self {
            Versions::Both => rustls::DEFAULT_VERSIONS,
            Versions::Tls12 => TLS12_ONLY,
            Versions::Tls13 => TLS13_ONLY,
        }
    }
}

/// A client configuration that accepts any server certificate (to look at what the
/// server presents, e.g. its self-signed default), offering `alpn` and `versions`.
pub fn insecure_client_config(
    alpn: &[&[u8]],
    versions: Versions,
) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let provider = provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions.list())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// A client configuration trusting `ca_pem` that presents `cert` as its client
/// certificate.
pub fn client_config_with_cert(
    ca_pem: &str,
    alpn: &[&[u8]],
    cert: &IssuedCert,
) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.context("parsing CA PEM")?)?;
    }
    let chain = vec![cert.der()?];
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes())?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Connects to `addr` and completes a TLS handshake with SNI `server_name`.
pub async fn handshake(
    addr: std::net::SocketAddr,
    server_name: &str,
    config: Arc<rustls::ClientConfig>,
) -> anyhow::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let name = rustls_pki_types::ServerName::try_from(server_name.to_owned())?;
    let fut = async move {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await?;
        Ok::<_, std::io::Error>(tls)
    };
    tokio::time::timeout(crate::client::DEFAULT_TIMEOUT, fut)
        .await
        .context("TLS handshake timed out")?
        .context("TLS handshake")
}

/// The leaf certificate the server presented on `stream`.
pub fn server_leaf(
    stream: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> Option<CertificateDer<'static>> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.clone().into_owned())
}

/// The subject common name of a DER certificate.
pub fn common_name(der: &CertificateDer<'_>) -> anyhow::Result<String> {
    use x509_parser::prelude::FromDer as _;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der.as_ref())
        .map_err(|e| anyhow::anyhow!("parsing certificate: {e}"))?;
    Ok(cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned())
}

#[derive(Debug)]
struct AcceptAnyServerCert(Arc<CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
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
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
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
