//! Reading a kubeconfig file (what `kubectl` uses): the current context's cluster (server,
//! CA, `insecure-skip-tls-verify`, `tls-server-name`) and user (token, token file, client
//! certificate and key, inline or as files). Relative paths are relative to the file that
//! names them, as in kubectl. `KUBECONFIG` may list several files separated by `:`; as
//! in kubectl, the first file that sets a value wins.
//!
//! Authentication plugins (`exec`, `auth-provider`) and basic auth are refused with a
//! clear error: weir would otherwise send no credentials and get a puzzling 401.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use crate::client::{ApiConfig, ApiError, Pem};

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default, rename = "current-context")]
    current_context: String,
    #[serde(default)]
    clusters: Vec<Named<Cluster>>,
    #[serde(default)]
    contexts: Vec<Named<Context>>,
    #[serde(default)]
    users: Vec<Named<User>>,
}

#[derive(Debug, Deserialize)]
struct Named<T> {
    name: String,
    #[serde(default, alias = "cluster", alias = "context", alias = "user")]
    item: Option<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
struct Cluster {
    server: String,
    certificate_authority: String,
    certificate_authority_data: String,
    insecure_skip_tls_verify: bool,
    tls_server_name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Context {
    cluster: String,
    user: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
struct User {
    token: String,
    #[serde(rename = "tokenFile")]
    token_file: String,
    client_certificate: String,
    client_certificate_data: String,
    client_key: String,
    client_key_data: String,
    username: String,
    exec: Option<serde_json::Value>,
    auth_provider: Option<serde_json::Value>,
}

/// One kubeconfig file, with the folder its relative paths are relative to.
struct Loaded {
    path: PathBuf,
    file: File,
}

impl Loaded {
    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

fn load(path: &Path) -> Result<Loaded, ApiError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ApiError::Config(format!("kubeconfig {}: {e}", path.display())))?;
    let file: File = if text.trim().is_empty() {
        File::default()
    } else {
        serde_saphyr::from_str(&text)
            .map_err(|e| ApiError::Config(format!("kubeconfig {}: {e}", path.display())))?
    };
    Ok(Loaded {
        path: path.to_owned(),
        file,
    })
}

/// Finds entry `name` in the first file that has it (kubectl's merge rule).
fn find<'a, T>(
    files: &'a [Loaded],
    name: &str,
    list: impl Fn(&File) -> &Vec<Named<T>>,
) -> Option<(&'a Loaded, &'a T)> {
    files.iter().find_map(|l| {
        list(&l.file)
            .iter()
            .find(|n| n.name == name)
            .and_then(|n| n.item.as_ref())
            .map(|item| (l, item))
    })
}

/// Resolves `paths` (the value of `KUBECONFIG`, or the `kubeconfig` option) to the
/// current context's API server and credentials.
pub fn resolve(paths: &str) -> Result<ApiConfig, ApiError> {
    let files: Vec<Loaded> = std::env::split_paths(paths)
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| load(&p))
        .collect::<Result<_, _>>()?;
    let shown = paths;
    let context_name = files
        .iter()
        .map(|l| l.file.current_context.as_str())
        .find(|c| !c.is_empty())
        .ok_or_else(|| ApiError::Config(format!("kubeconfig {shown}: no current-context")))?;
    let (_, context) = find(&files, context_name, |f| &f.contexts).ok_or_else(|| {
        ApiError::Config(format!(
            "kubeconfig {shown}: context {context_name:?} is not defined"
        ))
    })?;
    let (cluster_file, cluster) =
        find(&files, &context.cluster, |f| &f.clusters).ok_or_else(|| {
            ApiError::Config(format!(
                "kubeconfig {shown}: cluster {:?} (of context {context_name:?}) is not defined",
                context.cluster
            ))
        })?;
    if cluster.server.is_empty() {
        return Err(ApiError::Config(format!(
            "kubeconfig {}: cluster {:?} has no server",
            cluster_file.path.display(),
            context.cluster
        )));
    }
    let mut api = ApiConfig::new(&cluster.server);
    api.source = format!(
        "kubeconfig {} (context {context_name})",
        cluster_file.path.display()
    );
    api.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
    api.tls_server_name =
        (!cluster.tls_server_name.is_empty()).then(|| cluster.tls_server_name.clone());
    let at = |what: &str| {
        format!(
            "kubeconfig {}: cluster {:?}: {what}",
            cluster_file.path.display(),
            context.cluster
        )
    };
    api.ca = pem(
        cluster_file,
        &cluster.certificate_authority,
        &cluster.certificate_authority_data,
    )
    .map_err(|e| ApiError::Config(at(&format!("certificate-authority-data: {e}"))))?;

