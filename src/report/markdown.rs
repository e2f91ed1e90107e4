//! Renders a [`ScanReport`] as GitHub-flavoured Markdown for pull-request comments and
//! digests: a summary table, then one collapsible `<details>` block per rule listing where it
//! matched.
//!
//! Everything that comes from a scanned file or a crawled page is hostile: it is escaped so it
//! renders as the text it is and can add no link, image, HTML, heading, table cell, mention or
//! issue reference. Three contexts, three escapers:
//! - [`inline_text`] for Markdown text (messages, titles, table cells);
//! - [`code_span`] for snippets and paths (a backtick fence longer than any run inside);
//! - [`html_text`] inside the `<summary>` HTML line.
//!
//! Mentions (`@team`) and references (`#12`, `GH-12`) are broken with a zero-width joiner,
//! bare URLs (`https://`, `www.`) likewise so they do not autolink; only the findings' own
//! `references` become links, and only when they are plain `http(s)` URLs.

use crate::finding::{Finding, ScanReport, Severity};
use crate::report::terminal::plain_text;
use std::fmt::Write as _;
use std::io::{self, Write};

/// How to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Locations listed per rule before "and N more" (GitHub comments hold 65,536 characters).
    pub max_locations_per_rule: usize,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            max_locations_per_rule: 30,
        }
    }
}

/// Lines of a fix note shown per rule.
const FIX_LINES: usize = 6;
const ZWJ: char = '\u{200D}';

/// Writes the whole report.
pub fn write(report: &ScanReport, out: &mut dyn Write, opts: &MarkdownOptions) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "### ecowatch scan\n")?;
    writeln!(out, "{}\n", summary_sentence(report))?;
    writeln!(out, "| Severity | Findings |\n| --- | ---: |")?;
    for (severity, count) in [
        (Severity::Critical, s.critical),
        (Severity::High, s.high),
        (Severity::Medium, s.medium),
        (Severity::Low, s.low),
        (Severity::Info, s.info),
    ] {
        writeln!(out, "| {severity} | {count} |")?;
    }
    writeln!(out, "| suppressed | {} |", s.suppressed)?;
    writeln!(out)?;

    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    // Rules in the order of their most severe finding, then by id; locations inside by place.
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut rules: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for finding in findings {
        match rules.iter_mut().find(|(rule, _)| *rule == finding.rule) {
            Some((_, list)) => list.push(finding),
            None => rules.push((&finding.rule, vec![finding])),
        }
    }
    for (_, group) in &rules {
        write_rule(group, out, opts)?;
    }

    if !report.diagnostics.is_empty() {
        writeln!(
            out,
            "<details><summary>Diagnostics ({})</summary>\n",
            report.diagnostics.len()
        )?;
        for diag in &report.diagnostics {
            let place = match (&diag.path, diag.line) {
                (Some(p), Some(l)) => format!(" {}", code_span(&format!("{p}:{l}"))),
                (Some(p), None) => format!(" {}", code_span(p)),
                _ => String::new(),
            };
            writeln!(
                out,
                "- {} {}{place}: {}",
                diag.severity,
                code_span(&diag.code),
                inline_text(&diag.message)
            )?;
        }
        writeln!(out, "\n</details>\n")?;
    }
    Ok(())
}

fn summary_sentence(report: &ScanReport) -> String {
    let s = &report.summary;
    let mut line = match s.findings {
        0 => "No findings".to_string(),
        1 => "**1 finding**".to_string(),
        n => format!("**{n} findings**"),
    };
    let _ = write!(line, " in {} files scanned", s.files_scanned);
    if s.suppressed > 0 {
        let _ = write!(line, ", {} suppressed", s.suppressed);
    }
    match (s.fail_on, s.failed) {
        (Some(level), true) => {
            let _ = write!(line, ". Failing: findings at or above **{level}**.");
        }
        (Some(level), false) => {
            let _ = write!(line, ". Passing: nothing at or above {level}.");
        }
        (None, _) => line.push('.'),
    }
    line
}

fn write_rule(group: &[&Finding], out: &mut dyn Write, opts: &MarkdownOptions) -> io::Result<()> {
    let head = group[0];
    writeln!(
        out,
        "<details><summary><b>{}</b> <code>{}</code> {} ({})</summary>\n",
        head.severity,
        html_text(&head.rule),
        html_with_code(&head.title),
        group.len()
    )?;
    for finding in group.iter().take(opts.max_locations_per_rule) {
        write_finding(finding, out)?;
    }
    if group.len() > opts.max_locations_per_rule {
        writeln!(
            out,
            "- … and {} more",
            group.len() - opts.max_locations_per_rule
        )?;
    }
    writeln!(out)?;
    if let Some(fix) = &head.fix {
        let lines: Vec<String> = plain_text(fix, FIX_LINES)
            .iter()
            .map(|l| inline_text(l))
            .collect();
        if !lines.is_empty() {
            writeln!(out, "**Fix:** {}\n", lines.join(" "))?;
        }
    }
    let links: Vec<String> = head.references.iter().map(|r| reference(r)).collect();
    if !links.is_empty() {
        writeln!(out, "**References:** {}\n", links.join(", "))?;
    }
    writeln!(out, "</details>\n")
}

