//! `Cargo.lock`: every package Cargo resolved, with its exact version.
//!
//! Versions 1, 3 and 4 of the format share the `[[package]]` array; version 1 adds a
//! `[metadata]` table of checksums (ignored) and, in its oldest form, a `[root]` table for the
//! root package. A lockfile does not say which packages are direct; ecowatch infers it: packages
//! without a `source` are the workspace's own (members and path dependencies), so the packages
//! they list under `dependencies` are direct. Dev-only dependencies cannot be told apart here.

use super::document::{self, string};
use crate::extract::util::LineIndex;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Dependency, Ecosystem, SkipReason};
use std::collections::BTreeSet;
use toml::de::{DeTable, DeValue};

pub struct CargoLock;

/// The crates.io index as lockfiles spell it: git index (all versions) and sparse index (1.68+).
const CRATES_IO_SOURCES: &[&str] = &[
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

impl Extractor for CargoLock {
    fn id(&self) -> &'static str {
        "cargo/cargo-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "Cargo.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let doc = document::parse(file.text)?;
        let doc = doc.get_ref();
        let index = LineIndex::new(file.text);
        let packages = lock_entries(doc, &index)?;
        let direct = direct_names(&packages);

        let mut out = Extracted::default();
        for (package, line) in packages {
            let Some(name) = string(package, "name") else {
                out.diagnostics.push(file.warning(
                    "lock-entry-without-name",
                    "a [[package]] entry has no `name`; it is not reported",
                    Some(line),
                ));
                continue;
            };
            let mut dep = file
                .dep(Ecosystem::CratesIo, name, line)
                .direct(direct.contains(name));
            match string(package, "version") {
                Some(version) => dep = dep.locked(version),
                None => {
                    dep = dep.skip(SkipReason::Unsupported, "locked without a version");
                    out.dependencies.push(dep);
                    continue;
                }
            }
            out.dependencies
                .push(classify_source(dep, string(package, "source")));
        }
        Ok(out)
    }
}

/// The `[[package]]` tables (and a v1 `[root]` table) with the line of their header.
fn lock_entries<'a, 'i>(
    doc: &'a DeTable<'i>,
    index: &LineIndex,
) -> Result<Vec<(&'a DeTable<'i>, u32)>, ExtractError> {
    let mut entries = Vec::new();
    if let Some((key, root)) = doc.get_key_value("root")
        && let Some(root) = root.get_ref().as_table()
    {
        entries.push((root, index.line_of(key.span().start)));
    }
    let Some(packages) = doc.get("package") else {
        return Ok(entries);
    };
    let Some(packages) = packages.get_ref().as_array() else {
        return Err(ExtractError::Syntax {
            line: index.line_of(packages.span().start),
            message: "`package` is not an array of [[package]] tables".to_string(),
        });
    };
    for package in packages.iter() {
        match package.get_ref() {
            DeValue::Table(t) => entries.push((t, index.line_of(package.span().start))),
            other => {
                return Err(ExtractError::Syntax {
                    line: index.line_of(package.span().start),
                    message: format!("a [[package]] entry is a {}", other.type_str()),
                });
            }
        }
    }
    Ok(entries)
}

/// Names the workspace's own packages (those without `source`) depend on. Dependency strings
/// are `name`, `name version` or `name version (source)`; the name is the first word.
fn direct_names<'a>(packages: &[(&'a DeTable<'_>, u32)]) -> BTreeSet<&'a str> {
    packages
        .iter()
        .filter(|(package, _)| !package.contains_key("source"))
        .filter_map(|(package, _)| package.get("dependencies")?.get_ref().as_array())
        .flat_map(|deps| deps.iter())
        .filter_map(|dep| dep.get_ref().as_str()?.split_whitespace().next())
        .collect()
}

