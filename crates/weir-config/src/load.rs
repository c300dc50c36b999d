//! Reading documents: format detection, parsing, typed deserialization, diagnostics.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::de::DeserializeOwned;

use crate::de::{Ctx, from_node};
use crate::diagnostic::{ConfigError, Diagnostic, Origin, Parsed};
use crate::dynamic;
use crate::node::{self, Node};
use crate::static_config::StaticConfiguration;

/// A document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (also accepts JSON, a subset of YAML).
    Yaml,
    /// TOML.
    Toml,
}

impl Format {
    /// The format for a file name: `.yml`/`.yaml`/`.json` → YAML, `.toml` → TOML.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "yml" | "yaml" | "json" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    fn for_origin(origin: &Origin) -> Format {
        let path = match origin {
            Origin::File(p) => p.clone(),
            Origin::Named(n) => PathBuf::from(n),
            _ => return Format::Yaml,
        };
        Format::from_path(&path).unwrap_or(Format::Yaml)
    }
}

/// Parses text into the located tree.
pub(crate) fn parse_tree(
    text: &str,
    origin: &Rc<Origin>,
    format: Format,
    diags: &mut Vec<Diagnostic>,
) -> Result<Node, ConfigError> {
    match format {
        Format::Yaml => node::parse_yaml(text, origin, diags),
        Format::Toml => node::parse_toml(text, origin),
    }
}

/// Deserializes a tree; unknown fields become warnings, `validate` diagnostics get
/// located against the tree.
pub(crate) fn typed<T: DeserializeOwned>(
    root: &Node,
    mut diags: Vec<Diagnostic>,
    validate: impl FnOnce(&T) -> Vec<Diagnostic>,
) -> Result<Parsed<T>, ConfigError> {
    let ctx = Ctx::default();
    let value: T = from_node(root, &ctx)?;
    let mut unknown: Vec<Diagnostic> = ctx
        .unknown
        .into_inner()
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    unknown.sort_by_key(|d| (d.line, d.column));
    diags.extend(unknown);
    for d in validate(&value) {
        diags.push(root.locate(&d.path).diagnostic(d));
    }
    Ok(Parsed {
        value,
        diagnostics: diags,
    })
}

fn parse_as<T: DeserializeOwned>(
    text: &str,
    origin: &Origin,
    format: Format,
    validate: impl FnOnce(&T) -> Vec<Diagnostic>,
) -> Result<Parsed<T>, ConfigError> {
    let origin = Rc::new(origin.clone());
    let mut diags = Vec::new();
    let root = parse_tree(text, &origin, format, &mut diags)?;
    typed(&root, diags, validate)
}

/// Parses a dynamic configuration; the format comes from the origin's file extension
/// (YAML when there is none).
pub fn parse_dynamic(
    text: &str,
    origin: &Origin,
) -> Result<Parsed<dynamic::Configuration>, ConfigError> {
    parse_dynamic_as(text, origin, Format::for_origin(origin))
}

/// Parses a dynamic configuration in the given format.
pub fn parse_dynamic_as(
    text: &str,
    origin: &Origin,
    format: Format,
) -> Result<Parsed<dynamic::Configuration>, ConfigError> {
    parse_as(text, origin, format, dynamic::Configuration::validate)
}

/// Parses a static configuration (not yet [`StaticConfiguration::effective`]).
pub fn parse_static(
    text: &str,
    origin: &Origin,
) -> Result<Parsed<StaticConfiguration>, ConfigError> {
    parse_static_as(text, origin, Format::for_origin(origin))
}

/// Parses a static configuration in the given format.
pub fn parse_static_as(
    text: &str,
    origin: &Origin,
    format: Format,
) -> Result<Parsed<StaticConfiguration>, ConfigError> {
    parse_as(text, origin, format, StaticConfiguration::validate)
}

/// Reads a file and picks its format from the extension (`.yml`, `.yaml`, `.toml`;
/// `.json` is read as YAML).
pub fn read_file(path: &Path) -> Result<(String, Format), ConfigError> {
    let format = Format::from_path(path).ok_or_else(|| ConfigError::UnsupportedFormat {
        path: path.to_path_buf(),
    })?;
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((text, format))
}

/// Loads a dynamic configuration file.
pub fn load_dynamic_file(
    path: impl AsRef<Path>,
) -> Result<Parsed<dynamic::Configuration>, ConfigError> {
    let path = path.as_ref();
    let (text, format) = read_file(path)?;
    parse_dynamic_as(&text, &Origin::file(path), format)
}

/// Loads a static configuration file (not yet [`StaticConfiguration::effective`]).
pub fn load_static_file(
    path: impl AsRef<Path>,
) -> Result<Parsed<StaticConfiguration>, ConfigError> {
    let path = path.as_ref();
    let (text, format) = read_file(path)?;
    parse_static_as(&text, &Origin::file(path), format)
}
