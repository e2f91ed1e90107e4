//! What package registries flag about the packages in use: npm deprecations, PyPI and crates.io
//! yanks, abandoned Packagist packages, Go module deprecations and retractions, and RubyGems
//! yanks. Each registry is a source of its own (its own crawl state), asked once per package.
//!
//! Every flag becomes a notice whose id names the registry, the package and the version
//! (`npm-deprecated:lodash@4.17.20`), so a second crawl finds it again. A notice is rewritten only
//! when what the registry says changed, and a flag the registry no longer shows (an un-yanked
//! version, a package no longer abandoned) withdraws its notice, so the scan stops reporting it.

pub mod crates;
pub mod goproxy;
pub mod npm;
pub mod packagist;
pub mod pypi;
pub mod rubygems;

use super::{CrawlProgress, CrawlSummary};
use crate::dependency::Dependency;
use crate::ecosystem::Ecosystem;
use crate::http::{HttpClient, HttpError};
use crate::store::{Affected, Notice, NoticeKind, NoticeWrite, SourceState, Store, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
use reqwest::Url;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Error messages kept in a summary; the count stays exact.
const MAX_ERROR_MESSAGES: usize = 50;
/// Registry messages are quoted in findings; longer ones are cut.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Versions longer than this are not versions (and would bloat notice ids).
const MAX_VERSION_CHARS: usize = 128;

/// A package registry ecowatch reads flags from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Registry {
    Npm,
    PyPI,
    CratesIo,
    Packagist,
    GoProxy,
    RubyGems,
}

impl Registry {
    pub const ALL: [Registry; 6] = [
        Registry::Npm,
        Registry::PyPI,
        Registry::CratesIo,
        Registry::Packagist,
        Registry::GoProxy,
        Registry::RubyGems,
    ];

    /// The id of the source's row in the store (and the `--source` name).
    pub fn source_id(self) -> &'static str {
        match self {
            Registry::Npm => "npm",
            Registry::PyPI => "pypi",
            Registry::CratesIo => "crates",
            Registry::Packagist => "packagist",
            Registry::GoProxy => "go",
            Registry::RubyGems => "rubygems",
        }
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Registry::Npm => Ecosystem::Npm,
            Registry::PyPI => Ecosystem::PyPI,
            Registry::CratesIo => Ecosystem::CratesIo,
            Registry::Packagist => Ecosystem::Packagist,
            Registry::GoProxy => Ecosystem::Go,
            Registry::RubyGems => Ecosystem::RubyGems,
        }
    }

    /// The environment variable that overrides the base URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Registry::Npm => "ECOWATCH_NPM_REGISTRY_URL",
            Registry::PyPI => "ECOWATCH_PYPI_URL",
            Registry::CratesIo => "ECOWATCH_CRATES_IO_URL",
            Registry::Packagist => "ECOWATCH_PACKAGIST_URL",
            Registry::GoProxy => "ECOWATCH_GOPROXY_URL",
            Registry::RubyGems => "ECOWATCH_RUBYGEMS_URL",
        }
    }

    pub fn default_url(self) -> &'static str {
        match self {
            Registry::Npm => "https://registry.npmjs.org",
            Registry::PyPI => "https://pypi.org",
            Registry::CratesIo => "https://crates.io",
            Registry::Packagist => "https://repo.packagist.org",
            Registry::GoProxy => "https://proxy.golang.org",
            Registry::RubyGems => "https://rubygems.org",
        }
    }

    /// How findings name the registry ("deprecated on npm").
    pub fn label(self) -> &'static str {
        match self {
            Registry::Npm => "npm",
            Registry::PyPI => "PyPI",
            Registry::CratesIo => "crates.io",
            Registry::Packagist => "Packagist",
            Registry::GoProxy => "the Go module proxy",
            Registry::RubyGems => "RubyGems",
        }
    }

    /// The base URL from the environment, else the public registry (no ecowatch.toml: see
    /// [`crate::source::settings`] for the file as well).
    pub fn base_url_from_env(self) -> Result<Url, crate::source::settings::SettingsError> {
        crate::source::settings::SourceSettings::from_env().registry_url(self)
    }
}

