//! `passTLSClientCert`: the client's TLS certificates, or fields of them, in request headers
//! for the service, in Traefik's formats.
//!
//! - `pem`: `X-Forwarded-Tls-Client-Cert` holds each certificate of the client's chain as
//!   the base64 of its DER (a PEM body without its armour and line breaks), joined by `,`.
//! - `info`: `X-Forwarded-Tls-Client-Cert-Info` holds, per certificate (joined by `,`),
//!   `Subject="..."`, `Issuer="..."`, `SerialNumber="..."`, `NB="..."`, `NA="..."` and
//!   `SAN="..."` joined by `;`, the whole URL-escaped as Go's `url.QueryEscape` does.
//!
//! A request without a client certificate goes on unchanged. Copies of these headers sent
//! by an untrusted client never get this far: the entrypoint removes them with the other
//! `X-Forwarded-*` headers unless `forwardedHeaders` trusts the client, as Traefik does.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use base64::Engine as _;
use http::{HeaderName, HeaderValue, Request, Response};
use weir_config::dynamic::{CertificateDnInfo, PassTlsClientCert as Config};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{OID_DOMAIN_COMPONENT, OID_X509_SERIALNUMBER};
use x509_parser::prelude::FromDer as _;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use super::Middleware;
use crate::body::Body;
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::tls::TlsInfo;

const CERT: HeaderName = HeaderName::from_static("x-forwarded-tls-client-cert");
const CERT_INFO: HeaderName = HeaderName::from_static("x-forwarded-tls-client-cert-info");

/// Which fields of the certificates go into the info header.
#[derive(Debug, Clone, Default)]
struct Info {
    not_after: bool,
    not_before: bool,
    sans: bool,
    serial_number: bool,
    subject: Option<CertificateDnInfo>,
    issuer: Option<CertificateDnInfo>,
}

/// The built `passTLSClientCert` middleware.
pub struct PassTlsClientCert {
    pem: bool,
    info: Option<Info>,
}

impl PassTlsClientCert {
    /// Builds the middleware; every combination of options is valid.
    pub fn new(c: &Config) -> Result<Self, String> {
        Ok(Self {
            pem: c.pem,
            info: c.info.as_ref().map(|i| Info {
                not_after: i.not_after,
                not_before: i.not_before,
                sans: i.sans,
                serial_number: i.serial_number,
                subject: i.subject.clone(),
                // The issuer has no organizational unit in Traefik's options.
                issuer: i.issuer.clone().map(|mut d| {
                    d.organizational_unit = false;
                    d
                }),
            }),
        })
    }
}

/// Writes `prefix=value,` for each value.
fn parts<'a>(
    out: &mut String,
    prefix: &str,
    values: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>,
) {
    for v in values {
        if let Ok(s) = v.as_str()
            && !s.is_empty()
        {
            let _ = write!(out, "{prefix}={s},");
        }
    }
}

/// Writes `prefix=value,` for the last value (Go keeps one common name and serial number).
fn last<'a>(
    out: &mut String,
    prefix: &str,
    values: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>,
) {
    parts(out, prefix, values.last().into_iter());
}

/// A distinguished name's selected fields, in Traefik's order.
fn dn(name: &X509Name<'_>, o: &CertificateDnInfo) -> String {
    let mut out = String::new();
    if o.domain_component {
        parts(&mut out, "DC", name.iter_by_oid(&OID_DOMAIN_COMPONENT));
    }
    if o.country {
        parts(&mut out, "C", name.iter_country());
    }
    if o.province {
        parts(&mut out, "ST", name.iter_state_or_province());
    }
    if o.locality {
        parts(&mut out, "L", name.iter_locality());
    }
    if o.organization {
        parts(&mut out, "O", name.iter_organization());
    }
    if o.organizational_unit {
        parts(&mut out, "OU", name.iter_organizational_unit());
    }
    if o.serial_number {
        last(&mut out, "SN", name.iter_by_oid(&OID_X509_SERIALNUMBER));
    }
    if o.common_name {
        last(&mut out, "CN", name.iter_common_name());
    }
    if out.ends_with(',') {
        out.pop();
    }
    out
}

