//! Which GitHub projects ecowatch follows and which packages each publishes, from
//! `feeds/watch.toml` (bundled into the binary) or `<DIR>/watch.toml` given with `--feeds DIR`:
//!
//! ```toml
//! [[watch]]
//! github = "supabase/supabase"
//! packages = ["npm:@supabase/supabase-js", "pypi:supabase"]
//! changelog = "CHANGELOG.md"      # optional: a file in the repository to read for deprecations
//! ```
//!
//! (Rule files have their own per-rule `[[watch]]` pointing at one discussion; this file is the
//! crawler's list of projects.)

use crate::ecosystem::Ecosystem;
use serde::Deserialize;
use std::path::Path;

/// The list shipped with ecowatch.
pub(crate) const BUNDLED: &str = include_str!("../../../feeds/watch.toml");
/// Bounds on hostile or mistaken input.
const MAX_PROJECTS: usize = 10_000;
const MAX_PACKAGES: usize = 100;

/// One GitHub project and the packages its announcements apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedProject {
    pub owner: String,
    pub repo: String,
    pub packages: Vec<(Ecosystem, String)>,
    /// A path inside the repository (`CHANGELOG.md`, `docs/changelog.rst`).
    pub changelog: Option<String>,
}

impl WatchedProject {
    /// `owner/repo`.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WatchlistError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not valid TOML: {message}")]
    Toml { origin: String, message: String },
    #[error("{origin}: watch entry {index}: {message}")]
    Entry {
        origin: String,
        index: usize,
        message: String,
    },
    #[error("{origin}: more than {MAX_PROJECTS} projects")]
    TooMany { origin: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    watch: Vec<RawEntry>,
    /// Vendor pages (`[[page]]`), read by [`crate::source::vendor_pages`].
    #[serde(default)]
    #[allow(dead_code)]
    page: Vec<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    github: String,
    #[serde(default)]
    packages: Vec<String>,
    changelog: Option<String>,
}

/// `DIR/watch.toml` when a feeds directory is given (a missing file means no projects),
/// else the bundled list.
pub fn load(feeds_dir: Option<&Path>) -> Result<Vec<WatchedProject>, WatchlistError> {
    let Some(dir) = feeds_dir else {
        return parse(BUNDLED, "feeds/watch.toml (bundled)");
    };
    let path = dir.join("watch.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path.display().to_string()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(WatchlistError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Parses a watch list; `origin` names it in errors. Projects listed twice are merged.
pub fn parse(text: &str, origin: &str) -> Result<Vec<WatchedProject>, WatchlistError> {
    let raw: RawFile = toml::from_str(text).map_err(|err| WatchlistError::Toml {
        origin: origin.to_string(),
        message: err.message().to_string(),
    })?;
    if raw.watch.len() > MAX_PROJECTS {
        return Err(WatchlistError::TooMany {
            origin: origin.to_string(),
        });
    }
    let mut projects: Vec<WatchedProject> = Vec::new();
    for (i, entry) in raw.watch.into_iter().enumerate() {
        let fail = |message: String| WatchlistError::Entry {
            origin: origin.to_string(),
            index: i + 1,
            message,
        };
        let (owner, repo) = parse_slug(&entry.github).map_err(fail)?;
        if entry.packages.len() > MAX_PACKAGES {
            return Err(fail(format!(
                "key `packages`: more than {MAX_PACKAGES} packages"
            )));
        }
        let mut packages = Vec::new();
        for text in &entry.packages {
            packages.push(parse_package(text).map_err(fail)?);
        }
        let changelog = match entry.changelog {
            Some(path) => Some(check_repo_path(&path).map_err(fail)?),
            None => None,
        };
        if let Some(known) = projects
            .iter_mut()
            .find(|p| p.owner.eq_ignore_ascii_case(&owner) && p.repo.eq_ignore_ascii_case(&repo))
        {
            for package in packages {
                if !known.packages.contains(&package) {
                    known.packages.push(package);
                }
            }
            known.changelog = known.changelog.take().or(changelog);
            continue;
        }
        projects.push(WatchedProject {
            owner,
            repo,
            packages,
            changelog,
        });
    }
    Ok(projects)
}

/// `owner/repo` with GitHub's allowed characters, so it is safe in a URL path.
fn parse_slug(text: &str) -> Result<(String, String), String> {
    let bad = || {
        format!(
            "key `github`: `{}` is not `owner/repo`",
            text.escape_debug()
        )
    };
    let (owner, repo) = text.trim().split_once('/').ok_or_else(bad)?;
    let ok = |part: &str, max: usize| {
        !part.is_empty()
            && part.len() <= max
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if ok(owner, 39) && ok(repo, 100) {
        Ok((owner.to_string(), repo.to_string()))
    } else {
        Err(bad())
    }
}

/// `ecosystem:name`, e.g. `npm:@supabase/supabase-js`, `pypi:supabase`.
pub(crate) fn parse_package(text: &str) -> Result<(Ecosystem, String), String> {
    let bad = |why: &str| format!("key `packages`: `{}` {why}", text.escape_debug());
    let (eco, name) = text
        .split_once(':')
        .ok_or_else(|| bad("is not `ecosystem:name`"))?;
    let ecosystem = Ecosystem::parse(eco.trim())
        .or_else(|| Ecosystem::parse(&eco.trim().to_ascii_lowercase()))
        .filter(|e| !e.is_runtime())
        .ok_or_else(|| bad("names no package ecosystem ecowatch knows"))?;
    let name = name.trim();
    if name.is_empty() || name.len() > 214 || name.chars().any(char::is_control) {
        return Err(bad("has no usable package name"));
    }
    Ok((ecosystem, ecosystem.normalize_name(name)))
}

/// A relative path inside the repository, without `..`, so it stays a `contents/` path.
fn check_repo_path(path: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "key `changelog`: `{}` is not a path inside the repository",
            path.escape_debug()
        )
    };
    let trimmed = path.trim();
    if trimmed.is_empty()
        || trimmed.len() > 300
        || trimmed.starts_with('/')
        || trimmed
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        || trimmed
            .chars()
            .any(|c| c.is_control() || matches!(c, '?' | '#' | '\\' | '%'))
    {
        return Err(bad());
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_list_parses() {
        let projects = load(None).unwrap();
        assert!(projects.iter().any(|p| p.slug() == "supabase/supabase"));
    }

    #[test]
    fn entries_are_parsed_merged_and_normalized() {
        let projects = parse(
            r#"
[[watch]]
github = "supabase/supabase"
packages = ["npm:@supabase/supabase-js", "pypi:Supabase_Py"]
changelog = "docs/CHANGELOG.md"

[[watch]]
github = "Supabase/Supabase"
packages = ["npm:@supabase/supabase-js", "npm:supabase"]
"#,
            "t",
        )
        .unwrap();
        assert_eq!(projects.len(), 1);
        let p = &projects[0];
        assert_eq!(p.slug(), "supabase/supabase");
        assert_eq!(p.changelog.as_deref(), Some("docs/CHANGELOG.md"));
        assert_eq!(
            p.packages,
            [
                (Ecosystem::Npm, "@supabase/supabase-js".to_string()),
                (Ecosystem::PyPI, "supabase-py".to_string()),
                (Ecosystem::Npm, "supabase".to_string()),
            ]
        );
    }

    #[test]
    fn hostile_or_mistaken_entries_are_refused_naming_the_key() {
        for (entry, key) in [
            (r#"github = "supabase""#, "github"),
            (r#"github = "../../etc/passwd""#, "github"),
            (r#"github = "a/b?x=1""#, "github"),
            (
                r#"github = "a/b"
packages = ["left-pad"]"#,
                "packages",
            ),
            (
                r#"github = "a/b"
packages = ["nosuch:x"]"#,
                "packages",
            ),
            (
                r#"github = "a/b"
changelog = "../secrets""#,
                "changelog",
            ),
            (
                r#"github = "a/b"
changelog = "/etc/passwd""#,
                "changelog",
            ),
        ] {
            let err = parse(&format!("[[watch]]\n{entry}\n"), "t").unwrap_err();
            assert!(
                err.to_string().contains(&format!("key `{key}`")),
                "{entry}: {err}"
            );
        }
        assert!(parse("[[watch]]\ngithub = \"a/b\"\nurl = \"x\"\n", "t").is_err());
        assert!(parse("[[watch]\n", "t").is_err());
    }
}
