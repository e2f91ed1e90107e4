//! `package-lock.json` and `npm-shrinkwrap.json` (same format), lockfile versions 1 to 3.
//!
//! v2 carries both the v3 `packages` map and the v1 `dependencies` tree for old npm clients;
//! only `packages` is read then, so nothing is counted twice.

use super::json_lines::{KeyId, KeyLines};
use super::package_json::declared_names;
use super::spec::{Spec, classify, is_plain_version, name_from_node_modules_path, split_name_at};
use crate::extract::util::parse_json;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Dependency, Ecosystem, SkipReason};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// `package-lock.json`.
pub struct PackageLock;

/// `npm-shrinkwrap.json`: a package-lock that is published with the package.
pub struct Shrinkwrap;

impl Extractor for PackageLock {
    fn id(&self) -> &'static str {
        "npm/package-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "package-lock.json"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        extract_lock(file)
    }
}

impl Extractor for Shrinkwrap {
    fn id(&self) -> &'static str {
        "npm/shrinkwrap"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "npm-shrinkwrap.json"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        extract_lock(file)
    }
}

const NODE_MODULES: &str = "node_modules/";

fn extract_lock(file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
    let doc: Value = parse_json(file.text)?;
    let Value::Object(doc) = doc else {
        return Err(ExtractError::Invalid(
            "lockfile is not a JSON object".into(),
        ));
    };
    let mut out = Extracted::default();
    let packages = doc.get("packages").and_then(Value::as_object);
    let tree = doc.get("dependencies").and_then(Value::as_object);
    let version = doc.get("lockfileVersion").and_then(Value::as_u64);
    // `packages` entries are looked up two levels deep; only the legacy nested `dependencies`
    // tree (v1, or v2 without `packages`) needs every level.
    let keys = if packages.is_some() {
        KeyLines::scan_to_depth(file.text, 2)
    } else {
        KeyLines::scan(file.text)
    };
    match version {
        Some(1) => {
            if let Some(tree) = tree {
                read_tree(file, &keys, tree, &mut out);
            }
        }
        Some(2 | 3) => match (packages, tree) {
            (Some(packages), _) => read_packages(file, &keys, packages, &mut out),
            (None, Some(tree)) => read_tree(file, &keys, tree, &mut out),
            (None, None) => {}
        },
        Some(v) if v > 3 => {
            let Some(packages) = packages else {
                return Err(ExtractError::Invalid(format!(
                    "lockfileVersion {v} has no `packages`; ecowatch cannot read it"
                )));
            };
            out.diagnostics.push(file.warning(
                "npm-lockfile-version-unknown",
                format!("lockfileVersion {v} is newer than ecowatch knows; read as version 3"),
                keys.find(&["lockfileVersion"]).map(|id| keys.line(id)),
            ));
            read_packages(file, &keys, packages, &mut out);
        }
        Some(v) => {
            return Err(ExtractError::Invalid(format!(
                "unsupported lockfileVersion {v}"
            )));
        }
        None => {
            return Err(ExtractError::Invalid(
                "no numeric `lockfileVersion`: not an npm lockfile".into(),
            ));
        }
    }
    Ok(out)
}

/// v2/v3: the flat `packages` map keyed by install path.
fn read_packages(
    file: &ManifestFile<'_>,
    keys: &KeyLines,
    packages: &Map<String, Value>,
    out: &mut Extracted,
) {
    let section = keys.child(KeyLines::ROOT, "packages");
    // The root (`""`) and each workspace folder, with the names each declares.
    let folders: HashMap<&str, HashSet<&str>> = packages
        .iter()
        .filter(|(key, _)| !key.contains(NODE_MODULES))
        .map(|(key, entry)| {
            let names = declared_names(entry).into_iter().map(|(n, _)| n).collect();
            (key.as_str(), names)
        })
        .collect();
    for (key, entry) in packages {
        if key.is_empty() {
            continue;
        }
        let line = keys.line_in(section, key);
        let Value::Object(entry) = entry else {
            out.diagnostics.push(file.warning(
                "npm-lock-entry-not-object",
                format!("`packages.{key}` is not an object; entry not read"),
                Some(line),
            ));
            continue;
        };
        let text = |field: &str| entry.get(field).and_then(Value::as_str);
        let flag = |field: &str| entry.get(field).and_then(Value::as_bool) == Some(true);
        let dep_optional = flag("optional") || flag("devOptional");
        let dep_dev = flag("dev") || flag("devOptional");
        let Some(installed_as) = name_from_node_modules_path(key) else {
            // A folder: a workspace of this repository, or a `file:` target outside it.
            let name = text("name").unwrap_or_else(|| key.rsplit('/').next().unwrap_or(key));
            let mut dep = file
                .dep(Ecosystem::Npm, name, line)
                .skip(folder_reason(key), key.as_str());
            if let Some(v) = text("version") {
                dep = dep.locked(v);
            }
            out.dependencies
                .push(dep.dev(dep_dev).optional(dep_optional));
            continue;
        };
        let owner =
            key[..key.len() - installed_as.len() - NODE_MODULES.len()].trim_end_matches('/');
        // Hoisted to the root: direct when the root or any workspace declares it.
        let direct = if owner.is_empty() {
            folders.values().any(|names| names.contains(installed_as))
        } else {
            folders
                .get(owner)
                .is_some_and(|names| names.contains(installed_as))
        };
        let dep = if flag("link") {
            let target = text("resolved").unwrap_or("");
            let version = packages
                .get(target)
                .and_then(|t| t.get("version"))
                .and_then(Value::as_str);
            let reason = folder_reason(target);
            let dep = file
                .dep(Ecosystem::Npm, installed_as, line)
                .skip(reason, target);
            match version {
                Some(v) => dep.locked(v),
                None => dep,
            }
        } else {
            let name = text("name").unwrap_or(installed_as);
            locked_entry(file, name, text("version"), text("resolved"), line)
        };
        out.dependencies
            .push(dep.direct(direct).dev(dep_dev).optional(dep_optional));
    }
}