/// A package in use, with every version a lockfile pins (empty when only declared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInUse {
    /// Normalized the ecosystem's way (PEP 503 for PyPI, lower case for Packagist).
    pub name: String,
    pub locked: BTreeSet<String>,
}

/// The packages of `registry`'s ecosystem among `dependencies`, sorted, each once.
pub fn packages_for<'a>(
    registry: Registry,
    dependencies: impl IntoIterator<Item = &'a Dependency>,
) -> Vec<PackageInUse> {
    let ecosystem = registry.ecosystem();
    let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for dep in dependencies {
        if dep.ecosystem != ecosystem || dep.skipped.is_some() || dep.name.trim().is_empty() {
            continue;
        }
        let locked = by_name
            .entry(ecosystem.normalize_name(&dep.name))
            .or_default();
        if let Some(version) = dep.version.as_deref().filter(|v| !v.is_empty()) {
            locked.insert(version.to_string());
        }
    }
    by_name
        .into_iter()
        .map(|(name, locked)| PackageInUse { name, locked })
        .collect()
}

/// What one package's registry entry said.
#[derive(Debug, Default)]
pub struct Fetched {
    pub notices: Vec<Notice>,
    /// Which stored notices this answer speaks for: `None` is all of this source's notices for
    /// the package; RubyGems only speaks for the versions it was asked about.
    pub withdrawable: Option<BTreeSet<String>>,
}

/// The answer about one package.
#[derive(Debug)]
pub enum Fetch {
    Found(Fetched),
    /// The registry does not know the package (a private one, most likely): nothing to say.
    NotFound,
}

/// Why one package could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

/// The clients the registries are asked through: npm and PyPI's Simple API choose the answer's
/// shape by the `Accept` header, so each has its own.
#[derive(Debug, Clone)]
pub struct Clients {
    pub plain: HttpClient,
    pub npm: HttpClient,
    pub pypi_simple: HttpClient,
}

impl Clients {
    pub fn new(config: crate::http::HttpConfig) -> Result<Clients, HttpError> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(npm::ABBREVIATED_METADATA),
        );
        let mut simple = reqwest::header::HeaderMap::new();
        simple.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(pypi::SIMPLE_JSON),
        );
        Ok(Clients {
            plain: HttpClient::new(config.clone())?,
            npm: HttpClient::with_headers(config.clone(), headers)?,
            pypi_simple: HttpClient::with_headers(config, simple)?,
        })
    }

    pub fn requests_sent(&self) -> u64 {
        self.plain.requests_sent() + self.npm.requests_sent() + self.pypi_simple.requests_sent()
    }
}

