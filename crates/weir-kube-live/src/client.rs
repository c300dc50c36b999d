//! A small Kubernetes API client: where the API server is, how to authenticate, and the
//! two calls the providers make (list, and watch as a stream of JSON lines).

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The service account files of a pod.
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Why the API server cannot be reached or answered unexpectedly.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Configuration (endpoint, token, CA file).
    #[error("{0}")]
    Config(String),
    /// Connection or protocol failure.
    #[error("{0}")]
    Transport(String),
    /// The API server answered with this status.
    #[error("API server answered {status} for {path}: {body}")]
    Status {
        /// Status.
        status: StatusCode,
        /// Path asked.
        path: String,
        /// Start of the body (the Status message).
        body: String,
    },
}

impl ApiError {
    /// The API server answered 404 (kind not installed, namespace gone).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }

    /// The API server answered 410 Gone (resourceVersion too old).
    pub fn is_gone(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if *status == StatusCode::GONE)
    }
}

/// Where the API server is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Base URL, without a trailing slash (`https://10.96.0.1:443`).
    pub base: String,
    /// A fixed bearer token.
    pub token: Option<String>,
    /// A token file, read again before each request (service account tokens rotate).
    pub token_file: Option<PathBuf>,
    /// CA bundle (PEM) for an `https` API server; without it the public roots are used.
    pub ca_file: Option<PathBuf>,
}

impl ApiConfig {
    /// From the provider options: `endpoint` (+ `token`, `certAuthFilePath`) when set,
    /// otherwise the pod's in-cluster service account.
    pub fn from_options(endpoint: &str, token: &str, ca_file: &str) -> Result<Self, ApiError> {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        if !endpoint.is_empty() {
            return Ok(ApiConfig {
                base: endpoint.trim_end_matches('/').to_owned(),
                token: some(token),
                token_file: None,
                ca_file: some(ca_file).map(PathBuf::from),
            });
        }
        let host = std::env::var("KUBERNETES_SERVICE_HOST").unwrap_or_default();
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_default();
        if host.is_empty() || port.is_empty() {
            return Err(ApiError::Config(
                "no API server: set the provider's `endpoint` (and `token`), or run in a pod \
                 (KUBERNETES_SERVICE_HOST/PORT)"
                    .into(),
            ));
        }
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Ok(ApiConfig {
            base: format!("https://{host}:{port}"),
            token: some(token),
            token_file: token
                .is_empty()
                .then(|| PathBuf::from(SA_DIR).join("token")),
            ca_file: Some(
                some(ca_file).map_or_else(|| PathBuf::from(SA_DIR).join("ca.crt"), PathBuf::from),
            ),
        })
    }
}

/// A connected client (connection pool shared by all watches of a provider).
#[derive(Clone)]
pub struct Client {
    config: Arc<ApiConfig>,
    http: HyperClient<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Client {
    /// Builds the client (reads the CA file now).
    pub fn new(config: ApiConfig) -> Result<Self, ApiError> {
        let mut roots = RootCertStore::empty();
        match &config.ca_file {
            Some(path) => {
                let certs: Result<Vec<CertificateDer<'static>>, _> =
                    CertificateDer::pem_file_iter(path)
                        .map_err(|e| ApiError::Config(format!("CA file {}: {e}", path.display())))?
                        .collect();
                let certs = certs
                    .map_err(|e| ApiError::Config(format!("CA file {}: {e}", path.display())))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(ApiError::Config(format!(
                        "CA file {}: no usable certificate",
                        path.display()
                    )));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let http = HyperClient::builder(TokioExecutor::new()).build(connector);
        Ok(Client {
            config: Arc::new(config),
            http,
        })
    }

    /// The API server's base URL.
    pub fn base(&self) -> &str {
        &self.config.base
    }

    /// GET `path_and_query`; a non-2xx answer is an [`ApiError::Status`].
    pub async fn get(&self, path_and_query: &str) -> Result<Incoming, ApiError> {
        let mut req = Request::get(format!("{}{path_and_query}", self.config.base))
            .header(header::ACCEPT, "application/json");
        if let Some(token) = self.token().await? {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", token.trim()));
        }
        let req = req
            .body(Empty::new())
            .map_err(|e| ApiError::Config(format!("request {path_and_query}: {e}")))?;
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|e| ApiError::Transport(format!("{}: {e}", self.config.base)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.into_body());
        }
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let body: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        Err(ApiError::Status {
            status,
            path: path_and_query.to_owned(),
            body,
        })
    }

    /// GET and parse the whole body as JSON.
    pub async fn get_json(&self, path_and_query: &str) -> Result<serde_json::Value, ApiError> {
        let body = self.get(path_and_query).await?;
        let bytes = body
            .collect()
            .await
            .map_err(|e| ApiError::Transport(format!("{path_and_query}: {e}")))?
            .to_bytes();
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Transport(format!("{path_and_query}: not JSON: {e}")))
    }

    async fn token(&self) -> Result<Option<String>, ApiError> {
        if let Some(t) = &self.config.token {
            return Ok(Some(t.clone()));
        }
        match &self.config.token_file {
            Some(path) => tokio::fs::read_to_string(path)
                .await
                .map(Some)
                .map_err(|e| ApiError::Config(format!("token file {}: {e}", path.display()))),
            None => Ok(None),
        }
    }
}
