//! `pdm.lock`: every `[[package]]` PDM locked, at its header line. A package locked only for
//! groups other than `default` is dev; `git`, `path` and `url` fields mark packages that did not
//! come from an index.

use crate::dependency::SkipReason;
use crate::ecosystem::Ecosystem;
use crate::extract::util::{LineIndex, parse_toml};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use serde::Deserialize;
use toml::Spanned;

/// `pypi/pdm-lock`.
pub struct PdmLock;

#[derive(Deserialize)]
struct PdmLockToml {
    #[serde(default)]
    package: Vec<Spanned<Package>>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    /// Absent in lockfiles older than the `inherit_metadata` strategy.
    #[serde(default)]
    groups: Vec<String>,
    git: Option<String>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    editable: bool,
}

impl Package {
    fn skip(&self) -> Option<(SkipReason, &str)> {
        if let Some(git) = &self.git {
            return Some((SkipReason::Git, git));
        }
        if let Some(path) = &self.path {
            let reason = if self.editable {
                SkipReason::Editable
            } else {
                SkipReason::Path
            };
            return Some((reason, path));
        }
        self.url.as_deref().map(|url| (SkipReason::Url, url))
    }

    /// Locked for development groups only. Without `groups` the lockfile does not say.
    fn is_dev(&self) -> bool {
        !self.groups.is_empty() && !self.groups.iter().any(|g| g == "default")
    }
}

impl Extractor for PdmLock {
    fn id(&self) -> &'static str {
        "pypi/pdm-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "pdm.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let lock: PdmLockToml = parse_toml(file.text)?;
        let index = LineIndex::new(file.text);
        let dependencies = lock
            .package
            .iter()
            .map(|spanned| {
                let package = spanned.get_ref();
                let line = index.line_of(spanned.span().start);
                let mut dep = file
                    .dep(Ecosystem::PyPI, &package.name, line)
                    .dev(package.is_dev());
                if let Some(version) = &package.version {
                    dep = dep.locked(version.trim());
                }
                match package.skip() {
                    Some((reason, detail)) => dep.skip(reason, detail),
                    None => dep,
                }
            })
            .collect();
        Ok(Extracted::from_dependencies(dependencies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::extract::pypi::test_support::{extract_ok, fixture_dir, names, one};

    const FORMAT: &str = "pdm-lock";

    #[test]
    fn wants_pdm_lock_only() {
        for (path, yes) in [
            ("pdm.lock", true),
            ("backend/pdm.lock", true),
            ("pdm.lock.orig", false),
            ("mypdm.lock", false),
            ("pdm.toml", false),
        ] {
            let file_name = path.rsplit('/').next().unwrap_or(path);
            assert_eq!(PdmLock.wants(path, file_name), yes, "{path}");
        }
    }

    #[test]
    fn empty_lock_has_no_entries() {
        let out = extract_ok(&PdmLock, FORMAT, "empty", "pdm.lock");
        assert!(out.dependencies.is_empty());
    }

    #[test]
    fn one_package_at_its_header_line() {
        let out = extract_ok(&PdmLock, FORMAT, "one-package", "pdm.lock");
        assert_eq!(out.dependencies.len(), 1);
        let d = one(&out.dependencies, "certifi");
        assert_eq!(d.version.as_deref(), Some("2024.8.30"));
        assert_eq!(d.source.line, 15);
        assert!(!d.dev && !d.direct && d.skipped.is_none());
    }

    #[test]
    fn groups_decide_dev() {
        let out = extract_ok(&PdmLock, FORMAT, "dev-only", "pdm.lock");
        assert_eq!(
            names(&out.dependencies),
            ["colorama", "pytest", "ruamel-yaml"]
        );
        assert!(one(&out.dependencies, "pytest").dev);
        assert!(one(&out.dependencies, "colorama").dev);
        assert!(
            !one(&out.dependencies, "ruamel-yaml").dev,
            "in `default` and `dev`: needed at run time"
        );
    }

    #[test]
    fn git_path_and_url_packages_are_skipped() {
        let out = extract_ok(&PdmLock, FORMAT, "sources", "pdm.lock");
        let skip = |name: &str| {
            one(&out.dependencies, name)
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.clone()))
        };
        assert_eq!(
            skip("click"),
            Some((
                SkipReason::Git,
                "https://github.com/pallets/click.git".to_string()
            ))
        );
        assert_eq!(
            skip("my-lib"),
            Some((SkipReason::Editable, "./libs/my-lib".to_string()))
        );
        assert_eq!(
            skip("vendored"),
            Some((SkipReason::Path, "./vendor/vendored-1.0.tar.gz".to_string()))
        );
        assert_eq!(
            skip("attrs"),
            Some((
                SkipReason::Url,
                "https://files.example.com/attrs-23.2.0-py3-none-any.whl".to_string()
            ))
        );
        assert_eq!(skip("idna"), None);
    }

    #[test]
    fn truncated_lock_is_an_error() {
        let r = extract_at(&PdmLock, &fixture_dir(FORMAT, "malformed"), "pdm.lock");
        assert!(
            matches!(r, Err(ExtractError::Toml { line: Some(_), .. })),
            "{r:?}"
        );
    }
}
