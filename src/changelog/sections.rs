//! Changelog text into version sections and their entries.
//!
//! One pass over the lines, with one line of lookahead for underlined headings. It reads
//! Markdown (ATX `##` and setext headings, bullet lists, Keep a Changelog's `## [1.2.0] -
//! 2024-01-02`, GitHub release notes' `### Breaking changes` and `* … by @user in URL`) and
//! reStructuredText (underlined and overlined headings, `..` directives, `::` literal blocks).
//! A heading that names a version starts a section; headings below it ("Deprecated", "Features
//! removed in 4.1") are kept as the entries' context, since the classifier reads them. Bullet
//! items and paragraphs are entries; a nested item keeps its parent's text for context.
//!
//! Hostile input stays linear: headings and entries are cut to fixed lengths before any regex
//! reads them, list nesting is capped, and counts of sections and entries are bounded.

use chrono::NaiveDate;
use regex::Regex;
use std::sync::LazyLock;

/// Longest entry text kept, in bytes (cut on a char boundary).
pub const MAX_ENTRY_BYTES: usize = 4096;
/// Longest heading kept, in bytes.
const MAX_HEADING_BYTES: usize = 256;
/// Longest parent text kept as context.
const MAX_PARENT_BYTES: usize = 512;
/// Sections kept; a file with more is not a changelog anyone maintains by hand.
const MAX_SECTIONS: usize = 20_000;
/// Entries kept per section.
const MAX_ENTRIES: usize = 5_000;
/// List nesting tracked; deeper items count as this deep.
const MAX_DEPTH: usize = 32;

/// The markup a changelog is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Rst,
}

impl Format {
    /// By file name: `.rst`/`.txt` (Django's release notes are `.txt`) are reStructuredText,
    /// everything else Markdown.
    pub fn for_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".rst") || lower.ends_with(".txt") || lower.ends_with(".rest") {
            Format::Rst
        } else {
            Format::Markdown
        }
    }

    /// `markdown`/`md` or `rst`/`restructuredtext`.
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "markdown" | "md" => Some(Format::Markdown),
            "rst" | "restructuredtext" => Some(Format::Rst),
            _ => None,
        }
    }
}

/// One version's part of a changelog.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// `None` for "Unreleased" and for text before any version heading (a GitHub release body:
    /// the caller knows the tag, see [`parse_release`]).
    pub version: Option<String>,
    pub date: Option<NaiveDate>,
    /// The heading as written (cleaned), for messages.
    pub title: String,
    pub entries: Vec<Entry>,
}

/// One bullet item or paragraph.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The headings between the section's heading and the entry, joined with " / ".
    pub heading: Option<String>,
    /// The enclosing list item's text, for nested lists ("Deprecated:\n  - `foo`").
    pub parent: Option<String>,
    /// The entry's text on one line: control characters dropped, whitespace collapsed.
    pub text: String,
    /// 1-based line where the entry starts.
    pub line: usize,
}

/// Splits `text` into version sections. Text before the first version heading becomes a section
/// without a version, only when it holds entries.
pub fn parse(text: &str, format: Format) -> Vec<Section> {
    let mut parser = Parser::new(format);
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        i += parser.line(&lines, i);
    }
    parser.finish()
}

/// [`parse`] for a release body whose version is its tag (`v2.1.0`): sections without a version
/// get the tag's.
pub fn parse_release(text: &str, format: Format, tag: &str) -> Vec<Section> {
    let version = find_version(tag).unwrap_or_else(|| tag.trim().to_string());
    let mut sections = parse(text, format);
    for s in &mut sections {
        if s.version.is_none() && !s.title.to_ascii_lowercase().contains("unreleased") {
            s.version = Some(version.clone());
        }
    }
    sections
}

/// An item being collected.
struct Open {
    text: String,
    line: usize,
    parent: Option<String>,
}

struct Parser {
    format: Format,
    sections: Vec<Section>,
    /// Level of the headings that name versions, once one has been seen.
    version_level: Option<usize>,
    /// Headings inside the current section: (level, text).
    headings: Vec<(usize, String)>,
    /// Open list items: (indent, text) of ancestors of the current item.
    list: Vec<(usize, String)>,
    open: Option<Open>,
    /// RST underline styles in order of first use: (char, overlined).
    rst_styles: Vec<(char, bool)>,
    in_fence: Option<String>,
    in_literal: bool,
    /// The previous line was blank (or a heading): a new paragraph may start.
    at_block_start: bool,
    /// The current section has not had a non-date entry yet (a date line may follow a title).
    expect_date: bool,
}

