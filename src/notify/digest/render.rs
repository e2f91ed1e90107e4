//! The digest as text, Markdown and HTML. Every string that came from a scan or a feed is
//! escaped for its channel here (it was already made inert, see [`crate::notify::email::inert`]):
//! HTML entities in HTML, a backslash before every ASCII punctuation character in Markdown.
//!
//! The HTML is for mail clients: one 600px table, inline styles only, no images, no scripts,
//! no external resources; links only to our own unsubscribe URL and to http(s) references.

use super::group::{Group, Section};
use super::{Announcement, Digest, StaleSource, Sunset};
use crate::notify::email::html_escape as h;
use crate::notify::subscription::Cadence;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// The header band's colour (the screenshot test looks for it).
pub const BRAND: &str = "#0b5cad";

pub fn title(d: &Digest) -> String {
    match d.cadence {
        Cadence::Daily => format!("Daily digest, {}", d.period_start.format("%Y-%m-%d")),
        _ => format!(
            "Weekly digest, week of {}",
            d.period_start.format("%Y-%m-%d")
        ),
    }
}

/// The subject: counts only, nothing crawled.
pub fn subject(d: &Digest) -> String {
    let mut parts = Vec::new();
    if !d.new.is_empty() {
        parts.push(format!("{} new", d.new.findings()));
    }
    if !d.open_high.is_empty() {
        parts.push(format!("{} still open", d.open_high.findings()));
    }
    if !d.announcements.is_empty() {
        parts.push(plural(
            d.announcements.len(),
            "announcement",
            "announcements",
        ));
    }
    if parts.is_empty() {
        parts.push("nothing new".into());
    }
    format!("[ecowatch] {}: {}", title(d), parts.join(", "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// "2 repositories, 7 files"
fn reach(g: &Group) -> String {
    format!(
        "{}, {}",
        plural(g.repos.len() + g.more_repos, "repository", "repositories"),
        plural(g.files, "file", "files")
    )
}

/// "sunset in 31 days (2026-12-31)"
pub fn countdown(s: &Sunset) -> String {
    let when = match s.days_left {
        0 => "sunset today".to_string(),
        1 => "sunset tomorrow".to_string(),
        d if d > 1 => format!("sunset in {d} days"),
        -1 => "sunset passed yesterday".to_string(),
        d => format!("sunset passed {} days ago", -d),
    };
    format!("{when} ({})", s.date)
}

/// "OSV data stale since 2026-05-30 (last error 2026-06-01: HTTP 500)"
pub fn staleness(s: &StaleSource) -> String {
    let name = if s.id.eq_ignore_ascii_case("osv") {
        "OSV".to_string()
    } else {
        s.id.clone()
    };
    let mut out = match s.last_success_at {
        Some(ok) => format!("{name} data stale since {}", day(ok)),
        None => format!("{name} data unavailable: no successful crawl yet"),
    };
    if let Some(at) = s.last_error_at {
        let _ = write!(out, " (last error {}", day(at));
        if let Some(e) = &s.last_error {
            let _ = write!(out, ": {e}");
        }
        out.push(')');
    }
    out
}

fn scope(d: &Digest) -> String {
    let repos = d.repo.as_deref().map_or_else(
        || "all repositories".to_string(),
        |r| format!("repository {r}"),
    );
    let since = d.since.map_or_else(
        || "This is your first digest".to_string(),
        |s| format!("Since {}", s.format("%Y-%m-%d %H:%M UTC")),
    );
    format!(
        "{since}: {} new, {} fixed. Covers {repos}, severity {} and up.",
        d.new.findings(),
        d.fixed,
        d.min_severity
    )
}

fn announcement_line(a: &Announcement) -> String {
    format!(
        "[{}] {}: {} ({}; in {})",
        a.kind,
        a.id,
        a.summary,
        a.packages.join(", "),
        a.repos.join(", ")
    )
}

// ---- text

pub fn text(d: &Digest, unsubscribe: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "ecowatch {}\n{}\n", title(d), scope(d));
    if !d.stale_sources.is_empty() {
        o.push_str("DATA MAY BE INCOMPLETE\n");
        for s in &d.stale_sources {
            let _ = writeln!(o, "! {}", staleness(s));
        }
        o.push('\n');
    }
    text_section(&mut o, "NEW SINCE YOUR LAST DIGEST", &d.new);
    if d.new.is_empty() {
        o.push_str("Nothing new since your last digest.\n\n");
    }
    if !d.sunsets.is_empty() {
        o.push_str("DEADLINES\n");
        for s in &d.sunsets {
            let _ = writeln!(
                o,
                "* {}: {}, {} repos, {}",
                s.title,
                countdown(s),
                s.repos,
                plural(s.files, "file", "files")
            );
        }
        o.push('\n');
    }
    text_section(&mut o, "STILL OPEN (HIGH AND CRITICAL)", &d.open_high);
    if !d.announcements.is_empty() {
        o.push_str("NEW ANNOUNCEMENTS FOR YOUR STACK\n");
        for a in &d.announcements {
            let _ = writeln!(o, "* {}", announcement_line(a));
            if let Some(url) = &a.url {
                let _ = writeln!(o, "  {url}");
            }
        }
        if d.more_announcements > 0 {
            let _ = writeln!(o, "  … and {} more", d.more_announcements);
        }
        o.push('\n');
    }
    for note in &d.notes {
        let _ = writeln!(o, "Note: {note}");
    }
    let _ = writeln!(o, "-- \necowatch, subscription {}", d.subscription_id);
    if let Some(url) = unsubscribe {
        let _ = writeln!(o, "Unsubscribe: {url}");
    }
    o
}

fn text_section(o: &mut String, heading: &str, section: &Section) {
    if section.is_empty() {
        return;
    }
    let _ = writeln!(o, "{heading}");
    for g in &section.groups {
        let _ = writeln!(o, "* [{}] {} ({})", g.severity, g.title, g.rule_id);
        let _ = writeln!(
            o,
            "  -> {}, {}",
            reach(g),
            plural(g.findings, "finding", "findings")
        );
        for r in &g.repos {
            let _ = writeln!(
                o,
                "     {}: {} ({})",
                r.name,
                plural(r.files, "file", "files"),
                r.examples.join(", ")
            );
        }
        if g.more_repos > 0 {
            let _ = writeln!(o, "     … and {} more repositories", g.more_repos);
        }
    }
    if section.more > 0 {
        let _ = writeln!(o, "  … and {} more", section.more);
    }
    o.push('\n');
}

// ---- Markdown

/// A backslash before every character that can start Markdown syntax inline (links, emphasis,
/// code, HTML tags, entities, headings), so crawled text can open none of them. Crawled text
/// never starts a line here, so `-`, `.` and digits (list markers) stay readable.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '#'
                | '+'
                | '!'
                | '|'
                | '~'
                | '&'
                | '"'
                | '\''
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn markdown(d: &Digest, unsubscribe: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# ecowatch {}\n\n{}\n", md(&title(d)), md(&scope(d)));
    if !d.stale_sources.is_empty() {
        o.push_str("> **Data may be incomplete**\n");
        for s in &d.stale_sources {
            let _ = writeln!(o, "> - {}", md(&staleness(s)));
        }
        o.push('\n');
    }
    md_section(&mut o, "New since your last digest", &d.new);
    if d.new.is_empty() {
        o.push_str("Nothing new since your last digest\\.\n\n");
    }
    if !d.sunsets.is_empty() {
        o.push_str("## Deadlines\n\n");
        for s in &d.sunsets {
            let _ = writeln!(
                o,
                "- **{}**: {}, {} repos, {}",
                md(&s.title),
                md(&countdown(s)),
                s.repos,
                plural(s.files, "file", "files")
            );
        }
        o.push('\n');
    }
    md_section(&mut o, "Still open \\(high and critical\\)", &d.open_high);
    if !d.announcements.is_empty() {
        o.push_str("## New announcements for your stack\n\n");
        for a in &d.announcements {
            let _ = write!(o, "- {}", md(&announcement_line(a)));
            if let Some(url) = &a.url {
                let _ = write!(o, " <{}>", url.replace(['<', '>'], ""));
            }
            o.push('\n');
        }
        o.push('\n');
    }
    for note in &d.notes {
        let _ = writeln!(o, "*{}*\n", md(note));
    }
    let _ = writeln!(o, "\\-\\-\necowatch, subscription {}", d.subscription_id);
    if let Some(url) = unsubscribe {
        let _ = writeln!(o, "[Unsubscribe](<{url}>)");
    }
    o
}

fn md_section(o: &mut String, heading: &str, section: &Section) {
    if section.is_empty() {
        return;
    }
    let _ = writeln!(o, "## {heading}\n");
    for g in &section.groups {
        let _ = writeln!(
            o,
            "- **\\[{}\\] {}** \\({}\\) → {}, {}",
            md(&g.severity),
            md(&g.title),
            md(&g.rule_id),
            reach(g),
            plural(g.findings, "finding", "findings")
        );
        for r in &g.repos {
            let _ = writeln!(
                o,
                "  - {}: {} \\({}\\)",
                md(&r.name),
                plural(r.files, "file", "files"),
                md(&r.examples.join(", "))
            );
        }
    }
    if section.more > 0 {
        let _ = writeln!(o, "- … and {} more", section.more);
    }
    o.push('\n');
}

// ---- HTML

const FONT: &str = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;";

fn severity_colour(severity: &str) -> &'static str {
    match severity {
        "critical" => "#b42318",
        "high" => "#c4320a",
        "medium" => "#b54708",
        "low" => "#4b5563",
        _ => "#6b7280",
    }
}

fn badge(text: &str, colour: &str) -> String {
    format!(
        "<span style=\"display:inline-block;padding:1px 7px;border-radius:10px;background:{colour};\
         color:#ffffff;font-size:11px;font-weight:bold;text-transform:uppercase;\">{}</span>",
        h(text)
    )
}

fn heading(o: &mut String, text: &str) {
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:20px 24px 6px 24px;{FONT}font-size:15px;font-weight:bold;\
         color:#111827;border-top:1px solid #e5e7eb;\">{}</td></tr>",
        h(text)
    );
}

