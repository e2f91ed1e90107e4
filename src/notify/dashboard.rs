//! The body of a repository's GitHub dashboard issue: its open findings grouped by severity and
//! rule, each with `file:line`, then what was fixed since the last update.
//!
//! Every scanned or crawled string is hostile. [`inline`] makes one inert for GitHub Markdown:
//! control and bidirectional-override characters go, Markdown and HTML punctuation is
//! backslash-escaped, and `@mention` / `#123` get a zero-width joiner so GitHub neither pings
//! anyone nor links (and notifies) another issue. The body stays under GitHub's 65,536
//! characters, ending with "… and N more" when findings had to be left out.

use crate::store::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The issue's title; one issue per repository carries it.
pub const ISSUE_TITLE: &str = "ecowatch dashboard";
/// First line of every body, so people (and tools) can tell it is generated.
pub const MARKER: &str = "<!-- ecowatch-dashboard -->";
/// GitHub refuses bodies of 65,536 characters or more; this leaves room for the tail lines.
pub const MAX_BODY_CHARS: usize = 60_000;
/// The most of one title, rule id or path a line carries.
const MAX_FIELD_CHARS: usize = 300;
const ZWJ: char = '\u{200D}';

/// What one update of the dashboard shows.
pub struct Dashboard<'a> {
    /// `owner/repo`.
    pub github_repo: &'a str,
    /// What ecowatch calls the repository.
    pub repo_name: &'a str,
    /// Findings with status `new` or `open`.
    pub open: &'a [Finding],
    /// Findings fixed since the last update.
    pub fixed: &'a [Finding],
}

/// Severities most urgent first; unknown ones follow, alphabetically.
fn severity_rank(severity: &str) -> (u8, String) {
    let rank = match severity.to_ascii_lowercase().as_str() {
        "critical" => 0,
        "high" | "error" => 1,
        "medium" | "warning" | "moderate" => 2,
        "low" => 3,
        "info" | "note" => 4,
        _ => 5,
    };
    (rank, severity.to_ascii_lowercase())
}

/// `path:line`, or `(repository)` for findings about the repository as a whole.
fn location(finding: &Finding) -> String {
    match (&finding.path, finding.line) {
        (Some(path), Some(line)) => format!("{}:{line}", inline(path)),
        (Some(path), None) => inline(path),
        (None, _) => "(repository)".to_string(),
    }
}

/// Renders the body. Deterministic for the same findings, so an unchanged state hashes the same.
pub fn render(dashboard: &Dashboard<'_>) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "{MARKER}");
    let _ = writeln!(
        head,
        "**{}** open finding{} in **{}** ({}), kept up to date by `ecowatch dashboard sync`. \
         Edits to this issue are overwritten.\n",
        dashboard.open.len(),
        if dashboard.open.len() == 1 { "" } else { "s" },
        inline(dashboard.repo_name),
        inline(dashboard.github_repo),
    );

    let mut lines: Vec<String> = Vec::new();
    // severity → rule → findings, each level in a stable order.
    let mut groups: BTreeMap<(u8, String), BTreeMap<&str, Vec<&Finding>>> = BTreeMap::new();
    for finding in dashboard.open {
        groups
            .entry(severity_rank(&finding.severity))
            .or_default()
            .entry(finding.rule_id.as_str())
            .or_default()
            .push(finding);
    }
    if groups.is_empty() {
        lines.push("No open findings. 🎉\n".to_string());
    }
    for ((_, severity), rules) in &groups {
        let count: usize = rules.values().map(Vec::len).sum();
        lines.push(format!("## {} ({count})\n", inline(&capitalise(severity))));
        for (rule, findings) in rules {
            let mut findings = findings.clone();
            findings.sort_by(|a, b| (&a.path, a.line, &a.title).cmp(&(&b.path, b.line, &b.title)));
            let title = findings.first().map_or("", |f| f.title.as_str());
            lines.push(format!("### {} — {}\n", inline(rule), inline(title)));
            for finding in findings {
                lines.push(format!(
                    "- {}: {}",
                    location(finding),
                    inline(&finding.title)
                ));
            }
            lines.push(String::new());
        }
    }
    if !dashboard.fixed.is_empty() {
        lines.push(format!(
            "## Fixed since last update ({})\n",
            dashboard.fixed.len()
        ));
        let mut fixed: Vec<&Finding> = dashboard.fixed.iter().collect();
        fixed.sort_by(|a, b| {
            (&a.rule_id, &a.path, a.line, &a.title).cmp(&(&b.rule_id, &b.path, b.line, &b.title))
        });
        for finding in fixed {
            lines.push(format!(
                "- ~~{}~~ {}: {}",
                inline(&finding.rule_id),
                location(finding),
                inline(&finding.title)
            ));
        }
    }
    assemble(head, lines)
}

