//! `pnpm-lock.yaml`, lockfile versions 5 to 9.
//!
//! v5/v6 key packages by path (`/name/1.0.0_peer@2`, `/name@1.0.0(peer@2)`) and flag dev
//! packages; v9 keys `packages` by `name@1.0.0` and moves each peer-resolved variant and its
//! dependency edges to `snapshots`, so dev status is found by walking those edges from the
//! importers. Each package is reported once per name and version, whatever its peer variants.

use super::spec::{Spec, classify, is_plain_version, split_name_at};
use super::yaml_lines::YamlKeyLines;
use crate::extract::util::parse_yaml;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Dependency, Ecosystem, SkipReason};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

pub struct PnpmLock;

impl Extractor for PnpmLock {
    fn id(&self) -> &'static str {
        "npm/pnpm-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "pnpm-lock.yaml"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let doc: Value = parse_yaml(file.text)?;
        let Value::Object(doc) = doc else {
            return Err(ExtractError::Invalid(
                "pnpm-lock.yaml is not a YAML mapping".into(),
            ));
        };
        let major = doc
            .get("lockfileVersion")
            .and_then(scalar)
            .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
            .ok_or_else(|| {
                ExtractError::Invalid("no `lockfileVersion`: not a pnpm lockfile".into())
            })?;
        let lock = Lock {
            file,
            lines: YamlKeyLines::scan(file.text, 4),
            path_keys: major < 6,
        };
        Ok(lock.read(&doc))
    }
}

/// The importer sections, with whether each is dev-only.
const IMPORTER_SECTIONS: &[(&str, bool)] = &[
    ("dependencies", false),
    ("optionalDependencies", false),
    ("devDependencies", true),
];

struct Lock<'f> {
    file: &'f ManifestFile<'f>,
    lines: YamlKeyLines,
    /// v5 keys: `/name/1.0.0_peer@2` rather than `/name@1.0.0(peer@2)`.
    path_keys: bool,
}

/// One package as reported, before its flags are final.
struct Locked {
    dep: Dependency,
    /// Every variant seen so far was flagged dev / optional.
    all_dev: bool,
    all_optional: bool,
}