/// A folder inside the repository is a workspace; one outside it (`../x`) a local path.
fn folder_reason(folder: &str) -> SkipReason {
    if folder.starts_with("../") || folder.starts_with('/') || folder.is_empty() {
        SkipReason::Path
    } else {
        SkipReason::Workspace
    }
}

/// v1: the nested `dependencies` tree keyed by package name. Which entries are direct is not
/// in the file; the sibling package.json says, when there is one.
fn read_tree(
    file: &ManifestFile<'_>,
    keys: &KeyLines,
    tree: &Map<String, Value>,
    out: &mut Extracted,
) {
    let manifest: Option<Value> = file
        .read_related("package.json")
        .ok()
        .and_then(|(_, text)| parse_json(&text).ok());
    let declared: HashSet<&str> = manifest
        .as_ref()
        .map(|m| declared_names(m).into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default();
    // Explicit stack: (entries, the key id of their `dependencies` object, top level?).
    let mut pending: Vec<(&Map<String, Value>, Option<KeyId>, bool)> =
        vec![(tree, keys.child(KeyLines::ROOT, "dependencies"), true)];
    while let Some((entries, section, top)) = pending.pop() {
        for (installed_as, entry) in entries {
            let line = keys.line_in(section, installed_as);
            let Value::Object(entry) = entry else {
                out.diagnostics.push(file.warning(
                    "npm-lock-entry-not-object",
                    format!("`{installed_as}` is not an object; entry not read"),
                    Some(line),
                ));
                continue;
            };
            let text = |field: &str| entry.get(field).and_then(Value::as_str);
            let flag = |field: &str| entry.get(field).and_then(Value::as_bool) == Some(true);
            let dep = locked_entry(file, installed_as, text("version"), text("resolved"), line)
                .direct(top && declared.contains(installed_as.as_str()))
                .dev(flag("dev"))
                .optional(flag("optional"));
            out.dependencies.push(dep);
            if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
                let entry_id = section.and_then(|s| keys.child(s, installed_as));
                let nested_id = entry_id.and_then(|id| keys.child(id, "dependencies"));
                pending.push((nested, nested_id, false));
            }
        }
    }
}

/// One locked package. `version` is the installed version in v2/v3, and in v1 may instead be
/// the spec it came from (`git+…#sha`, `file:…`, a tarball URL, `npm:real@1.0.0`).
fn locked_entry(
    file: &ManifestFile<'_>,
    name: &str,
    version: Option<&str>,
    resolved: Option<&str>,
    line: u32,
) -> Dependency {
    let Some(version) = version else {
        let dep = file.dep(Ecosystem::Npm, name, line);
        return match resolved.and_then(resolved_source) {
            Some(reason) => dep.skip(reason, resolved.unwrap_or_default()),
            None => dep.skip(SkipReason::Unsupported, "no version in the lockfile"),
        };
    };
    if let Some(aliased) = version.strip_prefix("npm:")
        && let Some((real, real_version)) = split_name_at(aliased)
    {
        return locked_entry(file, real, Some(real_version), resolved, line);
    }
    let dep = file.dep(Ecosystem::Npm, name, line);
    if !is_plain_version(version) {
        return match classify(version) {
            Spec::Unresolvable(reason) => dep.skip(reason, version),
            Spec::Registry(_) | Spec::Alias { .. } => {
                dep.skip(SkipReason::Unsupported, format!("version `{version}`"))
            }
        };
    }
    let dep = dep.locked(version);
    match resolved.and_then(resolved_source) {
        Some(reason) => dep.skip(reason, resolved.unwrap_or_default()),
        None => dep,
    }
}