/// Joins the lines, leaving out what does not fit under [`MAX_BODY_CHARS`] with a count.
fn assemble(mut body: String, lines: Vec<String>) -> String {
    let mut used = body.chars().count();
    let total = lines.len();
    for (index, line) in lines.into_iter().enumerate() {
        let len = line.chars().count() + 1;
        if used + len > MAX_BODY_CHARS {
            let left = total - index;
            let _ = writeln!(body, "\n… and {left} more lines not shown");
            return body;
        }
        used += len;
        body.push_str(&line);
        body.push('\n');
    }
    body
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Characters that would make a string read differently than it is (bidi overrides and
/// isolates, zero-width and other invisible format characters).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}' | '\u{061C}' | '\u{00AD}')
}

/// One line of hostile text made inert for GitHub Markdown, capped at [`MAX_FIELD_CHARS`].
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().filter(|c| !is_invisible(*c)).peekable();
    let mut kept = 0usize;
    while let Some(c) = chars.next() {
        if kept == MAX_FIELD_CHARS {
            out.push('…');
            break;
        }
        kept += 1;
        match c {
            c if c.is_control() => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // A mention pings; a `#123` links (and notifies) another issue.
            '@' => {
                out.push('@');
                out.push(ZWJ);
            }
            '#' if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('#');
                out.push(ZWJ);
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '~' | '|' | '!' | '#' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FindingStatus;
    use chrono::Utc;

    fn finding(rule: &str, severity: &str, title: &str, path: &str, line: i64) -> Finding {
        Finding {
            id: 1,
            repo_id: 1,
            fingerprint: format!("{rule}{path}{line}"),
            rule_id: rule.into(),
            severity: severity.into(),
            title: title.into(),
            path: Some(path.into()),
            line: Some(line),
            first_seen: Utc::now(),
            last_seen: Utc::now(),
            status: FindingStatus::Open,
            details: serde_json::json!({}),
        }
    }

    #[test]
    fn hostile_text_is_inert() {
        let text =
            inline("@everyone <script>alert(1)</script> see #1 `x` \u{202E}gnp.exe\r\nBcc: x");
        assert!(!text.contains("@everyone"), "{text}");
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        assert!(!text.contains("#1"), "{text}");
        assert!(!text.contains('\u{202E}') && !text.contains('\n') && !text.contains('\r'));
        assert!(text.contains("\\`x\\`"), "{text}");
    }

    #[test]
    fn fields_are_capped() {
        let text = inline(&"a".repeat(5000));
        assert_eq!(text.chars().count(), MAX_FIELD_CHARS + 1);
    }

    #[test]
    fn groups_by_severity_then_rule_and_lists_fixed() {
        let open = [
            finding("r-low", "low", "Low thing", "a.py", 3),
            finding("r-high", "high", "High thing", "b.py", 7),
        ];
        let fixed = [finding("r-gone", "medium", "Gone thing", "c.py", 1)];
        let body = render(&Dashboard {
            github_repo: "acme/api",
            repo_name: "api",
            open: &open,
            fixed: &fixed,
        });
        let high = body.find("## High (1)").expect(&body);
        let low = body.find("## Low (1)").expect(&body);
        let gone = body.find("## Fixed since last update (1)").expect(&body);
        assert!(high < low && low < gone, "{body}");
        assert!(body.contains("- b.py:7: High thing"), "{body}");
        assert!(body.starts_with(MARKER));
    }

    #[test]
    fn a_huge_state_stays_under_the_limit_and_says_how_much_is_missing() {
        let long = "x".repeat(400);
        let open: Vec<Finding> = (0..2000)
            .map(|i| finding("rule", "high", &long, &format!("f{i}.py"), i))
            .collect();
        let body = render(&Dashboard {
            github_repo: "acme/api",
            repo_name: "api",
            open: &open,
            fixed: &[],
        });
        assert!(body.chars().count() < 65_536);
        assert!(body.contains("more lines not shown"), "tail missing");
    }
}
