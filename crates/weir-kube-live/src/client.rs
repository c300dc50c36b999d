//! A small Kubernetes API client: where the API server is, how to authenticate, and the
//! two calls the providers make (list, and watch as a stream of JSON lines).

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::FixedServerNameResolver;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::ServerName;

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

    /// Whether the same request may succeed later: the connection failed, the server was
    /// unavailable or busy (5xx, 429), or it timed out (408). A refusal (401, 403, 404,
    /// 422 ...) will not change by itself.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport(_) => true,
            ApiError::Status { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
            }
            ApiError::Config(_) => false,
        }
    }
}

/// PEM data, from a file (read when the client is built) or inline (kubeconfig `-data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pem {
    /// A file.
    File(PathBuf),
    /// The bytes.
    Data(Vec<u8>),
}

impl Pem {
    /// The bytes; the error names the file.
    pub fn read(&self, what: &str) -> Result<Vec<u8>, ApiError> {
        match self {
            Pem::File(p) => std::fs::read(p)
                .map_err(|e| ApiError::Config(format!("{what} {}: {e}", p.display()))),
            Pem::Data(d) => Ok(d.clone()),
        }
    }

    /// `file PATH` or `inline data`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Pem::File(p) => p.display().to_string(),
            Pem::Data(_) => "(inline data)".to_owned(),
        }
    }
}

/// Where the API server is and how to talk to it (see [`crate::connect`] for how it is
/// found).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Base URL, without a trailing slash (`https://10.96.0.1:443`).
    pub base: String,
    /// Where this came from, for the log (`in-cluster`, `kubeconfig PATH (context C)`).
    pub source: String,
    /// A fixed bearer token.
    pub token: Option<String>,
    /// A token file, read again before each request (service account tokens rotate).
    pub token_file: Option<PathBuf>,
    /// CA bundle for an `https` API server; without it the public roots are used.
    pub ca: Option<Pem>,
    /// Do not verify the API server's certificate (kubeconfig `insecure-skip-tls-verify`).
    pub insecure_skip_tls_verify: bool,
    /// The name to verify the API server's certificate against, if not the URL's host.
    pub tls_server_name: Option<String>,
    /// Client certificate chain and private key.
    pub client_cert: Option<(Pem, Pem)>,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential: never in logs.
        f.debug_struct("ApiConfig")
            .field("base", &self.base)
            .field("source", &self.source)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_file", &self.token_file)
            .field("ca", &self.ca.as_ref().map(Pem::describe))
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("tls_server_name", &self.tls_server_name)
            .field(
                "client_cert",
                &self.client_cert.as_ref().map(|(c, _)| c.describe()),
            )
            .finish()
    }
}

impl ApiConfig {
    /// An API server at `base` with no credentials and the public roots.
    pub fn new(base: &str) -> Self {
        ApiConfig {
            base: base.trim_end_matches('/').to_owned(),
            source: String::new(),
            token: None,
            token_file: None,
            ca: None,
            insecure_skip_tls_verify: false,
            tls_server_name: None,
            client_cert: None,
        }
    }
}

/// A connected client (connection pool shared by all watches of a provider).
#[derive(Clone)]
pub struct Client {
    config: Arc<ApiConfig>,
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Client {
    /// Builds the client (reads the CA and client certificate files now).
    pub fn new(config: ApiConfig) -> Result<Self, ApiError> {
        let tls = crate::tls::client_config(&config)?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let builder = match &config.tls_server_name {
            Some(name) => {
                let name = ServerName::try_from(name.clone())
                    .map_err(|e| ApiError::Config(format!("tls-server-name {name:?}: {e}")))?;
                builder.with_server_name_resolver(FixedServerNameResolver::new(name))
            }
            None => builder,
        };
        let connector = builder.enable_http1().build();
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
        self.send(http::Method::GET, path_and_query, None).await
    }

    /// PATCH `path` with a JSON merge patch (RFC 7386); the answer's body is dropped.
    pub async fn merge_patch(&self, path: &str, patch: &serde_json::Value) -> Result<(), ApiError> {
        let body = Bytes::from(patch.to_string());
        let resp = self
            .send(
                http::Method::PATCH,
                path,
                Some(("application/merge-patch+json", body)),
            )
            .await?;
        // Read the answer so the connection goes back to the pool.
        let _ = resp.collect().await;
        Ok(())
    }

    /// Sends a request with an optional body (`content type`, bytes).
    async fn send(
        &self,
        method: http::Method,
        path_and_query: &str,
        body: Option<(&str, Bytes)>,
    ) -> Result<Incoming, ApiError> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.config.base))
            .header(header::ACCEPT, "application/json");
        if let Some(token) = self.token().await? {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", token.trim()));
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Full::new(bytes)
            }
            None => Full::default(),
        };
        let req = req
            .body(body)
            .map_err(|e| ApiError::Config(format!("request {path_and_query}: {e}")))?;
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|e| ApiError::Transport(format!("{}: {}", self.config.base, chain(&e))))?;
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

/// An error and its sources (hyper's "client error (Connect)" hides the TLS reason).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
