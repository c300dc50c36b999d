//! `digestAuth`: HTTP Digest authentication (RFC 7616, MD5 with `qop=auth`) against
//! htdigest entries (`user:realm:MD5(user:realm:password)`).
//!
//! Every challenge carries a fresh random nonce, remembered with the highest nonce count
//! the client used with it (see [`nonces`]), so a captured header cannot be replayed; the
//! `opaque` value is random per middleware. A valid answer for a nonce weir no longer
//! knows (dropped, or from before a reload) gets a new challenge with `stale=true`, so
//! clients retry without asking their user again.
//!
//! The nonces and `opaque` outlive configuration reloads: a reload rebuilds every
//! middleware, and a middleware with the same realm and users takes over the previous
//! one's state (see [`shared_state`]), so clients are not challenged again.

mod nonces;
mod params;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use md5::{Digest as _, Md5};
use weir_config::dynamic::DigestAuth as Config;

use super::Middleware;
use super::htpasswd::ct_eq;
use crate::body::{self, Body};
use crate::handler::{BoxFuture, Handler, RequestContext};
use nonces::{Check, Nonces};

/// The built `digestAuth` middleware.
pub struct DigestAuth {
    /// user → HA1 (hex), for the configured realm only.
    users: HashMap<String, String>,
    realm: String,
    state: Arc<State>,
    remove_header: bool,
    header_field: Option<HeaderName>,
}

/// What a digestAuth middleware remembers between requests.
struct State {
    opaque: String,
    nonces: Nonces,
}

/// The live states, by the identity of the realm and users they serve.
static STATES: LazyLock<Mutex<HashMap<u64, Weak<State>>>> = LazyLock::new(Default::default);

/// The state of a middleware with `realm` and `users`: the one a middleware with the same
/// realm and users still in service has, or a new one.
fn shared_state(realm: &str, users: &HashMap<String, String>) -> Arc<State> {
    let mut sorted: Vec<(&String, &String)> = users.iter().collect();
    sorted.sort();
    let mut h = DefaultHasher::new();
    realm.hash(&mut h);
    sorted.hash(&mut h);
    let key = h.finish();
    let mut states = STATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    states.retain(|_, s| s.strong_count() > 0);
    if let Some(state) = states.get(&key).and_then(Weak::upgrade) {
        return state;
    }
    let state = Arc::new(State {
        opaque: format!("{:032x}", rand::random::<u128>()),
        nonces: Nonces::new(),
    });
    states.insert(key, Arc::downgrade(&state));
    state
}

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut h = Md5::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p);
    }
    crate::hex::lower(&h.finalize())
}

/// Parses `user:realm:hash` lines, keeping the users of `realm`.
fn parse_users<'a>(
    lines: impl Iterator<Item = &'a str>,
    source: &str,
    realm: &str,
    users: &mut HashMap<String, String>,
) -> Result<(), String> {
    for (i, line) in lines.enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, ':');
        let (Some(user), Some(entry_realm), Some(hash)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "{source} entry {}: expected user:realm:hash",
                i + 1
            ));
        };
        if hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{source} user {user:?}: the hash must be 32 hexadecimal digits (MD5)"
            ));
        }
        if entry_realm == realm {
            users.insert(user.to_owned(), hash.to_ascii_lowercase());
        }
    }
    Ok(())
}

