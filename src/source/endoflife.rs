//! endoflife.date: for each runtime and framework in use, `GET {base}/api/v1/products/{product}`
//! lists its release cycles with their end-of-life dates. A cycle past its end of life, or
//! within [`SOON_DAYS`] of it, becomes an `eol` notice (`eol:python@3.8`) whose affected versions
//! are the cycle itself: the scan matches a pin of `3.8` or `3.8.18` to the `3.8` cycle.
//!
//! Severity is set when crawled: past end of life is high, approaching it medium. A cycle whose
//! date moves out of that window (an extension) has its notice withdrawn.

use super::registry::{
    FetchError, Fetched, MAX_MESSAGE_CHARS, clean_text, get_or_missing, join, plausible_version,
    push_error, reconcile, record_state,
};
use super::{CrawlProgress, CrawlSummary};
use crate::dependency::Dependency;
use crate::ecosystem::Ecosystem;
use crate::http::{HttpClient, decode};
use crate::store::{Affected, Notice, NoticeKind, Store, StoreError};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

pub const SOURCE_ID: &str = "endoflife";
pub const ENV_ENDOFLIFE_URL: &str = "ECOWATCH_ENDOFLIFE_URL";
pub const DEFAULT_ENDOFLIFE_URL: &str = "https://endoflife.date";
/// A cycle this close to its end of life is reported (at medium severity) before it gets there.
pub const SOON_DAYS: i64 = 90;

/// endoflife.date products and the (ecosystem, package) pins and dependencies that name them.
const PRODUCTS: &[(&str, Ecosystem, &str)] = &[
    ("python", Ecosystem::Python, "python"),
    ("nodejs", Ecosystem::NodeJs, "node"),
    ("ruby", Ecosystem::Ruby, "ruby"),
    ("go", Ecosystem::GoToolchain, "go"),
    ("php", Ecosystem::Php, "php"),
    ("django", Ecosystem::PyPI, "django"),
    ("rails", Ecosystem::RubyGems, "rails"),
    ("laravel", Ecosystem::Packagist, "laravel/framework"),
    ("symfony", Ecosystem::Packagist, "symfony/symfony"),
    ("symfony", Ecosystem::Packagist, "symfony/http-kernel"),
    ("angular", Ecosystem::Npm, "@angular/core"),
    ("vue", Ecosystem::Npm, "vue"),
    ("react", Ecosystem::Npm, "react"),
    ("electron", Ecosystem::Npm, "electron"),
    ("nextjs", Ecosystem::Npm, "next"),
    ("nuxt", Ecosystem::Npm, "nuxt"),
];

/// The base URL from ECOWATCH_ENDOFLIFE_URL, else endoflife.date (no ecowatch.toml: see
/// [`super::settings`] for the file as well).
pub fn base_url_from_env() -> Result<Url, super::settings::SettingsError> {
    super::settings::SourceSettings::from_env().base_url(super::settings::UrlKey::EndOfLife)
}

/// The products `dependencies` use, each with every package that names it.
pub fn products_for<'a>(
    dependencies: impl IntoIterator<Item = &'a Dependency>,
) -> BTreeMap<&'static str, Vec<(Ecosystem, String)>> {
    let mut used = BTreeMap::new();
    for dep in dependencies {
        if dep.skipped.is_some() {
            continue;
        }
        let name = dep.ecosystem.normalize_name(&dep.name);
        for (product, ecosystem, package) in PRODUCTS {
            if dep.ecosystem == *ecosystem && name == *package {
                used.insert(*product, packages_of(product));
            }
        }
    }
    used
}

fn packages_of(product: &str) -> Vec<(Ecosystem, String)> {
    PRODUCTS
        .iter()
        .filter(|(p, _, _)| *p == product)
        .map(|(_, eco, package)| (*eco, package.to_string()))
        .collect()
}

#[derive(Debug, Deserialize)]
struct ProductAnswer {
    result: ProductResult,
}

