//! Ingress annotations, Traefik's (`traefik.ingress.kubernetes.io/`) and ingress-nginx'
//! (`nginx.ingress.kubernetes.io/`), read into one [`Plan`] per Ingress. Every annotation
//! under those prefixes is either applied, reported as unsupported, or refused; none is
//! silently ignored.

use std::collections::BTreeMap;

use weir_config::Duration;
use weir_config::dynamic::{
    BasicAuth, Buffering, Cookie, DigestAuth, ForwardAuth, Headers, InFlightReq, IpAllowList,
    IpStrategy, Middleware, RateLimit, RedirectRegex, RedirectScheme, ServersTransport,
    SourceCriterion, Sticky,
};

use crate::problem::Sink;
use crate::secrets;
use crate::set::ObjectSet;

/// Prefix of Traefik's Ingress annotations.
pub const TRAEFIK: &str = "traefik.ingress.kubernetes.io/";
/// Prefix of ingress-nginx' annotations.
pub const NGINX: &str = "nginx.ingress.kubernetes.io/";

/// What an Ingress' annotations ask for.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// `router.entrypoints`.
    pub entry_points: Vec<String>,
    /// `router.priority`.
    pub priority: Option<i64>,
    /// `router.tls`: routers are TLS only.
    pub tls_only: bool,
    /// `router.tls.options`.
    pub tls_options: String,
    /// `router.tls.certresolver`.
    pub cert_resolver: String,
    /// `router.pathmatcher` for ImplementationSpecific paths.
    pub path_matcher: Option<String>,
    /// Generated middlewares, in order, by name suffix.
    pub generated: Vec<(String, Middleware)>,
    /// `router.middlewares`: references, applied after the generated ones.
    pub references: Vec<String>,
    /// ingress-nginx regex mode.
    pub regex: bool,
    /// `rewrite-target`.
    pub rewrite: Option<String>,
    /// `ssl-redirect` (None: the ingress-nginx default, on for TLS hosts).
    pub ssl_redirect: Option<bool>,
    /// `force-ssl-redirect`.
    pub force_ssl_redirect: bool,
    /// Backend scheme (`backend-protocol`).
    pub scheme: Option<String>,
    /// Backend transport settings (timeouts, HTTPS without verification).
    pub transport: Option<ServersTransport>,
    /// Cookie affinity.
    pub sticky: Option<Sticky>,
    /// `server-alias`.
    pub aliases: Vec<String>,
    /// Canary settings, when `canary: "true"`.
    pub canary: Option<Canary>,
    /// The Ingress is refused (snippets, impossible backends).
    pub refused: bool,
    /// Any `nginx.ingress.kubernetes.io/` annotation is present.
    pub nginx: bool,
}

impl Plan {
    /// True when the backends need an Ingress-specific load balancer.
    pub fn tweaks_backend(&self) -> bool {
        self.scheme.is_some() || self.transport.is_some() || self.sticky.is_some()
    }
}

