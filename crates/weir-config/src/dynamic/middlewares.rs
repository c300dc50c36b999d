//! `http.middlewares.<name>`: every user-facing Traefik middleware.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::Duration;

macro_rules! middleware_set {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty => $name:literal, $variant:ident; )*) => {
        /// `http.middlewares.<name>`: exactly one kind must be set (see [`Middleware::kind`]).
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Middleware {
            $( $(#[$doc])* #[serde(rename = $name)] pub $field: Option<$ty>, )*
        }

        /// A borrowed view of the single kind a [`Middleware`] holds.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum MiddlewareKind<'a> {
            $( $(#[$doc])* $variant(&'a $ty), )*
        }

        impl Middleware {
            /// The kinds set, by their configuration names.
            pub fn kinds_set(&self) -> Vec<&'static str> {
                let mut v = Vec::new();
                $( if self.$field.is_some() { v.push($name); } )*
                v
            }

            /// The kind, or `None` when zero or several kinds are set (a diagnostic was
            /// reported). The deprecated `ipWhiteList` comes back as `IpWhiteList`.
            pub fn kind(&self) -> Option<MiddlewareKind<'_>> {
                if self.kinds_set().len() != 1 {
                    return None;
                }
                $( if let Some(x) = &self.$field { return Some(MiddlewareKind::$variant(x)); } )*
                None
            }
        }
    };
}

middleware_set! {
    /// `addPrefix`.
    add_prefix: AddPrefix => "addPrefix", AddPrefix;
    /// `stripPrefix`.
    strip_prefix: StripPrefix => "stripPrefix", StripPrefix;
    /// `stripPrefixRegex`.
    strip_prefix_regex: StripPrefixRegex => "stripPrefixRegex", StripPrefixRegex;
    /// `replacePath`.
    replace_path: ReplacePath => "replacePath", ReplacePath;
    /// `replacePathRegex`.
    replace_path_regex: ReplacePathRegex => "replacePathRegex", ReplacePathRegex;
    /// `chain`.
    chain: Chain => "chain", Chain;
    /// `ipAllowList`.
    ip_allow_list: IpAllowList => "ipAllowList", IpAllowList;
    /// `ipWhiteList` (deprecated alias of `ipAllowList`).
    ip_white_list: IpAllowList => "ipWhiteList", IpWhiteList;
    /// `headers`.
    headers: Headers => "headers", Headers;
    /// `errors`.
    errors: ErrorPage => "errors", Errors;
    /// `rateLimit`.
    rate_limit: RateLimit => "rateLimit", RateLimit;
    /// `redirectRegex`.
    redirect_regex: RedirectRegex => "redirectRegex", RedirectRegex;
    /// `redirectScheme`.
    redirect_scheme: RedirectScheme => "redirectScheme", RedirectScheme;
    /// `basicAuth`.
    basic_auth: BasicAuth => "basicAuth", BasicAuth;
    /// `digestAuth`.
    digest_auth: DigestAuth => "digestAuth", DigestAuth;
    /// `forwardAuth`.
    forward_auth: ForwardAuth => "forwardAuth", ForwardAuth;
    /// `inFlightReq`.
    in_flight_req: InFlightReq => "inFlightReq", InFlightReq;
    /// `buffering`.
    buffering: Buffering => "buffering", Buffering;
    /// `circuitBreaker`.
    circuit_breaker: CircuitBreaker => "circuitBreaker", CircuitBreaker;
    /// `compress`.
    compress: Compress => "compress", Compress;
    /// `passTLSClientCert`.
    pass_tls_client_cert: PassTlsClientCert => "passTLSClientCert", PassTlsClientCert;
    /// `retry`.
    retry: Retry => "retry", Retry;
    /// `contentType`.
    content_type: ContentType => "contentType", ContentType;
    /// `grpcWeb`.
    grpc_web: GrpcWeb => "grpcWeb", GrpcWeb;
    /// `encodedCharacters`.
    encoded_characters: EncodedCharacters => "encodedCharacters", EncodedCharacters;
    /// `plugin`: `{<pluginName>: {...}}`, kept opaque.
    plugin: BTreeMap<String, serde_json::Value> => "plugin", Plugin;
}

