//! `headers`: custom request and response headers, CORS (with preflight answers) and the
//! security headers.

use http::header::{self, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use regex::Regex;
use weir_config::dynamic::Headers as Config;

use super::Middleware;
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};
use crate::upstream::status_response;

/// A header to set, or to remove when the configured value is empty.
type Edit = (HeaderName, Option<HeaderValue>);

/// The `headers` middleware, in Traefik's order: the allowed-hosts check, then a CORS
/// preflight is answered here (200, no call to the service); otherwise request headers are
/// edited, the service called, and response headers (custom, CORS, security) set.
pub struct Headers {
    request: Vec<Edit>,
    response: Vec<Edit>,
    cors: Option<Cors>,
    secure: Option<Secure>,
}

struct Cors {
    allow_credentials: bool,
    allow_headers: Option<HeaderValue>,
    allow_methods: Option<HeaderValue>,
    origins: Vec<String>,
    origin_regexes: Vec<Regex>,
    expose_headers: Option<HeaderValue>,
    max_age: HeaderValue,
    add_vary: bool,
}

struct Secure {
    allowed_hosts: Vec<String>,
    hosts_proxy_headers: Vec<HeaderName>,
    ssl_proxy_headers: Vec<(HeaderName, String)>,
    sts: Option<HeaderValue>,
    force_sts: bool,
    /// Always-set response headers (frame options, nosniff, XSS, CSP, referrer, ...).
    fixed: Vec<(HeaderName, HeaderValue)>,
    public_key: Option<HeaderValue>,
    is_development: bool,
}

fn name(field: &str, key: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(key.as_bytes())
        .map_err(|_| format!("{field}: {key:?} is not a valid header name"))
}

fn value(field: &str, v: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(v).map_err(|_| format!("{field}: {v:?} is not a valid header value"))
}

fn edits(
    field: &str,
    map: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<Edit>, String> {
    map.iter()
        .map(|(k, v)| {
            let n = name(field, k)?;
            let v = if v.is_empty() {
                None
            } else {
                Some(value(&format!("{field}.{k}"), v)?)
            };
            Ok((n, v))
        })
        .collect()
}

fn joined(field: &str, list: &[String]) -> Result<Option<HeaderValue>, String> {
    if list.is_empty() {
        Ok(None)
    } else {
        value(field, &list.join(",")).map(Some)
    }
}

fn optional(field: &str, v: &str) -> Result<Option<HeaderValue>, String> {
    if v.is_empty() {
        Ok(None)
    } else {
        value(field, v).map(Some)
    }
}

impl Headers {
    /// Checks header names and values and compiles the origin regexes.
    pub fn new(c: &Config) -> Result<Self, String> {
        let request = edits("customRequestHeaders", &c.custom_request_headers)?;
        let response = edits("customResponseHeaders", &c.custom_response_headers)?;
        let has_cors = c.access_control_allow_credentials
            || !c.access_control_allow_headers.is_empty()
            || !c.access_control_allow_methods.is_empty()
            || !c.access_control_allow_origin_list.is_empty()
            || !c.access_control_allow_origin_list_regex.is_empty()
            || !c.access_control_expose_headers.is_empty()
            || c.access_control_max_age != 0
            || c.add_vary_header;
        let cors = if has_cors {
            let origin_regexes = c
                .access_control_allow_origin_list_regex
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    Regex::new(r)
                        .map_err(|e| format!("accessControlAllowOriginListRegex[{i}] {r:?}: {e}"))
                })
                .collect::<Result<_, _>>()?;
            Some(Cors {
                allow_credentials: c.access_control_allow_credentials,
                allow_headers: joined(
                    "accessControlAllowHeaders",
                    &c.access_control_allow_headers,
                )?,
                allow_methods: joined(
                    "accessControlAllowMethods",
                    &c.access_control_allow_methods,
                )?,
                origins: c.access_control_allow_origin_list.clone(),
                origin_regexes,
                expose_headers: joined(
                    "accessControlExposeHeaders",
                    &c.access_control_expose_headers,
                )?,
                max_age: HeaderValue::from(c.access_control_max_age),
                add_vary: c.add_vary_header,
            })
        } else {
            None
        };
        Ok(Self {
            request,
            response,
            cors,
            secure: Secure::new(c)?,
        })
    }
}

