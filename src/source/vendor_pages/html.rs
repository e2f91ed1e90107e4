//! A vendor's changelog or deprecations page (HTML) split into dated entries: one per
//! `<article>` when the page has them, else one per `<h2>`/`<h3>` heading with the content up to
//! the next heading. Text comes out plain, with `<code>` kept as `` `code` `` so identifiers can
//! be read from it; scripts, styles and templates are dropped. Bounded for hostile pages.

use chrono::NaiveDate;
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use std::sync::LazyLock;

/// Entries kept from one page, and characters kept per entry.
const MAX_ENTRIES: usize = 500;
const MAX_TEXT_CHARS: usize = 20_000;
/// Element nesting followed when collecting text (deeper content is skipped, not a crash).
const MAX_DEPTH: usize = 64;

/// One dated entry of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEntry {
    pub title: String,
    pub date: Option<NaiveDate>,
    pub text: String,
    /// The `id` of the entry or its heading, for a link to the entry itself.
    pub anchor: Option<String>,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|_| unreachable!("a fixed, valid selector"))
}

static ARTICLE: LazyLock<Selector> = LazyLock::new(|| selector("article"));
static HEADING: LazyLock<Selector> = LazyLock::new(|| selector("h1, h2, h3, h4"));
static SECTION_HEADING: LazyLock<Selector> = LazyLock::new(|| selector("h2, h3"));
static TIME: LazyLock<Selector> = LazyLock::new(|| selector("time[datetime]"));
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b").unwrap_or_else(|_| unreachable!("fixed pattern"))
});
static LONG_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(January|February|March|April|May|June|July|August|September|October|November|December) (\d{1,2}),? (\d{4})\b")
        .unwrap_or_else(|_| unreachable!("fixed pattern"))
});

/// The page's entries, in page order.
pub fn entries(html: &str) -> Vec<PageEntry> {
    let document = Html::parse_document(html);
    let articles: Vec<ElementRef<'_>> = document.select(&ARTICLE).take(MAX_ENTRIES).collect();
    if !articles.is_empty() {
        return articles.into_iter().filter_map(article_entry).collect();
    }
    document
        .select(&SECTION_HEADING)
        .take(MAX_ENTRIES)
        .filter_map(heading_entry)
        .collect()
}

fn article_entry(article: ElementRef<'_>) -> Option<PageEntry> {
    let heading = article.select(&HEADING).next();
    let title = heading.map(plain_text).unwrap_or_default();
    let mut text = String::new();
    collect(article, &mut text, 0);
    let text = cap(&text);
    if title.is_empty() && text.trim().is_empty() {
        return None;
    }
    let date = article
        .select(&TIME)
        .next()
        .and_then(|t| t.value().attr("datetime"))
        .and_then(parse_date)
        .or_else(|| parse_date(&text));
    let anchor = article
        .value()
        .id()
        .or_else(|| heading.and_then(|h| h.value().id()))
        .map(str::to_string);
    Some(PageEntry {
        title,
        date,
        text,
        anchor,
    })
}

/// A heading and its following siblings up to the next heading.
fn heading_entry(heading: ElementRef<'_>) -> Option<PageEntry> {
    let title = plain_text(heading);
    let mut text = String::new();
    let mut date = None;
    for sibling in heading.next_siblings() {
        if let Some(element) = ElementRef::wrap(sibling) {
            if matches!(element.value().name(), "h1" | "h2" | "h3") {
                break;
            }
            if date.is_none() {
                date = element
                    .select(&TIME)
                    .next()
                    .and_then(|t| t.value().attr("datetime"))
                    .and_then(parse_date)
                    .or_else(|| {
                        (element.value().name() == "time")
                            .then(|| element.value().attr("datetime"))
                            .flatten()
                            .and_then(parse_date)
                    });
            }
            collect(element, &mut text, 0);
        } else if let Node::Text(t) = sibling.value() {
            text.push_str(t);
        }
        if text.len() > MAX_TEXT_CHARS * 4 {
            break;
        }
    }
    if title.is_empty() {
        return None;
    }
    let text = cap(&text);
    let date = date
        .or_else(|| parse_date(&title))
        .or_else(|| parse_date(&text));
    Some(PageEntry {
        title,
        date,
        anchor: heading.value().id().map(str::to_string),
        text,
    })
}