/// `canary-*`.
#[derive(Debug, Clone, Default)]
pub struct Canary {
    /// Share of traffic out of `total`.
    pub weight: i64,
    /// `canary-weight-total` (default 100).
    pub total: i64,
    /// `canary-by-header`.
    pub header: Option<String>,
    /// `canary-by-header-value`.
    pub header_value: Option<String>,
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// An nginx size (`10m`, `512k`, `1g`, `100`): bytes.
pub fn parse_size(v: &str) -> Option<i64> {
    let v = v.trim();
    let (num, mult) = match v.chars().last()? {
        'k' | 'K' => (&v[..v.len() - 1], 1024),
        'm' | 'M' => (&v[..v.len() - 1], 1024 * 1024),
        'g' | 'G' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    num.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)?
        .checked_mul(mult)
}

fn parse_seconds(v: &str) -> Option<i64> {
    let v = v.trim();
    let v = v.strip_suffix('s').unwrap_or(v);
    v.parse::<i64>().ok().filter(|n| *n >= 0)
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// ingress-nginx annotations weir knows but does not implement.
const NGINX_UNSUPPORTED: &[&str] = &[
    "proxy-next-upstream",
    "proxy-next-upstream-tries",
    "proxy-next-upstream-timeout",
    "proxy-buffer-size",
    "proxy-buffers-number",
    "proxy-max-temp-file-size",
    "denylist-source-range",
    "auth-tls-secret",
    "auth-tls-verify-client",
    "auth-tls-verify-depth",
    "auth-tls-pass-certificate-to-upstream",
    "auth-tls-match-cn",
    "auth-tls-error-page",
    "auth-cache-key",
    "auth-cache-duration",
    "auth-keepalive",
    "auth-proxy-set-headers",
    "auth-request-redirect",
    "auth-always-set-cookie",
    "enable-global-auth",
    "upstream-hash-by",
    "upstream-hash-by-subset",
    "upstream-hash-by-subset-size",
    "load-balance",
    "canary-by-cookie",
    "canary-by-header-pattern",
    "limit-rate",
    "limit-rate-after",
    "limit-whitelist",
    "from-to-www-redirect",
    "ssl-passthrough",
    "default-backend",
    "custom-http-errors",
    "proxy-http-version",
    "connection-proxy-header",
    "proxy-redirect-from",
    "proxy-redirect-to",
    "proxy-cookie-domain",
    "proxy-cookie-path",
    "service-upstream",
    "mirror-target",
    "mirror-host",
    "mirror-request-body",
    "proxy-ssl-secret",
    "proxy-ssl-verify",
    "proxy-ssl-verify-depth",
    "proxy-ssl-name",
    "proxy-ssl-server-name",
    "proxy-ssl-ciphers",
    "proxy-ssl-protocols",
    "ssl-ciphers",
    "ssl-prefer-server-ciphers",
    "enable-access-log",
    "enable-opentelemetry",
    "enable-rewrite-log",
    "satisfy",
    "custom-headers",
    "http2-push-preload",
    "preserve-trailing-slash",
    "session-cookie-change-on-failure",
    "session-cookie-conditional-samesite-none",
    "affinity-canary-behavior",
    "global-rate-limit",
    "global-rate-limit-window",
    "global-rate-limit-key",
    "modsecurity-transaction-id",
    "enable-modsecurity",
    "enable-owasp-core-rules",
    "server-tokens",
    "auth-snippet-location",
];

/// The middleware that sends plain HTTP to HTTPS (`ssl-redirect`, `force-ssl-redirect`).
pub fn ssl_redirect() -> Middleware {
    Middleware {
        redirect_scheme: Some(RedirectScheme {
            scheme: "https".into(),
            port: String::new(),
            permanent: true,
        }),
        ..Middleware::default()
    }
}

/// Reads every annotation of an Ingress.
pub fn read<'a>(
    set: &ObjectSet,
    namespace: &str,
    annotations: &'a BTreeMap<String, String>,
    sink: &mut Sink<'_>,
) -> Plan {
    let mut p = Plan::default();
    let field = |k: &str| format!("metadata.annotations[{k}]");
    let get = move |short: &str| -> Option<&'a str> {
        annotations
            .get(&format!("{NGINX}{short}"))
            .map(String::as_str)
    };

    // Traefik's router annotations.
    for (k, v) in annotations {
        let Some(short) = k.strip_prefix(TRAEFIK) else {
            continue;
        };
        match short {
            "router.entrypoints" => p.entry_points = list(v),
            "router.middlewares" => p.references = list(v),
            "router.priority" => match v.trim().parse::<i64>() {
                Ok(n) => p.priority = Some(n),
                Err(_) => sink.error(field(k), format!("{v:?} is not an integer")),
            },
            "router.tls" => p.tls_only = parse_bool(v).unwrap_or(false),
            "router.tls.options" => v.trim().clone_into(&mut p.tls_options),
            "router.tls.certresolver" => v.trim().clone_into(&mut p.cert_resolver),
            "router.pathmatcher" => match v.trim() {
                m @ ("Path" | "PathPrefix" | "PathRegexp") => p.path_matcher = Some(m.to_owned()),
                other => sink.error(
                    field(k),
                    format!("{other:?} is not Path, PathPrefix or PathRegexp"),
                ),
            },
            "router.rulesyntax" => {
                sink.warning(field(k), "rule syntax v2 is not supported; v3 is used")
            }
            s if s.starts_with("router.observability.") || s.starts_with("router.tls.domains.") => {
                sink.warning(field(k), "not supported by weir yet; ignored")
            }
            _ => sink.warning(field(k), "unknown Traefik Ingress annotation; ignored"),
        }
    }