/// Asks `registry` at `base` about each of `packages`, stores what changed and records the
/// source's crawl state. One package's failure is an error in the summary, not the end of the
/// crawl; `Err` only when the store itself fails.
pub async fn crawl(
    clients: &Clients,
    store: &Store,
    registry: Registry,
    base: &Url,
    packages: Vec<PackageInUse>,
    progress: &(dyn Fn(CrawlProgress) + Sync),
) -> Result<CrawlSummary, StoreError> {
    let started = Instant::now();
    let requests_before = clients.requests_sent();
    let mut summary = CrawlSummary::default();
    let now = Utc::now();
    let total = packages.len();
    let concurrency = clients
        .plain
        .config()
        .max_in_flight_per_host
        .saturating_mul(2)
        .max(2);
    // crates.io asks crawlers for at most one request a second: one at a time, paced.
    let paced = registry == Registry::CratesIo && crates::is_crates_io(base);
    let concurrency = if paced { 1 } else { concurrency };
    let mut pacer = crates::Pacer::new(if paced {
        crates::MIN_INTERVAL
    } else {
        std::time::Duration::ZERO
    });
    let mut answers = futures_util::stream::iter(packages)
        .map(|package| async move {
            let answer = fetch(registry, clients, base, &package, now).await;
            (package, answer)
        })
        .buffer_unordered(concurrency);
    let mut done = 0;
    progress(CrawlProgress::Fetching { done, total });
    let mut failure = None;
    loop {
        if paced && done > 0 {
            pacer.wait().await;
        }
        let Some((package, answer)) = answers.next().await else {
            break;
        };
        done += 1;
        progress(CrawlProgress::Fetching { done, total });
        match answer {
            Ok(Fetch::Found(fetched)) => {
                if let Err(err) = reconcile(
                    store,
                    registry.source_id(),
                    &[(registry.ecosystem(), package.name.clone())],
                    fetched,
                    now,
                    &mut summary,
                )
                .await
                {
                    failure = Some(err);
                    break;
                }
            }
            Ok(Fetch::NotFound) => {}
            Err(err) => push_error(
                &mut summary,
                format!("{}: {}", package.name, super::osv::error_chain(&err)),
            ),
        }
    }
    drop(answers);
    summary.requests = clients.requests_sent() - requests_before;
    summary.elapsed = started.elapsed();
    let fatal = failure.as_ref().map(|e| super::osv::error_chain(e));
    record_state(
        store,
        registry.source_id(),
        registry.source_id(),
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
    registry: Registry,
    clients: &Clients,
    base: &Url,
    package: &PackageInUse,
    now: DateTime<Utc>,
) -> Result<Fetch, FetchError> {
    let http = &clients.plain;
    match registry {
        Registry::Npm => npm::fetch(&clients.npm, base, package, now).await,
        Registry::PyPI => pypi::fetch(http, &clients.pypi_simple, base, package, now).await,
        Registry::CratesIo => crates::fetch(http, base, package, now).await,
        Registry::Packagist => packagist::fetch(http, base, package, now).await,
        Registry::GoProxy => goproxy::fetch(http, base, package, now).await,
        Registry::RubyGems => rubygems::fetch(http, base, package, now).await,
    }
}

/// `Ok(None)` for a 404 (and 410): the registry does not have the package.
pub(crate) async fn get_or_missing(
    http: &HttpClient,
    url: &Url,
) -> Result<Option<Vec<u8>>, FetchError> {
    match http.get_bytes(url).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(HttpError::Status { status, .. }) if status == 404 || status == 410 => Ok(None),
        Err(err) => Err(err.into()),
    }
}

pub(crate) fn join(base: &Url, path: &str) -> Result<Url, FetchError> {
    base.join(path)
        .map_err(|err| FetchError::Protocol(format!("cannot build a URL for `{path}`: {err}")))
}

/// One flag, before it becomes a notice.
pub(crate) struct Flag {
    pub source_id: &'static str,
    pub id: String,
    pub kind: NoticeKind,
    pub ecosystem: Ecosystem,
    pub package: String,
    /// The whole fact in one sentence; findings quote it ("lodash 4.17.20 is deprecated on npm:
    /// use lodash-es").
    pub summary: String,
    pub details: Option<String>,
    /// Exact versions affected.
    pub versions: Vec<String>,
    /// OSV ranges (in the ecosystem's order) for what `versions` cannot list.
    pub ranges: Value,
    pub url: String,
    /// What the registry said, kept as data.
    pub raw: Value,
}

impl Flag {
    /// A flag on one published version, id `{source}-{flag}:{name}@{version}` (the id is how a
    /// later crawl finds the same notice again, so its shape must not change). Callers fill in
    /// `summary`, `url` and `raw` with struct update syntax.
    pub fn on_version(
        registry: Registry,
        flag: &str,
        kind: NoticeKind,
        name: &str,
        version: &str,
    ) -> Flag {
        Flag {
            id: format!("{}-{flag}:{name}@{version}", registry.source_id()),
            versions: vec![version.to_string()],
            ranges: json!([]),
            ..Flag::on_package(registry, flag, kind, name)
        }
    }

