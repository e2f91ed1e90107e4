//! Which discussions are announcements, and what they say: the kind (deprecation or a general
//! announcement), dates ("no action necessary until at least 1st November 2025", "by the end of
//! 2026", "on 2026-03-01") for the notice's timeline, and identifiers from code spans. Crawled
//! text is hostile: it stays text (control characters dropped, lengths capped) and is escaped
//! by whatever shows it.

use chrono::NaiveDate;
use regex::Regex;
use std::sync::LazyLock;

const MAX_SUMMARY_CHARS: usize = 300;
const MAX_SENTENCE_CHARS: usize = 400;
const MAX_IDENTIFIERS: usize = 20;
const MAX_DATES: usize = 10;
/// Only the start of a very long body is read.
const MAX_BODY_CHARS: usize = 64 * 1024;

/// Words that mark a deprecation: the notice is a `deprecation`.
const DEPRECATION_WORDS: &[&str] = &[
    "deprecat",
    "sunset",
    "retire",
    "end of life",
    "end-of-life",
    "will be removed",
    "no longer supported",
    "no longer be supported",
    "decommission",
    "shut down",
    "shutting down",
];
/// Words that mark an announcement users must act on.
const CHANGE_WORDS: &[&str] = &[
    "breaking",
    "migrate",
    "migration",
    "no longer",
    "removed",
    "removal",
    "action required",
];
const ANNOUNCEMENT_CATEGORIES: &[&str] = &["announcement", "changelog", "news", "release"];
const ANNOUNCEMENT_LABELS: &[&str] = &["breaking", "deprecat", "announcement", "sunset"];
/// Code spans too generic to search for on their own.
const GENERIC_IDENTIFIERS: &[&str] = &[
    "get", "set", "data", "client", "error", "value", "key", "id", "url", "true", "false", "null",
    "none", "main", "api", "app", "config", "test", "new",
];

/// A discussion as the classifier sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscussionText<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub category: Option<&'a str>,
    pub labels: &'a [String],
}

/// What an announcement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Deprecation (or sunset, removal, end of life) rather than a general change.
    pub deprecation: bool,
    pub summary: String,
    /// The sentence that made it an announcement, when the title alone did not.
    pub key_sentence: Option<String>,
    pub timeline: Vec<Dated>,
    pub identifiers: Vec<String>,
}

/// A date and the sentence it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    pub date: NaiveDate,
    pub sentence: String,
}

/// `Some` when the discussion announces something users must act on: a deprecation or change
/// word in the title or a telling label, or one in the body of a discussion filed under an
/// announcement category.
pub fn classify(d: &DiscussionText<'_>) -> Option<Announcement> {
    let title = d.title.to_lowercase();
    let body: String = d.body.chars().take(MAX_BODY_CHARS).collect();
    let body_lower = body.to_lowercase();
    let labels: Vec<String> = d.labels.iter().map(|l| l.to_lowercase()).collect();
    let has = |text: &str, words: &[&str]| words.iter().any(|w| text.contains(w));
    let label_says = labels.iter().any(|l| has(l, ANNOUNCEMENT_LABELS));
    let category_says = d
        .category
        .map(str::to_lowercase)
        .is_some_and(|c| has(&c, ANNOUNCEMENT_CATEGORIES));
    let title_says = has(&title, DEPRECATION_WORDS) || has(&title, CHANGE_WORDS);
    let body_says = has(&body_lower, DEPRECATION_WORDS) || has(&body_lower, CHANGE_WORDS);
    if !(title_says || label_says || (category_says && body_says)) {
        return None;
    }
    let deprecation = has(&title, DEPRECATION_WORDS)
        || labels
            .iter()
            .any(|l| l.contains("deprecat") || l.contains("sunset"))
        || (!title_says && has(&body_lower, DEPRECATION_WORDS));
    let sentences = sentences(&body);
    let key_sentence = (!title_says)
        .then(|| {
            sentences.iter().find(|s| {
                let lower = s.to_lowercase();
                has(&lower, DEPRECATION_WORDS) || has(&lower, CHANGE_WORDS)
            })
        })
        .flatten()
        .map(|s| clean(s, MAX_SENTENCE_CHARS));
    Some(Announcement {
        deprecation,
        summary: clean(d.title, MAX_SUMMARY_CHARS),
        key_sentence,
        timeline: dates(&sentences),
        identifiers: identifiers(&body),
    })
}