impl Lock<'_> {
    fn read(&self, doc: &Map<String, Value>) -> Extracted {
        let mut out = Extracted::default();
        let empty = Map::new();
        let packages = doc
            .get("packages")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let snapshots = doc.get("snapshots").and_then(Value::as_object);

        // Packages, deduplicated by name and version; `index` maps peer-free keys to them.
        let mut locked: Vec<Locked> = Vec::new();
        let mut by_identity: HashMap<(String, Option<String>), usize> = HashMap::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (key, entry) in packages {
            let line = self.lines.line(&["packages", key]).unwrap_or(1);
            let dep = self.package(key, entry, line);
            let identity = (dep.name.clone(), dep.version.clone());
            let flag = |f: &str| entry.get(f).and_then(Value::as_bool) == Some(true);
            let (dev, optional) = (flag("dev"), flag("optional"));
            let at = *by_identity.entry(identity).or_insert_with(|| {
                locked.push(Locked {
                    dep,
                    all_dev: true,
                    all_optional: true,
                });
                locked.len() - 1
            });
            locked[at].all_dev &= dev;
            locked[at].all_optional &= optional;
            index.insert(self.peer_free(key), at);
        }

        // v9: optional and dev status live in `snapshots` and its edges.
        if let Some(snapshots) = snapshots {
            let mut optional_seen: HashMap<usize, bool> = HashMap::new();
            for (key, snap) in snapshots {
                if let Some(&at) = index.get(&self.peer_free(key)) {
                    let optional = snap.get("optional").and_then(Value::as_bool) == Some(true);
                    *optional_seen.entry(at).or_insert(true) &= optional;
                }
            }
            for item in &mut locked {
                item.all_dev = false;
                item.all_optional = false;
            }
            for (at, optional) in optional_seen {
                locked[at].all_optional = optional;
            }
        }

        // Importers: direct dependencies, workspace links, and (v9) dev status.
        let importers = self.importers(doc);
        let mut prod_roots = Vec::new();
        let mut dev_roots = Vec::new();
        for (importer, sections) in &importers {
            for &(section, dev_section) in IMPORTER_SECTIONS {
                let Some(entries) = sections.get(section).and_then(Value::as_object) else {
                    continue;
                };
                for (name, entry) in entries {
                    let (specifier, version) = match entry {
                        Value::Object(m) => (
                            m.get("specifier").and_then(scalar),
                            m.get("version").and_then(scalar),
                        ),
                        other => (None, scalar(other)),
                    };
                    let Some(version) = version else { continue };
                    let mut path: Vec<&str> = importer.iter().map(String::as_str).collect();
                    path.extend([section, name.as_str()]);
                    let line = self.lines.line(&path).unwrap_or(1);
                    if let Some(target) = version.strip_prefix("link:") {
                        let reason = match specifier.as_deref() {
                            Some(s) if s.starts_with("workspace:") => SkipReason::Workspace,
                            _ => SkipReason::Path,
                        };
                        let mut dep = self
                            .file
                            .dep(Ecosystem::Npm, name, line)
                            .skip(reason, target);
                        if let Some(s) = specifier {
                            dep = dep.requires(s);
                        }
                        out.dependencies.push(dep.direct(true).dev(dev_section));
                        continue;
                    }
                    let candidates = self.candidates(name, &version);
                    if let Some(&at) = candidates
                        .iter()
                        .find_map(|c| index.get(&self.peer_free(c)))
                    {
                        locked[at].dep.direct = true;
                    }
                    let roots = if dev_section {
                        &mut dev_roots
                    } else {
                        &mut prod_roots
                    };
                    roots.extend(candidates);
                }
            }
        }
        if let Some(snapshots) = snapshots {
            let prod = self.reachable(snapshots, prod_roots);
            let dev = self.reachable(snapshots, dev_roots);
            for key in dev.difference(&prod) {
                if let Some(&at) = index.get(&self.peer_free(key)) {
                    locked[at].all_dev = true;
                }
            }
            for key in &prod {
                if let Some(&at) = index.get(&self.peer_free(key)) {
                    locked[at].all_dev = false;
                }
            }
        }

        out.dependencies.extend(locked.into_iter().map(|item| {
            let optional = item.all_optional;
            item.dep.dev(item.all_dev).optional(optional)
        }));
        out
    }

    /// One `packages` entry as a dependency.
    fn package(&self, key: &str, entry: &Value, line: u32) -> Dependency {
        let field = |f: &str| entry.get(f).and_then(scalar);
        let bare = self.peer_free(key);
        let (key_name, key_version) = self.split_key(&bare);
        let name = field("name").or(key_name).unwrap_or_else(|| bare.clone());
        let version =
            field("version").or_else(|| key_version.clone().filter(|v| is_plain_version(v)));
        let mut dep = self.file.dep(Ecosystem::Npm, &name, line);
        if let Some(v) = &version {
            dep = dep.locked(v.as_str());
        }
        let resolution = entry.get("resolution");
        let res = |f: &str| resolution.and_then(|r| r.get(f)).and_then(scalar);
        if res("type").as_deref() == Some("git") {
            let repo = res("repo").unwrap_or_else(|| bare.clone());
            return dep.skip(SkipReason::Git, repo);
        }
        if res("type").as_deref() == Some("directory") {
            return dep.skip(
                SkipReason::Path,
                res("directory").unwrap_or_else(|| bare.clone()),
            );
        }
        if let Some(tarball) = res("tarball") {
            if is_git_host_tarball(&tarball) {
                return dep.skip(SkipReason::Git, tarball);
            }
            if !tarball.contains("/-/") && !tarball.starts_with("file:") {
                return dep.skip(SkipReason::Url, tarball);
            }
            if let Some(path) = tarball.strip_prefix("file:") {
                return dep.skip(SkipReason::Path, path);
            }
        }
        match key_version.as_deref().map(classify) {
            Some(Spec::Unresolvable(reason)) => dep.skip(reason, key_version.unwrap_or_default()),
            _ if version.is_none() => {
                dep.skip(SkipReason::Unsupported, format!("no version in `{key}`"))
            }
            _ => dep,
        }
    }

    /// Splits a peer-free packages key into name and version: `/@s/a@1.0.0`, `a@file:../a`,
    /// v5 `/@s/a/1.0.0`. Keys of other shapes (`github.com/u/r/sha`) give no name.
    fn split_key(&self, key: &str) -> (Option<String>, Option<String>) {
        let key = key.strip_prefix('/').unwrap_or(key);
        if self.path_keys {
            if let Some((name, version)) = key.rsplit_once('/')
                && is_plain_version(version)
            {
                return (Some(name.to_string()), Some(version.to_string()));
            }
            return (None, None);
        }
        match split_name_at(key) {
            Some((name, version)) if !name.contains(':') => {
                (Some(name.to_string()), Some(version.to_string()))
            }
            _ => (None, None),
        }
    }

    /// A key without its peer suffix and leading slash: `/a@1.0.0(b@2.0.0)` → `a@1.0.0`,
    /// v5 `/a/1.0.0_b@2.0.0` → `a/1.0.0`.
    fn peer_free(&self, key: &str) -> String {
        let key = key.strip_prefix('/').unwrap_or(key);
        let mut bare = match key.find('(') {
            Some(at) => &key[..at],
            None => key,
        };
        if self.path_keys
            && let Some((name, version)) = bare.rsplit_once('/')
            && let Some(at) = version.find('_')
        {
            bare = &bare[..name.len() + 1 + at];
        }
        bare.to_string()
    }

    /// The packages/snapshots keys an importer or snapshot edge `name: version` may point at.
    fn candidates(&self, name: &str, version: &str) -> Vec<String> {
        let separator = if self.path_keys { '/' } else { '@' };
        vec![format!("{name}{separator}{version}"), version.to_string()]
    }

    /// Importers by their key path in the file: `importers/<dir>` or, for single-project
    /// v5/v6 lockfiles, the top level.
    fn importers<'d>(
        &self,
        doc: &'d Map<String, Value>,
    ) -> Vec<(Vec<String>, &'d Map<String, Value>)> {
        match doc.get("importers").and_then(Value::as_object) {
            Some(importers) => importers
                .iter()
                .filter_map(|(dir, v)| {
                    Some((vec!["importers".to_string(), dir.clone()], v.as_object()?))
                })
                .collect(),
            None => vec![(Vec::new(), doc)],
        }
    }

    /// Snapshot keys reachable from `roots` along dependency edges. Iterative and visited-set
    /// bounded, so cycles and long chains are harmless.
    fn reachable(&self, snapshots: &Map<String, Value>, roots: Vec<String>) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut queue = roots;
        while let Some(key) = queue.pop() {
            let Some(snap) = snapshots.get(&key) else {
                continue;
            };
            if !seen.insert(key) {
                continue;
            }
            for section in ["dependencies", "optionalDependencies"] {
                let Some(edges) = snap.get(section).and_then(Value::as_object) else {
                    continue;
                };
                for (name, version) in edges {
                    if let Some(version) = scalar(version) {
                        queue.extend(self.candidates(name, &version));
                    }
                }
            }
        }
        seen
    }
}

