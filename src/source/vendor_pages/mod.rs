//! Vendor changelog and deprecation pages on the web (`[[page]]` in `feeds/watch.toml`): each
//! URL is user-supplied, so it passes the SSRF guard ([`crate::http::ssrf`]) and is fetched
//! only from the checked address, without redirects, with conditional requests (an unchanged
//! page is a 304). Entries that announce a deprecation or a breaking change become notices about
//! the packages the entry names, classified like GitHub announcements.

pub mod html;

use crate::ecosystem::Ecosystem;
use crate::http::ssrf::{self, PostLimits, SsrfPolicy};
use crate::source::CrawlSummary;
use crate::source::github::announce::{self, DiscussionText};
use crate::source::github::{store_notice, watchlist};
use crate::store::{
    Affected, CachedValidators, CodePattern, Notice, NoticeKind, SourceState, Store, StoreError,
};
use chrono::{DateTime, NaiveTime, Utc};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::{Duration, Instant};

pub const SOURCE_KIND: &str = "vendor-page";
/// The largest page read (vendor changelogs are long, but not this long).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
const MAX_PAGES: usize = 1_000;
const IDENTIFIER_CONFIDENCE: f64 = 0.5;

/// One page and the packages its entries apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedPage {
    pub url: String,
    pub packages: Vec<(Ecosystem, String)>,
}