/// The body split into sentences (and lines), without Markdown code fences.
fn sentences(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in body.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || trimmed.is_empty() {
            continue;
        }
        let trimmed = trimmed.trim_start_matches(['#', '>', '-', '*', ' ']);
        let mut start = 0;
        let bytes = trimmed.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let end_of_sentence =
                matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_none_or(|n| *n == b' ');
            if end_of_sentence {
                push_sentence(&mut out, &trimmed[start..=i]);
                start = i + 1;
            }
        }
        push_sentence(&mut out, &trimmed[start..]);
    }
    out
}

fn push_sentence(out: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        out.push(text.to_string());
    }
}

static DAY_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?,?\s+(\d{4})\b")
        .unwrap_or_else(|_| unreachable!("a fixed, tested pattern"))
});
static MONTH_DAY_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
        .unwrap_or_else(|_| unreachable!("a fixed, tested pattern"))
});
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b")
        .unwrap_or_else(|_| unreachable!("a fixed, tested pattern"))
});
static END_OF_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:by\s+)?the\s+end\s+of\s+(\d{4})\b")
        .unwrap_or_else(|_| unreachable!("a fixed, tested pattern"))
});
static CODE_SPAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"`([^`\n]{2,100})`").unwrap_or_else(|_| unreachable!("a fixed, tested pattern"))
});
static IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:--[a-z0-9][a-z0-9-]*|[A-Za-z_$@][A-Za-z0-9_$@./:-]*(?:\(\))?)$")
        .unwrap_or_else(|_| unreachable!("a fixed, tested pattern"))
});

fn month_number(name: &str) -> Option<u32> {
    let prefix: String = name.to_lowercase().chars().take(3).collect();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    months
        .iter()
        .position(|m| *m == prefix)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn number<T: std::str::FromStr>(text: Option<regex::Match<'_>>) -> Option<T> {
    text.and_then(|m| m.as_str().parse().ok())
}

/// Every date the sentences name, in order, each once, with its sentence.
fn dates(sentences: &[String]) -> Vec<Dated> {
    let mut out: Vec<Dated> = Vec::new();
    for sentence in sentences {
        let mut found = Vec::new();
        for c in DAY_MONTH_YEAR.captures_iter(sentence) {
            let month = c.get(2).and_then(|m| month_number(m.as_str()));
            if let (Some(d), Some(m), Some(y)) = (number(c.get(1)), month, number(c.get(3))) {
                found.extend(NaiveDate::from_ymd_opt(y, m, d));
            }
        }
        for c in MONTH_DAY_YEAR.captures_iter(sentence) {
            let month = c.get(1).and_then(|m| month_number(m.as_str()));
            if let (Some(m), Some(d), Some(y)) = (month, number(c.get(2)), number(c.get(3))) {
                found.extend(NaiveDate::from_ymd_opt(y, m, d));
            }
        }
        for c in ISO_DATE.captures_iter(sentence) {
            if let (Some(y), Some(m), Some(d)) =
                (number(c.get(1)), number(c.get(2)), number(c.get(3)))
            {
                found.extend(NaiveDate::from_ymd_opt(y, m, d));
            }
        }
        for c in END_OF_YEAR.captures_iter(sentence) {
            if let Some(y) = number(c.get(1)) {
                found.extend(NaiveDate::from_ymd_opt(y, 12, 31));
            }
        }
        for date in found {
            if out.len() < MAX_DATES && !out.iter().any(|d| d.date == date) {
                out.push(Dated {
                    date,
                    sentence: clean(sentence, MAX_SENTENCE_CHARS),
                });
            }
        }
    }
    out.sort_by_key(|d| d.date);
    out
}

/// Identifiers named in inline code spans (`SUPABASE_ANON_KEY`, `createClient()`, `--flag`),
/// without generic words, each once.
pub fn identifiers(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        for c in CODE_SPAN.captures_iter(line) {
            let Some(span) = c.get(1).map(|m| m.as_str().trim()) else {
                continue;
            };
            let bare = span.trim_end_matches("()");
            if !IDENTIFIER.is_match(span)
                || bare.len() < 3
                || GENERIC_IDENTIFIERS.contains(&bare.to_lowercase().as_str())
                || out.iter().any(|o| o == span)
            {
                continue;
            }
            out.push(span.to_string());
            if out.len() == MAX_IDENTIFIERS {
                return out;
            }
        }
    }
    out
}

