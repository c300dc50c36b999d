//! Reading Secrets: TLS pairs, CA bundles, htpasswd users.

use base64::Engine as _;

use crate::objects::SecretData;
use crate::set::{Body, Kind, ObjectSet};

/// A Secret's value for `key`: `stringData` first (manifests), else decoded `data`.
pub fn value(secret: &SecretData, key: &str) -> Result<Option<String>, String> {
    if let Some(v) = secret.string_data.get(key) {
        return Ok(Some(v.clone()));
    }
    let Some(b64) = secret.data.get(key) else {
        return Ok(None);
    };
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("data.{key} is not valid base64: {e}"))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| format!("data.{key} is not UTF-8 text"))
}

/// Finds a Secret.
pub fn find<'a>(set: &'a ObjectSet, namespace: &str, name: &str) -> Result<&'a SecretData, String> {
    match set.get(Kind::Secret, namespace, name).map(|o| &o.body) {
        Some(Body::Secret(s)) => Ok(s),
        _ => Err(format!("secret {namespace}/{name} not found")),
    }
}

/// `tls.crt` and `tls.key` of a Secret, as PEM text.
pub fn tls_pair(set: &ObjectSet, namespace: &str, name: &str) -> Result<(String, String), String> {
    let s = find(set, namespace, name)?;
    let cert = value(s, "tls.crt")?
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("secret {namespace}/{name} has no tls.crt"))?;
    let key = value(s, "tls.key")?
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("secret {namespace}/{name} has no tls.key"))?;
    Ok((cert, key))
}

/// A CA bundle: `tls.ca`, else `ca.crt`, else `tls.crt`.
pub fn ca_bundle(set: &ObjectSet, namespace: &str, name: &str) -> Result<String, String> {
    let s = find(set, namespace, name)?;
    for key in ["tls.ca", "ca.crt", "tls.crt"] {
        if let Some(v) = value(s, key)?.filter(|v| !v.trim().is_empty()) {
            return Ok(v);
        }
    }
    Err(format!(
        "secret {namespace}/{name} has no tls.ca, ca.crt or tls.crt"
    ))
}

/// htpasswd lines from a Secret's `key` (`users` for Traefik, `auth` for ingress-nginx),
/// or `username`/`password` of a `kubernetes.io/basic-auth` Secret.
pub fn users(
    set: &ObjectSet,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Vec<String>, String> {
    let s = find(set, namespace, name)?;
    if s.type_.as_deref() == Some("kubernetes.io/basic-auth") {
        let user = value(s, "username")?.unwrap_or_default();
        let pass = value(s, "password")?.unwrap_or_default();
        if user.is_empty() {
            return Err(format!("secret {namespace}/{name} has no username"));
        }
        return Ok(vec![format!("{user}:{pass}")]);
    }
    let text =
        value(s, key)?.ok_or_else(|| format!("secret {namespace}/{name} has no key {key:?}"))?;
    let users: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if users.is_empty() {
        return Err(format!("secret {namespace}/{name}: {key} holds no user"));
    }
    Ok(users)
}