    let nginx: Vec<(&str, &str, String)> = annotations
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(NGINX).map(|s| (s, v.as_str(), field(k))))
        .collect();
    p.nginx = !nginx.is_empty();
    let flag = |short: &str| get(short).and_then(parse_bool).unwrap_or(false);

    // Refused outright: raw configuration is the hole IngressNightmare used.
    for (short, _, f) in &nginx {
        if short.ends_with("-snippet") || *short == "stream-snippet" {
            sink.error(
                f.clone(),
                "snippet annotations inject raw proxy configuration and are refused by weir (the hole CVE-2025-1974 \"IngressNightmare\" used); express it with typed annotations or a Traefik Middleware. The Ingress is not served",
            );
            p.refused = true;
        }
    }

    p.regex = flag("use-regex") || get("rewrite-target").is_some();
    p.rewrite = get("rewrite-target").map(str::to_owned);
    p.ssl_redirect = get("ssl-redirect").and_then(parse_bool);
    p.force_ssl_redirect = flag("force-ssl-redirect");

    let mut transport: Option<ServersTransport> = None;

    for (short, value, f) in &nginx {
        let v = value.trim();
        match *short {
            "use-regex" | "rewrite-target" | "ssl-redirect" | "force-ssl-redirect" => {}
            s if s.ends_with("-snippet") => {}
            "backend-protocol" => match v.to_ascii_uppercase().as_str() {
                "HTTP" => {}
                "HTTPS" | "GRPCS" => {
                    p.scheme = Some("https".into());
                    // ingress-nginx does not verify backend certificates by default.
                    transport
                        .get_or_insert_with(ServersTransport::default)
                        .insecure_skip_verify = true;
                }
                "GRPC" | "H2C" => p.scheme = Some("h2c".into()),
                other => {
                    sink.error(f.clone(), format!("backend protocol {other:?} is not supported (HTTP, HTTPS, GRPC, GRPCS, H2C); the Ingress is not served"));
                    p.refused = true;
                }
            },
            "proxy-body-size"
            | "proxy-buffering"
            | "proxy-request-buffering"
            | "client-body-buffer-size" => {}
            "proxy-connect-timeout" | "proxy-read-timeout" | "proxy-send-timeout" => {
                let Some(secs) = parse_seconds(v) else {
                    sink.error(f.clone(), format!("{v:?} is not a number of seconds"));
                    continue;
                };
                let t = transport.get_or_insert_with(ServersTransport::default);
                let d = Duration::from_secs(secs);
                match *short {
                    "proxy-connect-timeout" => t.forwarding_timeouts.dial_timeout = d,
                    // The wait for the response headers; a streamed body is not cut.
                    "proxy-read-timeout" => t.forwarding_timeouts.response_header_timeout = d,
                    _ => sink.warning(
                        f.clone(),
                        "weir has no timeout between two writes to the backend; ignored",
                    ),
                }
            }
            "enable-cors"
            | "cors-allow-origin"
            | "cors-allow-methods"
            | "cors-allow-headers"
            | "cors-expose-headers"
            | "cors-allow-credentials"
            | "cors-max-age" => {}
            "whitelist-source-range" | "allowlist-source-range" => {
                let ranges = list(v);
                if ranges.is_empty() {
                    continue;
                }
                p.generated.push((
                    "allowlist".into(),
                    Middleware {
                        ip_allow_list: Some(IpAllowList {
                            source_range: ranges,
                            ip_strategy: None,
                            reject_status_code: 403,
                        }),
                        ..Middleware::default()
                    },
                ));
            }
            "auth-type" | "auth-secret" | "auth-secret-type" | "auth-realm" => {}
            "auth-url" | "auth-signin" | "auth-response-headers" | "auth-method" => {}
            "affinity"
            | "affinity-mode"
            | "session-cookie-name"
            | "session-cookie-path"
            | "session-cookie-domain"
            | "session-cookie-max-age"
            | "session-cookie-expires"
            | "session-cookie-secure"
            | "session-cookie-samesite" => {}
            "canary"
            | "canary-weight"
            | "canary-weight-total"
            | "canary-by-header"
            | "canary-by-header-value" => {}
            "permanent-redirect"
            | "temporal-redirect"
            | "permanent-redirect-code"
            | "temporal-redirect-code"
            | "app-root" => {}
            "limit-rps" | "limit-rpm" | "limit-connections" | "limit-burst-multiplier" => {}
            "upstream-vhost" | "x-forwarded-prefix" => {}
            "server-alias" => p.aliases = list(v),
            s if NGINX_UNSUPPORTED.contains(&s) => sink.warning(
                f.clone(),
                "this ingress-nginx annotation is not supported by weir; ignored",
            ),
            _ => sink.warning(f.clone(), "unknown ingress-nginx annotation; ignored"),
        }
    }

    redirects(&mut p, &get, sink);
    buffering(&mut p, &get, sink);
    limits(&mut p, &get, sink);
    auth(&mut p, set, namespace, &get, sink);
    cors(&mut p, &get);
    headers(&mut p, &get);
    affinity(&mut p, &get);
    canary(&mut p, &get, sink);
    p.transport = transport;
    p
}

