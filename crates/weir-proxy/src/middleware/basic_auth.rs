//! `basicAuth`: HTTP Basic authentication against htpasswd entries.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use weir_config::dynamic::BasicAuth as Config;

use super::Middleware;
use super::htpasswd::Hash;
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};

/// Checks `Authorization: Basic ...` against `users` and `usersFile` (the file wins for a
/// user in both, as Traefik documents). A failure answers 401 with
/// `WWW-Authenticate: Basic realm="<realm>"`; a success goes on, without the
/// `Authorization` header when `removeHeader`, and with the user in `headerField` if set.
pub struct BasicAuth {
    users: HashMap<String, Arc<Hash>>,
    challenge: HeaderValue,
    remove_header: bool,
    header_field: Option<HeaderName>,
}

/// Parses `user:hash` lines into `users`; `source` names where they come from.
pub(super) fn parse_users<'a>(
    lines: impl Iterator<Item = &'a str>,
    source: &str,
    users: &mut HashMap<String, Arc<Hash>>,
) -> Result<(), String> {
    for (i, line) in lines.enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (user, hash) = line
            .split_once(':')
            .ok_or_else(|| format!("{source} entry {}: expected user:hash", i + 1))?;
        let hash = Hash::parse(hash).map_err(|e| format!("{source} user {user:?}: {e}"))?;
        users.insert(user.to_owned(), Arc::new(hash));
    }
    Ok(())
}

impl BasicAuth {
    /// Reads `usersFile` and parses every entry.
    pub fn new(c: &Config) -> Result<Self, String> {
        let mut users = HashMap::new();
        parse_users(c.users.iter().map(String::as_str), "users", &mut users)?;
        if !c.users_file.is_empty() {
            let text = std::fs::read_to_string(&c.users_file)
                .map_err(|e| format!("usersFile {:?}: {e}", c.users_file))?;
            parse_users(text.lines(), "usersFile", &mut users)?;
        }
        if users.is_empty() {
            return Err("no users (set users or usersFile)".into());
        }
        let realm = if c.realm.is_empty() {
            "traefik"
        } else {
            &c.realm
        };
        let challenge = HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
            .map_err(|_| format!("realm {realm:?} is not valid in a header"))?;
        let header_field = if c.header_field.is_empty() {
            None
        } else {
            Some(
                HeaderName::from_bytes(c.header_field.as_bytes()).map_err(|_| {
                    format!("headerField {:?} is not a header name", c.header_field)
                })?,
            )
        };
        Ok(Self {
            users,
            challenge,
            remove_header: c.remove_header,
            header_field,
        })
    }

    fn unauthorized(&self) -> Response<Body> {
        let mut resp = Response::new(body::full("401 Unauthorized\n"));
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, self.challenge.clone());
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp
    }
}

/// `(user, password)` from `Authorization: Basic base64(user:password)`.
pub(super) fn credentials(req: &Request<Body>) -> Option<(String, Vec<u8>)> {
    let value = req.headers().get(AUTHORIZATION)?.as_bytes();
    let b64 = value
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case(b"basic "))
        .map(|_| &value[6..])?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim_ascii())
        .ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

impl Middleware for BasicAuth {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let Some((user, password)) = credentials(&req) else {
                return self.unauthorized();
            };
            let Some(hash) = self.users.get(&user).cloned() else {
                return self.unauthorized();
            };
            let ok = if hash.is_costly() {
                tokio::task::spawn_blocking(move || hash.verify(&password))
                    .await
                    .unwrap_or(false)
            } else {
                hash.verify(&password)
            };
            if !ok {
                return self.unauthorized();
            }
            if self.remove_header {
                req.headers_mut().remove(AUTHORIZATION);
            }
            if let Some(field) = &self.header_field
                && let Ok(v) = HeaderValue::from_str(&user)
            {
                req.headers_mut().insert(field.clone(), v);
            }
            let mut resp = next.handle(req, cx).await;
            // For the access log's ClientUsername.
            resp.extensions_mut()
                .insert(weir_observe::ClientUsername(user.into()));
            resp
        })
    }
}
