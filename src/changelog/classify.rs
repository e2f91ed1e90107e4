//! What an entry announces: a deprecation, a removal, a breaking change or a security fix.
//!
//! The verb decides before the heading does: several projects file "Removed `foo`" under
//! "Deprecated", and "`bar` is deprecated and will be removed in 3.0" is a deprecation whatever
//! its heading. A heading alone is weaker evidence than a verb, and the two agreeing is the
//! strongest; the confidence says which case it was.

use super::sections::cut;
use regex::Regex;
use std::sync::LazyLock;

/// The kinds of entry ecowatch turns into knowledge; everything else is [`Category::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    Deprecated,
    Removed,
    Breaking,
    Security,
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Deprecated => "deprecated",
            Category::Removed => "removed",
            Category::Breaking => "breaking",
            Category::Security => "security",
            Category::Other => "other",
        }
    }
}

/// The classifier reads only this much of an entry; verbs come early.
const CLASSIFY_BYTES: usize = 1024;

/// The category a heading announces (`### Deprecated`, `Features removed in 4.1`,
/// `Backwards incompatible changes`, `Security`), or `None` for neutral headings.
pub fn heading_category(heading: &str) -> Option<Category> {
    static HEADING: LazyLock<[(Category, Regex); 4]> = LazyLock::new(|| {
        let re = |p: &str| Regex::new(p).expect("constant regex compiles");
        [
            (Category::Security, re(r"(?i)\bsecurity\b|\bvulnerabilit")),
            (
                Category::Breaking,
                re(r"(?i)\bbreaking\b|\bbackwards?[- ]incompatible\b|\bincompatible changes?\b"),
            ),
            (
                Category::Removed,
                re(r"(?i)\b(?:removed|removals?|dropped)\b"),
            ),
            (Category::Deprecated, re(r"(?i)\bdeprecat(?:ed|ions?)\b")),
        ]
    });
    let heading = cut(heading, 256);
    HEADING
        .iter()
        .find(|(_, re)| re.is_match(heading))
        .map(|(c, _)| *c)
}

static SECURITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:CVE-\d{4}-\d+|GHSA(?:-[0-9a-z]{4}){3}|security (?:fix|issue|vulnerability|advisory|release)|vulnerabilit(?:y|ies)|\bXSS\b|remote code execution|denial[- ]of[- ]service|SQL injection|privilege escalation)")
        .expect("constant regex compiles")
});

/// A deprecation verb: "is deprecated", "deprecate `x`", "will be removed in".
static DEPRECATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[.;:]\s+)deprecated?s?\b|\b(?:is|are|was|were|has been|have been|now|been|becomes?)\s+(?:now\s+|also\s+|officially\s+)?deprecated\b|\bdeprecat(?:e|es|ing)\b|\bdeprecation of\b|\bpending deprecation\b|\bDeprecationWarning\b|\b(?:will|to) be removed\b|\bscheduled for removal\b|\bin favou?r of\b")
        .expect("constant regex compiles")
});

/// A removal verb, past: "Removed `x`", "`x` has been removed", "no longer available".
static REMOVED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[.;:]\s+)(?:removed?|drop(?:ped)?|deleted?)\b|\b(?:is|are|was|were|has been|have been|got|now)\s+(?:now\s+|been\s+|also\s+)?(?:removed|dropped|deleted)\b|\bno longer (?:available|exists?|exported|provided|present|included|shipped)\b|\bremoval of\b")
        .expect("constant regex compiles")
});

/// A breaking change without a removal: behaviour that changed under the same name.
static BREAKING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bbreaking(?: change)?\b|\bbackwards?[- ]incompatible\b|\bno longer (?:accepts?|returns?|supports?|allows?|works?|raises?|throws?)\b|\bnow (?:requires?|raises?|throws?|returns?)\b|\brenamed\b")
        .expect("constant regex compiles")
});

/// An entry's category and how sure the classifier is (0..=1).
pub fn classify(heading: Option<&str>, parent: Option<&str>, text: &str) -> (Category, f64) {
    let text = cut(text, CLASSIFY_BYTES);
    let from_heading = heading
        .and_then(heading_category)
        .or_else(|| parent.and_then(parent_category));
    let from_verb = verb_category(text);
    match (from_verb, from_heading) {
        (Some(v), Some(h)) if v == h => (v, 0.9),
        // A removal listed under "Deprecated", a deprecation under "Removed": the verb says it.
        (Some(v), Some(_)) => (v, 0.75),
        (Some(v), None) => (v, 0.7),
        (None, Some(h)) => (h, 0.6),
        (None, None) => (Category::Other, 0.0),
    }
}

/// A parent list item that is itself a label ("Deprecated:", "**Removed**").
fn parent_category(parent: &str) -> Option<Category> {
    let short = parent.trim().trim_matches(['*', '_', ':', ' ']);
    if short.len() > 40 {
        return None;
    }
    heading_category(short)
}

/// The category the entry's own words give; the earliest of a removal and a deprecation verb
/// wins ("Removed the deprecated `x`" is a removal, "`x` is deprecated and will be removed" a
/// deprecation).
fn verb_category(text: &str) -> Option<Category> {
    if SECURITY.is_match(text) {
        return Some(Category::Security);
    }
    let deprecated = DEPRECATED.find(text).map(|m| m.start());
    let removed = REMOVED.find(text).map(|m| m.start());
    match (removed, deprecated) {
        (Some(r), Some(d)) if r < d => return Some(Category::Removed),
        (Some(_), Some(_)) | (None, Some(_)) => return Some(Category::Deprecated),
        (Some(_), None) => return Some(Category::Removed),
        (None, None) => {}
    }
    BREAKING.is_match(text).then_some(Category::Breaking)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_and_headings() {
        let c = |h: Option<&str>, t: &str| classify(h, None, t);
        assert_eq!(
            c(Some("Deprecated"), "`foo` is deprecated."),
            (Category::Deprecated, 0.9)
        );
        assert_eq!(
            c(Some("Deprecated"), "Removed `foo()`."),
            (Category::Removed, 0.75)
        );
        assert_eq!(
            c(
                Some("Removed"),
                "`x` is deprecated and will be removed in 3.0"
            ),
            (Category::Deprecated, 0.75)
        );
        assert_eq!(c(None, "Removed the deprecated `x`").0, Category::Removed);
        assert_eq!(c(None, "`x` has been removed").0, Category::Removed);
        assert_eq!(
            c(None, "Deprecate `x` in favour of `y`").0,
            Category::Deprecated
        );
        assert_eq!(
            c(None, "`f()` now raises `ValueError`").0,
            Category::Breaking
        );
        assert_eq!(c(None, "Fix CVE-2024-1234 in parser").0, Category::Security);
        assert_eq!(c(Some("Fixed"), "Fix a crash").0, Category::Other);
        assert_eq!(
            c(Some("Features removed in 4.1"), "`x` support").0,
            Category::Removed
        );
        assert_eq!(
            c(
                Some("Backwards incompatible changes in 4.1"),
                "The `y` changed"
            )
            .0,
            Category::Breaking
        );
        // Not a verb: a word that merely contains one.
        assert_eq!(c(None, "Improve removedness docs").0, Category::Other);
    }

    #[test]
    fn a_label_parent_classifies_its_children() {
        assert_eq!(
            classify(None, Some("**Deprecated:**"), "`a.b`").0,
            Category::Deprecated
        );
        assert_eq!(
            classify(
                None,
                Some("A long sentence that happens to mention deprecation of things"),
                "`a.b`"
            )
            .0,
            Category::Other
        );
    }
}
