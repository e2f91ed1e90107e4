//! `.tool-versions` (asdf, mise): `tool version [fallback…]` per line. Tools that map to a
//! runtime ecosystem (nodejs, python, ruby, golang, rust, php) become pins, one per version,
//! kept as written. Other tools (terraform, java, …) are not dependencies ecowatch models, so
//! they are left out. `ref:` versions are git skips, `path:` versions path skips, `system` an
//! unsupported skip.

use super::version_file::content_lines;
use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};

pub struct ToolVersions;

/// asdf plugin names (and mise's short aliases) with the runtime they pin.
const TOOLS: &[(&str, Ecosystem, &str)] = &[
    ("nodejs", Ecosystem::NodeJs, "node"),
    ("node", Ecosystem::NodeJs, "node"),
    ("python", Ecosystem::Python, "python"),
    ("ruby", Ecosystem::Ruby, "ruby"),
    ("golang", Ecosystem::GoToolchain, "go"),
    ("go", Ecosystem::GoToolchain, "go"),
    ("rust", Ecosystem::Rust, "rust"),
    ("php", Ecosystem::Php, "php"),
];

impl Extractor for ToolVersions {
    fn id(&self) -> &'static str {
        "runtime/tool-versions"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == ".tool-versions"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let mut dependencies = Vec::new();
        for (line, content) in content_lines(file.text) {
            let mut words = content.split_whitespace();
            let Some(tool) = words.next() else { continue };
            let Some(&(_, ecosystem, runtime)) = TOOLS.iter().find(|(t, _, _)| *t == tool) else {
                continue;
            };
            let start = dependencies.len();
            for version in words {
                dependencies.push(pin(
                    file.dep(ecosystem, runtime, line).direct(true),
                    version,
                ));
            }
            if dependencies.len() == start {
                dependencies.push(file.dep(ecosystem, runtime, line).direct(true).skip(
                    SkipReason::Unsupported,
                    format!("`{tool}` names no version"),
                ));
            }
        }
        Ok(Extracted::from_dependencies(dependencies))
    }
}

fn pin(dep: Dependency, version: &str) -> Dependency {
    if version.starts_with("ref:") {
        return dep.skip(SkipReason::Git, version);
    }
    if version.starts_with("path:") {
        return dep.skip(SkipReason::Path, version);
    }
    if version == "system" {
        return dep.skip(
            SkipReason::Unsupported,
            "`system` is whichever version the machine has",
        );
    }
    dep.locked(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::Path;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/runtime/tool-versions"
    );

    /// (ecosystem, name, version, line, skip reason)
    type Row = (Ecosystem, String, Option<String>, u32, Option<SkipReason>);

    fn extract(case: &str) -> Vec<Row> {
        let found = match extract_at(
            &ToolVersions,
            &Path::new(FIXTURES).join(case),
            ".tool-versions",
        ) {
            Ok(found) => found,
            Err(e) => panic!("{case}: {e}"),
        };
        assert!(found.dependencies.iter().all(|d| d.direct));
        found
            .dependencies
            .into_iter()
            .map(|d| {
                (
                    d.ecosystem,
                    d.name,
                    d.version,
                    d.source.line,
                    d.skipped.map(|s| s.reason),
                )
            })
            .collect()
    }

    fn row(
        eco: Ecosystem,
        name: &str,
        version: Option<&str>,
        line: u32,
        skip: Option<SkipReason>,
    ) -> Row {
        (
            eco,
            name.to_string(),
            version.map(str::to_string),
            line,
            skip,
        )
    }

    #[test]
    fn wants_only_the_exact_name() {
        assert!(ToolVersions.wants("a/.tool-versions", ".tool-versions"));
        for no in [
            "tool-versions",
            ".tool-versions.bak",
            ".tool-version",
            "mise.toml",
        ] {
            assert!(!ToolVersions.wants(no, no), "{no}");
        }
    }

    #[test]
    fn empty_file_has_no_entries() {
        assert!(extract("empty").is_empty());
    }

    #[test]
    fn one_tool() {
        assert_eq!(
            extract("one"),
            [row(Ecosystem::NodeJs, "node", Some("20.11.0"), 1, None)]
        );
    }

    #[test]
    fn several_tools_with_fallbacks_and_unknown_tools() {
        assert_eq!(
            extract("several"),
            [
                row(Ecosystem::NodeJs, "node", Some("20.11.0"), 2, None),
                row(Ecosystem::Python, "python", Some("3.12.1"), 3, None),
                row(Ecosystem::Python, "python", Some("3.11.7"), 3, None),
                row(Ecosystem::Ruby, "ruby", Some("3.2.2"), 4, None),
                row(Ecosystem::GoToolchain, "go", Some("1.22.0"), 6, None),
                row(Ecosystem::Rust, "rust", Some("1.75.0"), 7, None),
                row(Ecosystem::Php, "php", Some("8.3.0"), 8, None),
            ]
        );
    }

    #[test]
    fn refs_paths_system_and_missing_versions_are_skipped() {
        assert_eq!(
            extract("weird"),
            [
                row(Ecosystem::Ruby, "ruby", None, 1, Some(SkipReason::Git)),
                row(Ecosystem::Python, "python", None, 2, Some(SkipReason::Path)),
                row(
                    Ecosystem::NodeJs,
                    "node",
                    None,
                    3,
                    Some(SkipReason::Unsupported)
                ),
                row(
                    Ecosystem::GoToolchain,
                    "go",
                    None,
                    4,
                    Some(SkipReason::Unsupported)
                ),
                row(Ecosystem::NodeJs, "node", Some("lts"), 5, None),
            ]
        );
    }
}
