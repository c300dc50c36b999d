//! Loading certificates and keys from files or inline PEM, with errors that name the file
//! and the reason but never show key material.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A certificate ready to serve, with what the store and the API need to know about it.
#[derive(Clone)]
pub struct LoadedCert {
    /// Chain and signing key.
    pub key: Arc<CertifiedKey>,
    /// What the leaf says about itself.
    pub info: CertInfo,
}

impl std::fmt::Debug for LoadedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("LoadedCert")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Public facts about a certificate (for SNI selection, `weir check`, the API and the
/// `tls_certs_not_after` metric).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertInfo {
    /// Where it came from: the certificate file, or `inline PEM`.
    pub source: String,
    /// Subject common name (may be empty).
    pub common_name: String,
    /// DNS names and IP addresses from the SAN extension (lower-cased); the common name
    /// when there is no SAN extension.
    pub sans: Vec<String>,
    /// Serial number, hex.
    pub serial: String,
    /// Not valid before, Unix seconds.
    pub not_before: i64,
    /// Not valid after, Unix seconds.
    pub not_after: i64,
    /// Not valid after, readable.
    #[serde(skip)]
    pub not_after_text: String,
}

/// A `certFile`/`keyFile` value: inline PEM when it contains a PEM header, a path otherwise.
pub fn is_inline_pem(value: &str) -> bool {
    value.contains("-----BEGIN")
}

/// Describes a `certFile`/`keyFile` value for messages: the path, or `inline PEM`.
pub fn describe(value: &str) -> String {
    if is_inline_pem(value) {
        "inline PEM".to_owned()
    } else {
        value.to_owned()
    }
}

/// Reads a `certFile`/`keyFile`/`caFiles` value: inline PEM as is, or the file's bytes.
/// The error is the reason only; callers name the file.
pub fn read_source(value: &str) -> Result<Vec<u8>, String> {
    if is_inline_pem(value) {
        return Ok(value.as_bytes().to_vec());
    }
    if value.trim().is_empty() {
        return Err("no file given".to_owned());
    }
    let meta = std::fs::metadata(value).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory, not a file".to_owned());
    }
    std::fs::read(value).map_err(|e| format!("cannot read it: {e}"))
}

/// Parses every certificate in a PEM buffer; the error is the reason only.
pub fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = certs.map_err(|e| format!("invalid PEM ({e})"))?;
    if certs.is_empty() {
        return Err("no PEM certificate found".to_owned());
    }
    Ok(certs)
}

/// Loads a certificate chain and its key. `now` (Unix seconds) decides expiry. Errors give
/// the reason, naming the key file when it is the key's fault (the certificate file is
/// named by whoever reports the error); nothing from the key is ever included.
pub fn load_pair(
    cert_file: &str,
    key_file: &str,
    provider: &CryptoProvider,
    now: i64,
) -> Result<LoadedCert, String> {
    let cert_what = describe(cert_file);
    let key_what = format!("keyFile {}", describe(key_file));
    let cert_pem = read_source(cert_file)?;
    let key_pem = read_source(key_file).map_err(|e| format!("{key_what}: {e}"))?;
    let chain = parse_certs(&cert_pem)?;
    // The PEM parser's error text is generic; nothing from the key is echoed.
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!("{key_what}: no usable private key (PKCS#8, PKCS#1 or SEC1 PEM expected: {e})")
    })?;
    let info = cert_info(&chain[0], &cert_what)?;
    if info.not_after < now {
        return Err(format!(
            "certificate expired (not after {})",
            info.not_after_text
        ));
    }
    let key = CertifiedKey::from_der(chain, key, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            format!("{key_what}: the key does not match the certificate")
        }
        other => format!("{key_what}: unusable key: {other}"),
    })?;
    Ok(LoadedCert {
        key: Arc::new(key),
        info,
    })
}

/// Reads the public facts of a DER certificate.
pub fn cert_info(der: &CertificateDer<'_>, what: &str) -> Result<CertInfo, String> {
    let (_, x509) = X509Certificate::from_der(der.as_ref())
        .map_err(|e| format!("not a valid X.509 certificate ({e})"))?;
    let common_name = x509
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = x509.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push(d.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        sans.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    if sans.is_empty() && !common_name.is_empty() {
        sans.push(common_name.to_ascii_lowercase());
    }
    let validity = x509.validity();
    Ok(CertInfo {
        source: what.to_owned(),
        common_name,
        sans,
        serial: x509.raw_serial_as_string().replace(':', ""),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        not_after_text: validity.not_after.to_string(),
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

/// The current time, Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