impl Parser {
    fn new(format: Format) -> Parser {
        Parser {
            format,
            sections: vec![Section {
                version: None,
                date: None,
                title: String::new(),
                entries: Vec::new(),
            }],
            version_level: None,
            headings: Vec::new(),
            list: Vec::new(),
            open: None,
            rst_styles: Vec::new(),
            in_fence: None,
            in_literal: false,
            at_block_start: true,
            expect_date: false,
        }
    }

    /// Handles line `i`; returns how many lines it consumed.
    fn line(&mut self, lines: &[&str], i: usize) -> usize {
        let raw = lines[i];
        let trimmed = raw.trim();
        if let Some(fence) = &self.in_fence {
            if trimmed.starts_with(fence.as_str()) {
                self.in_fence = None;
            }
            return 1;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            self.flush();
            self.in_fence = Some(trimmed[..3].to_string());
            return 1;
        }
        if trimmed.is_empty() {
            self.flush_paragraph_break();
            self.at_block_start = true;
            return 1;
        }
        let indent = indent_of(raw);
        if self.in_literal {
            if indent > 0 {
                return 1;
            }
            self.in_literal = false;
        }
        if self.format == Format::Rst && trimmed.starts_with("..") {
            // Directives, comments and link targets; their indented bodies follow.
            self.flush();
            self.in_literal = true;
            return 1;
        }
        if trimmed.starts_with("<!--") || is_link_definition(trimmed) {
            return 1;
        }
        if let Some((level, text, used)) = self.heading_at(lines, i) {
            self.flush();
            self.heading(level, &text);
            self.at_block_start = true;
            return used;
        }
        if self.format == Format::Rst && trimmed.ends_with("::") {
            self.in_literal = true;
        }
        if self.at_block_start && is_bold_label(trimmed) {
            // `**Deprecated**` on a line of its own is a heading in all but markup.
            self.flush();
            let label = trimmed.trim_end_matches(':').trim_matches(['*', '_', ':']);
            self.heading(LABEL_LEVEL, label);
            self.at_block_start = true;
            return 1;
        }
        if self.format == Format::Markdown && is_rule(trimmed) {
            self.flush();
            self.at_block_start = true;
            return 1;
        }
        if let Some(marker_end) = bullet(trimmed) {
            self.flush_item_keep_list();
            let depth_indent = indent.min(MAX_DEPTH * 8);
            while self.list.last().is_some_and(|(d, _)| *d >= depth_indent) {
                self.list.pop();
            }
            let parent = self.list.last().map(|(_, t)| t.clone());
            self.open = Some(Open {
                text: String::new(),
                line: i + 1,
                parent,
            });
            self.append(&trimmed[marker_end..]);
            if self.list.len() < MAX_DEPTH {
                self.list.push((depth_indent, String::new()));
            }
            self.at_block_start = false;
            return 1;
        }
        if self.open.is_some() && (!self.at_block_start || indent > 0) {
            self.append(trimmed);
        } else {
            self.flush();
            self.open = Some(Open {
                text: String::new(),
                line: i + 1,
                parent: None,
            });
            self.append(trimmed);
        }
        self.at_block_start = false;
        1
    }

    /// A heading starting at line `i`: (level, text, lines used).
    fn heading_at(&mut self, lines: &[&str], i: usize) -> Option<(usize, String, usize)> {
        let raw = lines[i];
        let trimmed = raw.trim();
        if self.format == Format::Markdown && indent_of(raw) < 4 {
            let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
            if (1..=6).contains(&hashes) {
                let rest = &trimmed[hashes..];
                if rest.is_empty() || rest.starts_with([' ', '\t']) {
                    let text = rest.trim().trim_end_matches('#').trim();
                    return Some((hashes, text.to_string(), 1));
                }
            }
        }
        let next = lines.get(i + 1).map(|l| l.trim_end());
        if self.format == Format::Rst
            && let Some(over) = underline_char(trimmed, self.format)
            && let (Some(title), Some(under)) = (lines.get(i + 1), lines.get(i + 2))
            && !title.trim().is_empty()
            && underline_char(under.trim(), self.format) == Some(over)
        {
            let level = self.rst_level(over, true);
            return Some((level, title.trim().to_string(), 3));
        }
        let under = underline_char(next?, self.format)?;
        if !self.at_block_start
            || indent_of(raw) >= 4
            || bullet(trimmed).is_some()
            || underline_char(trimmed, self.format).is_some()
        {
            return None;
        }
        let level = match self.format {
            Format::Markdown => {
                if under == '=' {
                    1
                } else {
                    2
                }
            }
            Format::Rst => self.rst_level(under, false),
        };
        Some((level, trimmed.to_string(), 2))
    }

