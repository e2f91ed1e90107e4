//! Lines of object keys in a JSON document. serde_json drops positions, so after a document
//! parses, this second pass records where each key is written, as a tree of keys: a lookup by
//! path (`packages` → `node_modules/a`) then maps repeated names to the right occurrence.

use crate::extract::util::LineIndex;
use std::collections::HashMap;

/// A key's position in the tree; [`KeyLines::ROOT`] is the top-level object.
pub type KeyId = usize;

/// Where every object key of one document is written.
pub struct KeyLines {
    lines: Vec<u32>,
    children: HashMap<(KeyId, String), KeyId>,
}

/// One open container while scanning: an object (with the key that names it) or an array.
enum Open {
    Object { id: Option<KeyId>, expect_key: bool },
    Array,
}

impl KeyLines {
    pub const ROOT: KeyId = 0;

    /// Scans `text`, which should already be known to parse (as JSON, or as JSON with trailing
    /// commas). Iterative, so nesting depth cannot overflow the stack. On text that is not
    /// JSON the result is incomplete, never a panic.
    pub fn scan(text: &str) -> KeyLines {
        Self::scan_to_depth(text, usize::MAX)
    }

    /// Like [`KeyLines::scan`], but records only keys of objects nested at most `max_depth`
    /// deep (the top-level object's keys are depth 1). Lockfiles are large and their lookups
    /// shallow (`packages` → `node_modules/a` is depth 2): skipping the keys inside each entry
    /// saves most of the work.
    pub fn scan_to_depth(text: &str, max_depth: usize) -> KeyLines {
        let index = LineIndex::new(text);
        let mut tree = KeyLines {
            lines: vec![1],
            children: HashMap::new(),
        };
        let bytes = text.as_bytes();
        let mut stack: Vec<Open> = Vec::new();
        // The key whose value comes next; a `{` then opens that key's object.
        let mut pending: Option<KeyId> = None;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    let end = string_end(bytes, i);
                    let is_key = matches!(
                        stack.last(),
                        Some(Open::Object {
                            expect_key: true,
                            ..
                        })
                    );
                    if is_key && stack.len() <= max_depth {
                        let parent = match stack.last() {
                            Some(Open::Object { id, .. }) => *id,
                            _ => None,
                        };
                        pending = parent.map(|parent| {
                            let key = unescape(&text[i..end]);
                            tree.insert(parent, key, index.line_of(i))
                        });
                    }
                    i = end;
                    continue;
                }
                b'{' => {
                    let id = if stack.is_empty() {
                        Some(Self::ROOT)
                    } else {
                        pending.take()
                    };
                    stack.push(Open::Object {
                        id,
                        expect_key: true,
                    });
                }
                b'[' => {
                    pending = None;
                    stack.push(Open::Array);
                }
                b'}' | b']' => {
                    stack.pop();
                }
                b':' => {
                    if let Some(Open::Object { expect_key, .. }) = stack.last_mut() {
                        *expect_key = false;
                    }
                }
                b',' => {
                    pending = None;
                    if let Some(Open::Object { expect_key, .. }) = stack.last_mut() {
                        *expect_key = true;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        tree
    }

    fn insert(&mut self, parent: KeyId, key: String, line: u32) -> KeyId {
        if let Some(&existing) = self.children.get(&(parent, key.clone())) {
            // serde_json keeps the last duplicate key; so do we.
            self.lines[existing] = line;
            return existing;
        }
        let id = self.lines.len();
        self.lines.push(line);
        self.children.insert((parent, key), id);
        id
    }

    /// The key `key` directly inside the object named by `parent`.
    pub fn child(&self, parent: KeyId, key: &str) -> Option<KeyId> {
        self.children.get(&(parent, key.to_string())).copied()
    }

    /// Follows `path` from the top-level object.
    pub fn find(&self, path: &[&str]) -> Option<KeyId> {
        path.iter()
            .try_fold(Self::ROOT, |id, key| self.child(id, key))
    }

    /// The 1-based line where `id`'s key is written.
    pub fn line(&self, id: KeyId) -> u32 {
        self.lines.get(id).copied().unwrap_or(1)
    }

    /// The line of `key` inside `parent`, or of `parent` itself when the key is not found.
    pub fn line_in(&self, parent: Option<KeyId>, key: &str) -> u32 {
        match parent {
            Some(p) => self.child(p, key).map_or(self.line(p), |id| self.line(id)),
            None => 1,
        }
    }
}

/// The byte just past the string literal starting at `start` (a `"`), or the end of input.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The text of a string literal (quotes included), with JSON escapes resolved.
fn unescape(literal: &str) -> String {
    if literal.contains('\\')
        && let Ok(s) = serde_json::from_str::<String>(literal)
    {
        return s;
    }
    let inner = literal.strip_prefix('"').unwrap_or(literal);
    inner.strip_suffix('"').unwrap_or(inner).to_string()
}

/// Replaces trailing commas (a `,` before `}` or `]`, outside strings) with spaces, so that
/// JSONC as bun writes it parses as JSON with every byte offset, and so every line, unchanged.
pub fn blank_trailing_commas(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            b',' => {
                let next = bytes[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if matches!(next, Some(b'}' | b']')) {
                    out[i] = b' ';
                }
            }
            _ => {}
        }
        i += 1;
    }
    // Only ASCII commas became ASCII spaces, so the bytes are still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_bounded_scan_keeps_shallow_keys_only() {
        let text = "{\n  \"a\": {\n    \"x\": {\"deep\": 1}\n  }\n}";
        let full = KeyLines::scan(text);
        let shallow = KeyLines::scan_to_depth(text, 2);
        assert_eq!(
            full.find(&["a", "x", "deep"]).map(|k| full.line(k)),
            Some(3)
        );
        assert_eq!(shallow.find(&["a", "x"]).map(|k| shallow.line(k)), Some(3));
        assert_eq!(shallow.find(&["a", "x", "deep"]), None);
    }

    #[test]
    fn keys_are_found_by_path_with_their_lines() {
        let text = "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": [{\"z\": 2}]\n  },\n  \"b\": {\n    \"x\": \"}\\\"{\"\n  }\n}";
        let keys = KeyLines::scan(text);
        assert_eq!(keys.find(&["a"]).map(|k| keys.line(k)), Some(2));
        assert_eq!(keys.find(&["a", "x"]).map(|k| keys.line(k)), Some(3));
        assert_eq!(keys.find(&["b", "x"]).map(|k| keys.line(k)), Some(7));
        assert_eq!(keys.find(&["b"]).map(|k| keys.line(k)), Some(6));
        assert_eq!(keys.find(&["a", "z"]), None);
        assert_eq!(keys.line_in(keys.find(&["b"]), "missing"), 6);
    }

    #[test]
    fn escaped_keys_are_unescaped() {
        let keys = KeyLines::scan("{\"a\\\"b\": 1}");
        assert!(keys.find(&["a\"b"]).is_some());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        for text in ["{\"a\": {\"b", "{\"a\\", "}}]]", "\"", "{\"a\":"] {
            let _ = KeyLines::scan(text);
        }
    }

    #[test]
    fn trailing_commas_become_spaces_outside_strings() {
        let text = "{\"a\": [1, 2,], \"s\": \",}\",\n}";
        let blanked = blank_trailing_commas(text);
        assert_eq!(blanked, "{\"a\": [1, 2 ], \"s\": \",}\" \n}");
        assert!(serde_json::from_str::<serde_json::Value>(&blanked).is_ok());
    }
}
