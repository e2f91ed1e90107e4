//! The per-file half of a scan: which matchers want a file (globs, languages), a literal
//! prefilter over its text, the imports gate, then the matchers, restricted to the lines that
//! hold their literals. Built once per run from the rules whose repository gates passed.

use crate::diag::Diagnostic;
use crate::matcher::config;
use crate::matcher::lang::Language;
use crate::matcher::prefilter::{Prefilter, required_literals};
use crate::matcher::{Hit, Matcher};
use crate::repo::ReadError;
use crate::rules::Rule;
use std::collections::{BTreeSet, HashMap};

/// Longest line the text matchers look at; longer lines (minified bundles) are cut there and
/// the file gets a diagnostic.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// One matcher that reads files.
#[derive(Debug)]
struct Slot {
    rule: usize,
    spec: usize,
    has_literals: bool,
}

/// A match in a file, tied to its rule and `[[match]]` table.
#[derive(Debug)]
pub struct FileHit {
    pub rule: usize,
    pub spec: usize,
    pub hit: Hit,
}

/// What scanning one file produced.
#[derive(Debug, Default)]
pub struct FileOutcome {
    /// True when the file was read and matched (not skipped by globs or read errors).
    pub scanned: bool,
    pub hits: Vec<FileHit>,
    pub diagnostics: Vec<Diagnostic>,
    /// `ecowatch-ignore` comments in the file (only files that contain one are parsed).
    pub inline_ignores: Vec<crate::suppress::InlineIgnore>,
}

/// The compiled per-file plan for a set of rules.
#[derive(Debug)]
pub struct Plan<'r> {
    rules: Vec<&'r Rule>,
    /// Apply `[files]` and `imports` (off for sibling fixtures).
    gates: bool,
    slots: Vec<Slot>,
    prefilter: Prefilter,
    max_line_bytes: usize,
}

impl<'r> Plan<'r> {
    pub fn new(rules: Vec<&'r Rule>, gates: bool, max_line_bytes: usize) -> Plan<'r> {
        let mut slots = Vec::new();
        let mut literals = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            for (si, spec) in rule.matchers.iter().enumerate() {
                let lits = match &spec.matcher {
                    Matcher::Dependency(_) => continue,
                    Matcher::Regex(m) => required_literals(m.pattern.as_str()),
                    Matcher::Jwt(_) => Some(vec!["eyJ".to_string()]),
                    Matcher::Config(m) => m.path.last().map(|k| vec![k.clone()]),
                    Matcher::Structural(m) => m.literals.clone(),
                };
                slots.push(Slot {
                    rule: ri,
                    spec: si,
                    has_literals: lits.is_some(),
                });
                literals.push(lits);
            }
        }
        Plan {
            prefilter: Prefilter::new(&literals),
            rules,
            gates,
            slots,
            max_line_bytes,
        }
    }

    pub fn rules(&self) -> &[&'r Rule] {
        &self.rules
    }

    /// True when some rule reads files at all (otherwise the walk can be skipped).
    pub fn reads_files(&self) -> bool {
        !self.slots.is_empty()
    }

