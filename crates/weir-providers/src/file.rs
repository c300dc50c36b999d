//! The file provider: reads one file (`filename`) or every `.yml`/`.yaml`/`.toml` file of
//! a directory (`directory`, recursively, in name order, skipping names that start with
//! `.` such as Kubernetes' `..data`), and reloads when they change.
//!
//! Watching covers the *directory*, because editors and ConfigMap updates replace files
//! by rename. Bursts of events are debounced; a configuration that fails to parse is
//! reported (logged and sent as `Err`) and the last good one stays in force, since nothing
//! new is sent.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use weir_config::dynamic::Configuration;
use weir_config::{ConfigError, Diagnostic, load_dynamic_file};

use crate::ProviderSnapshot;

/// The longest a burst of changes can delay a reload.
const MAX_DEBOUNCE: Duration = Duration::from_secs(2);

/// Quiet period after the last file event before reloading.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);

/// What the file provider reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// One file.
    Filename(PathBuf),
    /// Every configuration file under a directory.
    Directory(PathBuf),
}

/// File provider settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProviderConfig {
    /// File or directory.
    pub source: FileSource,
    /// Reload on change.
    pub watch: bool,
    /// Quiet period before a reload (default 200 ms).
    pub debounce: Duration,
}

impl FileProviderConfig {
    /// Settings for one file, watched.
    pub fn filename(path: impl Into<PathBuf>) -> Self {
        FileProviderConfig {
            source: FileSource::Filename(path.into()),
            watch: true,
            debounce: DEFAULT_DEBOUNCE,
        }
    }

    /// Settings for a directory, watched.
    pub fn directory(path: impl Into<PathBuf>) -> Self {
        FileProviderConfig {
            source: FileSource::Directory(path.into()),
            watch: true,
            debounce: DEFAULT_DEBOUNCE,
        }
    }

    /// From the static `providers.file` section. Relative paths are resolved against
    /// `base_dir` when given (e.g. the static file's directory), else left relative to the
    /// working directory (Traefik's behaviour).
    pub fn from_static(
        cfg: &weir_config::static_config::FileProviderConfig,
        base_dir: Option<&Path>,
    ) -> Result<Self, FileProviderError> {
        let resolve = |p: &str| match base_dir {
            Some(base) if Path::new(p).is_relative() => base.join(p),
            _ => PathBuf::from(p),
        };
        let source = match (cfg.filename.is_empty(), cfg.directory.is_empty()) {
            (false, true) => FileSource::Filename(resolve(&cfg.filename)),
            (true, false) => FileSource::Directory(resolve(&cfg.directory)),
            (false, false) => {
                return Err(FileProviderError::Settings(
                    "providers.file: filename and directory are mutually exclusive".into(),
                ));
            }
            (true, true) => {
                return Err(FileProviderError::Settings(
                    "providers.file: set filename or directory".into(),
                ));
            }
        };
        Ok(FileProviderConfig {
            source,
            watch: cfg.watch,
            debounce: DEFAULT_DEBOUNCE,
        })
    }
}

/// Why the provider could not produce a configuration.
#[derive(Debug, thiserror::Error)]
pub enum FileProviderError {
    /// A file does not parse (syntax, wrong type) or cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A directory cannot be listed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file watcher failed.
    #[error("file watcher: {0}")]
    Watch(#[from] notify::Error),
    /// Invalid provider settings.
    #[error("{0}")]
    Settings(String),
}

/// What [`FileProvider::watch`] sends: a new configuration, or why the files could not be
/// loaded (the previous configuration stays in force).
pub type FileUpdate = Result<ProviderSnapshot, FileProviderError>;

/// The file provider.
#[derive(Debug, Clone)]
pub struct FileProvider {
    config: FileProviderConfig,
}

impl FileProvider {
    /// The provider's name (`name@file`).
    pub const NAME: &'static str = "file";

    /// A provider with these settings.
    pub fn new(config: FileProviderConfig) -> Self {
        FileProvider { config }
    }

    /// The settings.
    pub fn config(&self) -> &FileProviderConfig {
        &self.config
    }

