//! serde `Deserializer` over the located tree: struct keys match case-insensitively,
//! unknown struct keys become warnings, type errors carry the location and field path,
//! scalars convert on demand (`"8000"` can be a port number or a string), and a scalar
//! given where a list is expected is split on commas (Traefik's flag convention).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use crate::diagnostic::{ConfigError, Diagnostic, Origin};
use crate::node::{Loc, Node, Value};

/// Collects the warnings found while deserializing.
#[derive(Default)]
pub(crate) struct Ctx {
    /// (origin of the offending key, diagnostic)
    pub unknown: RefCell<Vec<(Origin, Diagnostic)>>,
}

#[derive(Debug)]
pub(crate) struct DeError {
    message: String,
    loc: Option<Loc>,
    path: String,
}

impl DeError {
    fn at(loc: &Loc, path: &str, message: impl Into<String>) -> Self {
        DeError {
            message: message.into(),
            loc: Some(loc.clone()),
            path: path.to_string(),
        }
    }

    pub fn into_config_error(self) -> ConfigError {
        match self.loc {
            Some(loc) => loc.error(&self.path, self.message),
            None => ConfigError::Invalid {
                file: None,
                line: None,
                column: None,
                path: self.path,
                message: self.message,
            },
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            loc: None,
            path: String::new(),
        }
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) struct NodeDe<'a> {
    pub node: &'a Node,
    pub path: String,
    pub ctx: &'a Ctx,
}

impl<'a> NodeDe<'a> {
    pub fn new(node: &'a Node, ctx: &'a Ctx) -> Self {
        NodeDe {
            node,
            path: String::new(),
            ctx,
        }
    }

    fn fill<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|mut e| {
            if e.loc.is_none() {
                e.loc = Some(self.node.loc.clone());
                e.path = self.path.clone();
            }
            e
        })
    }

    fn err(&self, msg: impl Into<String>) -> DeError {
        DeError::at(&self.node.loc, &self.path, msg)
    }

    fn describe(&self) -> String {
        match &self.node.value {
            Value::Null => "an empty value".into(),
            Value::Scalar { text, .. } => format!("{text:?}"),
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }

    fn expected(&self, what: &str) -> DeError {
        self.err(format!("expected {what}, found {}", self.describe()))
    }

    fn text(&self) -> Option<&'a str> {
        match &self.node.value {
            Value::Scalar { text, .. } => Some(text.as_str()),
            _ => None,
        }
    }

    fn int_text(&self, what: &str) -> Result<&'a str, DeError> {
        self.text()
            .map(str::trim)
            .ok_or_else(|| self.expected(what))
    }

    fn parse_i64(&self) -> Result<i64, DeError> {
        let t = self.int_text("an integer")?;
        parse_int(t).ok_or_else(|| self.expected("an integer"))
    }

    fn parse_u64(&self) -> Result<u64, DeError> {
        let t = self.int_text("a non-negative integer")?;
        t.strip_prefix('+')
            .unwrap_or(t)
            .parse::<u64>()
            .ok()
            .or_else(|| parse_int(t).and_then(|v| u64::try_from(v).ok()))
            .ok_or_else(|| self.expected("a non-negative integer"))
    }

    fn parse_f64(&self) -> Result<f64, DeError> {
        let t = self.int_text("a number")?;
        parse_float(t).ok_or_else(|| self.expected("a number"))
    }

    fn parse_bool(&self) -> Result<bool, DeError> {
        match self.node.value {
            Value::Null => return Ok(false),
            Value::Scalar { .. } => {}
            _ => return Err(self.expected("true or false")),
        }
        let t = self.int_text("true or false")?;
        if t.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if t.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err(self.expected("true or false"))
        }
    }

    fn visit_empty_map<'de, V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, DeError> {
        self.fill(visitor.visit_map(MapAcc {
            items: Vec::new().into_iter(),
            pending: None,
            ctx: self.ctx,
        }))
    }
}

