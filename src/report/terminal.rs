//! Renders a [`ScanReport`] for people at a terminal: findings grouped by severity (highest
//! first) and rule, each with its place, the matched line, the message, how to fix it and
//! where to read more; then diagnostics; then one summary line.
//!
//! Snippets, messages and notes come from scanned files and crawled pages, so every piece of
//! such text passes through [`clean_line`]: control characters (ESC, CR, BEL, C1) and bidi
//! overrides are shown as `\u{..}` escapes and can neither colour, move the cursor nor hide
//! text. Colour comes only from this module, and only when [`TerminalOptions::color`] is set.

use crate::diag::Diagnostic;
use crate::finding::{Finding, ScanReport, Severity, Summary};
use std::fmt::Write as _;
use std::io::{self, Write};

/// How to render. The caller decides `color` (a terminal on stdout, no `NO_COLOR`, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TerminalOptions {
    pub color: bool,
}

/// Lines of a fix note shown under a finding; the full note is in JSON/SARIF/Markdown.
const FIX_LINES: usize = 4;

/// Writes the whole report.
pub fn write(report: &ScanReport, out: &mut dyn Write, opts: &TerminalOptions) -> io::Result<()> {
    let paint = Paint(opts.color);
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    let mut start = 0;
    while start < findings.len() {
        let head = findings[start];
        let end = findings[start..]
            .iter()
            .position(|f| f.severity != head.severity || f.rule != head.rule)
            .map_or(findings.len(), |n| start + n);
        write_group(&findings[start..end], out, paint)?;
        start = end;
    }
    write_diagnostics(&report.diagnostics, out, paint)?;
    writeln!(
        out,
        "{}",
        summary_line(&report.summary, report.diagnostics.len(), paint)
    )
}

/// One rule at one severity: a header, then each finding; fix and references are shown once
/// when every finding of the group shares them.
fn write_group(group: &[&Finding], out: &mut dyn Write, paint: Paint) -> io::Result<()> {
    let head = group[0];
    writeln!(
        out,
        "{} {} {}",
        paint.severity(head.severity),
        paint.bold(&clean_line(&head.rule)),
        clean_line(&head.title),
    )?;
    let shared = group
        .iter()
        .all(|f| f.fix == head.fix && f.references == head.references);
    for finding in group {
        write_finding(finding, out, paint, !shared)?;
    }
    if shared {
        write_fix_and_references(head, out, paint)?;
    }
    writeln!(out)
}

fn write_finding(
    finding: &Finding,
    out: &mut dyn Write,
    paint: Paint,
    with_fix: bool,
) -> io::Result<()> {
    if finding.locations.is_empty() {
        writeln!(out, "  {} {}", paint.dim("-->"), package_label(finding))?;
    }
    for location in &finding.locations {
        let place = format!(
            "{}:{}:{}",
            clean_line(&location.path),
            location.line,
            location.column
        );
        writeln!(out, "  {} {}", paint.dim("-->"), paint.bold(&place))?;
        if !location.snippet.trim().is_empty() {
            writeln!(
                out,
                "   {} {}",
                paint.dim("|"),
                clean_line(location.snippet.trim())
            )?;
        }
    }
    if !finding.locations.is_empty() && finding.package.is_some() {
        writeln!(out, "   {} {}", paint.dim("="), package_label(finding))?;
    }
    for line in finding.message.lines().filter(|l| !l.trim().is_empty()) {
        writeln!(out, "   {} {}", paint.dim("="), clean_line(line.trim()))?;
    }
    if !finding.aliases.is_empty() {
        let aliases: Vec<String> = finding.aliases.iter().map(|a| clean_line(a)).collect();
        writeln!(out, "   {} aliases: {}", paint.dim("="), aliases.join(", "))?;
    }
    if with_fix {
        write_fix_and_references(finding, out, paint)?;
    }
    Ok(())
}