#[derive(Debug, Deserialize)]
struct ProductResult {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    releases: Vec<Release>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Release {
    name: String,
    #[serde(default)]
    is_eol: bool,
    #[serde(default)]
    eol_from: Option<String>,
    #[serde(default)]
    latest: Option<LatestRelease>,
}

#[derive(Debug, Deserialize)]
struct LatestRelease {
    name: String,
}

/// Crawls each product in `products`, stores what changed and records the crawl state.
pub async fn crawl(
    http: &HttpClient,
    store: &Store,
    base: &Url,
    products: BTreeMap<&'static str, Vec<(Ecosystem, String)>>,
    progress: &(dyn Fn(CrawlProgress) + Sync),
) -> Result<CrawlSummary, StoreError> {
    let started = Instant::now();
    let requests_before = http.requests_sent();
    let now = Utc::now();
    let mut summary = CrawlSummary::default();
    let total = products.len();
    progress(CrawlProgress::Fetching { done: 0, total });
    let mut failure = None;
    for (done, (product, packages)) in products.into_iter().enumerate() {
        let answer = fetch(http, base, product, &packages, now).await;
        progress(CrawlProgress::Fetching {
            done: done + 1,
            total,
        });
        match answer {
            Ok(Some(fetched)) => {
                if let Err(err) =
                    reconcile(store, SOURCE_ID, &packages, fetched, now, &mut summary).await
                {
                    failure = Some(err);
                    break;
                }
            }
            Ok(None) => {}
            Err(err) => push_error(
                &mut summary,
                format!("{product}: {}", super::osv::error_chain(&err)),
            ),
        }
    }
    summary.requests = http.requests_sent() - requests_before;
    summary.elapsed = started.elapsed();
    let fatal = failure.as_ref().map(|e| super::osv::error_chain(e));
    record_state(
        store,
        SOURCE_ID,
        SOURCE_ID,
        base,
        &summary,
        fatal.as_deref(),
    )
    .await?;
    match failure {
        Some(err) => Err(err),
        None => Ok(summary),
    }
}

async fn fetch(
    http: &HttpClient,
    base: &Url,
    product: &str,
    packages: &[(Ecosystem, String)],
    now: DateTime<Utc>,
) -> Result<Option<Fetched>, FetchError> {
    let url = join(base, &format!("api/v1/products/{product}"))?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(None);
    };
    let answer: ProductAnswer = decode(&url, &body)?;
    let page = join(base, product)?.to_string();
    Ok(Some(Fetched {
        notices: notices(product, packages, answer.result, &page, now),
        withdrawable: None,
    }))
}

fn notices(
    product: &str,
    packages: &[(Ecosystem, String)],
    result: ProductResult,
    page: &str,
    now: DateTime<Utc>,
) -> Vec<Notice> {
    let today = now.date_naive();
    let label = result
        .label
        .map(|l| clean_text(&l, 60))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| product.to_string());
    result
        .releases
        .into_iter()
        .filter(|r| plausible_version(&r.name))
        .filter_map(|release| {
            let eol = release
                .eol_from
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let cycle = release.name;
            let (past, summary) = match eol {
                Some(date) if date <= today => (
                    true,
                    format!("{label} {cycle} reached end of life on {date}"),
                ),
                Some(date) if date - today <= TimeDelta::days(SOON_DAYS) => (
                    false,
                    format!("{label} {cycle} reaches end of life on {date}"),
                ),
                Some(_) => return None,
                None if release.is_eol => {
                    (true, format!("{label} {cycle} has reached end of life"))
                }
                None => return None,
            };
            let latest = release
                .latest
                .map(|l| l.name)
                .filter(|l| plausible_version(l));
            let mut details = match eol {
                Some(date) if past => format!("No fixes, security fixes included, since {date}."),
                Some(date) => format!("No fixes, security fixes included, after {date}."),
                None => "No fixes, security fixes included.".to_string(),
            };
            if let Some(latest) = &latest {
                details.push_str(&format!(" The last {cycle} release is {latest}."));
            }
            let severity = if past { "HIGH" } else { "MODERATE" };
            Some(Notice {
                id: format!("eol:{product}@{cycle}"),
                kind: NoticeKind::Eol,
                aliases: Vec::new(),
                summary: Some(clean_text(&summary, MAX_MESSAGE_CHARS)),
                details: Some(details),
                severity: json!([]),
                published: None,
                modified: now,
                withdrawn: None,
                affected: packages
                    .iter()
                    .map(|(eco, package)| Affected {
                        ecosystem: eco.as_str().to_string(),
                        package: package.clone(),
                        ranges: json!([]),
                        versions: vec![cycle.clone()],
                    })
                    .collect(),
                references: json!([{"type": "WEB", "url": page}]),
                patterns: Vec::new(),
                source_id: Some(SOURCE_ID.to_string()),
                raw: Some(json!({
                    "product": product,
                    "cycle": cycle,
                    "eol": eol.map(|d| d.to_string()),
                    "latest": latest,
                    "database_specific": {"severity": severity},
                })),
            })
        })
        .collect()
}