fn nfield(short: &str) -> String {
    format!("metadata.annotations[{NGINX}{short}]")
}

fn redirects<'a>(p: &mut Plan, get: &dyn Fn(&str) -> Option<&'a str>, sink: &mut Sink<'_>) {
    // ingress-nginx: temporal-redirect wins over permanent-redirect.
    let target = get("temporal-redirect")
        .map(|t| (t, false, "temporal-redirect-code", "302"))
        .or_else(|| get("permanent-redirect").map(|t| (t, true, "permanent-redirect-code", "301")));
    if let Some((to, permanent, code_key, default_code)) = target {
        if let Some(code) = get(code_key).filter(|c| c.trim() != default_code) {
            sink.warning(
                nfield(code_key),
                format!(
                    "weir answers {} for this redirect, not {code}",
                    if permanent {
                        "301 (308 for other methods than GET)"
                    } else {
                        "302 (307 for other methods than GET)"
                    }
                ),
            );
        }
        p.generated.push((
            "redirect".into(),
            Middleware {
                redirect_regex: Some(RedirectRegex {
                    regex: "^.*$".into(),
                    replacement: to.trim().replace('$', "$$"),
                    permanent,
                }),
                ..Middleware::default()
            },
        ));
    }
    if let Some(root) = get("app-root") {
        p.generated.push((
            "app-root".into(),
            Middleware {
                redirect_regex: Some(RedirectRegex {
                    regex: r"^(https?://[^/?#]+)/(\?.*)?$".into(),
                    replacement: format!("${{1}}{}", root.trim().replace('$', "$$")),
                    permanent: false,
                }),
                ..Middleware::default()
            },
        ));
    }
}

/// `proxy-body-size`, `client-body-buffer-size`, `proxy-request-buffering` and
/// `proxy-buffering` become one `buffering` middleware, with ingress-nginx' defaults where
/// an annotation is absent: request bodies read whole before the backend gets them (to a
/// temporary file beyond `client-body-buffer-size`), responses streamed. No middleware
/// when nothing asks for a limit or for buffering.
fn buffering<'a>(p: &mut Plan, get: &dyn Fn(&str) -> Option<&'a str>, sink: &mut Sink<'_>) {
    let size = |short: &str, sink: &mut Sink<'_>| {
        let v = get(short)?;
        let n = parse_size(v);
        if n.is_none() {
            sink.error(nfield(short), format!("{v:?} is not a size such as 10m"));
        }
        n
    };
    let switch = |short: &str, sink: &mut Sink<'_>| {
        let v = get(short)?;
        let b = parse_bool(v);
        if b.is_none() {
            sink.error(nfield(short), format!("{v:?} is not on or off"));
        }
        b
    };
    let max = size("proxy-body-size", sink).unwrap_or(0);
    let mem = size("client-body-buffer-size", sink);
    let requests = switch("proxy-request-buffering", sink);
    let responses = switch("proxy-buffering", sink).unwrap_or(false);
    if max == 0 && !responses && requests != Some(true) {
        return;
    }
    p.generated.push((
        "body-size".into(),
        Middleware {
            buffering: Some(Buffering {
                max_request_body_bytes: max,
                mem_request_body_bytes: mem.unwrap_or(Buffering::default().mem_request_body_bytes),
                request_buffering: Some(requests.unwrap_or(true)),
                response_buffering: Some(responses),
                ..Buffering::default()
            }),
            ..Middleware::default()
        },
    ));
}

fn ip_source() -> Option<SourceCriterion> {
    Some(SourceCriterion {
        ip_strategy: Some(IpStrategy::default()),
        ..SourceCriterion::default()
    })
}