/// `addPrefix`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AddPrefix {
    /// Prefix to add.
    pub prefix: String,
}

/// `stripPrefix`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StripPrefix {
    /// Prefixes to strip.
    pub prefixes: Vec<String>,
    /// Deprecated.
    pub force_slash: Option<bool>,
}

/// `stripPrefixRegex`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StripPrefixRegex {
    /// Regexes matching the prefix.
    pub regex: Vec<String>,
}

/// `replacePath`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplacePath {
    /// New path.
    pub path: String,
}

/// `replacePathRegex`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplacePathRegex {
    /// Regex on the path.
    pub regex: String,
    /// Replacement (`$1` groups).
    pub replacement: String,
}

/// `chain`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Chain {
    /// Middlewares in order.
    pub middlewares: Vec<String>,
}

/// `ipAllowList` / `ipWhiteList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IpAllowList {
    /// Allowed IPs / CIDRs.
    pub source_range: Vec<String>,
    /// How the client IP is found.
    pub ip_strategy: Option<IpStrategy>,
    /// Status for rejected requests (default 403).
    pub reject_status_code: i64,
}

impl Default for IpAllowList {
    fn default() -> Self {
        IpAllowList {
            source_range: Vec::new(),
            ip_strategy: None,
            reject_status_code: 403,
        }
    }
}

/// `ipStrategy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IpStrategy {
    /// Position from the right in X-Forwarded-For.
    pub depth: i64,
    /// IPs skipped in X-Forwarded-For.
    #[serde(rename = "excludedIPs")]
    pub excluded_ips: Vec<String>,
    /// Group IPv6 clients by this prefix length.
    pub ipv6_subnet: Option<i64>,
}

/// `headers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Headers {
    /// Request headers to set (empty value removes).
    pub custom_request_headers: BTreeMap<String, String>,
    /// Response headers to set (empty value removes).
    pub custom_response_headers: BTreeMap<String, String>,
    /// CORS: Access-Control-Allow-Credentials.
    pub access_control_allow_credentials: bool,
    /// CORS: Access-Control-Allow-Headers.
    pub access_control_allow_headers: Vec<String>,
    /// CORS: Access-Control-Allow-Methods.
    pub access_control_allow_methods: Vec<String>,
    /// CORS: allowed origins.
    pub access_control_allow_origin_list: Vec<String>,
    /// CORS: allowed origin regexes.
    pub access_control_allow_origin_list_regex: Vec<String>,
    /// CORS: Access-Control-Expose-Headers.
    pub access_control_expose_headers: Vec<String>,
    /// CORS: Access-Control-Max-Age (seconds).
    pub access_control_max_age: i64,
    /// Add `Vary: Origin`.
    pub add_vary_header: bool,
    /// Allowed hosts.
    pub allowed_hosts: Vec<String>,
    /// Headers that may hold the original host.
    pub hosts_proxy_headers: Vec<String>,
    /// Header/value pairs that mean the request was HTTPS.
    pub ssl_proxy_headers: BTreeMap<String, String>,
    /// HSTS max-age.
    pub sts_seconds: i64,
    /// HSTS includeSubDomains.
    pub sts_include_subdomains: bool,
    /// HSTS preload.
    pub sts_preload: bool,
    /// Send HSTS on plain HTTP too.
    #[serde(rename = "forceSTSHeader")]
    pub force_sts_header: bool,
    /// `X-Frame-Options: DENY`.
    pub frame_deny: bool,
    /// Custom X-Frame-Options.
    pub custom_frame_options_value: String,
    /// `X-Content-Type-Options: nosniff`.
    pub content_type_nosniff: bool,
    /// `X-XSS-Protection: 1; mode=block`.
    pub browser_xss_filter: bool,
    /// Custom X-XSS-Protection.
    #[serde(rename = "customBrowserXSSValue")]
    pub custom_browser_xss_value: String,
    /// Content-Security-Policy.
    pub content_security_policy: String,
    /// Content-Security-Policy-Report-Only.
    pub content_security_policy_report_only: String,
    /// Public-Key-Pins.
    pub public_key: String,
    /// Referrer-Policy.
    pub referrer_policy: String,
    /// Permissions-Policy.
    pub permissions_policy: String,
    /// Development mode (disables AllowedHosts etc.).
    pub is_development: bool,
}