/// Whether `version` (a pin such as `3.8`, `3.8.18`, `18-alpine`) belongs to release `cycle`.
pub fn in_cycle(version: &str, cycle: &str) -> bool {
    let version = version.trim();
    let version = version
        .strip_prefix("go")
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(version);
    let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
    match version.strip_prefix(cycle) {
        Some("") => true,
        Some(rest) => rest.starts_with(['.', '-', '+']),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn answer() -> ProductResult {
        let text = r#"{"schema_version":"1.2.0","generated_at":"2026-11-01T00:00:00+00:00",
          "result":{"name":"python","aliases":[],"label":"Python","category":"lang","tags":["lang"],
          "links":{"icon":"https://cdn.jsdelivr.net/npm/simple-icons/icons/python.svg","html":"https://endoflife.date/python"},
          "releases":[
            {"name":"3.13","codename":null,"label":"3.13","releaseDate":"2024-10-07","isLts":false,"ltsFrom":null,
             "isEoas":false,"eoasFrom":"2026-10-01","isEol":false,"eolFrom":"2029-10-31","isMaintained":true,
             "latest":{"name":"3.13.9","date":"2026-10-14","link":"https://www.python.org/downloads/release/python-3139/"}},
            {"name":"3.10","label":"3.10","releaseDate":"2021-10-04","isEol":false,"eolFrom":"2026-12-31","isMaintained":true,
             "latest":{"name":"3.10.19","date":"2026-06-03","link":null}},
            {"name":"3.8","label":"3.8","releaseDate":"2019-10-14","isEol":true,"eolFrom":"2024-10-07","isMaintained":false,
             "latest":{"name":"3.8.20","date":"2024-09-06","link":null}},
            {"name":"2.6","label":"2.6","isEol":true,"eolFrom":null}
          ]}}"#;
        serde_json::from_str::<ProductAnswer>(text).unwrap().result
    }

    #[test]
    fn past_and_soon_cycles_become_notices_with_severity_by_closeness() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 30, 0, 0, 0)
            .single()
            .unwrap();
        let packages = packages_of("python");
        let notices = notices(
            "python",
            &packages,
            answer(),
            "https://endoflife.date/python",
            now,
        );
        let shown: Vec<(&str, &str, &str)> = notices
            .iter()
            .map(|n| {
                (
                    n.id.as_str(),
                    n.summary.as_deref().unwrap(),
                    n.raw.as_ref().unwrap()["database_specific"]["severity"]
                        .as_str()
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "eol:python@3.10",
                    "Python 3.10 reaches end of life on 2026-12-31",
                    "MODERATE"
                ),
                (
                    "eol:python@3.8",
                    "Python 3.8 reached end of life on 2024-10-07",
                    "HIGH"
                ),
                (
                    "eol:python@2.6",
                    "Python 2.6 has reached end of life",
                    "HIGH"
                ),
            ]
        );
        assert_eq!(notices[1].affected[0].ecosystem, "python");
        assert_eq!(notices[1].affected[0].versions, ["3.8"]);
    }

    #[test]
    fn versions_belong_to_their_cycle_only() {
        for (version, cycle) in [
            ("3.8", "3.8"),
            ("3.8.18", "3.8"),
            ("18-alpine", "18"),
            ("v18.2.0", "18"),
            ("go1.21.3", "1.21"),
        ] {
            assert!(in_cycle(version, cycle), "{version} in {cycle}");
        }
        for (version, cycle) in [
            ("3.10.4", "3.1"),
            ("3.9", "3.8"),
            ("180", "18"),
            ("", "3.8"),
        ] {
            assert!(!in_cycle(version, cycle), "{version} not in {cycle}");
        }
    }

    #[test]
    fn products_come_from_pins_and_framework_dependencies() {
        let deps = [
            Dependency::new(Ecosystem::Python, "python", ".python-version", 1).locked("3.8"),
            Dependency::new(Ecosystem::PyPI, "Django", "requirements.txt", 1).locked("4.2.1"),
            Dependency::new(Ecosystem::Npm, "lodash", "package-lock.json", 1).locked("4.17.20"),
        ];
        let products = products_for(&deps);
        assert_eq!(
            products.keys().copied().collect::<Vec<_>>(),
            ["django", "python"]
        );
    }
}