impl WatchedPage {
    /// The crawl-state id: kind and a short hash of the URL (a URL can be long).
    pub fn source_id(&self) -> String {
        format!("page:{}", &hex(&Sha256::digest(self.url.as_bytes()))[..16])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    page: Vec<RawPage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    url: String,
    #[serde(default)]
    packages: Vec<String>,
}

/// The `[[page]]` entries of `DIR/watch.toml` (none when the file is missing), else of the
/// bundled list.
pub fn load(feeds_dir: Option<&Path>) -> Result<Vec<WatchedPage>, PagesError> {
    match feeds_dir {
        None => parse(watchlist::BUNDLED, "feeds/watch.toml (bundled)"),
        Some(dir) => {
            let path = dir.join("watch.toml");
            match std::fs::read_to_string(&path) {
                Ok(text) => parse(&text, &path.display().to_string()),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(source) => Err(PagesError::Read {
                    path: path.display().to_string(),
                    source,
                }),
            }
        }
    }
}

pub fn parse(text: &str, origin: &str) -> Result<Vec<WatchedPage>, PagesError> {
    let invalid = |message: String| PagesError::Invalid {
        origin: origin.to_string(),
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
    if raw.page.len() > MAX_PAGES {
        return Err(invalid(format!("more than {MAX_PAGES} pages")));
    }
    let mut pages = Vec::new();
    for (i, entry) in raw.page.into_iter().enumerate() {
        let fail = |m: String| invalid(format!("page entry {}: {m}", i + 1));
        let url = reqwest::Url::parse(entry.url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && entry.url.len() <= 2048)
            .ok_or_else(|| {
                fail(format!(
                    "key `url`: `{}` is not an http(s) URL",
                    entry.url.escape_debug()
                ))
            })?;
        let mut packages = Vec::new();
        for text in &entry.packages {
            packages.push(watchlist::parse_package(text).map_err(fail)?);
        }
        pages.push(WatchedPage {
            url: url.to_string(),
            packages,
        });
    }
    Ok(pages)
}

/// Crawls every page; a page that fails records its error in its own crawl state.
pub async fn crawl(
    store: &Store,
    pages: &[WatchedPage],
    policy: &SsrfPolicy,
    limits: &PostLimits,
) -> Result<CrawlSummary, StoreError> {
    let started = Instant::now();
    let mut summary = CrawlSummary::default();
    for page in pages {
        let outcome = crawl_page(store, page, policy, limits, &mut summary).await;
        let mut state = store
            .get_source(&page.source_id())
            .await?
            .unwrap_or_else(|| SourceState {
                id: page.source_id(),
                kind: SOURCE_KIND.to_string(),
                url: Some(page.url.clone()),
                cursor: None,
                watermark: None,
                etag: None,
                last_modified: None,
                last_success_at: None,
                last_error_at: None,
                last_error: None,
            });
        match outcome {
            Ok(()) => state.last_success_at = Some(Utc::now()),
            Err(PageError::Store(err)) => return Err(err),
            Err(PageError::Fetch(message)) => {
                let message = format!("{}: {message}", ssrf::redact(&page.url));
                state.last_error_at = Some(Utc::now());
                state.last_error = Some(message.clone());
                summary.errors.push(message);
            }
        }
        store.put_source(&state).await?;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

enum PageError {
    Fetch(String),
    Store(StoreError),
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        PageError::Store(err)
    }
}

async fn crawl_page(
    store: &Store,
    page: &WatchedPage,
    policy: &SsrfPolicy,
    limits: &PostLimits,
    summary: &mut CrawlSummary,
) -> Result<(), PageError> {
    let vetted = ssrf::vet(&page.url, policy)
        .await
        .map_err(|e| PageError::Fetch(e.to_string()))?;
    let cached = store.get_validators(&page.url).await?.unwrap_or_default();
    let mut headers = vec![("Accept", "text/html".to_string())];
    if let Some(etag) = &cached.etag {
        headers.push(("If-None-Match", etag.clone()));
    }
    if let Some(modified) = &cached.last_modified {
        headers.push(("If-Modified-Since", modified.clone()));
    }
    summary.requests += 1;
    let limits = PostLimits {
        max_response_bytes: MAX_PAGE_BYTES,
        ..*limits
    };
    let answer = ssrf::get(&vetted, &headers, &limits)
        .await
        .map_err(|e| PageError::Fetch(e.to_string()))?;
    match answer.status {
        304 => {
            summary.unchanged += 1;
            return Ok(());
        }
        200 => {}
        300..=399 => {
            return Err(PageError::Fetch(format!(
                "HTTP {}: redirects are not followed",
                answer.status
            )));
        }
        status => return Err(PageError::Fetch(format!("HTTP {status}"))),
    }
    let text = String::from_utf8_lossy(&answer.body);
    for entry in html::entries(&text) {
        if let Some(notice) = to_notice(page, &entry) {
            store_notice(store, notice, summary).await?;
        }
    }
    // Only after the notices are stored: a crash before must not turn the next answer into a 304.
    store
        .put_validators(
            &page.url,
            200,
            &CachedValidators {
                etag: answer.etag,
                last_modified: answer.last_modified,
            },
        )
        .await?;
    Ok(())
}

/// The notice for an entry that announces something users must act on.
fn to_notice(page: &WatchedPage, entry: &html::PageEntry) -> Option<Notice> {
    let a = announce::classify(&DiscussionText {
        title: &entry.title,
        body: &entry.text,
        category: Some("changelog"),
        labels: &[],
    })?;
    let url = match &entry.anchor {
        Some(anchor) if anchor.len() <= 200 && !anchor.chars().any(char::is_control) => {
            let mut url = reqwest::Url::parse(&page.url).ok()?;
            url.set_fragment(Some(anchor));
            url.to_string()
        }
        _ => page.url.clone(),
    };
    let when: DateTime<Utc> = entry
        .date
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .unwrap_or_else(Utc::now);
    let key = format!(
        "{}\n{}",
        entry.title,
        entry.date.map(|d| d.to_string()).unwrap_or_default()
    );
    let id = format!(
        "{}:{}",
        page.source_id(),
        &hex(&Sha256::digest(key.as_bytes()))[..16]
    );
    let mut details = a.key_sentence.clone().unwrap_or_default();
    for dated in &a.timeline {
        details.push_str(&format!("\n{}: {}", dated.date, dated.sentence));
    }
    Some(Notice {
        id,
        kind: if a.deprecation {
            NoticeKind::Deprecation
        } else {
            NoticeKind::Announcement
        },
        aliases: Vec::new(),
        summary: Some(a.summary.clone()),
        details: Some(details.trim().to_string()),
        severity: json!([]),
        published: Some(when),
        modified: when,
        withdrawn: None,
        affected: page
            .packages
            .iter()
            .map(|(ecosystem, name)| Affected {
                ecosystem: ecosystem.as_str().to_string(),
                package: name.clone(),
                ranges: json!([]),
                versions: Vec::new(),
            })
            .collect(),
        references: json!([{ "type": "WEB", "url": url }]),
        patterns: a
            .identifiers
            .iter()
            .map(|ident| CodePattern {
                matcher: "identifier".to_string(),
                pattern: ident.clone(),
                language: None,
                provenance: url.clone(),
                confidence: IDENTIFIER_CONFIDENCE,
            })
            .collect(),
        source_id: Some(page.source_id()),
        raw: Some(json!({
            "page": page.url,
            "date": entry.date.map(|d| d.to_string()),
            "timeline": a.timeline.iter().map(|t| json!({"date": t.date.to_string(), "text": t.sentence})).collect::<Vec<_>>(),
            "identifiers": a.identifiers,
        })),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long one page fetch may take, from ECOWATCH_HTTP_TIMEOUT_MS like every other request.
pub fn limits_from_env() -> PostLimits {
    let timeout = std::env::var("ECOWATCH_HTTP_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(30));
    PostLimits {
        connect_timeout: timeout.min(Duration::from_secs(10)),
        timeout,
        max_response_bytes: MAX_PAGE_BYTES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_entries_are_parsed_and_bad_urls_named() {
        let pages = parse(
            "[[page]]\nurl = \"https://supabase.com/changelog\"\npackages = [\"npm:@supabase/supabase-js\"]\n",
            "t",
        )
        .unwrap();
        assert_eq!(pages.len(), 1);
        assert!(pages[0].source_id().starts_with("page:"));
        let err = parse("[[page]]\nurl = \"file:///etc/passwd\"\n", "t").unwrap_err();
        assert!(err.to_string().contains("key `url`"), "{err}");
        let err = parse("[[page]]\nurl = \"https://x\"\nbogus = 1\n", "t").unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn only_announcing_entries_become_notices() {
        let page = WatchedPage {
            url: "https://vendor.example/changelog".into(),
            packages: vec![(Ecosystem::Npm, "@supabase/supabase-js".into())],
        };
        let entries = html::entries(
            "<article id=k><h2>Legacy keys are deprecated</h2><time datetime=2025-06-02></time>\
             <p>Stop using <code>SUPABASE_ANON_KEY</code> by November 1, 2025.</p></article>\
             <article><h2>Faster dashboard</h2><p>It is faster now.</p></article>",
        );
        let notices: Vec<Notice> = entries.iter().filter_map(|e| to_notice(&page, e)).collect();
        assert_eq!(notices.len(), 1);
        let n = &notices[0];
        assert_eq!(n.kind, NoticeKind::Deprecation);
        assert_eq!(n.references[0]["url"], "https://vendor.example/changelog#k");
        assert!(n.patterns.iter().any(|p| p.pattern == "SUPABASE_ANON_KEY"));
        // Stable ids: the same entry read again is the same notice.
        assert_eq!(
            to_notice(&page, &entries[0]).map(|n| n.id),
            Some(n.id.clone())
        );
    }
}
