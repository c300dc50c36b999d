//! Building `forwardAuth` from its options, including TLS to the authentication server.

use std::time::Duration;

use http::uri::PathAndQuery;
use http::{HeaderName, HeaderValue, Uri};
use regex::Regex;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use weir_config::dynamic::{ClientTls, ForwardAuth as Config};

use super::{AUTH_TIMEOUT, ForwardAuth};
use crate::upstream::{ClientIdentity, ServerTarget, TransportSettings, UpstreamClient};

fn header_names(list: &[String], field: &str) -> Result<Vec<HeaderName>, String> {
    list.iter()
        .map(|n| {
            HeaderName::from_bytes(n.trim().as_bytes())
                .map_err(|_| format!("{field}: {n:?} is not a header name"))
        })
        .collect()
}

/// Traefik's "-1 (or any negative) means no limit".
fn limit(n: i64) -> Option<usize> {
    usize::try_from(n).ok()
}

/// A PEM value that is either inline content or a file path (Traefik's `FileOrContent`).
fn is_inline(value: &str) -> bool {
    value.contains("-----BEGIN")
}

fn identity(tls: &ClientTls) -> Result<Option<ClientIdentity>, String> {
    match (tls.cert.is_empty(), tls.key.is_empty()) {
        (true, true) => return Ok(None),
        (false, true) => return Err("tls.cert is set without tls.key".into()),
        (true, false) => return Err("tls.key is set without tls.cert".into()),
        (false, false) => {}
    }
    let chain: Result<Vec<CertificateDer<'static>>, _> = if is_inline(&tls.cert) {
        CertificateDer::pem_slice_iter(tls.cert.as_bytes()).collect()
    } else {
        CertificateDer::pem_file_iter(&tls.cert)
            .map_err(|e| format!("tls.cert {:?}: {e}", tls.cert))?
            .collect()
    };
    let chain = chain.map_err(|e| format!("tls.cert: {e}"))?;
    if chain.is_empty() {
        return Err("tls.cert holds no certificate".into());
    }
    let key = if is_inline(&tls.key) {
        PrivateKeyDer::from_pem_slice(tls.key.as_bytes()).map_err(|e| format!("tls.key: {e}"))?
    } else {
        PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| format!("tls.key {:?}: {e}", tls.key))?
    };
    Ok(Some(ClientIdentity { chain, key }))
}

fn client(tls: Option<&ClientTls>) -> Result<UpstreamClient, String> {
    let mut settings = TransportSettings {
        dial_timeout: AUTH_TIMEOUT,
        response_header_timeout: Some(AUTH_TIMEOUT),
        idle_conn_timeout: Duration::from_secs(90),
        ..TransportSettings::default()
    };
    let mut id = None;
    if let Some(tls) = tls {
        settings.insecure_skip_verify = tls.insecure_skip_verify;
        if !tls.ca.is_empty() {
            settings.root_cas = vec![tls.ca.clone()];
        }
        id = identity(tls)?;
    }
    UpstreamClient::with_identity(&settings, id).map_err(|e| format!("tls: {e}"))
}

impl ForwardAuth {
    /// Checks the options and builds the client for the authentication server.
    pub fn new(c: &Config) -> Result<Self, String> {
        let address = c.address.trim();
        if address.is_empty() {
            return Err("address is required".into());
        }
        let target = ServerTarget::parse(address, false).map_err(|e| format!("address: {e}"))?;
        let uri: Uri = address
            .parse()
            .map_err(|e| format!("address {address:?}: {e}"))?;
        let path_and_query = uri
            .path_and_query()
            .cloned()
            .filter(|pq| pq.as_str().starts_with('/'))
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let response_headers_regex = if c.auth_response_headers_regex.is_empty() {
            None
        } else {
            Some(Regex::new(&c.auth_response_headers_regex).map_err(|e| {
                format!(
                    "authResponseHeadersRegex {:?}: {e}",
                    c.auth_response_headers_regex
                )
            })?)
        };
        let request_headers = if c.auth_request_headers.is_empty() {
            None
        } else {
            Some(header_names(&c.auth_request_headers, "authRequestHeaders")?)
        };
        let signin = if c.auth_signin_url.is_empty() {
            None
        } else {
            Some(
                HeaderValue::from_str(&c.auth_signin_url)
                    .map_err(|_| format!("authSigninURL {:?} is not valid", c.auth_signin_url))?,
            )
        };
        Ok(Self {
            client: client(c.tls.as_ref())?,
            target,
            path_and_query,
            trust_forward_header: c.trust_forward_header,
            response_headers: header_names(&c.auth_response_headers, "authResponseHeaders")?,
            response_headers_regex,
            request_headers,
            auth_cookies: c
                .add_auth_cookies_to_response
                .iter()
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty())
                .collect(),
            forward_body: c.forward_body,
            max_body_size: limit(c.max_body_size),
            max_response_body_size: limit(c.max_response_body_size),
            preserve_location_header: c.preserve_location_header,
            preserve_request_method: c.preserve_request_method,
            signin,
            user_header: if c.header_field.is_empty() {
                None
            } else {
                Some(
                    HeaderName::from_bytes(c.header_field.trim().as_bytes()).map_err(|_| {
                        format!("headerField {:?} is not a header name", c.header_field)
                    })?,
                )
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(c: Config) -> String {
        match ForwardAuth::new(&c) {
            Ok(_) => panic!("accepted {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_options_are_reported_with_their_field() {
        assert!(err(Config::default()).contains("address is required"));
        let base = || Config {
            address: "http://auth:9000/check".into(),
            ..Config::default()
        };
        assert!(
            err(Config {
                address: "ftp://auth".into(),
                ..base()
            })
            .contains("address")
        );
        assert!(
            err(Config {
                auth_response_headers_regex: "(".into(),
                ..base()
            })
            .contains("authResponseHeadersRegex")
        );
        assert!(
            err(Config {
                auth_request_headers: vec!["bad header".into()],
                ..base()
            })
            .contains("authRequestHeaders")
        );
        let tls = |t: ClientTls| Config {
            tls: Some(t),
            ..base()
        };
        assert!(
            err(tls(ClientTls {
                cert: "/nowhere/c.pem".into(),
                ..ClientTls::default()
            }))
            .contains("tls.cert is set without tls.key")
        );
        assert!(
            err(tls(ClientTls {
                ca: "/nowhere/ca.pem".into(),
                ..ClientTls::default()
            }))
            .contains("/nowhere/ca.pem")
        );
        assert!(ForwardAuth::new(&base()).is_ok());
    }
}
