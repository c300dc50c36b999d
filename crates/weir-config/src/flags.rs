//! Traefik-style overrides of the static configuration.
//!
//! - Flags: `--entrypoints.web.address=:8000`, `--api.insecure` (a bare flag is `true`),
//!   `--entrypoints.web.forwardedheaders.trustedips=10.0.0.0/8,127.0.0.1` (a comma list
//!   where a list is expected), `--entrypoints.websecure.http.tls.domains[0].main=x`.
//! - Environment: `WEIR_ENTRYPOINTS_WEB_ADDRESS=:8000` (underscore-separated; a numeric
//!   segment indexes a list).
//!
//! Segments match known option names case-insensitively; new map keys (entrypoint names,
//! ...) are lower-cased, as Traefik does. Precedence: file < environment < flags.
//! An unknown flag path is an error; an unknown `WEIR_*` variable is a warning (the
//! environment often holds unrelated variables).
//!
//! Note: Traefik treats file, flags and environment as mutually exclusive sources; weir
//! layers them instead.

use std::path::Path;
use std::rc::Rc;

use crate::de::{Ctx, from_node};
use crate::diagnostic::{ConfigError, Diagnostic, Origin, Parsed};
use crate::load::{parse_tree, read_file};
use crate::node::{Entry, Loc, Node, Value};
use crate::static_config::StaticConfiguration;

/// Prefix of environment variables read as overrides.
pub const ENV_PREFIX: &str = "WEIR_";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
    /// A numeric env segment: an index into a list, or a key of a mapping.
    Numeric(String, usize),
}

#[derive(Debug, Clone)]
struct Override {
    origin: Rc<Origin>,
    name: String,
    segments: Vec<Segment>,
    value: String,
}

fn bad(name: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Override {
        source_name: name.to_string(),
        message: message.into(),
    }
}

fn parse_flag(arg: &str) -> Result<Override, ConfigError> {
    let body = arg
        .strip_prefix("--")
        .or_else(|| arg.strip_prefix('-'))
        .ok_or_else(|| {
            bad(
                arg,
                "expected a flag such as --entrypoints.web.address=:8000",
            )
        })?;
    let (path, value) = match body.split_once('=') {
        Some((p, v)) => (p, v.to_string()),
        None => (body, "true".to_string()),
    };
    let flag = format!("--{path}");
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return Err(bad(&flag, "empty option name"));
        }
        segments.push(Segment::Key(key.to_string()));
        while let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| bad(&flag, "unclosed `[` in option name"))?;
            let idx: usize = r[..end]
                .parse()
                .map_err(|_| bad(&flag, "list index must be a number"))?;
            if idx > 1024 {
                return Err(bad(&flag, "list index too large"));
            }
            segments.push(Segment::Index(idx));
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return Err(bad(&flag, "unexpected text after `]`"));
        }
    }
    Ok(Override {
        origin: Rc::new(Origin::Flag(flag.clone())),
        name: flag,
        segments,
        value,
    })
}

fn parse_env(name: &str, value: &str) -> Option<Result<Override, ConfigError>> {
    let prefix = name.get(..ENV_PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(ENV_PREFIX) {
        return None;
    }
    let rest = &name[ENV_PREFIX.len()..];
    let mut segments = Vec::new();
    for part in rest.split('_') {
        if part.is_empty() {
            return Some(Err(bad(name, "empty segment in variable name")));
        }
        let lower = part.to_ascii_lowercase();
        match part.parse::<usize>() {
            Ok(i) if i <= 1024 => segments.push(Segment::Numeric(lower, i)),
            _ => segments.push(Segment::Key(lower)),
        }
    }
    Some(Ok(Override {
        origin: Rc::new(Origin::Env(name.to_string())),
        name: name.to_string(),
        segments,
        value: value.to_string(),
    }))
}

fn as_map<'n>(node: &'n mut Node, loc: &Loc) -> &'n mut Vec<Entry> {
    if !matches!(node.value, Value::Map(_)) {
        node.value = Value::Map(Vec::new());
        node.loc = loc.clone();
    }
    match &mut node.value {
        Value::Map(entries) => entries,
        _ => unreachable!("just set to a map"),
    }
}

fn as_seq<'n>(node: &'n mut Node, loc: &Loc, len: usize) -> &'n mut Vec<Node> {
    if !matches!(node.value, Value::Seq(_)) {
        node.value = Value::Seq(Vec::new());
        node.loc = loc.clone();
    }
    match &mut node.value {
        Value::Seq(items) => {
            while items.len() < len {
                items.push(Node::null(loc.clone()));
            }
            items
        }
        _ => unreachable!("just set to a list"),
    }
}