    if context.user.is_empty() {
        return Ok(api);
    }
    let Some((user_file, user)) = find(&files, &context.user, |f| &f.users) else {
        return Err(ApiError::Config(format!(
            "kubeconfig {shown}: user {:?} (of context {context_name:?}) is not defined",
            context.user
        )));
    };
    let at = |what: &str| {
        format!(
            "kubeconfig {}: user {:?}: {what}",
            user_file.path.display(),
            context.user
        )
    };
    if user.exec.is_some() || user.auth_provider.is_some() {
        return Err(ApiError::Config(at(
            "`exec` and `auth-provider` credential plugins are not supported; use a token, a \
             tokenFile or a client certificate",
        )));
    }
    if !user.username.is_empty() {
        return Err(ApiError::Config(at(
            "basic auth (username/password) is not supported; use a token or a client certificate",
        )));
    }
    if !user.token.is_empty() {
        api.token = Some(user.token.clone());
    } else if !user.token_file.is_empty() {
        api.token_file = Some(user_file.dir().join(&user.token_file));
    }
    let cert = pem(
        user_file,
        &user.client_certificate,
        &user.client_certificate_data,
    )
    .map_err(|e| ApiError::Config(at(&format!("client-certificate-data: {e}"))))?;
    let key = pem(user_file, &user.client_key, &user.client_key_data)
        .map_err(|e| ApiError::Config(at(&format!("client-key-data: {e}"))))?;
    api.client_cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(ApiError::Config(at(
                "a client certificate needs both client-certificate(-data) and client-key(-data)",
            )));
        }
    };
    Ok(api)
}

/// Inline base64 data wins over a file, as in kubectl.
fn pem(file: &Loaded, path: &str, data: &str) -> Result<Option<Pem>, String> {
    if !data.is_empty() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| format!("not base64: {e}"))?;
        return Ok(Some(Pem::Data(bytes)));
    }
    if !path.is_empty() {
        return Ok(Some(Pem::File(file.dir().join(path))));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const B64_PEM: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==";

    #[test]
    fn current_context_cluster_and_user() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "config",
            &format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n\
                 - name: dev\n  cluster:\n    server: https://dev:6443\n\
                 - name: prod-cluster\n  cluster:\n    server: https://prod.example:6443/\n    certificate-authority: certs/ca.crt\n    tls-server-name: api.internal\n\
                 contexts:\n- name: dev\n  context: {{cluster: dev, user: dev}}\n\
                 - name: prod\n  context:\n    cluster: prod-cluster\n    user: admin\n    namespace: shop\n\
                 users:\n- name: admin\n  user:\n    client-certificate-data: {B64_PEM}\n    client-key: /abs/key.pem\n"
            ),
        );
        let api = resolve(p.to_str().unwrap()).unwrap();
        assert_eq!(api.base, "https://prod.example:6443");
        assert_eq!(api.ca, Some(Pem::File(dir.path().join("certs/ca.crt"))));
        assert_eq!(api.tls_server_name.as_deref(), Some("api.internal"));
        assert!(!api.insecure_skip_tls_verify);
        let (cert, key) = api.client_cert.unwrap();
        assert_eq!(cert, Pem::Data(b"-----BEGIN CERTIFICATE-----\n".to_vec()));
        assert_eq!(key, Pem::File(PathBuf::from("/abs/key.pem")));
        assert_eq!(api.token, None);
    }

    #[test]
    fn token_file_and_insecure_and_merged_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "a",
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n",
        );
        let b = write(
            dir.path(),
            "b",
            "current-context: ignored\nclusters:\n- name: k\n  cluster:\n    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n\
             users:\n- name: u\n  user:\n    tokenFile: tok\n",
        );
        let joined = std::env::join_paths([&a, &b]).unwrap();
        let api = resolve(joined.to_str().unwrap()).unwrap();
        assert_eq!(api.base, "https://10.0.0.1");
        assert!(api.insecure_skip_tls_verify);
        assert_eq!(api.token_file, Some(dir.path().join("tok")));
        assert!(api.source.contains("context c"), "{}", api.source);
    }

    #[test]
    fn errors_name_the_file_and_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "cfg",
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n\
             clusters:\n- name: k\n  cluster: {server: 'https://x'}\n\
             users:\n- name: u\n  user:\n    exec: {command: aws}\n",
        );
        let e = resolve(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("\"u\"") && e.contains("exec"), "{e}");

        let p = write(dir.path(), "nocontext", "clusters: []\n");
        let e = resolve(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("no current-context"), "{e}");

        let p = write(
            dir.path(),
            "missing",
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: gone}\n",
        );
        let e = resolve(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("cluster \"gone\""), "{e}");

        let p = write(
            dir.path(),
            "halfcert",
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n\
             clusters:\n- name: k\n  cluster: {server: 'https://x'}\n\
             users:\n- name: u\n  user: {client-key: k.pem}\n",
        );
        let e = resolve(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("both"), "{e}");

        let e = resolve(dir.path().join("absent").to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("absent"), "{e}");
    }
}
