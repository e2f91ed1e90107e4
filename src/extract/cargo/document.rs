//! Parsing Cargo's TOML files with spans, so every entry can name the line it is written on.

use crate::extract::ExtractError;
use crate::extract::util::LineIndex;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Parses `text` into a table whose keys and values carry byte spans. The parser's nesting
/// limit applies, so hostile input is an error rather than a stack overflow.
pub(super) fn parse(text: &str) -> Result<Spanned<DeTable<'_>>, ExtractError> {
    DeTable::parse(text).map_err(|e| ExtractError::Toml {
        line: e
            .span()
            .map(|span| LineIndex::new(text).line_of(span.start)),
        message: e.message().lines().next().unwrap_or("").trim().to_string(),
    })
}

/// The table stored under `key`, if `key` holds a table.
pub(super) fn table<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    table.get(key).and_then(|v| v.get_ref().as_table())
}

/// The string stored under `key`, if `key` holds a string.
pub(super) fn string<'a>(table: &'a DeTable<'_>, key: &str) -> Option<&'a str> {
    table.get(key).and_then(|v| v.get_ref().as_str())
}

/// A short description of a value's type, for messages about unexpected shapes.
pub(super) fn kind(value: &DeValue<'_>) -> &'static str {
    value.type_str()
}