fn limits<'a>(p: &mut Plan, get: &dyn Fn(&str) -> Option<&'a str>, sink: &mut Sink<'_>) {
    let multiplier = match get("limit-burst-multiplier") {
        None => 5,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                sink.error(
                    nfield("limit-burst-multiplier"),
                    format!("{v:?} is not a positive integer"),
                );
                5
            }),
    };
    if let Some(v) = get("limit-connections") {
        match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => p.generated.push((
                "limit-connections".into(),
                Middleware {
                    in_flight_req: Some(InFlightReq {
                        amount: n,
                        source_criterion: ip_source(),
                    }),
                    ..Middleware::default()
                },
            )),
            _ => sink.error(
                nfield("limit-connections"),
                format!("{v:?} is not a positive integer"),
            ),
        }
    }
    for (key, period) in [("limit-rpm", 60), ("limit-rps", 1)] {
        let Some(v) = get(key) else { continue };
        match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => p.generated.push((
                key.into(),
                Middleware {
                    rate_limit: Some(RateLimit {
                        average: n,
                        period: Duration::from_secs(period),
                        burst: n.saturating_mul(multiplier),
                        source_criterion: ip_source(),
                        redis: None,
                    }),
                    ..Middleware::default()
                },
            )),
            _ => sink.error(nfield(key), format!("{v:?} is not a positive integer")),
        }
    }
}