/// One padded row in the main table.
fn row(o: &mut String, inner: &str) {
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:6px 24px;{FONT}font-size:14px;line-height:20px;color:#1f2937;\">\
         {inner}</td></tr>"
    );
}

fn html_section(o: &mut String, title: &str, section: &Section) {
    if section.is_empty() {
        return;
    }
    heading(o, title);
    for g in &section.groups {
        let mut inner = format!(
            "{} <b>{}</b><br><span style=\"color:#4b5563;font-size:12px;\">{}</span><br>\
             <span style=\"color:#111827;\">&rarr; {}, {}</span>",
            badge(&g.severity, severity_colour(&g.severity)),
            h(&g.title),
            h(&g.rule_id),
            h(&reach(g)),
            h(&plural(g.findings, "finding", "findings"))
        );
        inner.push_str(
            "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
             style=\"margin:4px 0 0 12px;\">",
        );
        for r in &g.repos {
            let _ = write!(
                inner,
                "<tr><td style=\"{FONT}font-size:12px;color:#374151;padding:1px 0;\"><b>{}</b>: {} \
                 <span style=\"color:#6b7280;\">{}</span></td></tr>",
                h(&r.name),
                h(&plural(r.files, "file", "files")),
                h(&r.examples.join(", "))
            );
        }
        if g.more_repos > 0 {
            let _ = write!(
                inner,
                "<tr><td style=\"{FONT}font-size:12px;color:#6b7280;\">… and {} more repositories</td></tr>",
                g.more_repos
            );
        }
        inner.push_str("</table>");
        row(o, &inner);
    }
    if section.more > 0 {
        row(o, &format!("… and {} more", section.more));
    }
}