fn write_finding(finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let mut places: Vec<String> = finding
        .locations
        .iter()
        .map(|l| code_span(&format!("{}:{}:{}", l.path, l.line, l.column)))
        .collect();
    if let Some(p) = &finding.package {
        let version = p
            .version
            .as_deref()
            .map(|v| format!("@{v}"))
            .unwrap_or_default();
        places.push(format!(
            "{} {}",
            p.ecosystem,
            code_span(&format!("{}{version}", p.name))
        ));
    }
    if places.is_empty() {
        places.push("(no location)".to_string());
    }
    writeln!(
        out,
        "- {} — {}",
        places.join(", "),
        inline_text(&finding.message)
    )?;
    for location in &finding.locations {
        if !location.snippet.trim().is_empty() {
            writeln!(out, "  {}", code_span(location.snippet.trim()))?;
        }
    }
    Ok(())
}

/// A reference as an autolink when it is a plain `http(s)` URL, else as inert code.
fn reference(url: &str) -> String {
    let plain = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && url
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '`' | '\\' | '|'));
    if plain {
        format!("<{url}>")
    } else {
        code_span(url)
    }
}

/// Untrusted text as one line of Markdown text that renders as exactly that text.
pub fn inline_text(text: &str) -> String {
    let text = one_line(text);
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '!' | '{' | '}'
            | '+' | '-' | '.' | ':' | '=' => {
                out.push('\\');
                out.push(c);
                break_reference(&mut out, &chars, i);
            }
            '@' => {
                out.push('@');
                out.push(ZWJ);
            }
            _ => out.push(c),
        }
    }
    break_autolinks(&out)
}

/// After a `#` or `GH-` that could start an issue reference (`#12`, `GH-12`), a zero-width joiner.
fn break_reference(out: &mut String, chars: &[char], i: usize) {
    let starts_reference = match chars[i] {
        '#' => true,
        '-' => {
            i >= 2
                && chars[i - 2..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("gh")
        }
        _ => false,
    };
    if starts_reference && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()) {
        out.push(ZWJ);
    }
}

/// `www.` and `://` (already escaped as `\:`) get a joiner so GitHub does not autolink them.
fn break_autolinks(text: &str) -> String {
    text.replace("\\://", &format!("\\:{ZWJ}//"))
        .replace("www\\.", &format!("www{ZWJ}\\."))
        .replace("WWW\\.", &format!("WWW{ZWJ}\\."))
}

/// Untrusted text as a code span: nothing inside is Markdown, the fence outlasts any backtick
/// run inside, and padding keeps leading/trailing backticks apart from the fence.
pub fn code_span(text: &str) -> String {
    // Not for table cells: a pipe would need `\|` there, which shows literally elsewhere.
    let text = one_line(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if text.is_empty() {
        return "` `".to_string();
    }
    format!("{fence} {text} {fence}")
}

/// Untrusted text inside an HTML element on one line.
pub fn html_text(text: &str) -> String {
    escape_html(&one_line(text))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '@' => {
                out.push('@');
                out.push(ZWJ);
            }
            _ => {
                out.push(c);
                break_reference(&mut out, &chars, i);
            }
        }
    }
    out.replace("://", &format!(":{ZWJ}//"))
        .replace("www.", &format!("www{ZWJ}."))
}

/// Like [`html_text`], but balanced backtick spans become `<code>` (titles often name code).
fn html_with_code(text: &str) -> String {
    let text = one_line(text);
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escape_html(&text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape_html(part))
            } else {
                escape_html(part)
            }
        })
        .collect()
}