fn write_fix_and_references(
    finding: &Finding,
    out: &mut dyn Write,
    paint: Paint,
) -> io::Result<()> {
    if let Some(fix) = &finding.fix {
        let lines = plain_text(fix, FIX_LINES);
        for (i, line) in lines.iter().enumerate() {
            let label = if i == 0 { "fix:" } else { "    " };
            writeln!(out, "  {} {}", paint.green(label), clean_line(line))?;
        }
    }
    for reference in &finding.references {
        writeln!(out, "  {} {}", paint.dim("see:"), clean_line(reference))?;
    }
    Ok(())
}

fn package_label(finding: &Finding) -> String {
    match &finding.package {
        Some(p) => {
            let version = p
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            clean_line(&format!("package {} {}{version}", p.ecosystem, p.name))
        }
        None => "(no location)".to_string(),
    }
}

fn write_diagnostics(
    diagnostics: &[Diagnostic],
    out: &mut dyn Write,
    paint: Paint,
) -> io::Result<()> {
    for diag in diagnostics {
        let label = format!("{}[{}]", diag.severity, diag.code);
        let label = match diag.severity {
            crate::diag::Severity::Error => paint.red(&clean_line(&label)),
            crate::diag::Severity::Warning => paint.yellow(&clean_line(&label)),
            crate::diag::Severity::Info => paint.dim(&clean_line(&label)),
        };
        let place = match (&diag.path, diag.line) {
            (Some(p), Some(l)) => format!(" {}:{l}", clean_line(p)),
            (Some(p), None) => format!(" {}", clean_line(p)),
            _ => String::new(),
        };
        writeln!(out, "{label}{place}: {}", clean_line(&diag.message))?;
    }
    if !diagnostics.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// `3 findings (1 high, 2 low) in 120 files; 2 suppressed; 1 diagnostic; failing: findings at or above high`.
pub fn summary_line(summary: &Summary, diagnostics: usize, paint: Paint) -> String {
    let mut line = if summary.findings == 0 {
        "no findings".to_string()
    } else {
        let counts: Vec<String> = [
            (summary.critical, Severity::Critical),
            (summary.high, Severity::High),
            (summary.medium, Severity::Medium),
            (summary.low, Severity::Low),
            (summary.info, Severity::Info),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, s)| format!("{n} {s}"))
        .collect();
        format!(
            "{} ({})",
            plural(summary.findings, "finding", "findings"),
            counts.join(", ")
        )
    };
    let _ = write!(
        line,
        " in {}",
        plural(summary.files_scanned, "file", "files")
    );
    if summary.suppressed > 0 {
        let _ = write!(line, "; {} suppressed", summary.suppressed);
    }
    if diagnostics > 0 {
        let _ = write!(
            line,
            "; {}",
            plural(diagnostics, "diagnostic", "diagnostics")
        );
    }
    match (summary.fail_on, summary.failed) {
        (Some(level), true) => {
            let _ = write!(
                line,
                "; {}",
                paint.red(&format!("failing: findings at or above {level}"))
            );
        }
        (Some(level), false) => {
            let _ = write!(line, "; passing: nothing at or above {level}");
        }
        (None, _) => {}
    }
    line
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first paragraph of a Markdown note as plain lines (at most `max_lines`, the last one
/// ending in `…` when cut): emphasis and code markers dropped, `[text](url)` as `text (url)`,
/// heading and quote markers removed. Not a Markdown parser; enough for a hint under a finding.
pub(crate) fn plain_text(markdown: &str, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut more = false;
    for raw in markdown.lines().skip_while(|l| l.trim().is_empty()) {
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with("```") {
            more = true;
            break;
        }
        if lines.len() == max_lines {
            more = true;
            break;
        }
        let raw = raw.trim_start_matches('#').trim_start_matches('>').trim();
        lines.push(strip_inline_markup(raw));
    }
    if more && let Some(last) = lines.last_mut() {
        last.push_str(" …");
    }
    lines
}

fn strip_inline_markup(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '['
            && let Some((text, url, after)) = split_link(rest)
        {
            let _ = write!(out, "{} ({url})", strip_inline_markup(text));
            rest = after;
            continue;
        }
        if matches!(c, '`' | '*') || (c == '_' && rest.starts_with("__")) {
            rest = rest.trim_start_matches(c);
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `[text](url)rest` into its parts, when `rest` starts with a complete link.
fn split_link(s: &str) -> Option<(&str, &str, &str)> {
    let close = s.find("](")?;
    let text = &s[1..close];
    if text.contains('[') {
        return None;
    }
    let after_paren = &s[close + 2..];
    let end = after_paren.find(')')?;
    Some((text, &after_paren[..end], &after_paren[end + 1..]))
}

/// One line of untrusted text made safe to print: control characters (C0 including CR, LF, ESC
/// and TAB, DEL, C1) and bidi/invisible formatting characters become visible `\u{..}` escapes.
pub fn clean_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_dangerous(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters a terminal acts on or that change how the text around them reads.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'      // zero-width and direction marks
            | '\u{2028}' | '\u{2029}'   // line/paragraph separators
            | '\u{202A}'..='\u{202E}'    // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}'    // bidi isolates
            | '\u{FEFF}'                  // zero-width no-break space
        )
}

/// ANSI styling that is a no-op when colour is off.
#[derive(Clone, Copy, Debug)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    fn severity(self, severity: Severity) -> String {
        let code = match severity {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;36",
            Severity::Info => "2",
        };
        self.wrap(code, &format!("{:<8}", severity.as_str()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use crate::finding::{Confidence, Kind, Location, PackageRef, Target, Tool};

    /// A small report shared by the renderer tests: two rules, three findings, hostile text.
    pub(crate) fn sample_report() -> ScanReport {
        let utcnow = |path: &str, line: u32, snippet: &str| {
            Finding {
            id: format!("id-{path}-{line}"),
            rule: "python/datetime-utcnow".into(),
            kind: Kind::Deprecation,
            severity: Severity::Low,
            confidence: Confidence::High,
            title: "`datetime.utcnow()` is deprecated".into(),
            message: "Deprecated since Python 3.12.".into(),
            package: None,
            locations: vec![Location {
                path: path.into(),
                line,
                column: 7,
                snippet: snippet.into(),
            }],
            references: vec!["https://docs.python.org/3/library/datetime.html".into()],
            aliases: vec![],
            fix: Some(
                "Use `datetime.now(UTC)` instead.\nSee [the docs](https://docs.python.org).\n\nMore detail here."
                    .into(),
            ),
        }
        };
        let advisory = Finding {
            id: "a1b2c3".into(),
            rule: "GHSA-aaaa-bbbb-cccc".into(),
            kind: Kind::Advisory,
            severity: Severity::High,
            confidence: Confidence::Medium,
            title: "Prototype pollution in <script>alert(1)</script>".into(),
            message: "Hi @everyone, see [x](javascript:alert(1))\r\nBcc: victim@example.com".into(),
            package: Some(PackageRef {
                ecosystem: Ecosystem::Npm,
                name: "lodash".into(),
                version: Some("4.17.20".into()),
            }),
            locations: vec![Location {
                path: "package-lock.json".into(),
                line: 12,
                column: 5,
                snippet: "\"lodash\": \"4.17.20\" \x1b[31mred\x1b[0m | `tick` # h".into(),
            }],
            references: vec!["https://github.com/advisories/GHSA-aaaa-bbbb-cccc".into()],
            aliases: vec!["CVE-2021-23337".into()],
            fix: Some("Upgrade to 4.17.21 or later.".into()),
        };
        let findings = vec![
            advisory,
            utcnow("src/app.py", 12, "now = datetime.utcnow()"),
            utcnow("src/jobs.py", 3, "\u{202E}evil"),
        ];
        let mut summary = Summary {
            suppressed: 2,
            files_scanned: 120,
            rules_run: 4,
            rules_loaded: 9,
            fail_on: Some(Severity::High),
            failed: true,
            ..Summary::default()
        };
        summary.count(&findings);
        ScanReport {
            schema: crate::finding::REPORT_SCHEMA,
            tool: Tool {
                name: "ecowatch".into(),
                version: "0.1.0".into(),
            },
            target: Target { path: ".".into() },
            findings,
            diagnostics: vec![
                Diagnostic::warning("ignore-unused", "ignore of `x` matched no finding")
                    .at("ecowatch.toml")
                    .at_line(4),
            ],
            summary,
        }
    }

    fn render(report: &ScanReport, color: bool) -> String {
        let mut out = Vec::new();
        write(report, &mut out, &TerminalOptions { color }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn groups_by_severity_then_rule_with_places_and_fix() {
        let text = render(&sample_report(), false);
        let expected_start = "\
high     GHSA-aaaa-bbbb-cccc Prototype pollution in <script>alert(1)</script>
  --> package-lock.json:12:5
   | \"lodash\": \"4.17.20\" \\u{1b}[31mred\\u{1b}[0m | `tick` # h
   = package npm lodash 4.17.20
   = Hi @everyone, see [x](javascript:alert(1))
   = Bcc: victim@example.com
   = aliases: CVE-2021-23337
  fix: Upgrade to 4.17.21 or later.
  see: https://github.com/advisories/GHSA-aaaa-bbbb-cccc

low      python/datetime-utcnow `datetime.utcnow()` is deprecated
  --> src/app.py:12:7
   | now = datetime.utcnow()
   = Deprecated since Python 3.12.
  --> src/jobs.py:3:7
   | \\u{202e}evil
   = Deprecated since Python 3.12.
  fix: Use datetime.now(UTC) instead.
       See the docs (https://docs.python.org). …
  see: https://docs.python.org/3/library/datetime.html

warning[ignore-unused] ecowatch.toml:4: ignore of `x` matched no finding

3 findings (1 high, 2 low) in 120 files; 2 suppressed; 1 diagnostic; failing: findings at or above high
";
        assert_eq!(text, expected_start);
    }

    #[test]
    fn no_escape_byte_reaches_the_terminal_without_colour() {
        let text = render(&sample_report(), false);
        assert!(!text.contains('\x1b'));
        assert!(!text.contains('\r'));
        assert!(!text.contains('\u{202E}'));
    }

    #[test]
    fn colour_only_wraps_our_own_labels() {
        let text = render(&sample_report(), true);
        assert!(text.contains("\x1b[1;31mhigh    \x1b[0m"));
        assert!(text.contains("\x1b[1mpackage-lock.json:12:5\x1b[0m"));
        // The snippet's own ESC bytes stay escaped even with colour on.
        assert!(text.contains("\\u{1b}[31mred"));
        assert_eq!(
            text.matches("\x1b[31m").count(),
            1,
            "only the failing label is red"
        );
    }

    #[test]
    fn empty_report_says_so() {
        let mut report = sample_report();
        report.findings.clear();
        report.diagnostics.clear();
        report.summary = Summary {
            files_scanned: 1,
            fail_on: Some(Severity::Medium),
            ..Summary::default()
        };
        assert_eq!(
            render(&report, false),
            "no findings in 1 file; passing: nothing at or above medium\n"
        );
    }

    #[test]
    fn package_level_finding_without_location() {
        let mut report = sample_report();
        report.findings.truncate(1);
        report.findings[0].locations.clear();
        let text = render(&report, false);
        assert!(
            text.contains("  --> package npm lodash 4.17.20\n"),
            "{text}"
        );
    }

    #[test]
    fn plain_text_takes_the_first_paragraph() {
        assert_eq!(
            plain_text("# Title\n**Bold** and __strong__\n\nsecond", 4),
            ["Title", "Bold and strong …"]
        );
        assert_eq!(plain_text("a\nb\nc", 2), ["a", "b …"]);
        assert_eq!(plain_text("", 3), Vec::<String>::new());
        assert_eq!(plain_text("[unclosed](x", 1), ["[unclosed](x"]);
        assert_eq!(plain_text("snake_case_name", 1), ["snake_case_name"]);
    }

    #[test]
    fn clean_line_escapes_controls_and_bidi() {
        assert_eq!(
            clean_line("a\x1b[2Jb\u{7}\r\n\t"),
            "a\\u{1b}[2Jb\\u{7}\\u{d}\\u{a}\\u{9}"
        );
        assert_eq!(clean_line("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(clean_line("\u{2067}x\u{200B}"), "\\u{2067}x\\u{200b}");
        assert_eq!(clean_line("héllo → ok"), "héllo → ok");
    }
}
