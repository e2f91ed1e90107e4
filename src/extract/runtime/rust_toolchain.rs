//! `rust-toolchain.toml` and `rust-toolchain`: the toolchain rustup installs for a project.
//! The channel is kept as written (`1.75.0`, `stable`, `nightly-2024-01-01`). The legacy
//! `rust-toolchain` file holds either a bare channel or the same TOML.

use super::version_file::{content_lines, is_plain_token};
use crate::dependency::SkipReason;
use crate::ecosystem::Ecosystem;
use crate::extract::util::{LineIndex, parse_toml};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use regex::Regex;
use serde::Deserialize;
use std::sync::LazyLock;

pub struct RustToolchain;

#[derive(Deserialize)]
struct RawFile {
    toolchain: Option<RawToolchain>,
}

#[derive(Deserialize)]
struct RawToolchain {
    channel: Option<String>,
    /// A custom toolchain directory instead of a channel.
    path: Option<String>,
}

impl Extractor for RustToolchain {
    fn id(&self) -> &'static str {
        "runtime/rust-toolchain"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        matches!(file_name, "rust-toolchain" | "rust-toolchain.toml")
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let is_toml = file.path.ends_with(".toml") || file.text.contains("[toolchain]");
        if is_toml {
            return toml_toolchain(file);
        }
        let Some((line, channel)) = content_lines(file.text).next() else {
            return Ok(Extracted::default());
        };
        let dep = file.dep(Ecosystem::Rust, "rust", line).direct(true);
        let dep = if is_plain_token(channel) {
            dep.locked(channel)
        } else {
            dep.skip(
                SkipReason::Unsupported,
                format!("`{channel}` is not a toolchain channel"),
            )
        };
        Ok(Extracted::from_dependencies(vec![dep]))
    }
}

fn toml_toolchain(file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
    let raw: RawFile = parse_toml(file.text)?;
    let Some(toolchain) = raw.toolchain else {
        return Ok(Extracted::default());
    };
    let dep = |key: &str| {
        let line = key_line(file.text, key);
        file.dep(Ecosystem::Rust, "rust", line).direct(true)
    };
    let found = match (toolchain.channel, toolchain.path) {
        (Some(channel), _) => vec![dep("channel").locked(channel)],
        (None, Some(path)) => vec![dep("path").skip(SkipReason::Path, path)],
        // Only components or targets: rustup's default toolchain applies, nothing is pinned.
        (None, None) => Vec::new(),
    };
    Ok(Extracted::from_dependencies(found))
}

/// The line of `key = …` in the TOML text (1 when it cannot be found, e.g. an inline table).
fn key_line(text: &str, key: &str) -> u32 {
    static KEY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^[ \t]*"?(channel|path)"?[ \t]*="#).expect("key pattern is valid")
    });
    let index = LineIndex::new(text);
    KEY.captures_iter(text)
        .find(|c| &c[1] == key)
        .and_then(|c| c.get(0))
        .map_or(1, |m| index.line_of(m.start()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::Path;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/runtime/rust-toolchain"
    );

    /// (version, line, skip reason)
    type Row = (Option<String>, u32, Option<SkipReason>);

    fn extract(case: &str, file: &str) -> Result<Vec<Row>, ExtractError> {
        let found = extract_at(&RustToolchain, &Path::new(FIXTURES).join(case), file)?;
        for dep in &found.dependencies {
            assert_eq!(
                (dep.ecosystem, dep.name.as_str()),
                (Ecosystem::Rust, "rust")
            );
            assert!(dep.direct);
        }
        Ok(found
            .dependencies
            .into_iter()
            .map(|d| (d.version, d.source.line, d.skipped.map(|s| s.reason)))
            .collect())
    }

    fn ok(case: &str, file: &str) -> Vec<Row> {
        extract(case, file).unwrap_or_else(|e| panic!("{case}/{file}: {e}"))
    }

    #[test]
    fn wants_both_names_only() {
        assert!(RustToolchain.wants("rust-toolchain.toml", "rust-toolchain.toml"));
        assert!(RustToolchain.wants("crates/x/rust-toolchain", "rust-toolchain"));
        for no in [
            "rust-toolchain.yml",
            "rust-toolchain.toml.bak",
            "toolchain.toml",
            "rust-toolchains",
        ] {
            assert!(!RustToolchain.wants(no, no), "{no}");
        }
    }

    #[test]
    fn empty_files_have_no_entries() {
        assert!(ok("empty", "rust-toolchain.toml").is_empty());
        assert!(ok("empty", "rust-toolchain").is_empty());
    }

    #[test]
    fn one_channel_in_toml() {
        assert_eq!(
            ok("one", "rust-toolchain.toml"),
            [(Some("1.75.0".into()), 3, None)]
        );
    }

    #[test]
    fn legacy_plain_and_legacy_toml() {
        assert_eq!(
            ok("legacy", "rust-toolchain"),
            [(Some("nightly-2024-01-01".into()), 1, None)]
        );
        assert_eq!(
            ok("legacy-toml", "rust-toolchain"),
            [(Some("stable".into()), 2, None)]
        );
    }

    #[test]
    fn path_toolchains_and_component_only_files() {
        assert_eq!(
            ok("path", "rust-toolchain.toml"),
            [(None, 2, Some(SkipReason::Path))]
        );
        assert!(ok("components-only", "rust-toolchain.toml").is_empty());
    }

    #[test]
    fn malformed_toml_is_an_error_with_a_line() {
        let err = extract("malformed", "rust-toolchain.toml");
        assert!(
            matches!(err, Err(ExtractError::Toml { line: Some(2), .. })),
            "{err:?}"
        );
    }
}