pub fn html(d: &Digest, unsubscribe: Option<&str>) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light\">\
         <title>ecowatch {title}</title></head>\n\
         <body style=\"margin:0;padding:0;background:#f3f4f6;\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"background:#f3f4f6;\"><tr><td align=\"center\" style=\"padding:24px 8px;\">\n\
         <table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"width:100%;max-width:600px;background:#ffffff;border:1px solid #e5e7eb;\
         border-collapse:separate;\">\n\
         <tr><td style=\"background:{BRAND};padding:20px 24px;{FONT}color:#ffffff;\">\
         <div style=\"font-size:13px;letter-spacing:1px;text-transform:uppercase;\">ecowatch</div>\
         <div style=\"font-size:22px;font-weight:bold;line-height:30px;\">{title}</div></td></tr>\n",
        title = h(&title(d))
    );
    row(
        &mut o,
        &format!("<span style=\"color:#4b5563;\">{}</span>", h(&scope(d))),
    );
    if !d.stale_sources.is_empty() {
        let mut inner = String::from(
            "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" \
             border=\"0\"><tr><td style=\"background:#fffbeb;border-left:4px solid #d97706;\
             padding:10px 12px;font-size:13px;color:#78350f;\"><b>Data may be incomplete</b>",
        );
        for s in &d.stale_sources {
            let _ = write!(inner, "<br>{}", h(&staleness(s)));
        }
        inner.push_str("</td></tr></table>");
        row(&mut o, &inner);
    }
    html_section(&mut o, "New since your last digest", &d.new);
    if d.new.is_empty() {
        heading(&mut o, "New since your last digest");
        row(&mut o, "Nothing new since your last digest.");
    }
    if !d.sunsets.is_empty() {
        heading(&mut o, "Deadlines");
        for s in &d.sunsets {
            let colour = if s.days_left <= 30 {
                "#b42318"
            } else {
                "#b54708"
            };
            row(
                &mut o,
                &format!(
                    "<b>{}</b><br><span style=\"color:{colour};font-weight:bold;\">{}</span> \
                     <span style=\"color:#4b5563;\">&middot; {} repos, {}</span>",
                    h(&s.title),
                    h(&countdown(s)),
                    s.repos,
                    h(&plural(s.files, "file", "files"))
                ),
            );
        }
    }
    html_section(&mut o, "Still open (high and critical)", &d.open_high);
    if !d.announcements.is_empty() {
        heading(&mut o, "New announcements for your stack");
        for a in &d.announcements {
            let link = a.url.as_ref().map_or_else(String::new, |u| {
                format!(
                    "<br><a href=\"{}\" style=\"color:{BRAND};font-size:12px;\">{}</a>",
                    h(u),
                    h(u)
                )
            });
            row(
                &mut o,
                &format!(
                    "{} <b>{}</b>: {}<br><span style=\"color:#4b5563;font-size:12px;\">{} &middot; in {}</span>{link}",
                    badge(&a.kind, "#4b5563"),
                    h(&a.id),
                    h(&a.summary),
                    h(&a.packages.join(", ")),
                    h(&a.repos.join(", "))
                ),
            );
        }
        if d.more_announcements > 0 {
            row(&mut o, &format!("… and {} more", d.more_announcements));
        }
    }
    for note in &d.notes {
        row(
            &mut o,
            &format!("<i style=\"color:#6b7280;\">{}</i>", h(note)),
        );
    }
    let unsubscribe = unsubscribe.map_or_else(String::new, |u| {
        format!(
            " &middot; <a href=\"{}\" style=\"color:#4b5563;\">Unsubscribe</a>",
            h(u)
        )
    });
    let _ = write!(
        o,
        "<tr><td style=\"padding:16px 24px;border-top:1px solid #e5e7eb;background:#f9fafb;{FONT}\
         font-size:12px;color:#6b7280;\">Sent by ecowatch for subscription {}{unsubscribe}</td></tr>\n\
         </table>\n</td></tr></table>\n</body></html>\n",
        d.subscription_id
    );
    o
}