impl Secure {
    fn new(c: &Config) -> Result<Option<Self>, String> {
        if c.sts_seconds < 0 {
            return Err(format!("stsSeconds {} must not be negative", c.sts_seconds));
        }
        let sts = (c.sts_seconds > 0).then(|| {
            let mut v = format!("max-age={}", c.sts_seconds);
            if c.sts_include_subdomains {
                v.push_str("; includeSubDomains");
            }
            if c.sts_preload {
                v.push_str("; preload");
            }
            HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("max-age=0"))
        });
        let mut fixed = Vec::new();
        let frame = if !c.custom_frame_options_value.is_empty() {
            Some(value(
                "customFrameOptionsValue",
                &c.custom_frame_options_value,
            )?)
        } else {
            c.frame_deny.then(|| HeaderValue::from_static("DENY"))
        };
        fixed.extend(frame.map(|v| (header::X_FRAME_OPTIONS, v)));
        if c.content_type_nosniff {
            fixed.push((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        }
        let xss = if !c.custom_browser_xss_value.is_empty() {
            Some(value("customBrowserXSSValue", &c.custom_browser_xss_value)?)
        } else {
            c.browser_xss_filter
                .then(|| HeaderValue::from_static("1; mode=block"))
        };
        fixed.extend(xss.map(|v| (header::X_XSS_PROTECTION, v)));
        for (h, field, v) in [
            (
                header::CONTENT_SECURITY_POLICY,
                "contentSecurityPolicy",
                &c.content_security_policy,
            ),
            (
                header::CONTENT_SECURITY_POLICY_REPORT_ONLY,
                "contentSecurityPolicyReportOnly",
                &c.content_security_policy_report_only,
            ),
            (
                header::REFERRER_POLICY,
                "referrerPolicy",
                &c.referrer_policy,
            ),
            (
                HeaderName::from_static("permissions-policy"),
                "permissionsPolicy",
                &c.permissions_policy,
            ),
        ] {
            fixed.extend(optional(field, v)?.map(|v| (h, v)));
        }
        let hosts_proxy_headers = c
            .hosts_proxy_headers
            .iter()
            .map(|h| name("hostsProxyHeaders", h))
            .collect::<Result<Vec<_>, _>>()?;
        let ssl_proxy_headers = c
            .ssl_proxy_headers
            .iter()
            .map(|(k, v)| Ok((name("sslProxyHeaders", k)?, v.clone())))
            .collect::<Result<Vec<_>, String>>()?;
        let secure = Secure {
            allowed_hosts: c.allowed_hosts.clone(),
            hosts_proxy_headers,
            ssl_proxy_headers,
            sts,
            force_sts: c.force_sts_header,
            fixed,
            public_key: optional("publicKey", &c.public_key)?,
            is_development: c.is_development,
        };
        let any = !secure.allowed_hosts.is_empty()
            || secure.sts.is_some()
            || !secure.fixed.is_empty()
            || secure.public_key.is_some();
        Ok(any.then_some(secure))
    }

    /// `false` when `allowedHosts` is set and the request's host is not in it.
    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        if self.allowed_hosts.is_empty() || self.is_development {
            return true;
        }
        let host = self
            .hosts_proxy_headers
            .iter()
            .find_map(|h| headers.get(h))
            .or_else(|| headers.get(HOST))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.allowed_hosts.iter().any(|h| h == host)
    }

    fn is_ssl(&self, headers: &HeaderMap, cx: &RequestContext) -> bool {
        cx.tls
            || self
                .ssl_proxy_headers
                .iter()
                .any(|(k, v)| headers.get(k).is_some_and(|h| h.as_bytes() == v.as_bytes()))
    }

