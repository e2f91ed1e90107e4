//! `Pipfile.lock` (pipenv, JSON): the `default` and `develop` sections, each package with its
//! `==` pinned version. `git`, `path` and `file` entries did not come from an index.

use crate::dependency::SkipReason;
use crate::ecosystem::Ecosystem;
use crate::extract::util::{LineIndex, find_line, parse_json};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `pypi/pipfile-lock`.
pub struct PipfileLock;

#[derive(Deserialize)]
struct PipfileLockJson {
    #[serde(default)]
    default: BTreeMap<String, Entry>,
    #[serde(default)]
    develop: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    version: Option<String>,
    git: Option<String>,
    path: Option<String>,
    file: Option<String>,
    #[serde(default)]
    editable: bool,
}

impl Entry {
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
        let file = self.file.as_deref()?;
        let reason = if file.contains("://") && !file.starts_with("file:") {
            SkipReason::Url
        } else {
            SkipReason::Path
        };
        Some((reason, file))
    }
}

impl Extractor for PipfileLock {
    fn id(&self) -> &'static str {
        "pypi/pipfile-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "Pipfile.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let lock: PipfileLockJson = parse_json(file.text)?;
        let index = LineIndex::new(file.text);
        let mut dependencies = Vec::new();
        for (section, entries, dev) in [
            ("default", &lock.default, false),
            ("develop", &lock.develop, true),
        ] {
            // pipenv writes `_meta`, `default`, `develop` in that order; names are looked up
            // from their section's key onwards so a package in both gets both lines.
            let needle = format!("\"{section}\"");
            let start = memchr::memmem::find(file.text.as_bytes(), needle.as_bytes()).unwrap_or(0);
            let section_line = index.line_of(start);
            for (name, entry) in entries {
                let line = find_line(file.text, &index, &format!("\"{name}\":"), start)
                    .unwrap_or(section_line);
                let mut dep = file.dep(Ecosystem::PyPI, name, line).dev(dev);
                if let Some(version) = &entry.version {
                    let version = version.trim();
                    dep = dep.locked(version.strip_prefix("==").unwrap_or(version));
                }
                if let Some((reason, detail)) = entry.skip() {
                    dep = dep.skip(reason, detail);
                }
                dependencies.push(dep);
            }
        }
        Ok(Extracted::from_dependencies(dependencies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::extract::pypi::test_support::{extract_ok, fixture_dir, names, one};

    const FORMAT: &str = "pipfile-lock";

    #[test]
    fn wants_pipfile_lock_only() {
        for (path, yes) in [
            ("Pipfile.lock", true),
            ("svc/Pipfile.lock", true),
            ("Pipfile.lock.bak", false),
            ("pipfile.lock", false),
            ("Pipfile", false),
            ("MyPipfile.lock", false),
        ] {
            let file_name = path.rsplit('/').next().unwrap_or(path);
            assert_eq!(PipfileLock.wants(path, file_name), yes, "{path}");
        }
    }

    #[test]
    fn empty_lock_has_no_entries() {
        let out = extract_ok(&PipfileLock, FORMAT, "empty", "Pipfile.lock");
        assert!(out.dependencies.is_empty());
    }

    #[test]
    fn one_package_with_its_pinned_version() {
        let out = extract_ok(&PipfileLock, FORMAT, "one-package", "Pipfile.lock");
        assert_eq!(out.dependencies.len(), 1);
        let d = one(&out.dependencies, "requests");
        assert_eq!(d.version.as_deref(), Some("2.31.0"));
        assert_eq!(d.source.line, 19);
        assert!(!d.dev && !d.direct && d.skipped.is_none());
    }

    #[test]
    fn develop_section_is_dev_and_a_package_in_both_gets_both_lines() {
        let out = extract_ok(&PipfileLock, FORMAT, "dev-only", "Pipfile.lock");
        assert_eq!(names(&out.dependencies), ["six", "pytest", "six"]);
        let lines: Vec<(u32, bool)> = out
            .dependencies
            .iter()
            .map(|d| (d.source.line, d.dev))
            .collect();
        assert_eq!(lines, [(11, false), (16, true), (20, true)]);
    }

    #[test]
    fn git_path_and_file_entries_are_skipped() {
        let out = extract_ok(&PipfileLock, FORMAT, "sources", "Pipfile.lock");
        let skip = |name: &str| {
            one(&out.dependencies, name)
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.clone()))
        };
        assert_eq!(
            skip("httpx"),
            Some((
                SkipReason::Git,
                "https://github.com/encode/httpx.git".to_string()
            ))
        );
        assert_eq!(skip("mylib"), Some((SkipReason::Editable, ".".to_string())));
        assert_eq!(
            skip("pip"),
            Some((
                SkipReason::Url,
                "https://github.com/pypa/pip/archive/22.0.2.zip".to_string()
            ))
        );
        assert_eq!(
            skip("vendored"),
            Some((SkipReason::Path, "./vendor/vendored-1.0.tar.gz".to_string()))
        );
        assert_eq!(one(&out.dependencies, "mylib").version, None);
    }

    #[test]
    fn truncated_lock_is_an_error() {
        let r = extract_at(
            &PipfileLock,
            &fixture_dir(FORMAT, "malformed"),
            "Pipfile.lock",
        );
        assert!(matches!(r, Err(ExtractError::Json { .. })), "{r:?}");
    }
}