impl DigestAuth {
    /// Reads `usersFile` and parses every entry.
    pub fn new(c: &Config) -> Result<Self, String> {
        let realm = if c.realm.is_empty() {
            "traefik"
        } else {
            &c.realm
        };
        if realm.contains(['"', '\\']) || HeaderValue::from_str(realm).is_err() {
            return Err(format!("realm {realm:?} is not valid in a header"));
        }
        let mut users = HashMap::new();
        parse_users(
            c.users.iter().map(String::as_str),
            "users",
            realm,
            &mut users,
        )?;
        if !c.users_file.is_empty() {
            let text = std::fs::read_to_string(&c.users_file)
                .map_err(|e| format!("usersFile {:?}: {e}", c.users_file))?;
            parse_users(text.lines(), "usersFile", realm, &mut users)?;
        }
        if users.is_empty() {
            return Err(format!(
                "no users for realm {realm:?} (set users or usersFile)"
            ));
        }
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
            state: shared_state(realm, &users),
            users,
            realm: realm.to_owned(),
            remove_header: c.remove_header,
            header_field,
        })
    }

    fn unauthorized(&self, stale: bool) -> Response<Body> {
        let challenge = format!(
            "Digest realm=\"{}\", nonce=\"{}\", opaque=\"{}\", algorithm=MD5, qop=\"auth\"{}",
            self.realm,
            self.state.nonces.issue(),
            self.state.opaque,
            if stale { ", stale=true" } else { "" }
        );
        let mut resp = Response::new(body::full("401 Unauthorized\n"));
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        if let Ok(v) = HeaderValue::try_from(challenge) {
            resp.headers_mut().insert(WWW_AUTHENTICATE, v);
        }
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp
    }

    /// The authenticated user, or `Err(stale)`: challenge again, with `stale=true` when the
    /// answer was right but for a nonce weir no longer knows.
    fn verify(&self, req: &Request<Body>) -> Result<String, bool> {
        let deny = || Err(false);
        let Some(p) = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| params::parse(v.as_bytes()))
        else {
            return deny();
        };
        let get = |k: &str| p.get(k).map(String::as_str);
        let (Some(user), Some(nonce), Some(uri), Some(response), Some(nc), Some(cnonce)) = (
            get("username"),
            get("nonce"),
            get("uri"),
            get("response"),
            get("nc"),
            get("cnonce"),
        ) else {
            return deny();
        };
        let Ok(nc) = u32::from_str_radix(nc, 16) else {
            return deny();
        };
        let request_uri = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        if get("realm") != Some(self.realm.as_str())
            || get("qop") != Some("auth")
            || !get("algorithm").is_none_or(|a| a.eq_ignore_ascii_case("MD5"))
            || get("opaque") != Some(self.state.opaque.as_str())
            || uri != request_uri
        {
            return deny();
        }
        let Some(ha1) = self.users.get(user) else {
            return deny();
        };
        let ha2 = md5_hex(&[req.method().as_str().as_bytes(), uri.as_bytes()]);
        let nc_hex = format!("{nc:08x}");
        let expected = md5_hex(&[
            ha1.as_bytes(),
            nonce.as_bytes(),
            nc_hex.as_bytes(),
            cnonce.as_bytes(),
            b"auth",
            ha2.as_bytes(),
        ]);
        if !ct_eq(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        ) {
            return deny();
        }
        match self.state.nonces.check(nonce, nc) {
            Check::Fresh => Ok(user.to_owned()),
            Check::Replayed => deny(),
            Check::Unknown => Err(true),
        }
    }
}

impl Middleware for DigestAuth {
    fn handle<'a>(
        &'a self,
        mut req: Request<Body>,
        cx: &'a RequestContext,
        next: &'a dyn Handler,
    ) -> BoxFuture<'a, Response<Body>> {
        let user = match self.verify(&req) {
            Ok(user) => user,
            Err(stale) => return Box::pin(std::future::ready(self.unauthorized(stale))),
        };
        if self.remove_header {
            req.headers_mut().remove(AUTHORIZATION);
        }
        if let Some(field) = &self.header_field
            && let Ok(v) = HeaderValue::from_str(&user)
        {
            req.headers_mut().insert(field.clone(), v);
        }
        Box::pin(async move {
            let mut resp = next.handle(req, cx).await;
            // For the access log's ClientUsername.
            resp.extensions_mut()
                .insert(weir_observe::ClientUsername(user.into()));
            resp
        })
    }
}

#[cfg(test)]
mod tests {
    use super::md5_hex;

    #[test]
    fn rfc_2617_example() {
        // RFC 2617 §3.5: Mufasa / "Circle Of Life" in testrealm@host.com.
        let ha1 = md5_hex(&[b"Mufasa", b"testrealm@host.com", b"Circle Of Life"]);
        let ha2 = md5_hex(&[b"GET", b"/dir/index.html"]);
        let response = md5_hex(&[
            ha1.as_bytes(),
            b"dcd98b7102dd2f0e8b11d0f600bfb0c093",
            b"00000001",
            b"0a4f113b",
            b"auth",
            ha2.as_bytes(),
        ]);
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn bad_entries_are_reported() {
        let with = |users: &[&str]| {
            DigestAuth::new(&Config {
                users: users.iter().map(|u| (*u).to_owned()).collect(),
                ..Config::default()
            })
            .err()
            .unwrap_or_default()
        };
        assert!(with(&["alice"]).contains("expected user:realm:hash"));
        assert!(with(&["alice:traefik:xyz"]).contains("32 hexadecimal digits"));
        assert!(with(&["alice:elsewhere:0123456789abcdef0123456789abcdef"]).contains("no users"));
        assert_eq!(
            with(&["alice:traefik:0123456789abcdef0123456789abcdef"]),
            ""
        );
    }
}