    fn rst_level(&mut self, c: char, overlined: bool) -> usize {
        let style = (c, overlined);
        match self.rst_styles.iter().position(|s| *s == style) {
            Some(p) => p + 1,
            None => {
                self.rst_styles.push(style);
                self.rst_styles.len()
            }
        }
    }

    fn heading(&mut self, level: usize, raw_text: &str) {
        let text = clean_heading(raw_text);
        let category = super::classify::heading_category(&text);
        let version = find_heading_version(&text);
        let deeper_than_versions = self.version_level.is_some_and(|v| level > v);
        let current = self.sections.last().and_then(|s| s.version.clone());
        let starts_section = match (&version, category) {
            (Some(_), None) => !deeper_than_versions,
            // "Features deprecated in 4.1" under "Django 4.1 release notes" is the same version.
            (Some(v), Some(_)) => current.as_deref() != Some(v.as_str()) && !deeper_than_versions,
            (None, None) => {
                !deeper_than_versions && text.to_ascii_lowercase().contains("unreleased")
            }
            (None, Some(_)) => false,
        };
        if starts_section {
            if version.is_some() && self.version_level.is_none() && category.is_none() {
                self.version_level = Some(level);
            }
            if self.sections.len() < MAX_SECTIONS {
                let date = find_date(&text);
                self.sections.push(Section {
                    version,
                    date,
                    title: text.clone(),
                    entries: Vec::new(),
                });
            } else if let Some(last) = self.sections.last_mut() {
                // Out of room: later versions' entries must not be filed under this one.
                last.version = None;
            }
            self.headings.clear();
            if category.is_some() {
                self.headings.push((level, text));
            }
            self.expect_date = true;
            return;
        }
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        if self.headings.len() < MAX_DEPTH {
            self.headings.push((level, text));
        }
    }

    fn append(&mut self, piece: &str) {
        let Some(open) = &mut self.open else { return };
        if open.text.len() >= MAX_ENTRY_BYTES {
            return;
        }
        if !open.text.is_empty() {
            open.text.push(' ');
        }
        let room = MAX_ENTRY_BYTES.saturating_sub(open.text.len());
        push_clean(&mut open.text, cut(piece, room.saturating_mul(2)), room);
    }

    /// A blank line ends a paragraph or an item; list context survives it (loose lists).
    fn flush_paragraph_break(&mut self) {
        self.flush_item_keep_list();
    }

    /// Ends the open item or paragraph, keeping the list stack.
    fn flush_item_keep_list(&mut self) {
        let Some(open) = self.open.take() else { return };
        let text = strip_attribution(open.text.trim()).to_string();
        if let Some(top) = self.list.last_mut()
            && top.1.is_empty()
            && open.parent.as_deref() != Some(text.as_str())
        {
            top.1 = cut(&text, MAX_PARENT_BYTES).to_string();
        }
        if text.is_empty() {
            return;
        }
        let Some(section) = self.sections.last_mut() else {
            return;
        };
        if self.expect_date && section.entries.is_empty() && is_only_date(&text) {
            if section.date.is_none() {
                section.date = find_date(&text);
            }
            return;
        }
        self.expect_date = false;
        if section.entries.len() >= MAX_ENTRIES {
            return;
        }
        let heading = if self.headings.is_empty() {
            None
        } else {
            Some(
                self.headings
                    .iter()
                    .map(|(_, t)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" / "),
            )
        };
        section.entries.push(Entry {
            heading,
            parent: open.parent,
            text,
            line: open.line,
        });
    }

    /// Ends the open item and the list (a heading, a fence, a directive).
    fn flush(&mut self) {
        self.flush_item_keep_list();
        self.list.clear();
    }

    fn finish(mut self) -> Vec<Section> {
        self.flush();
        self.sections
            .into_iter()
            .enumerate()
            .filter(|(i, s)| *i > 0 || !s.entries.is_empty())
            .map(|(_, s)| s)
            .collect()
    }
}

