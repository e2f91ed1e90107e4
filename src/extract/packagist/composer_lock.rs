//! `composer.lock`: every package Composer installed, with its exact version.
//!
//! `packages` and `packages-dev` (dev) are read; versions stay as written (`v6.4.8`,
//! `dev-main`). A branch checked out from git is labelled a git dependency, a package installed
//! from a path repository a path dependency. The lockfile does not say which packages the
//! project requires itself, so the sibling `composer.json` is read for that; without it no
//! package is marked direct. `platform` (and `platform-dev`) hold the PHP and extension
//! requirements of the root package.

use super::declared::{declared, requirement_map};
use super::locate::{find_key, find_value};
use crate::extract::util::{LineIndex, parse_json};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::repo::ReadError;
use crate::{Dependency, Diagnostic, Ecosystem, SkipReason};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

pub struct ComposerLock;

impl Extractor for ComposerLock {
    fn id(&self) -> &'static str {
        "packagist/composer-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "composer.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let root: Value = parse_json(file.text)?;
        let Some(root) = root.as_object() else {
            return Err(ExtractError::Invalid(
                "composer.lock is not a JSON object".to_string(),
            ));
        };
        let index = LineIndex::new(file.text);
        let mut out = Extracted::default();
        let direct = required_by_manifest(file, &mut out.diagnostics);

        let mut cursor = 0;
        for (section, dev) in [("packages", false), ("packages-dev", true)] {
            let Some(packages) = root.get(section) else {
                continue;
            };
            let section_at = find_key(file.text, section, cursor).unwrap_or(cursor);
            let Some(packages) = packages.as_array() else {
                return Err(ExtractError::Syntax {
                    line: index.line_of(section_at),
                    message: format!("`{section}` is not an array"),
                });
            };
            cursor = section_at;
            for package in packages {
                let name = package.get("name").and_then(Value::as_str);
                let Some(name) = name.filter(|n| !n.is_empty()) else {
                    out.diagnostics.push(file.warning(
                        "lock-entry-without-name",
                        format!("an entry of `{section}` has no `name`; it is not reported"),
                        Some(index.line_of(cursor)),
                    ));
                    continue;
                };
                let at = find_value(file.text, "name", name, cursor)
                    .or_else(|| find_value(file.text, "name", name, 0))
                    .unwrap_or(section_at);
                cursor = cursor.max(at + 1);
                let dep = file
                    .dep(Ecosystem::Packagist, name, index.line_of(at))
                    .dev(dev);
                let is_direct = direct.contains(&dep.name);
                out.dependencies
                    .push(locked(dep.direct(is_direct), package));
            }
        }

        for (section, dev) in [("platform", false), ("platform-dev", true)] {
            let Some(value) = root.get(section) else {
                continue;
            };
            let section_at = find_key(file.text, section, 0).unwrap_or(0);
            let Some(entries) = requirement_map(value) else {
                out.diagnostics.push(file.warning(
                    "unexpected-shape",
                    format!("`{section}` is not an object of constraints"),
                    Some(index.line_of(section_at)),
                ));
                continue;
            };
            for (name, constraint) in entries {
                let at = find_key(file.text, name, section_at).unwrap_or(section_at);
                out.dependencies
                    .push(declared(file, name, constraint, index.line_of(at), dev));
            }
        }
        out.dependencies.sort_by_key(|d| d.source.line);
        Ok(out)
    }
}

/// Sets the locked version and labels packages that no registry release stands for.
fn locked(dep: Dependency, package: &Value) -> Dependency {
    let Some(version) = package.get("version").and_then(Value::as_str) else {
        return dep.skip(SkipReason::Unsupported, "locked without a version");
    };
    let dep = dep.locked(version);
    let field = |object: &str, key: &str| {
        package
            .get(object)
            .and_then(|o| o.get(key))
            .and_then(Value::as_str)
    };
    if field("dist", "type") == Some("path") {
        let url = field("dist", "url").unwrap_or("(no url)");
        return dep.skip(SkipReason::Path, url);
    }
    if version.starts_with("dev-") && field("source", "type") == Some("git") {
        let url = field("source", "url").unwrap_or("(no url)");
        let detail = match field("source", "reference") {
            Some(reference) => format!("{url} ({reference})"),
            None => url.to_string(),
        };
        return dep.skip(SkipReason::Git, detail);
    }
    dep
}