/// Tarballs that GitHub, GitLab or Bitbucket build from a commit: a git dependency.
fn is_git_host_tarball(url: &str) -> bool {
    ["codeload.github.com/", "gitlab.com/", "bitbucket.org/"]
        .iter()
        .any(|host| url.contains(host))
}

/// A YAML scalar as text: `1.0.0` stays a string; an unquoted `1.0` is a number in YAML.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::Path;

    fn fixture(case: &str) -> Result<Extracted, ExtractError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/npm/pnpm-lock")
            .join(case);
        extract_at(&PnpmLock, &root, "pnpm-lock.yaml")
    }

    fn lock(case: &str) -> Extracted {
        match fixture(case) {
            Ok(out) => out,
            Err(e) => panic!("{case}: {e}"),
        }
    }

    type Row = (String, Option<String>, u32, bool, bool, bool);

    fn summary(deps: &[Dependency]) -> Vec<Row> {
        let mut rows: Vec<Row> = deps
            .iter()
            .filter(|d| d.skipped.is_none())
            .map(|d| {
                (
                    d.name.clone(),
                    d.version.clone(),
                    d.source.line,
                    d.direct,
                    d.dev,
                    d.optional,
                )
            })
            .collect();
        rows.sort();
        rows
    }

    fn row(name: &str, version: &str, line: u32, direct: bool, dev: bool, optional: bool) -> Row {
        (
            name.into(),
            Some(version.into()),
            line,
            direct,
            dev,
            optional,
        )
    }

    fn find<'a>(deps: &'a [Dependency], name: &str) -> &'a Dependency {
        deps.iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} missing from {deps:#?}"))
    }

    #[test]
    fn wants_only_the_lockfile() {
        assert!(PnpmLock.wants("a/pnpm-lock.yaml", "pnpm-lock.yaml"));
        assert!(!PnpmLock.wants("pnpm-lock.yml", "pnpm-lock.yml"));
        assert!(!PnpmLock.wants("pnpm-lock.yaml.orig", "pnpm-lock.yaml.orig"));
        assert!(!PnpmLock.wants("pnpm-workspace.yaml", "pnpm-workspace.yaml"));
    }

    #[test]
    fn empty_lockfile_locks_nothing() {
        let out = lock("empty");
        assert!(out.dependencies.is_empty());
    }

    #[test]
    fn v9_one_package() {
        let out = lock("one-package-v9");
        assert_eq!(
            summary(&out.dependencies),
            [row("lodash", "4.17.21", 17, true, false, false)]
        );
        assert_eq!(out.dependencies.len(), 1);
    }

    #[test]
    fn v6_flags_peer_variants_and_direct() {
        let out = lock("dev-only-v6");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("js-tokens", "4.0.0", 20, false, true, false),
                row("loose-envify", "1.4.0", 24, false, true, false),
                row("react", "18.2.0", 47, true, true, false),
                row("react-dom", "18.2.0", 31, true, true, false),
                row("scheduler", "0.23.0", 54, false, true, false),
                row("typescript", "5.4.5", 60, true, true, false),
            ]
        );
    }

    #[test]
    fn v9_dev_status_comes_from_walking_snapshots() {
        let out = lock("monorepo-v9");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("fsevents", "2.3.3", 44, false, true, true),
                row("js-tokens", "4.0.0", 29, false, false, false),
                row("loose-envify", "1.4.0", 32, false, false, false),
                row("react", "18.2.0", 36, true, false, false),
                row("string-width", "4.2.3", 40, true, true, false),
                row("vitest", "1.5.0", 49, true, true, false),
            ]
        );
        let link = find(&out.dependencies, "@acme/ui");
        let skip = link.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()));
        assert_eq!(skip, Some((SkipReason::Workspace, "../ui")));
        assert_eq!(link.requirement.as_deref(), Some("workspace:*"));
        assert_eq!(link.source.line, 11);
        assert!(link.direct);
    }

    #[test]
    fn git_path_and_url_packages_are_skipped_with_their_version() {
        for case in ["sources-v6", "sources-v9"] {
            let out = lock(case);
            let deps = &out.dependencies;
            let skip_of = |name: &str| {
                let d = find(deps, name);
                (
                    d.skipped.as_ref().map(|s| s.reason),
                    d.version.clone(),
                    d.direct,
                )
            };
            let v = |s: &str| Some(s.to_string());
            assert_eq!(
                skip_of("from-git"),
                (Some(SkipReason::Git), v("1.2.0"), true),
                "{case}"
            );
            assert_eq!(
                skip_of("local"),
                (Some(SkipReason::Path), v("0.1.0"), true),
                "{case}"
            );
            assert_eq!(
                skip_of("tarball"),
                (Some(SkipReason::Url), v("1.0.0"), true),
                "{case}"
            );
            assert_eq!(deps.len(), 3, "{case}: {deps:#?}");
        }
    }

    #[test]
    fn v5_path_keys_are_read() {
        let out = lock("one-package-v5");
        assert_eq!(
            summary(&out.dependencies),
            [
                row("@babel/core", "7.24.0", 15, true, true, false),
                row("react-dom", "18.2.0", 20, true, false, false),
            ]
        );
    }

    #[test]
    fn deeply_nested_yaml_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("lockfileVersion: '9.0'\npackages: {}", "[".repeat(10_000));
        std::fs::write(dir.path().join("pnpm-lock.yaml"), text).unwrap();
        assert!(extract_at(&PnpmLock, dir.path(), "pnpm-lock.yaml").is_err());
        let mut block = String::from("lockfileVersion: '9.0'\n");
        for depth in 0..2_000 {
            block.push_str(&" ".repeat(depth));
            block.push_str("k:\n");
        }
        std::fs::write(dir.path().join("pnpm-lock.yaml"), block).unwrap();
        let _ = extract_at(&PnpmLock, dir.path(), "pnpm-lock.yaml");
    }

    #[test]
    fn malformed_and_unversioned_files_are_errors() {
        let err = fixture("malformed").unwrap_err();
        assert!(matches!(err, ExtractError::Yaml { .. }), "{err}");
        let err = fixture("no-version").unwrap_err();
        assert!(matches!(err, ExtractError::Invalid(_)), "{err}");
    }
}