/// Columns of leading whitespace (a tab counts 4).
fn indent_of(line: &str) -> usize {
    let mut n = 0;
    for c in line.chars() {
        match c {
            ' ' => n += 1,
            '\t' => n += 4,
            _ => break,
        }
    }
    n
}

/// The level given to bold labels: below every real heading.
const LABEL_LEVEL: usize = 7;

/// `**Deprecated**`, `__Removed:__`, `**Breaking changes:**`: a short bold line.
fn is_bold_label(trimmed: &str) -> bool {
    let inner = trimmed.trim_end_matches(':');
    let stripped = inner
        .strip_prefix("**")
        .and_then(|r| r.strip_suffix("**"))
        .or_else(|| inner.strip_prefix("__").and_then(|r| r.strip_suffix("__")));
    stripped.is_some_and(|l| {
        let l = l.trim_end_matches(':');
        !l.is_empty() && l.len() <= 60 && !l.contains(['*', '_', '`'])
    })
}

/// A Markdown thematic break (`---`, `***`, `___`).
fn is_rule(trimmed: &str) -> bool {
    let compact: String = trimmed.chars().filter(|c| *c != ' ').take(512).collect();
    compact.len() >= 3
        && ["-", "*", "_"]
            .iter()
            .any(|m| compact.chars().all(|c| c.to_string() == *m))
}

/// A list marker at the start of `trimmed`: the byte offset after it.
fn bullet(trimmed: &str) -> Option<usize> {
    let bytes = trimmed.as_bytes();
    match bytes.first()? {
        b'-' | b'*' | b'+' => match bytes.get(1) {
            Some(b' ' | b'\t') => Some(2),
            None => Some(1),
            _ => None,
        },
        b'0'..=b'9' => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 9 {
                return None;
            }
            match (bytes.get(digits), bytes.get(digits + 1)) {
                (Some(b'.' | b')'), Some(b' ' | b'\t')) => Some(digits + 2),
                _ => None,
            }
        }
        _ if trimmed.starts_with("• ") => Some("• ".len()),
        _ => None,
    }
}

/// The character of a heading underline (`=====`), if `line` is one.
fn underline_char(line: &str, format: Format) -> Option<char> {
    let line = line.trim_end();
    let first = line.chars().next()?;
    let allowed = match format {
        Format::Markdown => "=-",
        Format::Rst => "=-~^\"'*+#`:._",
    };
    if !allowed.contains(first) || line.len() < 3 || line.chars().any(|c| c != first) {
        return None;
    }
    Some(first)
}

/// Keep a Changelog's `[1.0.0]: https://…` lines.
fn is_link_definition(trimmed: &str) -> bool {
    static DEF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\[[^\]]{1,200}\]:\s*\S").expect("constant regex compiles"));
    trimmed.starts_with('[') && DEF.is_match(cut(trimmed, 512))
}

/// A heading without Markdown links, emphasis and anchors: `[1.2.0](url) - 2024-01-02` →
/// `1.2.0 - 2024-01-02`.
fn clean_heading(raw: &str) -> String {
    static LINK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]").expect("constant regex compiles")
    });
    let short = cut(raw, MAX_HEADING_BYTES);
    let unlinked = LINK.replace_all(short, |c: &regex::Captures<'_>| {
        c.get(1)
            .or_else(|| c.get(2))
            .map_or(String::new(), |m| m.as_str().to_string())
    });
    let mut out = String::new();
    push_clean(
        &mut out,
        &unlinked.replace(['*', '_'], " "),
        MAX_HEADING_BYTES,
    );
    out.trim().to_string()
}

/// GitHub's generated notes end items with "by @user in https://github.com/o/r/pull/1".
fn strip_attribution(text: &str) -> &str {
    static BY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\s+by\s+@[\w\-\[\]]+(?:,?\s+(?:and\s+)?@[\w\-\[\]]+)*(?:\s+in\s+\S+)?\s*$")
            .expect("constant regex compiles")
    });
    match BY.find(text) {
        Some(m) => &text[..m.start()],
        None => text,
    }
}

static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[\s\[(@/:])v?(\d{1,9}\.\d{1,9}(?:\.\d{1,9}){0,3}(?:[-.]?(?:a|b|c|rc|alpha|beta|pre|preview|dev|post)\.?\d{0,9})?(?:[-+][0-9a-z][0-9a-z.]{0,40})?)(?:$|[\s\]),:;])",
    )
    .expect("constant regex compiles")
});

