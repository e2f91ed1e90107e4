//! `bun.lock`, bun's text lockfile (JSON with trailing commas). Each `packages` value is an
//! array whose first item is the resolved `name@version` (or `name@github:…`, `name@file:…`);
//! the key is the install path (`parent/child` for a nested copy). The binary `bun.lockb` is
//! not read.

use super::json_lines::{KeyLines, blank_trailing_commas};
use super::spec::{Spec, classify, is_plain_version, split_name_at};
use crate::extract::util::parse_json;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Ecosystem, SkipReason};
use serde_json::Value;
use std::collections::HashSet;

pub struct BunLock;

impl Extractor for BunLock {
    fn id(&self) -> &'static str {
        "npm/bun-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "bun.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let text = blank_trailing_commas(file.text);
        let doc: Value = parse_json(&text)?;
        if doc.get("lockfileVersion").and_then(Value::as_u64).is_none() {
            return Err(ExtractError::Invalid(
                "no numeric `lockfileVersion`: not a bun lockfile".into(),
            ));
        }
        let keys = KeyLines::scan_to_depth(&text, 2);
        let section = keys.child(KeyLines::ROOT, "packages");
        let (prod, dev) = workspace_declarations(&doc);
        let mut out = Extracted::default();
        let Some(packages) = doc.get("packages").and_then(Value::as_object) else {
            return Ok(out);
        };
        for (key, entry) in packages {
            let line = keys.line_in(section, key);
            let Some(ident) = entry.get(0).and_then(Value::as_str) else {
                out.diagnostics.push(file.warning(
                    "bun-entry-unreadable",
                    format!("`packages.{key}` does not start with `name@version`; entry not read"),
                    Some(line),
                ));
                continue;
            };
            let (name, resolved) = split_name_at(ident).unwrap_or((ident, ""));
            // A top-level key is the name the package is installed as, which workspaces declare.
            let direct = prod.contains(key.as_str()) || dev.contains(key.as_str());
            let only_dev = !prod.contains(key.as_str()) && dev.contains(key.as_str());
            let dep = file
                .dep(Ecosystem::Npm, name, line)
                .direct(direct)
                .dev(only_dev);
            let dep = if is_plain_version(resolved) {
                dep.locked(resolved)
            } else {
                match classify(resolved) {
                    Spec::Unresolvable(reason) => dep.skip(reason, resolved),
                    Spec::Registry(_) | Spec::Alias { .. } => {
                        dep.skip(SkipReason::Unsupported, format!("resolved as `{ident}`"))
                    }
                }
            };
            out.dependencies.push(dep);
        }
        Ok(out)
    }
}

/// Names the workspaces declare outside `devDependencies`, and in it.
fn workspace_declarations(doc: &Value) -> (HashSet<&str>, HashSet<&str>) {
    let mut prod = HashSet::new();
    let mut dev = HashSet::new();
    let Some(workspaces) = doc.get("workspaces").and_then(Value::as_object) else {
        return (prod, dev);
    };
    for workspace in workspaces.values() {
        for section in [
            "dependencies",
            "optionalDependencies",
            "peerDependencies",
            "devDependencies",
        ] {
            let set = if section == "devDependencies" {
                &mut dev
            } else {
                &mut prod
            };
            if let Some(deps) = workspace.get(section).and_then(Value::as_object) {
                set.extend(deps.keys().map(String::as_str));
            }
        }
    }
    (prod, dev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dependency;
    use crate::extract::extract_at;
    use std::path::Path;

    fn fixture(case: &str) -> Result<Extracted, ExtractError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/npm/bun-lock")
            .join(case);
        extract_at(&BunLock, &root, "bun.lock")
    }

    fn lock(case: &str) -> Extracted {
        match fixture(case) {
            Ok(out) => out,
            Err(e) => panic!("{case}: {e}"),
        }
    }

    /// (name, version, line, direct, dev, skip reason)
    type Row = (String, Option<String>, u32, bool, bool, Option<SkipReason>);

    fn summary(deps: &[Dependency]) -> Vec<Row> {
        let mut rows: Vec<Row> = deps
            .iter()
            .map(|d| {
                let reason = d.skipped.as_ref().map(|s| s.reason);
                (
                    d.name.clone(),
                    d.version.clone(),
                    d.source.line,
                    d.direct,
                    d.dev,
                    reason,
                )
            })
            .collect();
        rows.sort();
        rows
    }

    fn row(name: &str, version: Option<&str>, line: u32, direct: bool, dev: bool) -> Row {
        (
            name.into(),
            version.map(String::from),
            line,
            direct,
            dev,
            None,
        )
    }

    #[test]
    fn wants_the_text_lockfile_only() {
        assert!(BunLock.wants("bun.lock", "bun.lock"));
        assert!(!BunLock.wants("bun.lockb", "bun.lockb"));
        assert!(!BunLock.wants("bun.lock.bak", "bun.lock.bak"));
    }

    #[test]
    fn empty_lockfile_locks_nothing() {
        assert!(lock("empty").dependencies.is_empty());
    }

    #[test]
    fn packages_with_lines_direct_and_dev() {
        let out = lock("workspace");
        let skipped = |name: &str, reason: SkipReason, line: u32| {
            let mut r = row(name, None, line, true, false);
            r.5 = Some(reason);
            r
        };
        let expected = [
            skipped("@acme/ui", SkipReason::Workspace, 38),
            skipped("from-git", SkipReason::Git, 40),
            row("js-tokens", Some("4.0.0"), 42, false, false),
            row("js-tokens", Some("3.0.2"), 56, false, false),
            skipped("local", SkipReason::Path, 44),
            row("loose-envify", Some("1.4.0"), 46, false, false),
            row("react", Some("18.2.0"), 48, true, false),
            row("string-width", Some("4.2.3"), 50, true, true),
            skipped("tarball", SkipReason::Url, 52),
            row("typescript", Some("5.4.5"), 54, true, true),
        ];
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(summary(&out.dependencies), expected);
    }

    #[test]
    fn malformed_and_foreign_files_are_errors() {
        let err = fixture("malformed").unwrap_err();
        assert!(matches!(err, ExtractError::Json { .. }), "{err}");
        let err = fixture("no-version").unwrap_err();
        assert!(matches!(err, ExtractError::Invalid(_)), "{err}");
    }
}
