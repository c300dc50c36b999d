//! The `manifests` source: Kubernetes manifests read from disk, as `kubectl apply -f`
//! would take them. A folder's files are read in name order (subfolders only when
//! recursive, as kubectl's `-R`), paths in the order given; a later object with the same
//! kind, namespace and name replaces an earlier one. Every object remembers its file and
//! line, so each problem is shown where it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir_config::{Diagnostic, Severity};

use crate::problem::Problem;
use crate::set::{Inserted, ObjectRef, ObjectSet};
use crate::yaml::{self, Doc};

/// Where an object was read.
#[derive(Debug, Clone)]
pub struct Location {
    /// The file.
    pub file: Arc<PathBuf>,
    /// The document (for field lines).
    pub doc: Arc<Doc>,
}

/// Manifests read from disk.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    /// The objects.
    pub set: ObjectSet,
    /// Where each object came from.
    pub locations: BTreeMap<ObjectRef, Location>,
    /// Problems found while reading (syntax, invalid objects, unsupported kinds).
    pub diagnostics: Vec<Diagnostic>,
    /// Files read, in order.
    pub files: Vec<PathBuf>,
    /// Objects of kinds weir does not read (Deployments...), by `apiVersion/kind`.
    pub skipped: BTreeMap<String, usize>,
}

/// A path that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct ReadError {
    /// The path.
    pub path: PathBuf,
    /// The cause.
    pub source: std::io::Error,
}

fn is_manifest(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("yaml" | "yml" | "json")
    )
}

/// Lists a folder as kubectl does: entries in name order, files with a manifest
/// extension, subfolders only when `recursive`.
fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let rd = std::fs::read_dir(dir).map_err(|source| ReadError {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            if recursive {
                walk(&p, recursive, out)?;
            }
        } else if is_manifest(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// The files `-f` paths stand for, in order.
pub fn files(paths: &[PathBuf], recursive: bool) -> Result<Vec<PathBuf>, ReadError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| ReadError {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(p, recursive, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

impl Manifests {
    /// Reads `-f` paths.
    pub fn read(paths: &[PathBuf], recursive: bool) -> Result<Manifests, ReadError> {
        let mut m = Manifests::default();
        for f in files(paths, recursive)? {
            let text = std::fs::read_to_string(&f).map_err(|source| ReadError {
                path: f.clone(),
                source,
            })?;
            m.add_text(&f, &text);
        }
        Ok(m)
    }

    /// Adds the documents of one file.
    pub fn add_text(&mut self, file: &Path, text: &str) {
        self.files.push(file.to_path_buf());
        let file = Arc::new(file.to_path_buf());
        let docs = match yaml::parse_documents(text) {
            Ok(d) => d,
            Err(e) => {
                self.diagnostics.push(diag(
                    Severity::Error,
                    &file,
                    Some(e.line).filter(|l| *l > 0),
                    "",
                    format!("{}; the file is not used", e.message),
                ));
                return;
            }
        };
        for doc in docs {
            self.add_doc(&file, doc);
        }
    }

    fn add_doc(&mut self, file: &Arc<PathBuf>, doc: Doc) {
        if doc
            .value
            .get("kind")
            .and_then(|k| k.as_str())
            .is_some_and(|k| k.ends_with("List"))
            && doc.value.get("items").is_some_and(|i| i.is_array())
        {
            let items = doc
                .value
                .get("items")
                .and_then(|i| i.as_array())
                .cloned()
                .unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                let sub = doc.item(i, item);
                self.add_doc(file, sub);
            }
            return;
        }
        let doc = Arc::new(doc);
        match self.set.insert_json(doc.value.clone()) {
            Ok(Inserted::Stored { key, .. }) => {
                self.locations.insert(
                    key,
                    Location {
                        file: file.clone(),
                        doc,
                    },
                );
            }
            Ok(Inserted::Skipped { api_version, kind }) => {
                *self
                    .skipped
                    .entry(format!("{api_version}/{kind}"))
                    .or_default() += 1;
            }
            Ok(Inserted::Unsupported { kind, reason }) => {
                let name = doc
                    .value
                    .pointer("/metadata/name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("?");
                self.diagnostics.push(diag(
                    Severity::Warning,
                    file,
                    Some(doc.line),
                    &format!("{kind} {name}"),
                    format!("{reason}; ignored"),
                ));
            }
            Err(e) => {
                let line = doc.line_of(&yaml::parse_field(&e.field));
                self.diagnostics.push(diag(
                    Severity::Error,
                    file,
                    Some(line),
                    &e.field,
                    format!("{}; the object is not used", e.message),
                ));
            }
        }
    }

    /// A translation problem as a located diagnostic.
    pub fn locate(&self, p: &Problem) -> Diagnostic {
        let (file, line) = match self.locations.get(&p.object) {
            Some(l) => (
                Some(l.file.as_ref().clone()),
                Some(l.doc.line_of(&yaml::parse_field(&p.field))),
            ),
            None => (None, None),
        };
        let path = if p.field.is_empty() {
            p.object.to_string()
        } else {
            format!("{} {}", p.object, p.field)
        };
        Diagnostic {
            file,
            line,
            column: None,
            path,
            message: p.message.clone(),
            severity: p.severity,
        }
    }
}

fn diag(
    severity: Severity,
    file: &Path,
    line: Option<usize>,
    path: &str,
    message: String,
) -> Diagnostic {
    Diagnostic {
        file: Some(file.to_path_buf()),
        line,
        column: None,
        path: path.to_owned(),
        message,
        severity,
    }
}

/// Parses an `--endpoint NAMESPACE/SERVICE:PORT=HOST:PORT` value.
pub fn parse_endpoint(v: &str) -> Result<(crate::options::ServicePortKey, String), String> {
    let (svc, target) = v
        .split_once('=')
        .ok_or_else(|| format!("--endpoint {v:?}: expected NAMESPACE/SERVICE:PORT=HOST:PORT"))?;
    let (ns, rest) = svc.split_once('/').ok_or_else(|| {
        format!("--endpoint {v:?}: the service needs its namespace (NAMESPACE/SERVICE:PORT)")
    })?;
    let (name, port) = rest.rsplit_once(':').ok_or_else(|| {
        format!("--endpoint {v:?}: the service needs its port (NAMESPACE/SERVICE:PORT)")
    })?;
    let target = target.trim();
    let ok_target = target
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if ns.is_empty() || name.is_empty() || port.is_empty() || !ok_target {
        return Err(format!(
            "--endpoint {v:?}: expected NAMESPACE/SERVICE:PORT=HOST:PORT"
        ));
    }
    Ok((
        (ns.to_owned(), name.to_owned(), port.to_owned()),
        target.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let (k, t) = parse_endpoint("todo/backend:8000=127.0.0.1:9101").unwrap();
        assert_eq!(k, ("todo".into(), "backend".into(), "8000".into()));
        assert_eq!(t, "127.0.0.1:9101");
        assert!(parse_endpoint("backend:8000=127.0.0.1:9101").is_err());
        assert!(parse_endpoint("a/b:80=host").is_err());
        assert!(parse_endpoint("a/b=h:1").is_err());
    }
}
