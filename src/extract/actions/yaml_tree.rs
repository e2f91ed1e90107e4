//! A YAML document as a tree that remembers where each node is written and keeps mapping keys in
//! document order. Workflows need both: the line of every `uses:`, and jobs in the order a
//! person reads them (serde_json's maps sort their keys). Parsing goes through
//! [`parse_yaml`](crate::extract::util::parse_yaml), so serde-saphyr's alias and depth budgets
//! apply.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// One YAML node and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based line of the node (for an alias, the line of the alias itself).
    pub line: u32,
    /// Byte range of the node in the source, when the parser knows it.
    span: Option<(usize, usize)>,
}

/// The shape of a node. Numbers keep serde's rendering; [`Node::text`] recovers the spelling.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order; non-string scalar keys are rendered as text.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value of `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The entries of a mapping, or nothing.
    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The items of a sequence, or nothing.
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as the file spells it: strings as they are, numbers as written in `source`
    /// (`python-version: 3.10` is the text `3.10`, not the float 3.1). Other nodes give `None`.
    pub fn text(&self, source: &str) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Number(n) => Some(
                self.written_number(source, *n)
                    .unwrap_or_else(|| n.to_string()),
            ),
            _ => None,
        }
    }

    fn written_number(&self, source: &str, n: f64) -> Option<String> {
        let (start, len) = self.span?;
        let raw = source.get(start..start.checked_add(len)?)?.trim();
        // Only trust the span when it spells the same number; anything else (an alias, a
        // span that covers more than the scalar) falls back to the parsed value.
        let parsed: f64 = raw.parse().ok()?;
        (parsed == n).then(|| raw.to_string())
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let location = spanned.referenced;
        let span = location.span();
        let span = match (span.byte_offset(), span.byte_len()) {
            (Some(start), Some(len)) => usize::try_from(start).ok().zip(usize::try_from(len).ok()),
            _ => None,
        };
        Ok(Node {
            value: spanned.value,
            line: u32::try_from(location.line()).unwrap_or(u32::MAX),
            span,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Value>()? {
            let key = match key {
                Value::Str(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_string(),
                Value::Seq(_) | Value::Map(_) => {
                    return Err(de::Error::custom("complex mapping keys are not supported"));
                }
            };
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

/// Parses a YAML document; an empty document (or one holding only comments) is `None`.
pub fn parse(text: &str) -> Result<Option<Node>, crate::extract::ExtractError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(None);
    }
    crate::extract::util::parse_yaml::<Node>(text).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        match parse(text) {
            Ok(Some(node)) => node,
            other => panic!("expected a document, got {other:?}"),
        }
    }

    #[test]
    fn keeps_key_order_and_lines() {
        let text = "b: 1\na:\n  - x\n  - 'y'\n";
        let doc = parse_ok(text);
        let keys: Vec<&str> = doc.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
        let items = doc.get("a").map(Node::items).unwrap_or_default();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].line, 3);
        assert_eq!(items[1].line, 4);
        assert_eq!(items[1].as_str(), Some("y"));
    }

    #[test]
    fn numbers_keep_their_spelling() {
        let text = "v: 3.10\nw: [3.8, 18, 3.10]\nq: '3.10'\n";
        let doc = parse_ok(text);
        let v = doc.get("v").and_then(|n| n.text(text));
        assert_eq!(v.as_deref(), Some("3.10"));
        let w: Vec<String> = doc
            .get("w")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.text(text))
            .collect();
        assert_eq!(w, ["3.8", "18", "3.10"]);
        assert_eq!(
            doc.get("q").and_then(|n| n.text(text)).as_deref(),
            Some("3.10")
        );
    }

    #[test]
    fn empty_and_comment_only_documents_are_none() {
        assert!(matches!(parse(""), Ok(None)));
        assert!(matches!(parse("# nothing\n\n---\n"), Ok(None)));
    }

    #[test]
    fn non_string_keys_are_rendered() {
        // serde-saphyr reads `on` as YAML 1.1's boolean; workflows never need that key.
        let doc = parse_ok("on: push\n1: one\nname: x\n");
        let keys: Vec<&str> = doc.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["true", "1", "name"]);
    }

    #[test]
    fn merge_keys_and_aliases_resolve() {
        let text = "base: &b {uses: a/b@v1}\nstep:\n  <<: *b\n  name: x\n";
        let doc = parse_ok(text);
        let step = doc.get("step");
        assert_eq!(
            step.and_then(|s| s.get("uses")).and_then(Node::as_str),
            Some("a/b@v1")
        );
    }

    #[test]
    fn malformed_yaml_is_an_error() {
        assert!(parse("jobs: [unclosed\n").is_err());
        assert!(parse("a: b: c\n").is_err());
    }
}
