//! A located document tree built from YAML or TOML; the typed model is deserialized from
//! it (see `de.rs`). Keeping our own tree gives line numbers for every key and value,
//! case-insensitive struct keys, and a place to apply flag/env overrides.

use std::collections::HashMap;
use std::rc::Rc;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use crate::diagnostic::{ConfigError, Diagnostic, Origin};

/// Maximum nesting accepted, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub origin: Rc<Origin>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Loc {
    pub fn new(origin: &Rc<Origin>, line: usize, column: usize) -> Self {
        Loc {
            origin: origin.clone(),
            line: Some(line),
            column: Some(column),
        }
    }

    pub fn unknown(origin: &Rc<Origin>) -> Self {
        Loc {
            origin: origin.clone(),
            line: None,
            column: None,
        }
    }

    pub fn diagnostic(&self, d: Diagnostic) -> Diagnostic {
        let mut d = Diagnostic {
            file: self.origin.display_file(),
            line: self.line,
            column: self.column,
            ..d
        };
        if let Some(note) = self.origin.note() {
            d.message = format!("{} (from {note})", d.message);
        }
        d
    }

    pub fn error(&self, path: &str, message: impl Into<String>) -> ConfigError {
        let mut message = message.into();
        if let Some(note) = self.origin.note() {
            message = format!("{message} (from {note})");
        }
        ConfigError::Invalid {
            file: self.origin.display_file(),
            line: self.line,
            column: self.column,
            path: path.to_string(),
            message,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    /// `plain` is true when the type may be inferred from the text (YAML plain scalars,
    /// TOML numbers and booleans, flag values); quoted strings are never numbers.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub key_loc: Loc,
    pub value: Node,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub value: Value,
    pub loc: Loc,
}

impl Node {
    pub fn null(loc: Loc) -> Self {
        Node {
            value: Value::Null,
            loc,
        }
    }

    pub fn scalar(text: impl Into<String>, plain: bool, loc: Loc) -> Self {
        Node {
            value: Value::Scalar {
                text: text.into(),
                plain,
            },
            loc,
        }
    }

    /// Finds the node at a dotted path (segments compared case-insensitively); returns the
    /// deepest node found on the way, so a diagnostic always gets some location.
    pub fn locate(&self, path: &str) -> &Loc {
        let mut node = self;
        let mut loc = &self.loc;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            let Value::Map(entries) = &node.value else {
                break;
            };
            match entries.iter().find(|e| e.key.eq_ignore_ascii_case(seg)) {
                Some(e) => {
                    loc = &e.key_loc;
                    node = &e.value;
                }
                None => break,
            }
        }
        loc
    }

    pub fn from_json(v: &serde_json::Value, origin: &Rc<Origin>) -> Node {
        let loc = Loc::unknown(origin);
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Scalar {
                text: b.to_string(),
                plain: true,
            },
            serde_json::Value::Number(n) => Value::Scalar {
                text: n.to_string(),
                plain: true,
            },
            serde_json::Value::String(s) => Value::Scalar {
                text: s.clone(),
                plain: false,
            },
            serde_json::Value::Array(a) => {
                Value::Seq(a.iter().map(|v| Node::from_json(v, origin)).collect())
            }
            serde_json::Value::Object(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| Entry {
                        key: k.clone(),
                        key_loc: loc.clone(),
                        value: Node::from_json(v, origin),
                    })
                    .collect(),
            ),
        };
        Node { value, loc }
    }
}

// ---------------------------------------------------------------- YAML

fn scan_error(e: &ScanError, origin: &Origin) -> ConfigError {
    ConfigError::Invalid {
        file: origin.display_file(),
        line: Some(e.marker().line()),
        column: Some(e.marker().col() + 1),
        path: String::new(),
        message: format!("YAML syntax error: {}", e.info()),
    }
}

struct YamlBuilder<'i> {
    parser: Parser<'i, serde_saphyr::granit_parser::StrInput<'i>>,
    origin: Rc<Origin>,
    anchors: HashMap<usize, Node>,
}

impl<'i> YamlBuilder<'i> {
    fn loc(&self, span: &Span) -> Loc {
        Loc::new(&self.origin, span.start.line(), span.start.col() + 1)
    }