/// Labels a locked package by where it came from; only crates.io packages stay unskipped.
fn classify_source(dep: Dependency, source: Option<&str>) -> Dependency {
    let Some(source) = source else {
        return dep.skip(
            SkipReason::Path,
            "no source: a workspace member or a path dependency",
        );
    };
    if CRATES_IO_SOURCES.contains(&source) {
        return dep;
    }
    if let Some(git) = source.strip_prefix("git+") {
        dep.skip(SkipReason::Git, git)
    } else if let Some(path) = source.strip_prefix("path+") {
        dep.skip(SkipReason::Path, path)
    } else if source.starts_with("registry+") || source.starts_with("sparse+") {
        dep.skip(
            SkipReason::Unsupported,
            format!("from the alternative registry {source}"),
        )
    } else {
        dep.skip(SkipReason::Unsupported, format!("unknown source {source}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::PathBuf;

    fn run(case: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/cargo/cargo-lock")
            .join(case);
        extract_at(&CargoLock, &root, "Cargo.lock")
    }

    fn find<'a>(out: &'a Extracted, name: &str) -> &'a Dependency {
        out.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no entry for {name}: {:#?}", out.dependencies))
    }

    fn skip_reason(dep: &Dependency) -> Option<SkipReason> {
        dep.skipped.as_ref().map(|s| s.reason)
    }

    #[test]
    fn wants_only_the_lockfile_name() {
        assert!(CargoLock.wants("Cargo.lock", "Cargo.lock"));
        assert!(CargoLock.wants("fuzz/Cargo.lock", "Cargo.lock"));
        assert!(!CargoLock.wants("Cargo.lock.bak", "Cargo.lock.bak"));
        assert!(!CargoLock.wants("cargo.lock", "cargo.lock"));
        assert!(!CargoLock.wants("Cargo.toml", "Cargo.toml"));
    }

    #[test]
    fn empty_lockfile_locks_nothing() {
        let out = run("empty").expect("parses");
        assert!(out.dependencies.is_empty());
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn one_package_v4_lock() {
        let out = run("one-package").expect("parses");
        assert_eq!(out.dependencies.len(), 3);

        let itoa = find(&out, "itoa");
        assert_eq!(itoa.version.as_deref(), Some("1.0.11"));
        assert_eq!(itoa.requirement, None);
        assert!(itoa.direct, "the root package depends on it");
        assert!(itoa.skipped.is_none());
        assert_eq!(itoa.source.line, 5, "the [[package]] header");

        let own = find(&out, "tiny");
        assert_eq!(own.version.as_deref(), Some("0.1.0"));
        assert_eq!(skip_reason(own), Some(SkipReason::Path));
        assert!(!own.direct);

        let transitive = find(&out, "ryu");
        assert!(!transitive.direct);
        assert_eq!(transitive.source.line, 11);
        assert!(!transitive.dev, "a lockfile cannot tell dev dependencies");
    }

    #[test]
    fn v1_lock_with_metadata_checksums_and_root() {
        let out = run("v1-metadata").expect("parses");
        let root = find(&out, "legacy-app");
        assert_eq!(root.source.line, 1, "the [root] header");
        assert_eq!(skip_reason(root), Some(SkipReason::Path));

        let libc = find(&out, "libc");
        assert_eq!(libc.version.as_deref(), Some("0.2.43"));
        assert!(
            libc.direct,
            "v1 dependency strings carry version and source"
        );
        assert!(libc.skipped.is_none());

        let bitflags = find(&out, "bitflags");
        assert!(!bitflags.direct);
        assert_eq!(out.dependencies.len(), 4);
    }

    #[test]
    fn workspace_lock_with_git_path_and_other_registry() {
        let out = run("workspace").expect("parses");

        let members: Vec<&str> = out
            .dependencies
            .iter()
            .filter(|d| skip_reason(d) == Some(SkipReason::Path))
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(members, ["app", "app-core"]);
        assert!(find(&out, "app-core").direct, "a member used by a member");

        let ring = find(&out, "ring");
        assert_eq!(ring.version.as_deref(), Some("0.17.8"));
        assert_eq!(
            ring.skipped.as_ref().map(|s| (s.reason, s.detail.as_str())),
            Some((
                SkipReason::Git,
                "https://github.com/briansmith/ring?tag=0.17.8#fa98b490bcbc99a01ff150896ec74c1813242d7f"
            ))
        );
        assert!(ring.direct);

        let sparse = find(&out, "serde");
        assert!(
            sparse.skipped.is_none(),
            "sparse crates.io index is crates.io"
        );
        assert!(sparse.direct);

        let private = find(&out, "acme-auth");
        assert_eq!(skip_reason(private), Some(SkipReason::Unsupported));
        assert_eq!(private.version.as_deref(), Some("2.1.0"));

        // Two versions of one crate are two entries, each on its own header line.
        let syn: Vec<(Option<&str>, u32)> = out
            .dependencies
            .iter()
            .filter(|d| d.name == "syn")
            .map(|d| (d.version.as_deref(), d.source.line))
            .collect();
        assert_eq!(syn, [(Some("1.0.109"), 43), (Some("2.0.66"), 52)]);
    }

    #[test]
    fn entry_without_a_name_is_a_diagnostic_not_a_crash() {
        let out = run("nameless-entry").expect("parses");
        assert_eq!(out.dependencies.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].line, Some(3));
    }

    #[test]
    fn malformed_lock_is_an_error_with_its_line() {
        let err = run("malformed").expect_err("truncated TOML");
        assert!(matches!(err, ExtractError::Toml { .. }), "{err:?}");
        assert_eq!(err.line(), Some(9));
    }

    #[test]
    fn package_key_of_the_wrong_shape_is_an_error() {
        let repo = crate::repo::Repo::open(std::path::Path::new("."), 1024).expect("cwd");
        let file = ManifestFile {
            path: "Cargo.lock",
            text: "version = 3\npackage = \"oops\"\n",
            repo: &repo,
        };
        let err = CargoLock.extract(&file).expect_err("wrong shape");
        assert_eq!(err.line(), Some(2));
    }
}
