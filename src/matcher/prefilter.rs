//! The literal prefilter: before any regex runs on a file, one Aho-Corasick pass finds the
//! literals that every match of each matcher must contain. A matcher whose literals are absent
//! from a file never runs on it, and one whose literals are present runs only on the lines that
//! hold them. Matchers with no usable literal (`\w+_KEY`) run on every line of the files their
//! globs select.

use aho_corasick::{AhoCorasick, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};

/// Literals every match of `pattern` contains (one of them, at least), or `None` when no
/// finite set exists. Tries prefixes and suffixes and keeps the more selective set.
pub fn required_literals(pattern: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut best: Option<Vec<String>> = None;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut extractor = Extractor::new();
        extractor.kind(kind).limit_total(64);
        let seq = extractor.extract(&hir);
        let Some(lits) = usable(&seq) else { continue };
        let shortest = lits.iter().map(String::len).min().unwrap_or(0);
        let best_shortest = best
            .as_ref()
            .map_or(0, |b| b.iter().map(String::len).min().unwrap_or(0));
        if best.is_none() || shortest > best_shortest {
            best = Some(lits);
        }
    }
    best
}

/// A finite set of non-empty UTF-8 literals, or `None`.
fn usable(seq: &Seq) -> Option<Vec<String>> {
    let lits = seq.literals()?;
    if lits.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(lits.len());
    for lit in lits {
        if lit.as_bytes().is_empty() {
            return None;
        }
        out.push(String::from_utf8(lit.as_bytes().to_vec()).ok()?);
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// One automaton over the literals of many matchers (slots).
#[derive(Debug)]
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// Pattern index → slot.
    owner: Vec<usize>,
    slots: usize,
}

/// Which slots may match a text, and on which byte offsets their literals start.
#[derive(Debug, Default)]
pub struct PrefilterHits {
    /// Per slot: offsets of literal occurrences (empty when none).
    pub offsets: Vec<Vec<usize>>,
}

impl Prefilter {
    /// `literals[slot]` are the literals of slot `slot` (`None`: the slot has no literal and is
    /// not in the automaton; callers treat it as always matching).
    pub fn new(literals: &[Option<Vec<String>>]) -> Prefilter {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (slot, lits) in literals.iter().enumerate() {
            for lit in lits.iter().flatten() {
                patterns.push(lit.as_str());
                owner.push(slot);
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .ok()
        };
        Prefilter {
            automaton,
            owner,
            slots: literals.len(),
        }
    }

    /// Scans `text` once. Overlapping search, so a literal inside another slot's literal is
    /// still seen.
    pub fn scan(&self, text: &str) -> PrefilterHits {
        let mut offsets = vec![Vec::new(); self.slots];
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(text) {
                if let Some(&slot) = self.owner.get(m.pattern().as_usize()) {
                    let list: &mut Vec<usize> = &mut offsets[slot];
                    if list.last() != Some(&m.start()) {
                        list.push(m.start());
                    }
                }
            }
        }
        PrefilterHits { offsets }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_prefix_or_suffix_literals() {
        assert_eq!(
            required_literals(r"\b(?P<CALL>datetime\.utcnow)\(\)"),
            Some(vec!["datetime.utcnow()".to_string()])
        );
        assert_eq!(
            required_literals(r"(foo|bar)baz"),
            Some(vec!["barbaz".to_string(), "foobaz".to_string()])
        );
        let suffix = required_literals(r"\w+_ANON_KEY").unwrap();
        assert!(
            suffix.iter().all(|l| l.ends_with("_ANON_KEY")),
            "{suffix:?}"
        );
        assert_eq!(required_literals(r"\w+"), None);
        assert_eq!(required_literals(r"a?"), None);
    }

    #[test]
    fn finds_overlapping_literals_per_slot() {
        let pf = Prefilter::new(&[
            Some(vec!["utcnow".into()]),
            None,
            Some(vec!["datetime.utcnow".into()]),
        ]);
        let hits = pf.scan("x = datetime.utcnow()\n");
        assert_eq!(hits.offsets[0], vec![13]);
        assert!(hits.offsets[1].is_empty());
        assert_eq!(hits.offsets[2], vec![4]);
    }
}
