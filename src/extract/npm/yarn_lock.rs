//! `yarn.lock`, both generations: classic (v1, yarn's own text format) and berry (v2+, YAML
//! with a `__metadata` entry). Berry is told apart by that entry.

use super::package_json::declared_names;
use super::spec::{Spec, classify, split_name_at};
use super::{yarn_berry, yarn_classic};
use crate::extract::util::parse_json;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Ecosystem, SkipReason};
use serde_json::Value;
use std::collections::HashSet;

pub struct YarnLock;

impl Extractor for YarnLock {
    fn id(&self) -> &'static str {
        "npm/yarn-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "yarn.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        if file.text.lines().any(|l| l.starts_with("__metadata:")) {
            yarn_berry::extract(file)
        } else {
            extract_classic(file)
        }
    }
}

/// Classic entries. The lockfile does not say which packages are direct; the sibling
/// package.json does, by the exact `name@range` patterns it declares.
fn extract_classic(file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
    let entries = yarn_classic::parse(file.text)?;
    let manifest: Option<Value> = file
        .read_related("package.json")
        .ok()
        .and_then(|(_, text)| parse_json(&text).ok());
    let declared: HashSet<String> = manifest
        .as_ref()
        .map(|m| {
            declared_names(m)
                .into_iter()
                .map(|(name, spec)| format!("{name}@{spec}"))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Extracted::default();
    for entry in entries {
        let Some((installed_as, range)) = entry.patterns.first().and_then(|p| split_name_at(p))
        else {
            out.diagnostics.push(file.warning(
                "yarn-pattern-unreadable",
                format!("cannot read the entry `{}`", entry.patterns.join(", ")),
                Some(entry.line),
            ));
            continue;
        };
        let direct = entry.patterns.iter().any(|p| declared.contains(p));
        let (name, skip) = match classify(range) {
            Spec::Registry(_) => (installed_as, None),
            Spec::Alias { name, .. } => (name, None),
            Spec::Unresolvable(reason) => (installed_as, Some((reason, range))),
        };
        let mut dep = file.dep(Ecosystem::Npm, name, entry.line).direct(direct);
        if let Some(version) = &entry.version {
            dep = dep.locked(version.as_str());
        }
        let skip = skip.or_else(|| {
            let resolved = entry.resolved.as_deref()?;
            resolved_reason(resolved).map(|reason| (reason, resolved))
        });
        if let Some((reason, detail)) = skip {
            dep = dep.skip(reason, detail);
        }
        out.dependencies.push(dep);
    }
    Ok(out)
}

/// A classic `resolved` URL that is not a registry tarball (`…/name/-/name-1.0.0.tgz`).
fn resolved_reason(resolved: &str) -> Option<SkipReason> {
    if resolved.contains("codeload.github.com/") {
        return Some(SkipReason::Git);
    }
    if resolved.starts_with("http://") || resolved.starts_with("https://") {
        return (!resolved.contains("/-/")).then_some(SkipReason::Url);
    }
    match classify(resolved) {
        Spec::Unresolvable(reason) => Some(reason),
        Spec::Registry(_) | Spec::Alias { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dependency;
    use crate::extract::extract_at;
    use std::path::Path;

    fn fixture(case: &str) -> Result<Extracted, ExtractError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/npm/yarn-lock")
            .join(case);
        extract_at(&YarnLock, &root, "yarn.lock")
    }

    fn lock(case: &str) -> Extracted {
        match fixture(case) {
            Ok(out) => out,
            Err(e) => panic!("{case}: {e}"),
        }
    }

    /// (name, version, line, direct, skip reason)
    type Row = (String, Option<String>, u32, bool, Option<SkipReason>);

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
                    reason,
                )
            })
            .collect();
        rows.sort();
        rows
    }

    fn row(
        name: &str,
        version: Option<&str>,
        line: u32,
        direct: bool,
        skip: Option<SkipReason>,
    ) -> Row {
        (name.into(), version.map(String::from), line, direct, skip)
    }

    #[test]
    fn wants_only_yarn_lock() {
        assert!(YarnLock.wants("web/yarn.lock", "yarn.lock"));
        assert!(!YarnLock.wants("yarn.lock.bak", "yarn.lock.bak"));
        assert!(!YarnLock.wants("old-yarn.lock", "old-yarn.lock"));
        assert!(!YarnLock.wants(".yarnrc.yml", ".yarnrc.yml"));
    }

    #[test]
    fn empty_lockfiles_lock_nothing() {
        assert!(lock("classic-empty").dependencies.is_empty());
        let berry = lock("berry-empty");
        assert_eq!(
            summary(&berry.dependencies),
            [row(
                "empty-app",
                None,
                8,
                false,
                Some(SkipReason::Workspace)
            )]
        );
    }

    #[test]
    fn classic_entries_with_lines_and_direct_from_the_manifest() {
        let out = lock("classic-one-package");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("@babel/code-frame", Some("7.22.13"), 5, true, None),
                row("@babel/highlight", Some("7.22.20"), 13, false, None),
                row("chalk", Some("2.4.2"), 18, false, None),
            ]
        );
        assert!(out.dependencies.iter().all(|d| !d.dev && !d.optional));
    }

    #[test]
    fn classic_git_path_url_and_alias_entries() {
        let out = lock("classic-sources");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("from-git", Some("1.2.0"), 5, false, Some(SkipReason::Git)),
                row(
                    "from-github",
                    Some("2.0.0"),
                    9,
                    false,
                    Some(SkipReason::Git)
                ),
                row("local", Some("0.1.0"), 13, false, Some(SkipReason::Path)),
                row("string-width", Some("4.2.3"), 16, false, None),
                row("tarball", Some("1.0.0"), 21, false, Some(SkipReason::Url)),
            ]
        );
        let git = out.dependencies.iter().find(|d| d.name == "from-git");
        let detail = git
            .and_then(|d| d.skipped.as_ref())
            .map(|s| s.detail.as_str());
        assert_eq!(
            detail,
            Some("git+https://github.com/acme/from-git.git#v1.2.0")
        );
    }

    #[test]
    fn berry_workspaces_patches_and_aliases() {
        let out = lock("berry-monorepo");
        let ws = Some(SkipReason::Workspace);
        assert_eq!(
            summary(&out.dependencies),
            [
                row("@acme/app", None, 8, false, ws),
                row("@acme/ui", None, 19, true, ws),
                row("js-tokens", Some("4.0.0"), 25, false, None),
                row("loose-envify", Some("1.4.0"), 32, false, None),
                row("monorepo", None, 43, false, ws),
                row("react", Some("18.2.0"), 49, true, None),
                row("resolve", Some("1.22.8"), 58, true, None),
                row("resolve", Some("1.22.8"), 65, false, None),
                row("string-width", Some("4.2.3"), 72, false, None),
                row("string-width", Some("4.2.3"), 79, true, None),
            ]
        );
        let app = &out.dependencies[0];
        assert_eq!(
            app.skipped.as_ref().map(|s| s.detail.as_str()),
            Some("packages/app")
        );
    }

    #[test]
    fn berry_git_path_and_url_sources() {
        let out = lock("berry-sources");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("from-git", Some("1.2.0"), 8, true, Some(SkipReason::Git)),
                row("local", Some("0.1.0"), 15, true, Some(SkipReason::Path)),
                row(
                    "portal-pkg",
                    Some("0.0.0-use.local"),
                    22,
                    true,
                    Some(SkipReason::Path)
                ),
                row("sources", None, 28, false, Some(SkipReason::Workspace)),
                row("tarball", Some("1.0.0"), 39, true, Some(SkipReason::Url)),
            ]
        );
    }

    #[test]
    fn truncated_lockfiles_are_errors() {
        let err = fixture("classic-malformed").unwrap_err();
        assert!(
            matches!(err, ExtractError::Syntax { line: 13, .. }),
            "{err}"
        );
        let err = fixture("berry-malformed").unwrap_err();
        assert!(matches!(err, ExtractError::Yaml { .. }), "{err}");
    }
}