fn parse_int(t: &str) -> Option<i64> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(hex) = body.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = body.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else {
        if !body.bytes().all(|b| b.is_ascii_digit()) || body.is_empty() {
            return None;
        }
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn parse_float(t: &str) -> Option<f64> {
    let first = t.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return match t {
            ".inf" | ".Inf" | ".INF" => Some(f64::INFINITY),
            ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
            _ => None,
        };
    }
    if t.bytes()
        .any(|b| !(b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'_')))
    {
        return None;
    }
    t.replace('_', "").parse::<f64>().ok()
}

struct SeqAcc<'a, I: Iterator<Item = (usize, &'a Node)>> {
    iter: I,
    path: String,
    ctx: &'a Ctx,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Node)>> SeqAccess<'de> for SeqAcc<'a, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, node)) => seed
                .deserialize(NodeDe {
                    node,
                    path: format!("{}[{i}]", self.path),
                    ctx: self.ctx,
                })
                .map(Some),
        }
    }
}

type MapItem<'a> = (String, Loc, String, &'a Node);

struct MapAcc<'a> {
    items: std::vec::IntoIter<MapItem<'a>>,
    pending: Option<(String, &'a Node)>,
    ctx: &'a Ctx,
}

impl<'de, 'a> MapAccess<'de> for MapAcc<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, key_loc, path, value)) = self.items.next() else {
            return Ok(None);
        };
        let key_node = Node::scalar(key, false, key_loc);
        let r = seed.deserialize(NodeDe {
            node: &key_node,
            path: path.clone(),
            ctx: self.ctx,
        });
        self.pending = Some((path, value));
        r.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (path, node) = self
            .pending
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value requested before key"))?;
        seed.deserialize(NodeDe {
            node,
            path,
            ctx: self.ctx,
        })
    }
}

