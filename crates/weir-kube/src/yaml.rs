//! Multi-document YAML into JSON values, remembering the line of every key and sequence
//! item so a problem in a field can be shown at its line.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span, StrInput};

/// Maximum nesting accepted, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Parses `spec.routes[0].match` or `metadata.annotations[a.b/c]` into segments.
pub fn parse_field(field: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !cur.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut cur)));
                }
                let inner: String = chars.by_ref().take_while(|&c| c != ']').collect();
                match inner.parse::<usize>() {
                    Ok(i) => out.push(Seg::Index(i)),
                    Err(_) => out.push(Seg::Key(inner)),
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(Seg::Key(cur));
    }
    out
}

/// A YAML document: its value, its first line, and the line of every field.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The content.
    pub value: Value,
    /// 1-based line where the document's content starts.
    pub line: usize,
    /// Line of each key or item, by path.
    pub lines: HashMap<Vec<Seg>, usize>,
}

impl Doc {
    /// The line of a field path (the deepest known part of it).
    pub fn line_of(&self, path: &[Seg]) -> usize {
        (0..=path.len())
            .rev()
            .find_map(|n| self.lines.get(&path[..n]).copied())
            .unwrap_or(self.line)
    }

    /// A sub-document for a `List` item (paths below `items[i]`).
    pub fn item(&self, index: usize, value: Value) -> Doc {
        let prefix = [Seg::Key("items".into()), Seg::Index(index)];
        let lines = self
            .lines
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k[2..].to_vec(), *v))
            .collect();
        Doc {
            value,
            line: self.lines.get(&prefix[..]).copied().unwrap_or(self.line),
            lines,
        }
    }
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

struct Builder<'i> {
    parser: Parser<'i, StrInput<'i>>,
    anchors: HashMap<usize, Value>,
    lines: HashMap<Vec<Seg>, usize>,
    path: Vec<Seg>,
}

fn line_of(span: &Span) -> usize {
    span.start.line()
}

impl<'i> Builder<'i> {
    fn next(&mut self) -> Result<(Event<'i>, Span), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(SyntaxError {
                line: e.marker().line(),
                message: format!("YAML syntax error: {}", e.info()),
            }),
            None => Err(SyntaxError {
                line: 0,
                message: "unexpected end of YAML".into(),
            }),
        }
    }

    fn node_event(&mut self) -> Result<(Event<'i>, Span), SyntaxError> {
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

    fn node(&mut self, ev: Event<'i>, span: Span, depth: usize) -> Result<Value, SyntaxError> {
        let line = line_of(&span);
        let fail = |m: &str| SyntaxError {
            line,
            message: m.to_owned(),
        };
        if depth > MAX_DEPTH {
            return Err(fail("document nested too deeply"));
        }
        let (value, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let str_tag = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema_tag("str"));
                let plain = style == ScalarStyle::Plain && !str_tag;
                (scalar(&text, plain), anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.node_event()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    self.path.push(Seg::Index(items.len()));
                    self.lines.insert(self.path.clone(), line_of(&span));
                    let v = self.node(ev, span, depth + 1);
                    self.path.pop();
                    items.push(v?);
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(_, anchor, _) => {
                let mut map = Map::new();
                loop {
                    let (ev, span) = self.node_event()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key_line = line_of(&span);
                    let key = match self.node(ev, span, depth + 1)? {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => {
                            return Err(SyntaxError {
                                line: key_line,
                                message: "complex mapping keys are not supported".into(),
                            });
                        }
                    };
                    self.path.push(Seg::Key(key.clone()));
                    self.lines.insert(self.path.clone(), key_line);
                    let (vev, vspan) = self.node_event()?;
                    let value = self.node(vev, vspan, depth + 1);
                    self.path.pop();
                    let value = value?;
                    if key == "<<" {
                        // YAML merge keys: keys already present win.
                        let sources = match value {
                            Value::Array(a) => a,
                            v => vec![v],
                        };
                        for src in sources {
                            if let Value::Object(m) = src {
                                for (k, v) in m {
                                    map.entry(k).or_insert(v);
                                }
                            }
                        }
                        continue;
                    }
                    if map.contains_key(&key) {
                        return Err(SyntaxError {
                            line: key_line,
                            message: format!("mapping key {key:?} defined twice"),
                        });
                    }
                    map.insert(key, value);
                }
                (Value::Object(map), anchor)
            }
            Event::Alias(id) => {
                let v = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| fail("alias to an unknown anchor"))?;
                (v, 0)
            }
            Event::UnresolvedAlias(name) => {
                return Err(fail(&format!("unknown anchor *{name}")));
            }
            _ => return Err(fail("unexpected YAML event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }
}

/// YAML 1.2 core schema for plain scalars; quoted scalars are strings.
fn scalar(text: &str, plain: bool) -> Value {
    if !plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = text.parse::<i64>() {
        return Value::Number(n.into());
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(n) = i64::from_str_radix(hex, 16)
    {
        return Value::Number(n.into());
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(n) = i64::from_str_radix(oct, 8)
    {
        return Value::Number(n.into());
    }
    let looks_float = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && text.chars().any(|c| c.is_ascii_digit());
    if looks_float && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

/// Parses every document of a YAML stream. Empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<Doc>, SyntaxError> {
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        lines: HashMap::new(),
        path: Vec::new(),
    };
    let mut docs = Vec::new();
    while let Some(next) = b.parser.next_event() {
        let (ev, _span) = next.map_err(|e| SyntaxError {
            line: e.marker().line(),
            message: format!("YAML syntax error: {}", e.info()),
        })?;
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart(..) => {
                let (ev, span) = b.node_event()?;
                if matches!(ev, Event::DocumentEnd) {
                    continue;
                }
                let line = line_of(&span);
                let value = b.node(ev, span, 0)?;
                b.anchors.clear();
                let lines = std::mem::take(&mut b.lines);
                if !value.is_null() {
                    docs.push(Doc { value, line, lines });
                }
            }
            _ => {}
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_with_lines() {
        let text =
            "a: 1\n---\n# c\nkind: X\nspec:\n  list:\n    - name: x\n      port: \"80\"\n---\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].value["a"], 1);
        assert_eq!(docs[1].line, 4);
        assert_eq!(docs[1].value["spec"]["list"][0]["port"], "80");
        assert_eq!(docs[1].line_of(&parse_field("spec.list[0].port")), 8);
        assert_eq!(docs[1].line_of(&parse_field("spec.list[0].missing")), 7);
        assert_eq!(docs[1].line_of(&parse_field("nothing")), 4);
    }

    #[test]
    fn field_paths() {
        assert_eq!(
            parse_field("metadata.annotations[a.b/c]"),
            vec![
                Seg::Key("metadata".into()),
                Seg::Key("annotations".into()),
                Seg::Key("a.b/c".into())
            ]
        );
        assert_eq!(
            parse_field("spec.routes[0].match"),
            vec![
                Seg::Key("spec".into()),
                Seg::Key("routes".into()),
                Seg::Index(0),
                Seg::Key("match".into())
            ]
        );
    }

    #[test]
    fn syntax_errors_have_lines() {
        let e = parse_documents("a: 1\nb: [\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
    }
}
