//! `.python-version` (pyenv, uv, rye, `setup-python`): one or more interpreter versions,
//! whitespace- or line-separated. CPython versions are kept as written (`3.12.1`, `3.11`,
//! `3.13-dev`); `cpython-3.12` and `cpython@3.12` (uv's spellings) are read as `3.12`. Other
//! interpreters (`pypy3.10`, `miniconda3-latest`) and `system` are kept as unsupported skips.

use super::version_file::{content_lines, is_plain_token};
use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};

pub struct PythonVersion;

impl Extractor for PythonVersion {
    fn id(&self) -> &'static str {
        "runtime/python-version"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == ".python-version"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let dependencies = content_lines(file.text)
            .flat_map(|(line, content)| {
                content
                    .split_whitespace()
                    .map(move |word| python_pin(file, word, line))
            })
            .collect();
        Ok(Extracted::from_dependencies(dependencies))
    }
}

fn python_pin(file: &ManifestFile<'_>, word: &str, line: u32) -> Dependency {
    let dep = file.dep(Ecosystem::Python, "python", line).direct(true);
    let version = ["cpython@", "cpython-", "cpython"]
        .iter()
        .find_map(|prefix| word.strip_prefix(prefix))
        .unwrap_or(word);
    if is_plain_token(version) && version.starts_with(|c: char| c.is_ascii_digit()) {
        return dep.locked(version);
    }
    let detail = if word == "system" {
        "`system` is whichever Python the machine has".to_string()
    } else {
        format!("`{word}` is not a CPython version")
    };
    dep.skip(SkipReason::Unsupported, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::Path;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/runtime/python-version"
    );

    /// (version, line, skipped?)
    fn extract(case: &str) -> Vec<(Option<String>, u32, bool)> {
        let found = match extract_at(
            &PythonVersion,
            &Path::new(FIXTURES).join(case),
            ".python-version",
        ) {
            Ok(found) => found,
            Err(e) => panic!("{case}: {e}"),
        };
        for dep in &found.dependencies {
            assert_eq!(
                (dep.ecosystem, dep.name.as_str()),
                (Ecosystem::Python, "python")
            );
            assert!(dep.direct);
        }
        found
            .dependencies
            .into_iter()
            .map(|d| (d.version, d.source.line, d.skipped.is_some()))
            .collect()
    }

    #[test]
    fn wants_only_the_exact_name() {
        assert!(PythonVersion.wants("svc/.python-version", ".python-version"));
        for no in [
            "python-version",
            ".python-version.bak",
            ".python-versions",
            "runtime.txt",
        ] {
            assert!(!PythonVersion.wants(no, no), "{no}");
        }
    }

    #[test]
    fn empty_file_has_no_entries() {
        assert!(extract("empty").is_empty());
    }

    #[test]
    fn one_version() {
        assert_eq!(extract("one"), [(Some("3.12.1".into()), 1, false)]);
    }

    #[test]
    fn several_versions_one_per_line_with_comments() {
        assert_eq!(
            extract("several"),
            [
                (Some("3.12.1".into()), 2, false),
                (Some("3.11.7".into()), 3, false),
                (Some("3.10".into()), 5, false),
                (Some("3.9".into()), 5, false),
            ]
        );
    }

    #[test]
    fn other_interpreters_and_system_are_skipped() {
        assert_eq!(
            extract("weird"),
            [
                (Some("3.13-dev".into()), 1, false),
                (Some("3.12".into()), 2, false),
                (None, 3, true),
                (None, 4, true),
                (None, 5, true),
            ]
        );
    }
}