/// The first version number in `text` (`v1.2.3` → `1.2.3`).
pub fn find_version(text: &str) -> Option<String> {
    VERSION
        .captures(cut(text, MAX_HEADING_BYTES))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// A version in a heading that names it near the start (`## [2.0.0]`, `Django 4.1 release
/// notes`, `v3.1.0 (2024-05-01)`), not one mentioned in passing (`Drop support for Python 3.8`).
fn find_heading_version(heading: &str) -> Option<String> {
    let caps = VERSION.captures(heading)?;
    let m = caps.get(1)?;
    let before = heading[..m.start()].split_whitespace().count();
    if before > 3 {
        return None;
    }
    let lower = heading.to_ascii_lowercase();
    if ["support", "python", "node", "ruby", "drop", "require"]
        .iter()
        .any(|w| lower[..m.start()].contains(w))
    {
        return None;
    }
    Some(m.as_str().to_string())
}

/// A date in ISO form or with an English month name (`August 3, 2022`, `3 August 2022`).
pub fn find_date(text: &str) -> Option<NaiveDate> {
    static ISO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b").expect("constant regex compiles")
    });
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?,?\s+(\d{4})|([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4}))\b")
            .expect("constant regex compiles")
    });
    let text = cut(text, MAX_HEADING_BYTES);
    if let Some(c) = ISO.captures(text) {
        let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        if let (Some(y), Some(m), Some(d)) = (n(1), n(2), n(3)) {
            return NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d);
        }
    }
    for c in NAMED.captures_iter(text) {
        let (day, month, year) = if c.get(1).is_some() {
            (c.get(1), c.get(2), c.get(3))
        } else {
            (c.get(5), c.get(4), c.get(6))
        };
        let (Some(day), Some(month), Some(year)) = (day, month, year) else {
            continue;
        };
        let Some(month) = month_number(month.as_str()) else {
            continue;
        };
        if let (Ok(d), Ok(y)) = (day.as_str().parse(), year.as_str().parse()) {
            return NaiveDate::from_ymd_opt(y, month, d);
        }
    }
    None
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    let pos = MONTHS.iter().position(|m| lower.starts_with(m))?;
    u32::try_from(pos + 1).ok()
}

/// A line that is nothing but a date (`*August 3, 2022*`, `Released 2024-01-02`).
fn is_only_date(text: &str) -> bool {
    text.len() < 64 && find_date(text).is_some() && !text.contains('`')
}