/// `errors`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorPage {
    /// Status ranges (`"500-599"`).
    pub status: Vec<String>,
    /// Status rewrites (`"418": 400`).
    pub status_rewrites: BTreeMap<String, i64>,
    /// Service serving the error page.
    pub service: String,
    /// Query path (`{status}`, `{originalStatus}`, `{url}`).
    pub query: String,
    /// Headers forwarded to the error service (kept opaque).
    pub error_request_headers: Option<serde_json::Value>,
}

/// `rateLimit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RateLimit {
    /// Requests per period (0 = no limit).
    pub average: i64,
    /// Period (default 1s).
    pub period: Duration,
    /// Burst (default 1).
    pub burst: i64,
    /// Grouping of requests.
    pub source_criterion: Option<SourceCriterion>,
    /// Redis-backed distributed limiter.
    pub redis: Option<Redis>,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            average: 0,
            period: Duration::from_secs(1),
            burst: 1,
            source_criterion: None,
            redis: None,
        }
    }
}

/// `sourceCriterion`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SourceCriterion {
    /// Client IP strategy.
    pub ip_strategy: Option<IpStrategy>,
    /// Group by this request header.
    pub request_header_name: String,
    /// Group by request host.
    pub request_host: bool,
}

/// `rateLimit.redis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Redis {
    /// Endpoints (default `localhost:6379`).
    pub endpoints: Vec<String>,
    /// TLS to Redis.
    pub tls: Option<ClientTls>,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Database.
    pub db: i64,
    /// Pool size.
    pub pool_size: i64,
    /// Minimum idle connections.
    pub min_idle_conns: i64,
    /// Maximum active connections.
    pub max_active_conns: i64,
    /// Read timeout (default 3s).
    pub read_timeout: Duration,
    /// Write timeout (default 3s).
    pub write_timeout: Duration,
    /// Dial timeout (default 5s).
    pub dial_timeout: Duration,
}

impl Default for Redis {
    fn default() -> Self {
        Redis {
            endpoints: vec!["localhost:6379".into()],
            tls: None,
            username: String::new(),
            password: String::new(),
            db: 0,
            pool_size: 0,
            min_idle_conns: 0,
            max_active_conns: 0,
            read_timeout: Duration::from_secs(3),
            write_timeout: Duration::from_secs(3),
            dial_timeout: Duration::from_secs(5),
        }
    }
}

/// Client-side TLS (forwardAuth, redis).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClientTls {
    /// CA file or PEM.
    pub ca: String,
    /// Client certificate.
    pub cert: String,
    /// Client key.
    pub key: String,
    /// Skip verification.
    pub insecure_skip_verify: bool,
    /// Deprecated.
    pub ca_optional: Option<bool>,
}

/// `redirectRegex`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RedirectRegex {
    /// Regex on the full URL.
    pub regex: String,
    /// Replacement.
    pub replacement: String,
    /// 301/308 instead of 302/307.
    pub permanent: bool,
}

/// `redirectScheme`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RedirectScheme {
    /// Target scheme.
    pub scheme: String,
    /// Target port.
    pub port: String,
    /// 301/308 instead of 302/307.
    pub permanent: bool,
}

/// `basicAuth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BasicAuth {
    /// `user:hash` entries.
    pub users: Vec<String>,
    /// htpasswd file.
    pub users_file: String,
    /// Realm (default `traefik`).
    pub realm: String,
    /// Remove the Authorization header before forwarding.
    pub remove_header: bool,
    /// Header receiving the authenticated user.
    pub header_field: String,
}

impl Default for BasicAuth {
    fn default() -> Self {
        BasicAuth {
            users: Vec::new(),
            users_file: String::new(),
            realm: "traefik".into(),
            remove_header: false,
            header_field: String::new(),
        }
    }
}