/// Collapses line breaks and drops control and bidi characters: every context here is one line.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}') {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else if c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        {
            // Dropped: invisible, or an instruction to a terminal or a bidi renderer.
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::terminal::tests::sample_report;

    fn render(report: &ScanReport, opts: &MarkdownOptions) -> String {
        let mut out = Vec::new();
        write(report, &mut out, opts).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn summary_table_then_one_details_block_per_rule() {
        let md = render(&sample_report(), &MarkdownOptions::default());
        assert!(
            md.starts_with(
                "### ecowatch scan\n\n**3 findings** in 120 files scanned, 2 suppressed. \
             Failing: findings at or above **high**.\n\n\
             | Severity | Findings |\n| --- | ---: |\n| critical | 0 |\n| high | 1 |\n\
             | medium | 0 |\n| low | 2 |\n| info | 0 |\n| suppressed | 2 |\n\n"
            ),
            "{md}"
        );
        assert_eq!(md.matches("<details><summary><b>").count(), 2);
        let high = md.find("<code>GHSA-aaaa-bbbb-cccc</code>").unwrap();
        let low = md.find("<code>python/datetime-utcnow</code>").unwrap();
        assert!(high < low, "the high rule comes first");
        assert!(md.contains("(2)</summary>\n\n- ` src/app.py:12:7 ` — Deprecated since Python 3\\.12\\.\n  ` now = datetime.utcnow() `\n"), "{md}");
        assert!(md.contains("**References:** <https://docs.python.org/3/library/datetime.html>"));
        assert!(
            md.contains("**Fix:** Use datetime\\.now\\(UTC\\) instead\\."),
            "{md}"
        );
        assert!(md.contains("<details><summary>Diagnostics (1)</summary>"));
        // Every <details> is closed.
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
    }

    #[test]
    fn hostile_text_arrives_inert() {
        let md = render(&sample_report(), &MarkdownOptions::default());
        assert!(!md.contains("<script>"));
        assert!(
            md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "title in <summary> is HTML-escaped"
        );
        assert!(!md.contains("[x](javascript"));
        assert!(
            md.contains("\\[x\\]\\(javascript\\:alert\\(1\\)\\)"),
            "{md}"
        );
        assert!(!md.contains("@everyone"));
        assert!(md.contains("@\u{200D}everyone"));
        assert!(!md.contains('\r'));
        assert!(!md.contains('\x1b'));
        assert!(!md.contains('\u{202E}'));
        assert!(md.contains("see \\[x\\]"), "{md}");
        assert!(
            md.contains("alert\\(1\\)\\) Bcc\\: victim@\u{200D}example\\.com"),
            "CRLF collapses: {md}"
        );
        // The snippet's backticks cannot end its code span.
        assert!(
            md.contains("`` \"lodash\": \"4.17.20\" [31mred[0m | `tick` # h ``"),
            "{md}"
        );
    }

    #[test]
    fn inline_text_escapes_markdown_and_html() {
        assert_eq!(inline_text("# Title"), "\\# Title");
        assert_eq!(inline_text("non-empty"), "non\\-empty");
        assert_eq!(inline_text("a *b* _c_ `d`"), "a \\*b\\* \\_c\\_ \\`d\\`");
        assert_eq!(
            inline_text("<img src=x onerror=y>"),
            "&lt;img src\\=x onerror\\=y&gt;"
        );
        assert_eq!(inline_text("![i](u)"), "\\!\\[i\\]\\(u\\)");
        assert_eq!(
            inline_text("see #12 and GH-7"),
            "see \\#\u{200D}12 and GH\\-\u{200D}7"
        );
        assert_eq!(inline_text("a\r\nb"), "a b");
        assert_eq!(inline_text("&amp;"), "&amp;amp;");
        assert!(!inline_text("https://evil.example").contains("://"));
        assert!(!inline_text("www.evil.example").contains("www\\."));
        assert_eq!(inline_text("@org/team"), "@\u{200D}org/team");
    }

    #[test]
    fn code_span_fences_outlast_backticks() {
        assert_eq!(code_span("a"), "` a `");
        assert_eq!(code_span("a`b"), "`` a`b ``");
        assert_eq!(code_span("``x```"), "```` ``x``` ````");
        assert_eq!(code_span("a|b"), "` a|b `");
        assert_eq!(code_span(""), "` `");
        assert_eq!(code_span("a\nb"), "` a b `");
    }

    #[test]
    fn html_text_escapes_quotes_and_mentions() {
        assert_eq!(
            html_text("\"'<b>&@all"),
            "&quot;&#39;&lt;b&gt;&amp;@\u{200D}all"
        );
        assert_eq!(html_text("x#1"), "x#\u{200D}1");
    }

    #[test]
    fn titles_keep_their_code_spans_as_escaped_html() {
        assert_eq!(
            html_with_code("`a<b>()` is gone"),
            "<code>a&lt;b&gt;()</code> is gone"
        );
        assert_eq!(html_with_code("odd ` tick"), "odd ` tick");
        assert_eq!(
            html_with_code("`</code><script>`"),
            "<code>&lt;/code&gt;&lt;script&gt;</code>"
        );
    }

    #[test]
    fn only_plain_http_references_become_links() {
        assert_eq!(
            reference("https://example.com/a"),
            "<https://example.com/a>"
        );
        assert_eq!(reference("javascript:alert(1)"), "` javascript:alert(1) `");
        assert_eq!(
            reference("https://x.example/a>b"),
            "` https://x.example/a>b `"
        );
        assert_eq!(reference("https://"), "` https:// `");
    }

    #[test]
    fn long_rules_are_cut_with_a_count() {
        let mut report = sample_report();
        let copy = report.findings[1].clone();
        for line in 100..140 {
            let mut f = copy.clone();
            f.locations[0].line = line;
            report.findings.push(f);
        }
        let md = render(
            &report,
            &MarkdownOptions {
                max_locations_per_rule: 5,
            },
        );
        assert!(md.contains("- … and 37 more\n"), "{md}");
    }

    #[test]
    fn empty_report() {
        let mut report = sample_report();
        report.findings.clear();
        report.diagnostics.clear();
        report.summary = Default::default();
        let md = render(&report, &MarkdownOptions::default());
        assert!(md.contains("No findings in 0 files scanned."));
        assert!(!md.contains("<details>"));
    }
}