/// `s` cut to at most `max` bytes on a char boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Appends `piece` to `out` without control characters, whitespace collapsed, up to `room`
/// more bytes.
fn push_clean(out: &mut String, piece: &str, room: usize) {
    let limit = out.len() + room;
    let mut last_space = out.is_empty() || out.ends_with(' ');
    for c in piece.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if out.len() + c.len_utf8() > limit {
            break;
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(sections: &[Section]) -> Vec<Option<&str>> {
        sections.iter().map(|s| s.version.as_deref()).collect()
    }

    #[test]
    fn keep_a_changelog() {
        let text = "# Changelog\n\nAll notable changes.\n\n## [Unreleased]\n\n### Added\n- New `x`.\n\n\
                    ## [2.0.0] - 2024-03-01\n### Removed\n- `foo()` was removed.\n  Use `bar()`.\n\
                    ### Deprecated\n- `baz` is deprecated.\n\n## [1.9.0] - 2024-01-15\n\
                    ### Fixed\n* Fix crash.\n\n[2.0.0]: https://example.com/compare/v1.9.0...v2.0.0\n";
        let s = parse(text, Format::Markdown);
        assert_eq!(versions(&s), vec![None, None, Some("2.0.0"), Some("1.9.0")]);
        let v2 = &s[2];
        assert_eq!(v2.date, NaiveDate::from_ymd_opt(2024, 3, 1));
        assert_eq!(v2.entries.len(), 2);
        assert_eq!(v2.entries[0].text, "`foo()` was removed. Use `bar()`.");
        assert_eq!(v2.entries[0].heading.as_deref(), Some("Removed"));
        assert_eq!(v2.entries[1].heading.as_deref(), Some("Deprecated"));
        assert_eq!(s[3].entries[0].text, "Fix crash.");
    }

    #[test]
    fn setext_and_nested_lists() {
        let text = "3.1.0\n=====\n\nBreaking changes\n----------------\n\n- Deprecated:\n  - `a.b.c`\n    continues\n  - `d_e`\n- top\n";
        let s = parse(text, Format::Markdown);
        assert_eq!(versions(&s), vec![Some("3.1.0")]);
        let e = &s[0].entries;
        assert_eq!(e.len(), 4);
        assert_eq!(e[1].text, "`a.b.c` continues");
        assert_eq!(e[1].parent.as_deref(), Some("Deprecated:"));
        assert_eq!(e[2].parent.as_deref(), Some("Deprecated:"));
        assert_eq!(e[3].parent, None);
        assert_eq!(e[1].heading.as_deref(), Some("Breaking changes"));
    }

    #[test]
    fn rst_release_notes_with_category_headings() {
        let text = "========================\nDjango 4.1 release notes\n========================\n\n\
                    *August 3, 2022*\n\nWelcome.\n\n.. note::\n\n    Ignored body.\n\n\
                    Features deprecated in 4.1\n==========================\n\n\
                    Miscellaneous\n-------------\n\n* The ``foo`` argument of ``bar()`` is deprecated.\n\n\
                    Example::\n\n    code()\n\nAfter.\n";
        let s = parse(text, Format::Rst);
        assert_eq!(versions(&s), vec![Some("4.1")]);
        assert_eq!(s[0].date, NaiveDate::from_ymd_opt(2022, 8, 3));
        let texts: Vec<&str> = s[0].entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "Welcome.",
                "The ``foo`` argument of ``bar()`` is deprecated.",
                "Example::",
                "After."
            ]
        );
        assert_eq!(
            s[0].entries[1].heading.as_deref(),
            Some("Features deprecated in 4.1 / Miscellaneous")
        );
    }

    #[test]
    fn github_release_body_gets_the_tag() {
        let text = "## What's Changed\n### Breaking changes\n* Remove `legacyMode` by @dev in https://github.com/o/r/pull/9\n\n**Full Changelog**: https://github.com/o/r/compare/v1...v2\n";
        let s = parse_release(text, Format::Markdown, "v2.0.0");
        assert_eq!(versions(&s), vec![Some("2.0.0")]);
        assert_eq!(s[0].entries[0].text, "Remove `legacyMode`");
        assert_eq!(
            s[0].entries[0].heading.as_deref(),
            Some("What's Changed / Breaking changes")
        );
    }

    #[test]
    fn version_mentions_in_subheadings_do_not_start_sections() {
        let text = "## 2.0.0\n### Drop Python 3.8\n- x\n## v1.0.0 (2023-05-02)\n- y\n";
        let s = parse(text, Format::Markdown);
        assert_eq!(versions(&s), vec![Some("2.0.0"), Some("1.0.0")]);
        assert_eq!(s[1].date, NaiveDate::from_ymd_opt(2023, 5, 2));
    }

    #[test]
    fn fences_are_skipped_and_control_characters_dropped() {
        let text = "## 1.0.0\n```\n- not an entry\n```\n- a\u{0}b\u{1b}[31m\r\n";
        let s = parse(text, Format::Markdown);
        assert_eq!(s[0].entries.len(), 1);
        assert_eq!(s[0].entries[0].text, "a b [31m");
    }

    #[test]
    fn hostile_inputs_stay_bounded() {
        let many: String = (0..100_000).map(|i| format!("## 1.{i}.0\n")).collect();
        let s = parse(&many, Format::Markdown);
        assert!(s.len() <= MAX_SECTIONS);
        assert_eq!(s.last().and_then(|s| s.version.as_deref()), None);

        let long = format!("## 1.0.0\n- {}\n", "`a.b` deprecated ".repeat(600_000));
        let s = parse(&long, Format::Markdown);
        assert!(s[0].entries[0].text.len() <= MAX_ENTRY_BYTES);

        let deep: String = (0..5_000)
            .map(|i| format!("{}- item {i}\n", " ".repeat(i * 2)))
            .collect();
        let s = parse(&format!("## 1.0.0\n{deep}"), Format::Markdown);
        assert_eq!(s[0].entries.len(), 5_000);

        let rst: String = (0..10_000).map(|i| format!("1.{i}\n===\n\n")).collect();
        assert_eq!(parse(&rst, Format::Rst).len(), 10_000);
        let junk: String = (0..=255u8).map(char::from).collect::<String>().repeat(1000);
        let _ = parse(&junk, Format::Rst);
        let _ = parse(&junk, Format::Markdown);
    }
}