/// `digestAuth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DigestAuth {
    /// `user:realm:hash` entries.
    pub users: Vec<String>,
    /// htdigest file.
    pub users_file: String,
    /// Realm (default `traefik`).
    pub realm: String,
    /// Remove the Authorization header before forwarding.
    pub remove_header: bool,
    /// Header receiving the authenticated user.
    pub header_field: String,
}

impl Default for DigestAuth {
    fn default() -> Self {
        DigestAuth {
            users: Vec::new(),
            users_file: String::new(),
            realm: "traefik".into(),
            remove_header: false,
            header_field: String::new(),
        }
    }
}

/// `forwardAuth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ForwardAuth {
    /// Authentication server URL.
    pub address: String,
    /// TLS to the authentication server.
    pub tls: Option<ClientTls>,
    /// Trust incoming X-Forwarded-* headers.
    pub trust_forward_header: bool,
    /// Headers copied from the auth response to the request.
    pub auth_response_headers: Vec<String>,
    /// Regex of headers copied from the auth response.
    pub auth_response_headers_regex: String,
    /// Request headers sent to the auth server (empty = all).
    pub auth_request_headers: Vec<String>,
    /// Cookies from the auth response added to the response.
    pub add_auth_cookies_to_response: Vec<String>,
    /// Header receiving the authenticated user.
    pub header_field: String,
    /// Send the request body.
    pub forward_body: bool,
    /// Max forwarded body (-1 = unlimited).
    pub max_body_size: i64,
    /// Max auth response body read (-1 = unlimited).
    pub max_response_body_size: i64,
    /// Keep a relative Location header from the auth server.
    pub preserve_location_header: bool,
    /// Use the original request method.
    pub preserve_request_method: bool,
    /// Redirect target for 401s.
    #[serde(rename = "authSigninURL")]
    pub auth_signin_url: String,
}

impl Default for ForwardAuth {
    fn default() -> Self {
        ForwardAuth {
            address: String::new(),
            tls: None,
            trust_forward_header: false,
            auth_response_headers: Vec::new(),
            auth_response_headers_regex: String::new(),
            auth_request_headers: Vec::new(),
            add_auth_cookies_to_response: Vec::new(),
            header_field: String::new(),
            forward_body: false,
            max_body_size: -1,
            max_response_body_size: -1,
            preserve_location_header: false,
            preserve_request_method: false,
            auth_signin_url: String::new(),
        }
    }
}

/// `inFlightReq`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InFlightReq {
    /// Maximum simultaneous requests.
    pub amount: i64,
    /// Grouping of requests.
    pub source_criterion: Option<SourceCriterion>,
}

/// `buffering`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Buffering {
    /// Max request body (0 = unlimited).
    pub max_request_body_bytes: i64,
    /// Request bytes kept in memory (default 1 MiB).
    pub mem_request_body_bytes: i64,
    /// Max response body (0 = unlimited).
    pub max_response_body_bytes: i64,
    /// Response bytes kept in memory (default 1 MiB).
    pub mem_response_body_bytes: i64,
    /// Retry expression.
    pub retry_expression: String,
    /// weir extension (not in Traefik, which always buffers): `false` streams the request
    /// body to the service, still cutting it at `maxRequestBodyBytes`. Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_buffering: Option<bool>,
    /// weir extension (not in Traefik, which always buffers): `false` streams the response
    /// to the client, still cutting it at `maxResponseBodyBytes`. Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_buffering: Option<bool>,
}

impl Default for Buffering {
    fn default() -> Self {
        Buffering {
            max_request_body_bytes: 0,
            mem_request_body_bytes: 1_048_576,
            max_response_body_bytes: 0,
            mem_response_body_bytes: 1_048_576,
            retry_expression: String::new(),
            request_buffering: None,
            response_buffering: None,
        }
    }
}