#[cfg(test)]
mod tests {
    use super::super::group::{RepoShare, Section};
    use super::*;
    use chrono::TimeZone;

    fn digest() -> Digest {
        let hostile =
            "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>";
        Digest {
            subscription_id: 3,
            cadence: Cadence::Weekly,
            period_start: Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
            generated_at: Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap(),
            since: None,
            repo: None,
            min_severity: "info".into(),
            new: Section {
                groups: vec![Group {
                    rule_id: "supabase/legacy-api-key".into(),
                    title: hostile.into(),
                    severity: "high".into(),
                    findings: 7,
                    files: 7,
                    repos: vec![
                        RepoShare {
                            name: "api".into(),
                            findings: 4,
                            files: 4,
                            examples: vec!["a.ts:1".into()],
                        },
                        RepoShare {
                            name: "web".into(),
                            findings: 2,
                            files: 2,
                            examples: vec![],
                        },
                        RepoShare {
                            name: "cli".into(),
                            findings: 1,
                            files: 1,
                            examples: vec![],
                        },
                    ],
                    more_repos: 0,
                    sunset: None,
                }],
                more: 0,
            },
            open_high: Section::default(),
            fixed: 0,
            sunsets: vec![Sunset {
                rule_id: "supabase/legacy-api-key".into(),
                title: "Supabase legacy API keys".into(),
                date: "2026-07-02".parse().unwrap(),
                days_left: 31,
                repos: 3,
                files: 7,
            }],
            announcements: vec![Announcement {
                id: "ANN-1".into(),
                kind: "deprecation".into(),
                summary: hostile.into(),
                packages: vec!["npm x".into()],
                repos: vec!["api".into()],
                modified: Utc.with_ymd_and_hms(2026, 5, 30, 0, 0, 0).unwrap(),
                url: Some("https://example.com/?a=1&b=\"2\"".into()),
            }],
            more_announcements: 0,
            stale_sources: vec![StaleSource {
                id: "osv".into(),
                last_success_at: Some(Utc.with_ymd_and_hms(2026, 5, 28, 0, 0, 0).unwrap()),
                last_error_at: Some(Utc.with_ymd_and_hms(2026, 5, 31, 0, 0, 0).unwrap()),
                last_error: Some("HTTP 500 <b>".into()),
            }],
            notes: vec![],
        }
    }

    #[test]
    fn every_format_groups_and_counts_down() {
        let d = digest();
        for out in [text(&d, None), markdown(&d, None), html(&d, None)] {
            assert!(out.contains("3 repositories, 7 files"), "{out}");
            assert!(out.contains("sunset in 31 days"), "{out}");
            assert!(out.contains("OSV data stale since 2026-05-28"), "{out}");
        }
        assert_eq!(
            subject(&d),
            "[ecowatch] Weekly digest, week of 2026-06-01: 7 new, 1 announcement"
        );
    }

    #[test]
    fn html_escapes_everything_crawled() {
        let out = html(&digest(), Some("https://e.example/unsubscribe/v1.a.b"));
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("href=\"javascript"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(out.contains("href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\""));
        assert!(out.contains("<a href=\"https://e.example/unsubscribe/v1.a.b\""));
        assert!(out.contains(BRAND));
        assert!(out.contains("max-width:600px"));
    }

    #[test]
    fn markdown_escapes_links_and_markup() {
        let out = markdown(&digest(), None);
        assert!(!out.contains("[x](javascript"), "{out}");
        assert!(out.contains("\\<script\\>"), "{out}");
        assert_eq!(md("a_b*[c]"), "a\\_b\\*\\[c\\]");
    }
}