/// Lower-cased names in the sibling composer.json's `require` and `require-dev`. An absent
/// manifest means nothing is known to be direct; an unreadable one is also reported.
fn required_by_manifest(
    file: &ManifestFile<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeSet<String> {
    let text = match file.read_related("composer.json") {
        Ok((_, text)) => text,
        Err(ReadError::Unresolvable(_) | ReadError::OutsideRoot) => return BTreeSet::new(),
        Err(e) => {
            diagnostics.push(file.warning(
                "sibling-manifest-unreadable",
                format!("composer.json next to this lockfile cannot be read ({e}); no package is marked direct"),
                None,
            ));
            return BTreeSet::new();
        }
    };
    let manifest: Value = match parse_json(&text) {
        Ok(manifest) => manifest,
        Err(e) => {
            diagnostics.push(file.warning(
                "sibling-manifest-unreadable",
                format!("composer.json next to this lockfile is invalid ({e}); no package is marked direct"),
                None,
            ));
            return BTreeSet::new();
        }
    };
    ["require", "require-dev"]
        .iter()
        .filter_map(|section| manifest.get(section).and_then(Value::as_object))
        .flat_map(Map::keys)
        .map(|name| Ecosystem::Packagist.normalize_name(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::PathBuf;

    fn run(case: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/packagist/composer-lock")
            .join(case);
        extract_at(&ComposerLock, &root, "composer.lock")
    }

    fn find<'a>(out: &'a Extracted, name: &str) -> &'a Dependency {
        out.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no entry for {name}: {:#?}", out.dependencies))
    }

    fn skip(dep: &Dependency) -> Option<(SkipReason, &str)> {
        dep.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()))
    }

    #[test]
    fn wants_only_composer_lock() {
        assert!(ComposerLock.wants("composer.lock", "composer.lock"));
        assert!(ComposerLock.wants("app/composer.lock", "composer.lock"));
        assert!(!ComposerLock.wants("composer.json", "composer.json"));
        assert!(!ComposerLock.wants("composer.lock.bak", "composer.lock.bak"));
        assert!(!ComposerLock.wants("mycomposer.lock", "mycomposer.lock"));
    }

    #[test]
    fn empty_lock_without_manifest() {
        let out = run("empty").expect("parses");
        assert!(out.dependencies.is_empty(), "{:#?}", out.dependencies);
        assert!(
            out.diagnostics.is_empty(),
            "no composer.json is not a problem"
        );
    }

    #[test]
    fn one_package_marks_the_required_one_direct() {
        let out = run("one-package").expect("parses");
        let names: Vec<&str> = out.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["monolog/monolog", "psr/log", "php", "ext-json"]);

        let monolog = find(&out, "monolog/monolog");
        assert_eq!(monolog.version.as_deref(), Some("3.6.0"));
        assert!(monolog.direct && !monolog.dev);
        assert_eq!(
            monolog.requirement, None,
            "the manifest speaks for its requirement"
        );
        assert_eq!(monolog.source.line, 10);
        assert!(monolog.skipped.is_none());

        let psr = find(&out, "psr/log");
        assert!(!psr.direct);
        assert_eq!(
            psr.source.line, 38,
            "not the `psr/log` key in monolog's require"
        );
        assert_eq!(psr.version.as_deref(), Some("3.0.0"));

        let php = find(&out, "php");
        assert_eq!(php.ecosystem, Ecosystem::Php);
        assert_eq!(php.requirement.as_deref(), Some(">=8.1"));
        assert_eq!(php.source.line, 69);
        assert_eq!(
            find(&out, "ext-json").skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported)
        );
    }

    #[test]
    fn dev_packages_are_dev_and_versions_keep_their_v() {
        let out = run("dev-only").expect("parses");
        assert_eq!(out.dependencies.len(), 2);
        assert!(out.dependencies.iter().all(|d| d.dev));
        let dumper = find(&out, "symfony/var-dumper");
        assert_eq!(dumper.version.as_deref(), Some("v7.1.1"));
        assert!(dumper.direct, "required in require-dev");
        let polyfill = find(&out, "symfony/polyfill-mbstring");
        assert!(!polyfill.direct);
    }

    #[test]
    fn git_branch_and_path_packages_are_labelled() {
        let out = run("git-path-sources").expect("parses");
        let billing = find(&out, "acme/billing");
        assert_eq!(billing.version.as_deref(), Some("dev-main"));
        assert_eq!(
            skip(billing),
            Some((
                SkipReason::Git,
                "https://github.com/acme/billing.git (8f3c2a1d9e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a)"
            ))
        );
        assert!(billing.direct);

        let kernel = find(&out, "acme/shared-kernel");
        assert_eq!(
            skip(kernel),
            Some((SkipReason::Path, "packages/shared-kernel"))
        );

        let tagged = find(&out, "acme/tagged");
        assert_eq!(tagged.version.as_deref(), Some("v2.3.0"));
        assert!(
            tagged.skipped.is_none(),
            "a tagged git release has a version"
        );
    }

    #[test]
    fn broken_sibling_manifest_is_a_warning() {
        let out = run("broken-manifest").expect("the lockfile itself parses");
        assert_eq!(out.dependencies.len(), 1);
        assert!(!out.dependencies[0].direct);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].code, "sibling-manifest-unreadable");
    }

    #[test]
    fn malformed_lock_is_an_error_with_its_line() {
        let err = run("malformed").expect_err("truncated");
        assert!(matches!(err, ExtractError::Json { .. }), "{err:?}");
        assert_eq!(err.line(), Some(10), "end of input");
    }
}
