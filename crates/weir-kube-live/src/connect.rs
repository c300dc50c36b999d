//! Which API server, with which credentials, in Traefik's order:
//!
//! 1. weir's `kubeconfig` option, when set (an explicit file wins over the environment);
//! 2. in a pod (`KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` set): the service
//!    account's token (read again before each call, so a rotated token is picked up) and
//!    `ca.crt`. `endpoint` replaces the address; `token` and `certAuthFilePath` replace the
//!    service account's;
//! 3. `KUBECONFIG` set: that kubeconfig's current context ([`crate::kubeconfig`]);
//! 4. otherwise `endpoint`, with `token` and `certAuthFilePath`. As in Traefik, a `token`
//!    that names an existing file is read from it (again before each call).

use std::path::{Path, PathBuf};

use crate::client::{ApiConfig, ApiError, Pem};
use crate::kubeconfig;

/// The service account files of a pod.
pub const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// A provider's connection options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// `endpoint`.
    pub endpoint: &'a str,
    /// `token` (a value, or a file holding it).
    pub token: &'a str,
    /// `certAuthFilePath`.
    pub cert_auth_file_path: &'a str,
    /// `kubeconfig` (weir's; `:`-separated files like `KUBECONFIG`).
    pub kubeconfig: &'a str,
}

/// The process environment the choice depends on (a value to make it testable).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `KUBERNETES_SERVICE_HOST`.
    pub service_host: String,
    /// `KUBERNETES_SERVICE_PORT`.
    pub service_port: String,
    /// `KUBECONFIG`.
    pub kubeconfig: String,
    /// The service account folder.
    pub sa_dir: PathBuf,
}

impl Env {
    /// This process's environment.
    pub fn current() -> Env {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        Env {
            service_host: var("KUBERNETES_SERVICE_HOST"),
            service_port: var("KUBERNETES_SERVICE_PORT"),
            kubeconfig: var("KUBECONFIG"),
            sa_dir: PathBuf::from(SA_DIR),
        }
    }
}

/// Resolves the options in the environment to an API server and its credentials.
pub fn resolve(o: &Options<'_>, env: &Env) -> Result<ApiConfig, ApiError> {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    if !o.kubeconfig.is_empty() {
        return kubeconfig::resolve(o.kubeconfig);
    }
    if !env.service_host.is_empty() && !env.service_port.is_empty() {
        let host = if env.service_host.contains(':') {
            format!("[{}]", env.service_host)
        } else {
            env.service_host.clone()
        };
        let base =
            some(o.endpoint).unwrap_or_else(|| format!("https://{host}:{}", env.service_port));
        let mut api = ApiConfig::new(&base);
        api.source = "in-cluster service account".to_owned();
        set_token(&mut api, o.token);
        if api.token.is_none() && api.token_file.is_none() {
            api.token_file = Some(env.sa_dir.join("token"));
        }
        api.ca = Some(Pem::File(
            some(o.cert_auth_file_path).map_or_else(|| env.sa_dir.join("ca.crt"), PathBuf::from),
        ));
        return Ok(api);
    }
    if !env.kubeconfig.is_empty() {
        return kubeconfig::resolve(&env.kubeconfig);
    }
    if o.endpoint.is_empty() {
        return Err(ApiError::Config(
            "no API server: set the provider's `endpoint` (and `token`), set KUBECONFIG, or \
             run in a pod (KUBERNETES_SERVICE_HOST/PORT)"
                .into(),
        ));
    }
    let mut api = ApiConfig::new(o.endpoint);
    api.source = "endpoint".to_owned();
    set_token(&mut api, o.token);
    api.ca = some(o.cert_auth_file_path).map(|p| Pem::File(PathBuf::from(p)));
    Ok(api)
}

/// Traefik's `token` is "file or content": a path to an existing file is read from it.
fn set_token(api: &mut ApiConfig, token: &str) {
    if token.is_empty() {
        return;
    }
    if Path::new(token).is_file() {
        api.token_file = Some(PathBuf::from(token));
    } else {
        api.token = Some(token.to_owned());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env() -> Env {
        Env {
            sa_dir: PathBuf::from("/sa"),
            ..Env::default()
        }
    }

    #[test]
    fn endpoint_token_and_ca() {
        let o = Options {
            endpoint: "https://api:6443/",
            token: "abc",
            cert_auth_file_path: "/ca.pem",
            kubeconfig: "",
        };
        let api = resolve(&o, &env()).unwrap();
        assert_eq!(api.base, "https://api:6443");
        assert_eq!(api.token.as_deref(), Some("abc"));
        assert_eq!(api.ca, Some(Pem::File(PathBuf::from("/ca.pem"))));
        assert!(!format!("{api:?}").contains("abc"), "the token is redacted");
        let e = resolve(&Options::default(), &env()).unwrap_err();
        assert!(e.to_string().contains("no API server"), "{e}");
    }

    #[test]
    fn a_token_naming_a_file_is_read_from_it() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let path = f.path().to_str().unwrap();
        let o = Options {
            endpoint: "http://api",
            token: path,
            ..Options::default()
        };
        let api = resolve(&o, &env()).unwrap();
        assert_eq!(api.token, None);
        assert_eq!(api.token_file.as_deref(), Some(f.path()));
    }

    #[test]
    fn in_cluster_wins_over_kubeconfig_env_and_endpoint_overrides_the_address() {
        let e = Env {
            service_host: "fd00::1".into(),
            service_port: "443".into(),
            kubeconfig: "/nonexistent".into(),
            sa_dir: PathBuf::from("/sa"),
        };
        let api = resolve(&Options::default(), &e).unwrap();
        assert_eq!(api.base, "https://[fd00::1]:443");
        assert_eq!(api.token_file, Some(PathBuf::from("/sa/token")));
        assert_eq!(api.ca, Some(Pem::File(PathBuf::from("/sa/ca.crt"))));
        let o = Options {
            endpoint: "https://other:6443",
            ..Options::default()
        };
        let api = resolve(&o, &e).unwrap();
        assert_eq!(api.base, "https://other:6443");
        assert_eq!(api.token_file, Some(PathBuf::from("/sa/token")));
    }

    #[test]
    fn kubeconfig_env_then_option() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, server: &str| {
            let p = dir.path().join(name);
            std::fs::write(
                &p,
                format!(
                    "current-context: c\ncontexts:\n- name: c\n  context: {{cluster: k}}\n\
                     clusters:\n- name: k\n  cluster: {{server: '{server}'}}\n"
                ),
            )
            .unwrap();
            p.to_str().unwrap().to_owned()
        };
        let from_env = write("env", "https://from-env");
        let from_option = write("opt", "https://from-option");
        let e = Env {
            kubeconfig: from_env,
            ..env()
        };
        let o = Options {
            endpoint: "https://ignored",
            ..Options::default()
        };
        assert_eq!(resolve(&o, &e).unwrap().base, "https://from-env");
        let o = Options {
            kubeconfig: &from_option,
            ..o
        };
        assert_eq!(resolve(&o, &e).unwrap().base, "https://from-option");
    }
}