    /// A flag on the whole package (every version), id `{source}-{flag}:{name}`.
    pub fn on_package(registry: Registry, flag: &str, kind: NoticeKind, name: &str) -> Flag {
        Flag {
            source_id: registry.source_id(),
            id: format!("{}-{flag}:{name}", registry.source_id()),
            kind,
            ecosystem: registry.ecosystem(),
            package: name.to_string(),
            summary: String::new(),
            details: None,
            versions: Vec::new(),
            ranges: all_versions(),
            url: String::new(),
            raw: Value::Null,
        }
    }

    pub fn into_notice(self, now: DateTime<Utc>) -> Notice {
        Notice {
            id: self.id,
            kind: self.kind,
            aliases: Vec::new(),
            summary: Some(self.summary),
            details: self.details,
            severity: json!([]),
            published: None,
            modified: now,
            withdrawn: None,
            affected: vec![Affected {
                ecosystem: self.ecosystem.as_str().to_string(),
                package: self.package,
                ranges: self.ranges,
                versions: self.versions,
            }],
            references: json!([{"type": "PACKAGE", "url": self.url}]),
            patterns: Vec::new(),
            source_id: Some(self.source_id.to_string()),
            raw: Some(self.raw),
        }
    }
}

/// Every version from zero up: for flags on a whole package (abandoned, deprecated module).
pub(crate) fn all_versions() -> Value {
    json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}])
}

/// Hostile text made fit to quote: control characters become spaces, whitespace runs collapse,
/// and the result is cut to `max` characters.
pub fn clean_text(text: &str, max: usize) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let mut cut: String = joined.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A version string as a registry wrote it, if it could be one: short, printable, no spaces.
pub(crate) fn plausible_version(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_VERSION_CHARS
        && text.chars().all(|c| c.is_ascii_graphic())
}

/// A package name safe to put in a URL path segment after the registry's own encoding: no
/// traversal, no query or fragment, nothing invisible.
pub(crate) fn plausible_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 214
        && name != "."
        && name != ".."
        && !name.contains("..")
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '/' | '~' | '+')
        })
}