    fn next(&mut self) -> Result<(Event<'i>, Span), ConfigError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(scan_error(&e, &self.origin)),
            None => Err(ConfigError::Invalid {
                file: self.origin.display_file(),
                line: None,
                column: None,
                path: String::new(),
                message: "unexpected end of YAML document".into(),
            }),
        }
    }

    fn syntax(&self, loc: &Loc, msg: &str) -> ConfigError {
        loc.error("", msg)
    }

    /// Reads the next node event (skipping presentation-only events).
    fn node_event(&mut self) -> Result<(Event<'i>, Span), ConfigError> {
        loop {
            let (ev, span) = self.next()?;
            if ev.is_node()
                || matches!(
                    ev,
                    Event::SequenceEnd | Event::MappingEnd | Event::DocumentEnd | Event::StreamEnd
                )
            {
                return Ok((ev, span));
            }
        }
    }

    fn node(&mut self, ev: Event<'i>, span: Span, depth: usize) -> Result<Node, ConfigError> {
        let loc = self.loc(&span);
        if depth > MAX_DEPTH {
            return Err(self.syntax(&loc, "document nested too deeply"));
        }
        let (node, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let str_tag = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema_tag("str"));
                let plain = style == ScalarStyle::Plain && !str_tag;
                let node = if plain && is_yaml_null(&text) {
                    Node::null(loc)
                } else {
                    Node::scalar(text.into_owned(), plain, loc)
                };
                (node, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.node_event()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span, depth + 1)?);
                }
                (
                    Node {
                        value: Value::Seq(items),
                        loc,
                    },
                    anchor,
                )
            }
            Event::MappingStart(_, anchor, _) => {
                let mut entries: Vec<Entry> = Vec::new();
                let mut merges: Vec<Node> = Vec::new();
                loop {
                    let (ev, span) = self.node_event()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key_node = self.node(ev, span, depth + 1)?;
                    let (vev, vspan) = self.node_event()?;
                    let value = self.node(vev, vspan, depth + 1)?;
                    let key = match key_node.value {
                        Value::Scalar { text, plain } => {
                            if plain && text == "<<" {
                                merges.push(value);
                                continue;
                            }
                            text
                        }
                        Value::Null => String::new(),
                        _ => {
                            return Err(self
                                .syntax(&key_node.loc, "complex mapping keys are not supported"));
                        }
                    };
                    if entries.iter().any(|e| e.key == key) {
                        return Err(key_node
                            .loc
                            .error("", format!("mapping key {key:?} defined twice")));
                    }
                    entries.push(Entry {
                        key,
                        key_loc: key_node.loc,
                        value,
                    });
                }
                // YAML merge keys (`<<: *base`): keys already present win.
                for m in merges {
                    let sources = match m.value {
                        Value::Map(_) => vec![m],
                        Value::Seq(items) => items,
                        _ => {
                            return Err(self.syntax(&m.loc, "merge key `<<` needs a mapping"));
                        }
                    };
                    for src in sources {
                        let Value::Map(src_entries) = src.value else {
                            return Err(self.syntax(&src.loc, "merge key `<<` needs a mapping"));
                        };
                        for e in src_entries {
                            if !entries.iter().any(|x| x.key == e.key) {
                                entries.push(e);
                            }
                        }
                    }
                }
                (
                    Node {
                        value: Value::Map(entries),
                        loc,
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| self.syntax(&loc, "alias to an unknown anchor"))?;
                (node, 0)
            }
            Event::UnresolvedAlias(name) => {
                return Err(self.syntax(&loc, &format!("unknown anchor *{name}")));
            }
            _ => return Err(self.syntax(&loc, "unexpected YAML event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

fn is_yaml_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// Parses a YAML document into a tree. An empty document gives `Null`.
pub(crate) fn parse_yaml(
    text: &str,
    origin: &Rc<Origin>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Node, ConfigError> {
    let mut b = YamlBuilder {
        parser: Parser::new_from_str(text),
        origin: origin.clone(),
        anchors: HashMap::new(),
    };
    let mut root: Option<Node> = None;
    while let Some(next) = b.parser.next_event() {
        let (ev, span) = next.map_err(|e| scan_error(&e, origin))?;
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart(..) => {
                let (ev, span) = b.node_event()?;
                if matches!(ev, Event::DocumentEnd) {
                    continue;
                }
                let node = b.node(ev, span, 0)?;
                if root.is_some() {
                    diags.push(node.loc.diagnostic(Diagnostic::warning(
                        "",
                        "only the first YAML document is used; later documents are ignored",
                    )));
                } else {
                    root = Some(node);
                }
                b.anchors.clear();
            }
            ev if ev.is_node() => {
                let loc = b.loc(&span);
                return Err(b.syntax(&loc, "unexpected YAML event"));
            }
            _ => {}
        }
    }
    Ok(root.unwrap_or_else(|| Node::null(Loc::new(origin, 1, 1))))
}

// ---------------------------------------------------------------- TOML

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn loc(&self, text: &str, origin: &Rc<Origin>, offset: usize) -> Loc {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = text
            .get(start..offset.min(text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        Loc::new(origin, line, col)
    }
}

/// Parses a TOML document into a tree.
pub(crate) fn parse_toml(text: &str, origin: &Rc<Origin>) -> Result<Node, ConfigError> {
    use toml::de::{DeTable, DeValue};
    let index = LineIndex::new(text);
    let table = DeTable::parse(text).map_err(|e| {
        let loc = match e.span() {
            Some(span) => index.loc(text, origin, span.start),
            None => Loc::unknown(origin),
        };
        loc.error("", format!("TOML syntax error: {}", e.message().trim()))
    })?;

    fn conv(
        v: &DeValue<'_>,
        span: std::ops::Range<usize>,
        text: &str,
        index: &LineIndex,
        origin: &Rc<Origin>,
    ) -> Node {
        let loc = index.loc(text, origin, span.start);
        let value = match v {
            DeValue::String(s) => Value::Scalar {
                text: s.to_string(),
                plain: false,
            },
            DeValue::Integer(i) => {
                let text = i64::from_str_radix(i.as_str(), i.radix())
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| i.as_str().to_string());
                Value::Scalar { text, plain: true }
            }
            DeValue::Float(f) => Value::Scalar {
                text: f.as_str().to_string(),
                plain: true,
            },
            DeValue::Boolean(b) => Value::Scalar {
                text: b.to_string(),
                plain: true,
            },
            DeValue::Datetime(d) => Value::Scalar {
                text: d.to_string(),
                plain: false,
            },
            DeValue::Array(a) => Value::Seq(
                a.iter()
                    .map(|item| conv(item.get_ref(), item.span(), text, index, origin))
                    .collect(),
            ),
            DeValue::Table(t) => Value::Map(
                t.iter()
                    .map(|(k, val)| Entry {
                        key: k.get_ref().to_string(),
                        key_loc: index.loc(text, origin, k.span().start),
                        value: conv(val.get_ref(), val.span(), text, index, origin),
                    })
                    .collect(),
            ),
        };
        Node { value, loc }
    }

    let span = table.span();
    Ok(conv(
        &DeValue::Table(table.into_inner()),
        span,
        text,
        &index,
        origin,
    ))
}