    fn apply(&self, headers: &mut HeaderMap, ssl: bool) {
        for (k, v) in &self.fixed {
            headers.insert(k.clone(), v.clone());
        }
        if let Some(sts) = &self.sts
            && !self.is_development
            && (ssl || self.force_sts)
        {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, sts.clone());
        }
        if let Some(pk) = &self.public_key
            && (ssl || self.is_development)
        {
            headers.insert(HeaderName::from_static("public-key-pins"), pk.clone());
        }
    }
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value for `origin`, if allowed: the list entry
    /// (`*` or the origin itself), or the origin when a regex matches it.
    fn allow_origin(&self, origin: &str) -> Option<HeaderValue> {
        if let Some(item) = self.origins.iter().find(|o| *o == "*" || *o == origin) {
            return HeaderValue::from_str(item).ok();
        }
        if self.origin_regexes.iter().any(|r| r.is_match(origin)) {
            return HeaderValue::from_str(origin).ok();
        }
        None
    }

    fn is_preflight(req: &Request<Body>) -> bool {
        req.method() == Method::OPTIONS
            && req
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                .is_some_and(|v| !v.is_empty())
            && req
                .headers()
                .get(header::ORIGIN)
                .is_some_and(|v| !v.is_empty())
    }

    fn preflight(&self, origin: &str) -> Response<Body> {
        let mut resp = Response::new(body::empty());
        *resp.status_mut() = StatusCode::OK;
        let h = resp.headers_mut();
        if self.allow_credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = &self.allow_headers {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
        }
        if let Some(v) = &self.allow_methods {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v.clone());
        }
        if let Some(v) = self.allow_origin(origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        h.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        resp
    }

    fn apply(&self, headers: &mut HeaderMap, origin: &str) {
        if let Some(v) = self.allow_origin(origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        if self.allow_credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = &self.expose_headers {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
        if self.add_vary {
            let vary = headers.get(header::VARY).map(HeaderValue::as_bytes);
            let new = match vary {
                Some(b"Origin") => None,
                Some(v) if !v.is_empty() => {
                    let mut s = v.to_vec();
                    s.extend_from_slice(b",Origin");
                    HeaderValue::from_bytes(&s).ok()
                }
                _ => Some(HeaderValue::from_static("Origin")),
            };
            if let Some(v) = new {
                headers.insert(header::VARY, v);
            }
        }
    }
}

fn apply_edits(headers: &mut HeaderMap, edits: &[Edit]) {
    for (k, v) in edits {
        match v {
            Some(v) => {
                headers.insert(k.clone(), v.clone());
            }
            None => {
                headers.remove(k);
            }
        }
    }
}

impl Middleware for Headers {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let ssl = match &self.secure {
                Some(secure) => {
                    if !secure.host_allowed(req.headers()) {
                        let mut resp = status_response(StatusCode::INTERNAL_SERVER_ERROR);
                        *resp.body_mut() = body::full("Bad Host");
                        resp.headers_mut().remove(header::CONTENT_LENGTH);
                        return resp;
                    }
                    secure.is_ssl(req.headers(), cx)
                }
                None => false,
            };
            let origin = match &self.cors {
                Some(_) => req
                    .headers()
                    .get(header::ORIGIN)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                None => None,
            };
            let mut resp = match &self.cors {
                Some(cors) if Cors::is_preflight(&req) => {
                    cors.preflight(origin.as_deref().unwrap_or(""))
                }
                _ => {
                    apply_edits(req.headers_mut(), &self.request);
                    let mut resp = next.handle(req, cx).await;
                    apply_edits(resp.headers_mut(), &self.response);
                    if let Some(cors) = &self.cors {
                        cors.apply(resp.headers_mut(), origin.as_deref().unwrap_or(""));
                    }
                    resp
                }
            };
            if let Some(secure) = &self.secure {
                secure.apply(resp.headers_mut(), ssl);
            }
            resp
        })
    }
}