fn auth<'a>(
    p: &mut Plan,
    set: &ObjectSet,
    namespace: &str,
    get: &dyn Fn(&str) -> Option<&'a str>,
    sink: &mut Sink<'_>,
) {
    if let Some(kind) = get("auth-type") {
        let kind = kind.trim().to_ascii_lowercase();
        let realm = get("auth-realm").map(str::to_owned);
        let Some(secret) = get("auth-secret").map(str::trim).filter(|s| !s.is_empty()) else {
            sink.error(
                nfield("auth-secret"),
                "auth-type needs auth-secret; the Ingress is not served",
            );
            p.refused = true;
            return;
        };
        let (sns, sname) = secret.split_once('/').unwrap_or((namespace, secret));
        if sns != namespace {
            sink.error(nfield("auth-secret"), format!("secret {sns}/{sname} is in another namespace, which weir does not read for an Ingress; the Ingress is not served"));
            p.refused = true;
            return;
        }
        let users = if get("auth-secret-type").map(str::trim) == Some("auth-map") {
            secrets::find(set, sns, sname).and_then(|s| {
                let mut keys: Vec<&String> = s.data.keys().chain(s.string_data.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter()
                    .map(|k| {
                        secrets::value(s, k)
                            .map(|v| format!("{k}:{}", v.unwrap_or_default().trim()))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
        } else {
            secrets::users(set, sns, sname, "auth")
        };
        let users = match users {
            Ok(u) => u,
            Err(e) => {
                sink.error(
                    nfield("auth-secret"),
                    format!("{e}; the Ingress is not served"),
                );
                p.refused = true;
                return;
            }
        };
        let m = match kind.as_str() {
            "basic" => Middleware {
                basic_auth: Some(BasicAuth {
                    users,
                    realm: realm.unwrap_or_default(),
                    ..BasicAuth::default()
                }),
                ..Middleware::default()
            },
            "digest" => Middleware {
                digest_auth: Some(DigestAuth {
                    users,
                    realm: realm.unwrap_or_default(),
                    ..DigestAuth::default()
                }),
                ..Middleware::default()
            },
            other => {
                sink.error(
                    nfield("auth-type"),
                    format!("{other:?} is not basic or digest; the Ingress is not served"),
                );
                p.refused = true;
                return;
            }
        };
        p.generated.push(("auth".into(), m));
    }
    if let Some(url) = get("auth-url") {
        let url = url.trim();
        if url.contains('$') || get("auth-signin").is_some_and(|s| s.contains('$')) {
            sink.warning(
                nfield("auth-url"),
                "nginx variables ($host, $request_uri...) are not expanded by weir; the value is used as written",
            );
        }
        if let Some(method) = get("auth-method").map(str::trim)
            && !method.eq_ignore_ascii_case("GET")
        {
            sink.warning(
                nfield("auth-method"),
                format!("weir sends the authentication request with GET, not {method:?}"),
            );
        }
        if get("auth-signin").is_some() {
            sink.warning(
                nfield("auth-signin"),
                "a 401 from auth-url redirects to this URL as written: weir does not add nginx's rd= parameter with the original URL",
            );
        }
        p.generated.push((
            "auth-url".into(),
            Middleware {
                forward_auth: Some(ForwardAuth {
                    address: url.to_owned(),
                    auth_response_headers: get("auth-response-headers")
                        .map(list)
                        .unwrap_or_default(),
                    auth_signin_url: get("auth-signin")
                        .map(|s| s.trim().to_owned())
                        .unwrap_or_default(),
                    ..ForwardAuth::default()
                }),
                ..Middleware::default()
            },
        ));
    }
}

fn cors<'a>(p: &mut Plan, get: &dyn Fn(&str) -> Option<&'a str>) {
    if !get("enable-cors").and_then(parse_bool).unwrap_or(false) {
        return;
    }
    let or = |k: &str, d: &str| list(get(k).unwrap_or(d));
    let h = Headers {
        access_control_allow_origin_list: or("cors-allow-origin", "*"),
        access_control_allow_methods: or(
            "cors-allow-methods",
            "GET, PUT, POST, DELETE, PATCH, OPTIONS",
        ),
        access_control_allow_headers: or(
            "cors-allow-headers",
            "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
        ),
        access_control_expose_headers: or("cors-expose-headers", ""),
        access_control_allow_credentials: get("cors-allow-credentials")
            .and_then(parse_bool)
            .unwrap_or(true),
        access_control_max_age: get("cors-max-age")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1_728_000),
        add_vary_header: true,
        ..Headers::default()
    };
    p.generated.push((
        "cors".into(),
        Middleware {
            headers: Some(h),
            ..Middleware::default()
        },
    ));
}

fn headers<'a>(p: &mut Plan, get: &dyn Fn(&str) -> Option<&'a str>) {
    let mut req = BTreeMap::new();
    if let Some(v) = get("upstream-vhost") {
        req.insert("Host".to_owned(), v.trim().to_owned());
    }
    if let Some(v) = get("x-forwarded-prefix") {
        req.insert("X-Forwarded-Prefix".to_owned(), v.trim().to_owned());
    }
    if !req.is_empty() {
        p.generated.push((
            "headers".into(),
            Middleware {
                headers: Some(Headers {
                    custom_request_headers: req,
                    ..Headers::default()
                }),
                ..Middleware::default()
            },
        ));
    }
}

fn affinity<'a>(p: &mut Plan, get: &dyn Fn(&str) -> Option<&'a str>) {
    if get("affinity").map(str::trim) != Some("cookie") {
        return;
    }
    let max_age = get("session-cookie-max-age")
        .or_else(|| get("session-cookie-expires"))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    p.sticky = Some(Sticky {
        cookie: Some(Cookie {
            name: get("session-cookie-name")
                .map_or("INGRESSCOOKIE", str::trim)
                .to_owned(),
            secure: get("session-cookie-secure")
                .and_then(parse_bool)
                .unwrap_or(false),
            http_only: true,
            same_site: get("session-cookie-samesite")
                .map(|s| s.trim().to_ascii_lowercase())
                .unwrap_or_default(),
            max_age,
            path: get("session-cookie-path").map_or("/", str::trim).to_owned(),
            domain: get("session-cookie-domain")
                .map(str::trim)
                .unwrap_or_default()
                .to_owned(),
        }),
    });
}

fn canary<'a>(p: &mut Plan, get: &dyn Fn(&str) -> Option<&'a str>, sink: &mut Sink<'_>) {
    if !get("canary").and_then(parse_bool).unwrap_or(false) {
        return;
    }
    let num = |k: &str, d: i64, sink: &mut Sink<'_>| match get(k) {
        None => d,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .unwrap_or_else(|| {
                sink.error(nfield(k), format!("{v:?} is not a non-negative integer"));
                d
            }),
    };
    let total = num("canary-weight-total", 100, sink).max(1);
    let weight = num("canary-weight", 0, sink).min(total);
    p.canary = Some(Canary {
        weight,
        total,
        header: get("canary-by-header")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        header_value: get("canary-by-header-value")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10m"), Some(10 * 1024 * 1024));
        assert_eq!(parse_size("512K"), Some(512 * 1024));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size(""), None);
    }
}
