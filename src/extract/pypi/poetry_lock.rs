//! `poetry.lock`: every `[[package]]` Poetry locked, at its header line. Older lockfiles mark
//! development packages with `category = "dev"`; `[package.source]` says when a package did not
//! come from an index.

use crate::dependency::SkipReason;
use crate::ecosystem::Ecosystem;
use crate::extract::util::{LineIndex, parse_toml};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use serde::Deserialize;
use toml::Spanned;

/// `pypi/poetry-lock`.
pub struct PoetryLock;

#[derive(Deserialize)]
struct PoetryLockToml {
    #[serde(default)]
    package: Vec<Spanned<Package>>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    category: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    develop: bool,
    source: Option<Source>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
}

impl Extractor for PoetryLock {
    fn id(&self) -> &'static str {
        "pypi/poetry-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "poetry.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let lock: PoetryLockToml = parse_toml(file.text)?;
        let index = LineIndex::new(file.text);
        let dependencies = lock
            .package
            .iter()
            .map(|spanned| {
                let package = spanned.get_ref();
                let line = index.line_of(spanned.span().start);
                let dep = file
                    .dep(Ecosystem::PyPI, &package.name, line)
                    .locked(package.version.trim())
                    .dev(package.category.as_deref() == Some("dev"))
                    .optional(package.optional);
                match package
                    .source
                    .as_ref()
                    .and_then(|s| skip_reason(s, package.develop))
                {
                    Some(reason) => {
                        let detail = package.source.as_ref().map_or("", |s| s.url.as_str());
                        dep.skip(reason, detail)
                    }
                    None => dep,
                }
            })
            .collect();
        Ok(Extracted::from_dependencies(dependencies))
    }
}

/// Why a package from `source` is not a registry release; `None` for indexes (`legacy`,
/// `explicit`, `supplemental`, ...).
fn skip_reason(source: &Source, develop: bool) -> Option<SkipReason> {
    match source.kind.as_str() {
        "git" => Some(SkipReason::Git),
        "directory" if develop => Some(SkipReason::Editable),
        "directory" | "file" => Some(SkipReason::Path),
        "url" => Some(SkipReason::Url),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::extract::pypi::test_support::{extract_ok, fixture_dir, names, one};

    const FORMAT: &str = "poetry-lock";

    #[test]
    fn wants_poetry_lock_only() {
        for (path, yes) in [
            ("poetry.lock", true),
            ("services/api/poetry.lock", true),
            ("poetry.lock.bak", false),
            ("mypoetry.lock", false),
            ("poetry.toml", false),
        ] {
            let file_name = path.rsplit('/').next().unwrap_or(path);
            assert_eq!(PoetryLock.wants(path, file_name), yes, "{path}");
        }
    }

    #[test]
    fn empty_lock_has_no_entries() {
        let out = extract_ok(&PoetryLock, FORMAT, "empty", "poetry.lock");
        assert!(out.dependencies.is_empty());
    }

    #[test]
    fn one_package_at_its_header_line() {
        let out = extract_ok(&PoetryLock, FORMAT, "one-package", "poetry.lock");
        assert_eq!(out.dependencies.len(), 1);
        let d = one(&out.dependencies, "certifi");
        assert_eq!(d.version.as_deref(), Some("2024.2.2"));
        assert_eq!(d.source.line, 3);
        assert!(!d.direct && !d.dev && !d.optional && d.skipped.is_none());
    }

    #[test]
    fn dev_category_and_optional_flags() {
        let out = extract_ok(&PoetryLock, FORMAT, "dev-only", "poetry.lock");
        assert_eq!(names(&out.dependencies), ["colorama", "pytest", "tomli"]);
        let pytest = one(&out.dependencies, "pytest");
        assert!(pytest.dev);
        assert_eq!(pytest.source.line, 12);
        let tomli = one(&out.dependencies, "tomli");
        assert!(tomli.dev && tomli.optional);
    }

    #[test]
    fn git_directory_file_and_url_sources_are_skipped_and_indexes_are_not() {
        let out = extract_ok(&PoetryLock, FORMAT, "sources", "poetry.lock");
        let skip = |name: &str| {
            one(&out.dependencies, name)
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.clone()))
        };
        assert_eq!(
            skip("flask"),
            Some((
                SkipReason::Git,
                "https://github.com/pallets/flask.git".to_string()
            ))
        );
        assert_eq!(
            skip("my-lib"),
            Some((SkipReason::Editable, "../my-lib".to_string()))
        );
        assert_eq!(
            skip("vendored"),
            Some((SkipReason::Path, "vendor/vendored-1.0.tar.gz".to_string()))
        );
        assert_eq!(
            skip("platformdirs"),
            Some((
                SkipReason::Url,
                "https://example.com/platformdirs-4.2.0-py3-none-any.whl".to_string()
            ))
        );
        assert_eq!(skip("internal-sdk"), None, "a private index is a registry");
        assert_eq!(
            one(&out.dependencies, "flask").version.as_deref(),
            Some("3.1.0.dev0")
        );
    }

    #[test]
    fn truncated_lock_is_an_error() {
        let r = extract_at(
            &PoetryLock,
            &fixture_dir(FORMAT, "malformed"),
            "poetry.lock",
        );
        assert!(
            matches!(r, Err(ExtractError::Toml { line: Some(_), .. })),
            "{r:?}"
        );
    }

    #[test]
    fn package_without_version_is_an_error() {
        let r = extract_at(
            &PoetryLock,
            &fixture_dir(FORMAT, "missing-version"),
            "poetry.lock",
        );
        assert!(matches!(r, Err(ExtractError::Toml { .. })), "{r:?}");
    }
}