    /// Scans one file. `aliases` are the names it answers to for globs (the first is its
    /// path); `read` is only called when some matcher wants the file.
    pub fn scan_file(
        &self,
        aliases: &[&str],
        read: impl FnOnce() -> Result<String, ReadError>,
    ) -> FileOutcome {
        let Some(&path) = aliases.first() else {
            return FileOutcome::default();
        };
        let lang = Language::for_path(path);
        let wanted: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.wants(i, aliases, lang))
            .collect();
        if wanted.is_empty() {
            return FileOutcome::default();
        }
        let mut outcome = FileOutcome::default();
        let text = match read() {
            Ok(text) => text,
            Err(err) => {
                let d = match err {
                    ReadError::Binary { .. } => {
                        Diagnostic::info(err.code(), format!("skipped: {err}"))
                    }
                    _ => Diagnostic::warning(err.code(), format!("skipped: {err}")),
                };
                outcome.diagnostics.push(d.at(path));
                return outcome;
            }
        };
        outcome.scanned = true;
        if memchr::memmem::find(text.as_bytes(), b"ecowatch-ignore").is_some() {
            outcome.inline_ignores = crate::suppress::inline_ignores(path, &text);
        }
        let found = self.prefilter.scan(&text);
        let lines = LineStarts::new(&text);
        let mut imports_ok: HashMap<usize, bool> = HashMap::new();
        let mut parsed: Option<Option<config::Parsed>> = None;
        let mut truncated = false;
        for i in wanted {
            let slot = &self.slots[i];
            let offsets = &found.offsets[i];
            if slot.has_literals && offsets.is_empty() {
                continue;
            }
            let rule = self.rules[slot.rule];
            if self.gates
                && let Some(gate) = &rule.when.imports
                && !*imports_ok
                    .entry(slot.rule)
                    .or_insert_with(|| gate.admits(lang, &text))
            {
                continue;
            }
            let spec = &rule.matchers[slot.spec];
            let mut hits = Vec::new();
            match &spec.matcher {
                Matcher::Regex(_) | Matcher::Jwt(_) => {
                    let candidates: Box<dyn Iterator<Item = usize>> = if slot.has_literals {
                        let set: BTreeSet<usize> =
                            offsets.iter().map(|&o| lines.index_of(o)).collect();
                        Box::new(set.into_iter())
                    } else {
                        Box::new(0..lines.count())
                    };
                    for idx in candidates {
                        let (line, cut) = lines.line(&text, idx, self.max_line_bytes);
                        truncated |= cut;
                        let line_no = u32::try_from(idx + 1).unwrap_or(u32::MAX);
                        match &spec.matcher {
                            Matcher::Regex(m) => m.find_in_line(line, line_no, &mut hits),
                            Matcher::Jwt(m) => m.find_in_line(line, line_no, &mut hits),
                            _ => {}
                        }
                    }
                }
                Matcher::Config(m) => {
                    let doc = parsed.get_or_insert_with(|| config::parse(path, &text));
                    match doc {
                        Some(Ok(doc)) => hits.extend(m.find(doc, &text)),
                        Some(Err(e)) => {
                            outcome.diagnostics.push(
                                Diagnostic::warning("config-parse-error", e.to_string()).at(path),
                            );
                            // Report it once per file, not once per matcher.
                            parsed = Some(None);
                        }
                        None => {}
                    }
                }
                Matcher::Structural(m) => {
                    if let Some(l) = m.language_for(path) {
                        let (found, incomplete) = m.find(l, &text);
                        hits.extend(found);
                        if let Some(why) = incomplete {
                            outcome.diagnostics.push(
                                Diagnostic::warning(
                                    "structural-incomplete",
                                    format!("rule {}: {why}", rule.id),
                                )
                                .at(path),
                            );
                        }
                    }
                }
                Matcher::Dependency(_) => {}
            }
            for hit in hits {
                outcome.hits.push(FileHit {
                    rule: slot.rule,
                    spec: slot.spec,
                    hit,
                });
            }
        }
        if truncated {
            outcome.diagnostics.push(
                Diagnostic::info(
                    "line-truncated",
                    format!(
                        "lines longer than {} bytes were matched only up to that length",
                        self.max_line_bytes
                    ),
                )
                .at(path),
            );
        }
        outcome
    }

    /// Does slot `i` want a file with these names and this language (before reading it)?
    fn wants(&self, i: usize, aliases: &[&str], lang: Language) -> bool {
        let slot = &self.slots[i];
        let rule = self.rules[slot.rule];
        let spec = &rule.matchers[slot.spec];
        if self.gates && !rule.files.admits(aliases) {
            return false;
        }
        if !spec.files.admits(aliases) {
            return false;
        }
        match &spec.matcher {
            Matcher::Config(_) => matches!(lang, Language::Json | Language::Toml | Language::Yaml),
            Matcher::Structural(m) => m.language_for(aliases[0]).is_some(),
            _ => true,
        }
    }
}

/// Byte offsets where lines start.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &str) -> LineStarts {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        if starts.len() > 1 && starts.last() == Some(&text.len()) {
            starts.pop();
        }
        LineStarts(starts)
    }

    fn count(&self) -> usize {
        self.0.len()
    }

    /// The 0-based index of the line holding byte `offset`.
    fn index_of(&self, offset: usize) -> usize {
        match self.0.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Line `idx` without its line ending, cut to `max` bytes on a char boundary; the flag
    /// says whether it was cut.
    fn line<'t>(&self, text: &'t str, idx: usize, max: usize) -> (&'t str, bool) {
        let start = self.0.get(idx).copied().unwrap_or(text.len());
        let end = self.0.get(idx + 1).copied().unwrap_or(text.len());
        let line = text[start..end].trim_end_matches(['\n', '\r']);
        if line.len() <= max {
            return (line, false);
        }
        let mut cut = max;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        (&line[..cut], true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_index_and_cut() {
        let text = "ab\r\ncdé\n\nlast";
        let l = LineStarts::new(text);
        assert_eq!(l.count(), 4);
        assert_eq!(l.index_of(0), 0);
        assert_eq!(l.index_of(5), 1);
        assert_eq!(l.line(text, 0, 100), ("ab", false));
        assert_eq!(l.line(text, 1, 3), ("cd", true));
        assert_eq!(l.line(text, 3, 100), ("last", false));
        assert_eq!(LineStarts::new("a\n").count(), 1);
    }
}