/// Subject alternative names as Go lists them: DNS names, e-mails, IPs, then URIs.
fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    let names = &ext.value.general_names;
    let mut out = Vec::with_capacity(names.len());
    out.extend(names.iter().filter_map(|n| match n {
        GeneralName::DNSName(s) => Some((*s).to_owned()),
        _ => None,
    }));
    out.extend(names.iter().filter_map(|n| match n {
        GeneralName::RFC822Name(s) => Some((*s).to_owned()),
        _ => None,
    }));
    out.extend(names.iter().filter_map(|n| match n {
        GeneralName::IPAddress(b) => ip(b).map(|ip| ip.to_string()),
        _ => None,
    }));
    out.extend(names.iter().filter_map(|n| match n {
        GeneralName::URI(s) => Some((*s).to_owned()),
        _ => None,
    }));
    out
}

fn ip(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

impl Info {
    /// One certificate's fields, `;`-separated.
    fn of(&self, cert: &X509Certificate<'_>) -> String {
        let mut fields = Vec::new();
        if let Some(o) = &self.subject {
            let s = dn(cert.subject(), o);
            if !s.is_empty() {
                fields.push(format!("Subject=\"{s}\""));
            }
        }
        if let Some(o) = &self.issuer {
            let s = dn(cert.issuer(), o);
            if !s.is_empty() {
                fields.push(format!("Issuer=\"{s}\""));
            }
        }
        if self.serial_number {
            fields.push(format!("SerialNumber=\"{}\"", cert.tbs_certificate.serial));
        }
        if self.not_before {
            fields.push(format!("NB=\"{}\"", cert.validity().not_before.timestamp()));
        }
        if self.not_after {
            fields.push(format!("NA=\"{}\"", cert.validity().not_after.timestamp()));
        }
        if self.sans {
            let sans = sans(cert);
            if !sans.is_empty() {
                fields.push(format!("SAN=\"{}\"", sans.join(",")));
            }
        }
        fields.join(";")
    }
}

/// Go's `url.QueryEscape`: unreserved characters stay, space becomes `+`, the rest `%XX`.
fn query_escape(s: &str) -> String {
    super::uri::query_escape(s, true)
}

impl PassTlsClientCert {
    fn set_headers(&self, req: &mut Request<Body>, tls: Option<&Arc<TlsInfo>>) {
        let headers = req.headers_mut();
        let Some(chain) = tls
            .map(|t| t.peer_certificates.as_slice())
            .filter(|c| !c.is_empty())
        else {
            return;
        };
        if self.pem {
            let b64 = base64::engine::general_purpose::STANDARD;
            let value = chain
                .iter()
                .map(|c| b64.encode(c.as_ref()))
                .collect::<Vec<_>>()
                .join(",");
            if let Ok(v) = HeaderValue::try_from(value) {
                headers.insert(CERT, v);
            }
        }
        if let Some(info) = &self.info {
            let value = chain
                .iter()
                .map(|c| match X509Certificate::from_der(c.as_ref()) {
                    Ok((_, cert)) => info.of(&cert),
                    Err(_) => String::new(),
                })
                .collect::<Vec<_>>()
                .join(",");
            if let Ok(v) = HeaderValue::try_from(query_escape(&value)) {
                headers.insert(CERT_INFO, v);
            }
        }
    }
}

impl Middleware for PassTlsClientCert {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let tls = req.extensions().get::<Arc<TlsInfo>>().cloned();
        self.set_headers(&mut req, tls.as_ref());
        next.handle(req, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::query_escape;

    #[test]
    fn escapes_like_go() {
        assert_eq!(
            query_escape("Subject=\"CN=a b,O=x\";NB=\"1\""),
            "Subject%3D%22CN%3Da+b%2CO%3Dx%22%3BNB%3D%221%22"
        );
    }
}