/// Text of an element on one line.
fn plain_text(element: ElementRef<'_>) -> String {
    let mut text = String::new();
    collect(element, &mut text, 0);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Appends the element's text: blocks on their own lines, `<code>` in backticks, nothing from
/// scripts, styles or templates.
fn collect(element: ElementRef<'_>, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH || out.len() > MAX_TEXT_CHARS * 4 {
        return;
    }
    let name = element.value().name();
    if matches!(
        name,
        "script" | "style" | "noscript" | "template" | "svg" | "iframe"
    ) {
        return;
    }
    let block = matches!(
        name,
        "p" | "li"
            | "div"
            | "section"
            | "article"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "br"
            | "pre"
            | "blockquote"
            | "ul"
            | "ol"
    );
    if block && !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    let code = name == "code";
    if code {
        out.push('`');
    }
    for child in element.children() {
        match child.value() {
            Node::Text(text) => {
                let text: String = text
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .filter(|c| !matches!(c, '`'))
                    .collect();
                out.push_str(if code { text.trim() } else { &text });
            }
            Node::Element(_) => {
                if let Some(child) = ElementRef::wrap(child) {
                    collect(child, out, depth + 1);
                }
            }
            _ => {}
        }
    }
    if code {
        out.push('`');
    }
    if block && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Trimmed lines, blank runs folded, capped.
fn cap(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n").chars().take(MAX_TEXT_CHARS).collect()
}

/// `2025-11-01`, `2025-11-01T10:00:00Z` or `November 1, 2025` anywhere in `text`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    if let Some(c) = ISO_DATE.captures(text) {
        let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let year = i32::try_from(n(1)?).ok()?;
        return NaiveDate::from_ymd_opt(year, n(2)?, n(3)?);
    }
    let c = LONG_DATE.captures(text)?;
    NaiveDate::parse_from_str(
        &format!(
            "{} {} {}",
            c.get(1)?.as_str(),
            c.get(2)?.as_str(),
            c.get(3)?.as_str()
        ),
        "%B %d %Y",
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_become_entries_with_dates_code_and_anchors() {
        let html = r#"<html><body><main>
            <article id="legacy-keys"><h2>Legacy API keys are deprecated</h2>
              <time datetime="2025-06-02">June 2, 2025</time>
              <p>Replace <code>SUPABASE_ANON_KEY</code> with a publishable key.</p>
              <script>alert(1)</script></article>
            <article><h2>New dashboard</h2><p>Shipped on 2025-05-01.</p></article>
            </main></body></html>"#;
        let got = entries(html);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].title, "Legacy API keys are deprecated");
        assert_eq!(got[0].date, NaiveDate::from_ymd_opt(2025, 6, 2));
        assert_eq!(got[0].anchor.as_deref(), Some("legacy-keys"));
        assert!(
            got[0].text.contains("`SUPABASE_ANON_KEY`"),
            "{}",
            got[0].text
        );
        assert!(!got[0].text.contains("alert"));
        assert_eq!(got[1].date, NaiveDate::from_ymd_opt(2025, 5, 1));
    }

    #[test]
    fn without_articles_headings_split_the_page() {
        let html = "<h1>Changelog</h1><h2 id=a>November 3, 2025: Sunsetting v1</h2>\
            <p>The <code>v1</code> API retires.</p><ul><li>use <code>v2</code></li></ul>\
            <h2>Older</h2><p>nothing</p>";
        let got = entries(html);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].date, NaiveDate::from_ymd_opt(2025, 11, 3));
        assert!(got[0].text.contains("use `v2`"));
        assert_eq!(got[0].anchor.as_deref(), Some("a"));
    }

    #[test]
    fn hostile_pages_are_bounded() {
        let deep = "<div>".repeat(20_000) + "x" + &"</div>".repeat(20_000);
        assert!(entries(&deep).is_empty());
        let many = "<article><h2>t</h2></article>".repeat(2_000);
        assert_eq!(entries(&many).len(), MAX_ENTRIES);
        let long = format!(
            "<article><h2>t</h2><p>{}</p></article>",
            "a ".repeat(200_000)
        );
        assert!(entries(&long)[0].text.chars().count() <= MAX_TEXT_CHARS);
        assert!(entries("").is_empty());
        assert!(entries("\u{0}\u{1}<<<>>>").is_empty());
    }
}