    /// Loads the configuration once.
    pub fn load(&self) -> Result<ProviderSnapshot, FileProviderError> {
        let (config, diagnostics) = match &self.config.source {
            FileSource::Filename(path) => {
                let parsed = load_dynamic_file(path)?;
                (parsed.value, parsed.diagnostics)
            }
            FileSource::Directory(dir) => load_directory(dir)?,
        };
        Ok(ProviderSnapshot {
            provider: Self::NAME.to_string(),
            config,
            diagnostics,
        })
    }

    /// Sends the current configuration, then (when `watch` is on) a new one after each
    /// change, until `tx` is closed. A load failure is logged and sent as `Err`; the
    /// receiver keeps the last good configuration. Identical consecutive results are sent
    /// once. Returns an error only when the watcher cannot be set up.
    pub async fn watch(self, tx: mpsc::Sender<FileUpdate>) -> Result<(), FileProviderError> {
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<()>();
        let watch_dir = self.watch_dir();
        let source = self.config.source.clone();
        // Set the watcher up before the first load so no change slips between them.
        let watcher = if self.config.watch {
            let mut w =
                notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
                    Ok(ev)
                        if is_relevant(&ev.kind)
                            && ev.paths.iter().any(|p| concerns(&source, p)) =>
                    {
                        let _ = ev_tx.send(());
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "file provider: watcher error"),
                })?;
            w.watch(&watch_dir, RecursiveMode::Recursive)?;
            Some(w)
        } else {
            None
        };

        let mut last: Option<Result<ProviderSnapshot, String>> = None;
        if !self.reload_and_send(&tx, &mut last).await {
            return Ok(());
        }
        let Some(_watcher) = watcher else {
            return Ok(());
        };
        loop {
            tokio::select! {
                _ = tx.closed() => return Ok(()),
                ev = ev_rx.recv() => {
                    if ev.is_none() {
                        return Ok(());
                    }
                }
            }
            // Debounce: wait for a quiet period, but not forever when something keeps
            // writing.
            let give_up = tokio::time::Instant::now() + MAX_DEBOUNCE;
            while tokio::time::Instant::now() < give_up {
                match tokio::time::timeout(self.config.debounce, ev_rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) | Err(_) => break,
                }
            }
            if !self.reload_and_send(&tx, &mut last).await {
                return Ok(());
            }
        }
    }

    /// Reloads and sends when the result differs from the last one; false when the
    /// receiver is gone.
    async fn reload_and_send(
        &self,
        tx: &mpsc::Sender<FileUpdate>,
        last: &mut Option<Result<ProviderSnapshot, String>>,
    ) -> bool {
        let provider = self.clone();
        let result = match tokio::task::spawn_blocking(move || provider.load()).await {
            Ok(r) => r,
            Err(e) => Err(FileProviderError::Settings(format!(
                "load task failed: {e}"
            ))),
        };
        let key = match &result {
            Ok(s) => Ok(s.clone()),
            Err(e) => Err(e.to_string()),
        };
        if last.as_ref() == Some(&key) {
            return true;
        }
        match &result {
            Ok(s) => tracing::info!(
                provider = Self::NAME,
                diagnostics = s.diagnostics.len(),
                "configuration loaded"
            ),
            Err(e) => tracing::error!(
                provider = Self::NAME,
                error = %e,
                "configuration not loaded; keeping the previous one"
            ),
        }
        *last = Some(key);
        tx.send(result).await.is_ok()
    }

    fn watch_dir(&self) -> PathBuf {
        match &self.config.source {
            FileSource::Filename(p) => match p.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
            FileSource::Directory(d) => d.clone(),
        }
    }
}

/// Whether a change to `path` can change the configuration: the file itself (written in
/// place or renamed over), a configuration file or folder of the directory, or the
/// `..data` symlink swap of a Kubernetes ConfigMap volume. Other files in the same folder
/// (logs, editors' swap files) are ignored.
fn concerns(source: &FileSource, path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with("..") {
        return true;
    }
    match source {
        FileSource::Filename(file) => file.file_name().is_some_and(|f| f == name),
        FileSource::Directory(_) => is_config_file(path) || path.is_dir() || !path.exists(),
    }
}