/// Writes `fetched` for one package: new notices, changed ones (their `modified` moved on),
/// and withdrawals of this source's notices the registry no longer shows.
pub(crate) async fn reconcile(
    store: &Store,
    source_id: &str,
    packages: &[(Ecosystem, String)],
    fetched: Fetched,
    now: DateTime<Utc>,
    summary: &mut CrawlSummary,
) -> Result<(), StoreError> {
    let stored: BTreeMap<String, Notice> = store
        .notices_for_packages(packages)
        .await?
        .into_iter()
        .filter(|n| n.source_id.as_deref() == Some(source_id))
        .map(|n| (n.id.clone(), n))
        .collect();
    let fresh_ids: BTreeSet<String> = fetched.notices.iter().map(|n| n.id.clone()).collect();
    let mut writes = Vec::new();
    for mut notice in fetched.notices {
        match stored.get(&notice.id) {
            Some(old) if same_content(old, &notice) => summary.unchanged += 1,
            Some(old) => {
                notice.published = old.published;
                notice.modified = later_than(old.modified, now);
                writes.push(notice);
            }
            None => writes.push(notice),
        }
    }
    for (id, old) in &stored {
        let speaks_for = fetched
            .withdrawable
            .as_ref()
            .is_none_or(|ids| ids.contains(id));
        if old.withdrawn.is_none() && speaks_for && !fresh_ids.contains(id) {
            let mut gone = old.clone();
            gone.withdrawn = Some(now);
            gone.modified = later_than(old.modified, now);
            writes.push(gone);
        }
    }
    for notice in writes {
        match store.upsert_notice(&notice).await {
            Ok(NoticeWrite::Inserted) => summary.new += 1,
            Ok(NoticeWrite::Updated) => summary.updated += 1,
            Ok(NoticeWrite::Unchanged) => summary.unchanged += 1,
            Err(StoreError::Invalid(message)) => {
                push_error(summary, format!("{}: {message}", notice.id));
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// `now`, or just after `old` when the clock says otherwise: the store keeps the newer copy.
fn later_than(old: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    now.max(old + TimeDelta::milliseconds(1))
}

/// Whether the stored notice already says what the registry says now.
fn same_content(old: &Notice, new: &Notice) -> bool {
    old.withdrawn.is_none()
        && old.kind == new.kind
        && old.summary == new.summary
        && old.details == new.details
        && old.severity == new.severity
        && old.affected == new.affected
        && old.references == new.references
        && old.raw == new.raw
}

pub(crate) fn push_error(summary: &mut CrawlSummary, message: String) {
    if summary.errors.len() < MAX_ERROR_MESSAGES {
        summary.errors.push(message);
    } else if summary.errors.len() == MAX_ERROR_MESSAGES {
        summary
            .errors
            .push("… further errors not listed".to_string());
    }
}

/// Success moves `last_success_at`; any error records `last_error(_at)`, keeping the other.
pub(crate) async fn record_state(
    store: &Store,
    id: &str,
    kind: &str,
    base: &Url,
    summary: &CrawlSummary,
    fatal: Option<&str>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let mut state: SourceState = store.get_source(id).await?.unwrap_or_default();
    state.id = id.to_string();
    state.kind = kind.to_string();
    state.url = Some(base.to_string());
    if fatal.is_none() && summary.errors.is_empty() {
        state.last_success_at = Some(now);
    } else {
        state.last_error_at = Some(now);
        state.last_error = Some(match fatal {
            Some(message) => message.to_string(),
            None => format!(
                "{} error(s); first: {}",
                summary.errors.len(),
                summary.errors.first().map_or("", String::as_str)
            ),
        });
    }
    store.put_source(&state).await
}

/// A state for a source that could not even start (a bad base URL).
pub(crate) async fn record_failure(
    store: &Store,
    id: &str,
    kind: &str,
    message: &str,
) -> Result<(), StoreError> {
    let mut state: SourceState = store.get_source(id).await?.unwrap_or_default();
    state.id = id.to_string();
    state.kind = kind.to_string();
    state.last_error_at = Some(Utc::now());
    state.last_error = Some(message.to_string());
    store.put_source(&state).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SkipReason;

    #[test]
    fn packages_are_grouped_normalized_and_carry_their_locked_versions() {
        let deps = [
            Dependency::new(Ecosystem::PyPI, "Jinja2", "requirements.txt", 1).locked("2.10"),
            Dependency::new(Ecosystem::PyPI, "jinja2", "poetry.lock", 9).locked("2.11.3"),
            Dependency::new(Ecosystem::PyPI, "requests", "pyproject.toml", 3).requires(">=2"),
            Dependency::new(Ecosystem::PyPI, "mylib", "requirements.txt", 4)
                .skip(SkipReason::Git, "git+https://example.test/mylib"),
            Dependency::new(Ecosystem::Npm, "lodash", "package-lock.json", 5).locked("4.17.20"),
        ];
        let packages = packages_for(Registry::PyPI, &deps);
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].name, "jinja2");
        assert_eq!(
            packages[0].locked.iter().collect::<Vec<_>>(),
            ["2.10", "2.11.3"]
        );
        assert_eq!(packages[1].name, "requests");
        assert!(packages[1].locked.is_empty());
    }

    #[test]
    fn hostile_text_is_flattened_and_capped() {
        assert_eq!(
            clean_text("use\r\nX-Evil: 1\u{1b}[31m  now", 100),
            "use X-Evil: 1 [31m now"
        );
        let long = clean_text(&"a".repeat(600), MAX_MESSAGE_CHARS);
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn names_that_could_escape_a_path_are_refused() {
        for good in [
            "lodash",
            "@babel/core",
            "vendor/name",
            "golang.org/x/net",
            "a_b-c.d",
        ] {
            assert!(plausible_name(good), "{good}");
        }
        for bad in ["", "..", "a/../b", "a?b", "a#b", "a b", "é", "a\\b"] {
            assert!(!plausible_name(bad), "{bad:?}");
        }
    }
}
