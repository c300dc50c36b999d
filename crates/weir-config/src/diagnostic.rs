//! Diagnostics (warnings and per-element errors) and the error returned when a
//! document cannot be read at all.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a configuration document came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk.
    File(PathBuf),
    /// A document without a file (tests, an API upload, ...), named for messages.
    Named(String),
    /// A command-line flag (the flag as written, e.g. `--api.insecure`).
    Flag(String),
    /// An environment variable (its name).
    Env(String),
    /// A value that came from defaults or from an already typed configuration.
    Default,
}

impl Origin {
    /// An origin for a file path.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Origin::File(path.into())
    }

    /// The file shown in diagnostics, if the origin names one.
    pub fn display_file(&self) -> Option<PathBuf> {
        match self {
            Origin::File(p) => Some(p.clone()),
            Origin::Named(n) => Some(PathBuf::from(n)),
            Origin::Flag(_) | Origin::Env(_) | Origin::Default => None,
        }
    }

    /// A short note for values that did not come from a file (`flag --x`, `env WEIR_X`).
    pub(crate) fn note(&self) -> Option<String> {
        match self {
            Origin::Flag(f) => Some(format!("flag {f}")),
            Origin::Env(e) => Some(format!("environment variable {e}")),
            _ => None,
        }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The element it names cannot be used (it will be disabled), the rest works.
    Error,
    /// Something was ignored or is deprecated; the configuration still works.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding about a configuration document, located as precisely as known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or document name) the finding is in.
    pub file: Option<PathBuf>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// Dotted path of the element, e.g. `http.routers.foo.rulee`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// A warning without location.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            line: None,
            column: None,
            path: path.into(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }

    /// An error without location.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            ..Diagnostic::warning(path, message)
        }
    }

    /// Sets the file (builder style).
    pub fn in_file(mut self, file: impl AsRef<Path>) -> Self {
        self.file = Some(file.as_ref().to_path_buf());
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

pub(crate) fn fmt_location(
    f: &mut fmt::Formatter<'_>,
    file: Option<&Path>,
    line: Option<usize>,
    column: Option<usize>,
) -> fmt::Result {
    let mut any = false;
    if let Some(file) = file {
        write!(f, "{}", file.display())?;
        any = true;
    }
    if let Some(line) = line {
        if any {
            f.write_str(":")?;
        }
        write!(f, "{line}")?;
        if let Some(col) = column {
            write!(f, ":{col}")?;
        }
        any = true;
    }
    if any {
        f.write_str(": ")?;
    }
    Ok(())
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_location(f, self.file.as_deref(), self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// A parsed value together with what was found while parsing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// The configuration.
    pub value: T,
    /// Warnings (unknown fields, deprecations) and per-element errors.
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Parsed<T> {
    /// True when some diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The document cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Syntax error, or a value of the wrong type.
    #[error("{}", DisplayInvalid(self))]
    Invalid {
        /// The file, if known.
        file: Option<PathBuf>,
        /// 1-based line.
        line: Option<usize>,
        /// 1-based column.
        column: Option<usize>,
        /// Dotted path of the field (empty for syntax errors).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file extension is not one of .yml, .yaml, .toml.
    #[error("{}: unsupported configuration format (expected .yml, .yaml or .toml)", path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
    /// A flag or environment variable could not be applied.
    #[error("{source_name}: {message}")]
    Override {
        /// The flag (`--entrypoints.web.adress`) or variable name.
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

struct DisplayInvalid<'a>(&'a ConfigError);

impl fmt::Display for DisplayInvalid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ConfigError::Invalid {
            file,
            line,
            column,
            path,
            message,
        } = self.0
        {
            fmt_location(f, file.as_deref(), *line, *column)?;
            if !path.is_empty() {
                write!(f, "{path}: ")?;
            }
            f.write_str(message)?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// (file, line, column) when the error has a location.
    pub fn location(&self) -> (Option<&Path>, Option<usize>, Option<usize>) {
        match self {
            ConfigError::Invalid {
                file, line, column, ..
            } => (file.as_deref(), *line, *column),
            ConfigError::Io { path, .. } | ConfigError::UnsupportedFormat { path } => {
                (Some(path.as_path()), None, None)
            }
            ConfigError::Override { .. } => (None, None, None),
        }
    }

    /// The field path named by the error, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { path, .. } if !path.is_empty() => Some(path),
            _ => None,
        }
    }
}