/// One line of text: control characters (CR, LF, bidi overrides stay visible as text but
/// controls go) become spaces, runs of space collapse, and the length is capped with `…`.
pub fn clean(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    let trimmed = out.trim_end();
    if trimmed.chars().count() > max_chars {
        let mut capped: String = trimmed.chars().take(max_chars.saturating_sub(1)).collect();
        capped.push('…');
        capped
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discussion<'a>(
        title: &'a str,
        body: &'a str,
        category: Option<&'a str>,
        labels: &'a [String],
    ) -> DiscussionText<'a> {
        DiscussionText {
            title,
            body,
            category,
            labels,
        }
    }

    const SUPABASE_BODY: &str = "We're changing how API keys work.\n\n\
        The `anon` and `service_role` keys will be deprecated in favour of publishable and \
        secret keys. If you read `SUPABASE_ANON_KEY` from the environment, switch to \
        `SUPABASE_PUBLISHABLE_KEY`. No action necessary until at least 1st November 2025. \
        Legacy keys will be removed by the end of 2026.\n\n\
        ```js\nconst `ignored` = 1\n```\n";

    #[test]
    fn a_deprecation_announcement_with_dates_and_identifiers() {
        let labels = Vec::new();
        let a = classify(&discussion(
            "Upcoming changes to Supabase API Keys",
            SUPABASE_BODY,
            Some("Changelog"),
            &labels,
        ))
        .unwrap();
        assert!(a.deprecation);
        assert_eq!(a.summary, "Upcoming changes to Supabase API Keys");
        assert!(a.key_sentence.unwrap().contains("will be deprecated"));
        let dates: Vec<String> = a.timeline.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(dates, ["2025-11-01", "2026-12-31"]);
        assert!(a.timeline[0].sentence.starts_with("No action necessary"));
        assert_eq!(
            a.identifiers,
            [
                "anon",
                "service_role",
                "SUPABASE_ANON_KEY",
                "SUPABASE_PUBLISHABLE_KEY"
            ]
        );
    }

    #[test]
    fn date_forms() {
        let d = |text: &str| -> Vec<String> {
            dates(&sentences(text))
                .iter()
                .map(|d| d.date.to_string())
                .collect()
        };
        assert_eq!(d("Removed on 2026-03-01."), ["2026-03-01"]);
        assert_eq!(d("Sunset on March 1st, 2026."), ["2026-03-01"]);
        assert_eq!(d("Sunset on 3 Sept 2026."), ["2026-09-03"]);
        assert_eq!(
            d("Not on 2026-02-30 nor 31st June 2026."),
            Vec::<String>::new()
        );
        assert_eq!(d("by the end of 2026"), ["2026-12-31"]);
    }

    #[test]
    fn ordinary_discussions_are_not_announcements() {
        let labels = vec!["question".to_string()];
        assert!(
            classify(&discussion(
                "How do I paginate?",
                "It is slow.",
                Some("Q&A"),
                &labels
            ))
            .is_none()
        );
        // A change word in the body only counts under an announcement category.
        assert!(
            classify(&discussion(
                "Help",
                "Should I migrate?",
                Some("Q&A"),
                &labels
            ))
            .is_none()
        );
        let a = classify(&discussion(
            "Weekly update",
            "We will migrate the CLI.",
            Some("Announcements"),
            &labels,
        ))
        .unwrap();
        assert!(!a.deprecation);
        let breaking = vec!["breaking-change".to_string()];
        assert!(classify(&discussion("v3", "New things", None, &breaking)).is_some());
    }

    #[test]
    fn hostile_text_stays_one_capped_line() {
        let labels = Vec::new();
        let title = format!(
            "Deprecation\r\nBcc: x@evil <script>alert(1)</script>{}",
            "a".repeat(1000)
        );
        let a = classify(&discussion(&title, "", None, &labels)).unwrap();
        assert!(!a.summary.contains('\n') && !a.summary.contains('\r'));
        assert!(
            a.summary.contains("<script>"),
            "kept as text, escaped on output"
        );
        assert_eq!(a.summary.chars().count(), MAX_SUMMARY_CHARS);
        assert!(
            identifiers("`get` `data()` `rm -rf /` `<img>` `--legacy-keys`") == ["--legacy-keys"]
        );
    }
}