macro_rules! int_method {
    ($method:ident, $visit:ident, $ty:ty, signed) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v = self.parse_i64()?;
            let v = <$ty>::try_from(v).map_err(|_| self.err(format!("{v} is out of range")))?;
            self.fill(visitor.$visit(v))
        }
    };
    ($method:ident, $visit:ident, $ty:ty, unsigned) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v = self.parse_u64()?;
            let v = <$ty>::try_from(v).map_err(|_| self.err(format!("{v} is out of range")))?;
            self.fill(visitor.$visit(v))
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.fill(visitor.visit_unit()),
            Value::Scalar { text, plain } => {
                if *plain {
                    let t = text.trim();
                    if t == "true" || t == "True" || t == "TRUE" {
                        return self.fill(visitor.visit_bool(true));
                    }
                    if t == "false" || t == "False" || t == "FALSE" {
                        return self.fill(visitor.visit_bool(false));
                    }
                    if let Some(i) = parse_int(t) {
                        return if i >= 0 {
                            self.fill(visitor.visit_u64(i as u64))
                        } else {
                            self.fill(visitor.visit_i64(i))
                        };
                    }
                    if t.bytes().any(|b| b.is_ascii_digit())
                        && let Some(f) = parse_float(t)
                    {
                        return self.fill(visitor.visit_f64(f));
                    }
                }
                self.fill(visitor.visit_str(text))
            }
            Value::Seq(_) => self.deserialize_seq(visitor),
            Value::Map(_) => self.deserialize_map(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = self.parse_bool()?;
        self.fill(visitor.visit_bool(b))
    }

    int_method!(deserialize_i8, visit_i8, i8, signed);
    int_method!(deserialize_i16, visit_i16, i16, signed);
    int_method!(deserialize_i32, visit_i32, i32, signed);
    int_method!(deserialize_i64, visit_i64, i64, signed);
    int_method!(deserialize_u8, visit_u8, u8, unsigned);
    int_method!(deserialize_u16, visit_u16, u16, unsigned);
    int_method!(deserialize_u32, visit_u32, u32, unsigned);
    int_method!(deserialize_u64, visit_u64, u64, unsigned);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let v = self.parse_f64()?;
        self.fill(visitor.visit_f32(v as f32))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let v = self.parse_f64()?;
        self.fill(visitor.visit_f64(v))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.fill(visitor.visit_str("")),
            Value::Scalar { text, .. } => self.fill(visitor.visit_str(text)),
            _ => Err(self.expected("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.fill(visitor.visit_none()),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.fill(visitor.visit_unit())
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.fill(visitor.visit_unit())
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => self.fill(visitor.visit_seq(SeqAcc {
                iter: items.iter().enumerate(),
                path: self.path.clone(),
                ctx: self.ctx,
            })),
            Value::Null => self.fill(visitor.visit_seq(SeqAcc {
                iter: std::iter::empty(),
                path: self.path.clone(),
                ctx: self.ctx,
            })),
            Value::Scalar { text, plain } => {
                // "a,b,c" where a list is expected (Traefik's flags and labels).
                let parts: Vec<Node> = text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Node::scalar(s, *plain, self.node.loc.clone()))
                    .collect();
                self.fill(visitor.visit_seq(SeqAcc {
                    iter: parts.iter().enumerate(),
                    path: self.path.clone(),
                    ctx: self.ctx,
                }))
            }
            Value::Map(_) => Err(self.expected("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(entries) => {
                let items: Vec<MapItem<'_>> = entries
                    .iter()
                    .map(|e| {
                        (
                            e.key.clone(),
                            e.key_loc.clone(),
                            join(&self.path, &e.key),
                            &e.value,
                        )
                    })
                    .collect();
                self.fill(visitor.visit_map(MapAcc {
                    items: items.into_iter(),
                    pending: None,
                    ctx: self.ctx,
                }))
            }
            Value::Null => self.visit_empty_map(visitor),
            _ => Err(self.expected("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(entries) => {
                let mut items: Vec<MapItem<'_>> = Vec::with_capacity(entries.len());
                let mut seen: Vec<(&'static str, &str)> = Vec::new();
                for e in entries {
                    match fields.iter().find(|f| f.eq_ignore_ascii_case(&e.key)) {
                        Some(f) => {
                            if let Some((_, first)) = seen.iter().find(|(s, _)| s == f) {
                                return Err(DeError::at(
                                    &e.key_loc,
                                    &join(&self.path, &e.key),
                                    format!(
                                        "field {:?} given twice (as {first:?} and {:?}; keys are case-insensitive)",
                                        f, e.key
                                    ),
                                ));
                            }
                            seen.push((f, &e.key));
                            items.push((
                                (*f).to_string(),
                                e.key_loc.clone(),
                                join(&self.path, f),
                                &e.value,
                            ));
                        }
                        None => {
                            let diag = e.key_loc.diagnostic(Diagnostic::warning(
                                join(&self.path, &e.key),
                                format!(
                                    "unknown field {:?}, ignored (expected one of {})",
                                    e.key,
                                    fields.join(", ")
                                ),
                            ));
                            self.ctx
                                .unknown
                                .borrow_mut()
                                .push(((*e.key_loc.origin).clone(), diag));
                        }
                    }
                }
                self.fill(visitor.visit_map(MapAcc {
                    items: items.into_iter(),
                    pending: None,
                    ctx: self.ctx,
                }))
            }
            Value::Null => self.visit_empty_map(visitor),
            // `--ping` (a bare flag) or `ping: true` turns a section on with its defaults.
            Value::Scalar { text, .. } if text.trim().eq_ignore_ascii_case("true") => {
                self.visit_empty_map(visitor)
            }
            _ => Err(self.expected("a mapping")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar { text, .. } => {
                let t = text.trim();
                let name = variants
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(t))
                    .copied()
                    .ok_or_else(|| {
                        self.err(format!(
                            "unknown value {t:?} (expected one of {})",
                            variants.join(", ")
                        ))
                    })?;
                let d: de::value::StrDeserializer<'_, DeError> = name.into_deserializer();
                self.fill(visitor.visit_enum(d))
            }
            _ => Err(self.expected(&format!("one of {}", variants.join(", ")))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.fill(visitor.visit_unit())
    }
}

/// Deserializes a typed value from a tree, returning unknown-field warnings.
pub(crate) fn from_node<T: de::DeserializeOwned>(node: &Node, ctx: &Ctx) -> Result<T, ConfigError> {
    T::deserialize(NodeDe::new(node, ctx)).map_err(DeError::into_config_error)
}