/// `circuitBreaker`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CircuitBreaker {
    /// Trip expression.
    pub expression: String,
    /// Evaluation period (default 100ms).
    pub check_period: Duration,
    /// Time in the tripped state (default 10s).
    pub fallback_duration: Duration,
    /// Recovery ramp (default 10s).
    pub recovery_duration: Duration,
    /// Status while tripped (default 503).
    pub response_code: i64,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            expression: String::new(),
            check_period: Duration::from_millis(100),
            fallback_duration: Duration::from_secs(10),
            recovery_duration: Duration::from_secs(10),
            response_code: 503,
        }
    }
}

/// `compress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Compress {
    /// Content types never compressed.
    pub excluded_content_types: Vec<String>,
    /// Only these content types are compressed.
    pub included_content_types: Vec<String>,
    /// Minimum body size (default 1024).
    pub min_response_body_bytes: i64,
    /// Encodings by preference (default gzip, br, zstd).
    pub encodings: Vec<String>,
    /// Encoding when the client has no preference.
    pub default_encoding: String,
}

impl Default for Compress {
    fn default() -> Self {
        Compress {
            excluded_content_types: Vec::new(),
            included_content_types: Vec::new(),
            min_response_body_bytes: 1024,
            encodings: vec!["gzip".into(), "br".into(), "zstd".into()],
            default_encoding: String::new(),
        }
    }
}

/// `passTLSClientCert`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PassTlsClientCert {
    /// Pass the PEM.
    pub pem: bool,
    /// Pass selected fields.
    pub info: Option<TlsClientCertificateInfo>,
}

/// `passTLSClientCert.info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsClientCertificateInfo {
    /// NotAfter.
    pub not_after: bool,
    /// NotBefore.
    pub not_before: bool,
    /// SANs.
    pub sans: bool,
    /// Serial number.
    pub serial_number: bool,
    /// Subject fields.
    pub subject: Option<CertificateDnInfo>,
    /// Issuer fields.
    pub issuer: Option<CertificateDnInfo>,
}

/// Distinguished-name fields of `passTLSClientCert.info.{subject,issuer}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CertificateDnInfo {
    /// C.
    pub country: bool,
    /// ST.
    pub province: bool,
    /// L.
    pub locality: bool,
    /// O.
    pub organization: bool,
    /// OU (subject only).
    pub organizational_unit: bool,
    /// CN.
    pub common_name: bool,
    /// serialNumber.
    pub serial_number: bool,
    /// DC.
    pub domain_component: bool,
}

/// `retry`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Retry {
    /// Attempts.
    pub attempts: i64,
    /// First backoff interval (0 = none).
    pub initial_interval: Duration,
    /// Overall timeout (0 = none).
    pub timeout: Duration,
    /// Max buffered request body for replay (default 2 MiB).
    pub max_request_body_bytes: i64,
    /// Statuses that trigger a retry.
    pub status: Vec<String>,
    /// Do not retry on network errors.
    pub disable_retry_on_network_error: bool,
    /// Retry non-idempotent methods too.
    pub retry_non_idempotent_method: bool,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 0,
            initial_interval: Duration::ZERO,
            timeout: Duration::ZERO,
            max_request_body_bytes: 2 * 1_048_576,
            status: Vec::new(),
            disable_retry_on_network_error: false,
            retry_non_idempotent_method: false,
        }
    }
}

/// `contentType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContentType {
    /// Let the proxy guess a missing Content-Type.
    pub auto_detect: Option<bool>,
}

/// `grpcWeb`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GrpcWeb {
    /// Allowed origins.
    pub allow_origins: Vec<String>,
}

/// `encodedCharacters` (middleware and entrypoint): `None` means "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EncodedCharacters {
    /// `%2F`.
    pub allow_encoded_slash: Option<bool>,
    /// `%5C`.
    pub allow_encoded_back_slash: Option<bool>,
    /// `%00`.
    pub allow_encoded_null_character: Option<bool>,
    /// `%3B`.
    pub allow_encoded_semicolon: Option<bool>,
    /// `%25`.
    pub allow_encoded_percent: Option<bool>,
    /// `%3F`.
    pub allow_encoded_question_mark: Option<bool>,
    /// `%23`.
    pub allow_encoded_hash: Option<bool>,
}