fn enter_key<'n>(node: &'n mut Node, key: &str, loc: &Loc) -> &'n mut Node {
    let entries = as_map(node, loc);
    let idx = match entries.iter().position(|e| e.key.eq_ignore_ascii_case(key)) {
        Some(i) => i,
        None => {
            entries.push(Entry {
                key: key.to_ascii_lowercase(),
                key_loc: loc.clone(),
                value: Node::null(loc.clone()),
            });
            entries.len() - 1
        }
    };
    &mut entries[idx].value
}

fn apply(root: &mut Node, ov: &Override) {
    let loc = Loc::unknown(&ov.origin);
    let mut cur = root;
    for seg in &ov.segments {
        cur = match seg {
            Segment::Key(k) => enter_key(cur, k, &loc),
            Segment::Index(i) => &mut as_seq(cur, &loc, i + 1)[*i],
            Segment::Numeric(k, i) => {
                if matches!(cur.value, Value::Map(_)) {
                    enter_key(cur, k, &loc)
                } else {
                    &mut as_seq(cur, &loc, i + 1)[*i]
                }
            }
        };
    }
    // A bare flag naming a section (`--ping`) turns it on without erasing its options.
    if ov.value.eq_ignore_ascii_case("true") && matches!(cur.value, Value::Map(_)) {
        return;
    }
    *cur = Node::scalar(ov.value.clone(), true, loc);
}

/// Applies environment variables then flags to a document tree.
fn apply_all(
    root: &mut Node,
    args: &[String],
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut env_overrides: Vec<Override> = Vec::new();
    for (k, v) in env {
        if let Some(ov) = parse_env(&k, &v) {
            env_overrides.push(ov?);
        }
    }
    // Deterministic order whatever the environment's order.
    env_overrides.sort_by(|a, b| a.name.cmp(&b.name));
    let flags: Vec<Override> = args
        .iter()
        .map(|a| parse_flag(a))
        .collect::<Result<_, _>>()?;
    for ov in env_overrides.iter().chain(flags.iter()) {
        apply(root, ov);
    }
    Ok(())
}

fn finish(
    root: &Node,
    mut diags: Vec<Diagnostic>,
) -> Result<Parsed<StaticConfiguration>, ConfigError> {
    let ctx = Ctx::default();
    let value: StaticConfiguration = from_node(root, &ctx)?;
    let mut unknown = ctx.unknown.into_inner();
    unknown.sort_by_key(|(_, d)| (d.line, d.column));
    for (origin, d) in unknown {
        if let Origin::Flag(flag) = origin {
            return Err(ConfigError::Override {
                source_name: flag,
                message: format!("unknown option {:?}", d.path),
            });
        }
        diags.push(d);
    }
    for d in value.validate() {
        diags.push(root.locate(&d.path).diagnostic(d));
    }
    Ok(Parsed {
        value,
        diagnostics: diags,
    })
}

/// Applies `WEIR_*` variables from `env`, then `args` (flags), over an already typed
/// configuration. The result is not yet [`StaticConfiguration::effective`].
pub fn apply_overrides(
    base: &StaticConfiguration,
    args: &[String],
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Parsed<StaticConfiguration>, ConfigError> {
    let json = serde_json::to_value(base).map_err(|e| bad("configuration", e.to_string()))?;
    let mut root = Node::from_json(&json, &Rc::new(Origin::Default));
    apply_all(&mut root, args, env)?;
    finish(&root, Vec::new())
}

/// Parses a static configuration document (if any) and layers the environment and flags
/// over it before typing, so file diagnostics keep their lines. Without a document, the
/// overrides apply to an empty configuration (Traefik defaults); callers wanting weir's
/// embedded default when nothing at all is given use
/// [`StaticConfiguration::embedded_default`].
pub fn parse_static_with_overrides(
    document: Option<(&str, &Origin)>,
    args: &[String],
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Parsed<StaticConfiguration>, ConfigError> {
    let mut diags = Vec::new();
    let mut root = match document {
        Some((text, origin)) => {
            let origin = Rc::new(origin.clone());
            let format = match origin.as_ref() {
                Origin::File(p) => crate::load::Format::from_path(p),
                Origin::Named(n) => crate::load::Format::from_path(Path::new(n)),
                _ => None,
            }
            .unwrap_or(crate::load::Format::Yaml);
            parse_tree(text, &origin, format, &mut diags)?
        }
        None => Node::null(Loc::unknown(&Rc::new(Origin::Default))),
    };
    apply_all(&mut root, args, env)?;
    finish(&root, diags)
}

/// Reads a static configuration file (if any), then applies environment and flags.
pub fn load_static_with_overrides(
    path: Option<&Path>,
    args: &[String],
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Parsed<StaticConfiguration>, ConfigError> {
    match path {
        Some(path) => {
            let (text, _) = read_file(path)?;
            parse_static_with_overrides(Some((&text, &Origin::file(path))), args, env)
        }
        None => parse_static_with_overrides(None, args, env),
    }
}