/// Where a `resolved` value fetches from, when that is not the registry. Registry tarballs
/// have the `/<name>/-/<name>-<version>.tgz` shape, whatever the registry host.
fn resolved_source(resolved: &str) -> Option<SkipReason> {
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
    use crate::extract::extract_at;
    use std::path::Path;

    fn fixture(case: &str, file_name: &str) -> Result<Extracted, ExtractError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/npm/package-lock")
            .join(case);
        let extractor: &dyn Extractor = if file_name == "npm-shrinkwrap.json" {
            &Shrinkwrap
        } else {
            &PackageLock
        };
        extract_at(extractor, &root, file_name)
    }

    fn lock(case: &str) -> Extracted {
        match fixture(case, "package-lock.json") {
            Ok(out) => out,
            Err(e) => panic!("{case}: {e}"),
        }
    }

    fn find<'a>(deps: &'a [Dependency], name: &str, line: u32) -> &'a Dependency {
        deps.iter()
            .find(|d| d.name == name && d.source.line == line)
            .unwrap_or_else(|| panic!("{name} at line {line} missing from {deps:#?}"))
    }

    fn summary(deps: &[Dependency]) -> Vec<(String, Option<String>, u32, bool, bool, bool)> {
        let mut rows: Vec<_> = deps
            .iter()
            .map(|d| {
                let flags = (d.direct, d.dev, d.optional);
                (
                    d.name.clone(),
                    d.version.clone(),
                    d.source.line,
                    flags.0,
                    flags.1,
                    flags.2,
                )
            })
            .collect();
        rows.sort();
        rows
    }

    fn row(
        name: &str,
        version: &str,
        line: u32,
        direct: bool,
        dev: bool,
        optional: bool,
    ) -> (String, Option<String>, u32, bool, bool, bool) {
        (
            name.into(),
            Some(version.into()),
            line,
            direct,
            dev,
            optional,
        )
    }

    #[test]
    fn wants_lockfiles_by_exact_name() {
        assert!(PackageLock.wants("web/package-lock.json", "package-lock.json"));
        assert!(!PackageLock.wants("package-lock.json.bak", "package-lock.json.bak"));
        assert!(!PackageLock.wants("my-package-lock.json", "my-package-lock.json"));
        assert!(!PackageLock.wants("npm-shrinkwrap.json", "npm-shrinkwrap.json"));
        assert!(Shrinkwrap.wants("npm-shrinkwrap.json", "npm-shrinkwrap.json"));
        assert!(!Shrinkwrap.wants("package-lock.json", "package-lock.json"));
    }

    #[test]
    fn empty_project_locks_nothing() {
        let out = lock("empty");
        assert!(out.dependencies.is_empty());
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn v3_one_package() {
        let out = lock("one-package-v3");
        assert_eq!(
            summary(&out.dependencies),
            [row("lodash", "4.17.21", 15, true, false, false)]
        );
        assert!(out.dependencies[0].skipped.is_none());
        assert_eq!(out.dependencies[0].source.path, "package-lock.json");
    }

    #[test]
    fn v3_dev_only_with_nested_and_dev_optional_flags() {
        let out = lock("dev-only-v3");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("chokidar", "3.6.0", 35, true, true, true),
                row("fsevents", "2.3.3", 44, false, true, true),
                row("glob", "7.2.3", 26, false, true, false),
                row("glob", "8.1.0", 48, false, true, false),
                row("mocha", "10.4.0", 17, true, true, false),
            ]
        );
    }

    #[test]
    fn v2_reads_packages_only_never_the_legacy_tree() {
        let out = lock("both-sections-v2");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("js-tokens", "4.0.0", 14, false, false, false),
                row("loose-envify", "1.4.0", 19, false, false, false),
                row("react", "18.2.0", 30, true, false, false),
            ]
        );
    }

    #[test]
    fn v1_tree_with_nesting_flags_and_direct_from_sibling_manifest() {
        let out = lock("tree-v1");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("debug", "2.6.9", 7, true, false, false),
                row("debug", "4.3.4", 26, false, true, false),
                row("ms", "2.0.0", 15, false, false, false),
                row("ms", "2.1.2", 35, false, true, false),
                row("ms", "2.1.3", 43, false, true, false),
                row("supports-color", "8.1.1", 20, true, true, false),
            ]
        );
    }

    #[test]
    fn v1_spec_versions_become_skips_and_aliases_their_real_name() {
        let out = lock("sources-v1");
        let deps = &out.dependencies;
        let git = find(deps, "from-git", 6);
        let skip = git.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()));
        assert_eq!(
            skip,
            Some((
                SkipReason::Git,
                "git+https://github.com/acme/from-git.git#8d1a2c3f4e5b6a7980a1b2c3d4e5f6a7b8c9d0e1"
            ))
        );
        assert_eq!(git.version, None);
        let local = find(deps, "local", 10);
        assert_eq!(
            local.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Path)
        );
        let tarball = find(deps, "tarball", 13);
        assert_eq!(
            tarball.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Url)
        );
        let aliased = find(deps, "string-width", 17);
        assert_eq!(aliased.version.as_deref(), Some("4.2.3"));
        assert!(aliased.skipped.is_none());
    }

    #[test]
    fn v3_workspaces_links_and_odd_sources() {
        let out = lock("workspace-v3");
        let deps = &out.dependencies;
        let skip_of = |d: &Dependency| d.skipped.as_ref().map(|s| (s.reason, s.detail.clone()));
        // The workspace folder itself, with its own version.
        let folder = find(deps, "@acme/utils", 69);
        assert_eq!(folder.version.as_deref(), Some("1.0.0"));
        let ws = Some((SkipReason::Workspace, "packages/utils".to_string()));
        assert_eq!(skip_of(folder), ws);
        // The node_modules link to it, declared by the app workspace.
        let link = find(deps, "@acme/utils", 24);
        assert_eq!(skip_of(link), ws);
        assert_eq!(link.version.as_deref(), Some("1.0.0"));
        assert!(link.direct);
        let app_link = find(deps, "@acme/app", 20);
        assert!(!app_link.direct, "nobody declares the app");
        // Declared by the app workspace, installed under its folder: direct.
        let nested = find(deps, "lodash", 64);
        assert!(nested.direct);
        assert_eq!(nested.version.as_deref(), Some("4.17.20"));
        // Hoisted and declared by a workspace: direct too.
        let hoisted = find(deps, "lodash", 33);
        assert!(hoisted.direct && hoisted.skipped.is_none());
        let git = find(deps, "from-git", 28);
        assert_eq!(git.version.as_deref(), Some("1.2.0"));
        assert_eq!(
            git.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Git)
        );
        let tarball = find(deps, "tarball", 48);
        assert_eq!(
            tarball.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Url)
        );
        assert_eq!(tarball.version.as_deref(), Some("1.0.0"));
        // A `file:` target outside the repository: a path, as folder and as link.
        let outside = find(deps, "outside", 17);
        assert_eq!(
            skip_of(outside),
            Some((SkipReason::Path, "../outside".into()))
        );
        assert_eq!(outside.version.as_deref(), Some("0.1.0"));
        let linked = find(deps, "outside", 38);
        assert_eq!(
            skip_of(linked),
            Some((SkipReason::Path, "../outside".into()))
        );
        assert!(linked.direct, "the root declares it");
        let aliased = find(deps, "string-width", 42);
        assert_eq!(aliased.version.as_deref(), Some("4.2.3"));
        assert!(
            aliased.direct,
            "declared as string-width-cjs, installed under that name"
        );
        assert!(find(deps, "@acme/app", 53).skipped.is_some());
        assert_eq!(deps.len(), 11);
    }

    #[test]
    fn shrinkwrap_reads_the_same_format() {
        let out = match fixture("shrinkwrap", "npm-shrinkwrap.json") {
            Ok(out) => out,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            summary(&out.dependencies),
            [row("semver", "7.6.0", 15, true, false, false)]
        );
    }

    #[test]
    fn newer_lockfile_version_is_read_with_a_warning() {
        let out = lock("future-version");
        assert_eq!(out.dependencies.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].code, "npm-lockfile-version-unknown");
        assert_eq!(out.diagnostics[0].line, Some(3));
    }

    #[test]
    fn malformed_and_unrecognised_lockfiles_are_errors() {
        let err = fixture("malformed", "package-lock.json").unwrap_err();
        assert!(matches!(err, ExtractError::Json { .. }), "{err}");
        assert!(err.line().is_some());
        let err = fixture("no-version", "package-lock.json").unwrap_err();
        assert!(matches!(err, ExtractError::Invalid(_)), "{err}");
    }

    #[test]
    fn deeply_nested_tree_is_an_error_not_a_crash() {
        let mut text = String::from("{\"lockfileVersion\": 1, \"dependencies\": ");
        for _ in 0..10_000 {
            text.push_str("{\"a\": {\"version\": \"1.0.0\", \"dependencies\": ");
        }
        text.push_str("{}");
        for _ in 0..10_000 {
            text.push_str("}}");
        }
        text.push('}');
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package-lock.json"), &text).unwrap();
        let result = extract_at(&PackageLock, dir.path(), "package-lock.json");
        assert!(matches!(result, Err(ExtractError::Json { .. })));
    }
}