fn is_relevant(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn is_config_file(path: &Path) -> bool {
    weir_config::Format::from_path(path).is_some()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| !e.eq_ignore_ascii_case("json"))
}

/// Lists configuration files under `dir`, recursively, sorted by path; names starting
/// with `.` are skipped (files and directories), symlinks are followed.
fn list_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), FileProviderError> {
    let io = |source| FileProviderError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for path in entries {
        // `metadata` follows symlinks (ConfigMap files point into `..data`).
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if depth < 16 {
                list_files(&path, out, depth + 1)?;
            }
        } else if meta.is_file() && is_config_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn load_directory(dir: &Path) -> Result<(Configuration, Vec<Diagnostic>), FileProviderError> {
    let mut files = Vec::new();
    list_files(dir, &mut files, 0)?;
    let mut merged = Configuration::default();
    let mut diagnostics = Vec::new();
    let mut owners: HashMap<String, PathBuf> = HashMap::new();
    for file in files {
        let parsed = load_dynamic_file(&file)?;
        diagnostics.extend(parsed.diagnostics);
        merge(
            &mut merged,
            parsed.value,
            &file,
            &mut owners,
            &mut diagnostics,
        );
    }
    Ok((merged, diagnostics))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn merge_map<T>(
    section: &str,
    dst: &mut BTreeMap<String, T>,
    src: BTreeMap<String, T>,
    file: &Path,
    owners: &mut HashMap<String, PathBuf>,
    diags: &mut Vec<Diagnostic>,
) {
    for (name, value) in src {
        let key = format!("{section}.{name}");
        if let Some(first) = owners.get(&key) {
            diags.push(
                Diagnostic::warning(
                    key.clone(),
                    format!(
                        "defined in {} and {}; keeping the first",
                        file_name(first),
                        file_name(file)
                    ),
                )
                .in_file(file),
            );
            continue;
        }
        owners.insert(key, file.to_path_buf());
        dst.insert(name, value);
    }
}

/// Merges one file's configuration into the accumulated one (first definition wins).
fn merge(
    dst: &mut Configuration,
    src: Configuration,
    file: &Path,
    owners: &mut HashMap<String, PathBuf>,
    diags: &mut Vec<Diagnostic>,
) {
    let Configuration {
        http,
        tcp,
        udp,
        tls,
    } = src;
    merge_map(
        "http.routers",
        &mut dst.http.routers,
        http.routers,
        file,
        owners,
        diags,
    );
    merge_map(
        "http.services",
        &mut dst.http.services,
        http.services,
        file,
        owners,
        diags,
    );
    merge_map(
        "http.middlewares",
        &mut dst.http.middlewares,
        http.middlewares,
        file,
        owners,
        diags,
    );
    merge_map(
        "http.serversTransports",
        &mut dst.http.servers_transports,
        http.servers_transports,
        file,
        owners,
        diags,
    );
    merge_map(
        "tcp.routers",
        &mut dst.tcp.routers,
        tcp.routers,
        file,
        owners,
        diags,
    );
    merge_map(
        "tcp.services",
        &mut dst.tcp.services,
        tcp.services,
        file,
        owners,
        diags,
    );
    merge_map(
        "tcp.middlewares",
        &mut dst.tcp.middlewares,
        tcp.middlewares,
        file,
        owners,
        diags,
    );
    merge_map(
        "tcp.serversTransports",
        &mut dst.tcp.servers_transports,
        tcp.servers_transports,
        file,
        owners,
        diags,
    );
    merge_map(
        "udp.routers",
        &mut dst.udp.routers,
        udp.routers,
        file,
        owners,
        diags,
    );
    merge_map(
        "udp.services",
        &mut dst.udp.services,
        udp.services,
        file,
        owners,
        diags,
    );
    merge_map(
        "tls.options",
        &mut dst.tls.options,
        tls.options,
        file,
        owners,
        diags,
    );
    merge_map(
        "tls.stores",
        &mut dst.tls.stores,
        tls.stores,
        file,
        owners,
        diags,
    );
    for cert in tls.certificates {
        if !dst.tls.certificates.contains(&cert) {
            dst.tls.certificates.push(cert);
        }
    }
}
