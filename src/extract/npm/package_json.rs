//! `package.json`: the declared dependencies of one npm package, and its `engines.node` pin.
//!
//! `workspaces` declares nothing itself: the walk reaches each workspace's own package.json.

use super::json_lines::KeyLines;
use super::spec::{Spec, classify};
use crate::extract::util::parse_json;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Dependency, Ecosystem};
use serde_json::{Map, Value};

pub struct PackageJson;

/// The sections that declare dependencies, with the flags each implies.
const SECTIONS: &[Section] = &[
    Section {
        key: "dependencies",
        dev: false,
        optional: false,
    },
    Section {
        key: "devDependencies",
        dev: true,
        optional: false,
    },
    Section {
        key: "optionalDependencies",
        dev: false,
        optional: true,
    },
    Section {
        key: "peerDependencies",
        dev: false,
        optional: false,
    },
];

struct Section {
    key: &'static str,
    dev: bool,
    optional: bool,
}

impl Extractor for PackageJson {
    fn id(&self) -> &'static str {
        "npm/package-json"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "package.json"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let doc: Value = parse_json(file.text)?;
        let Value::Object(doc) = doc else {
            return Err(ExtractError::Invalid(
                "package.json is not a JSON object".into(),
            ));
        };
        let keys = KeyLines::scan_to_depth(file.text, 2);
        let mut out = Extracted::default();
        for section in SECTIONS {
            let Some(value) = doc.get(section.key) else {
                continue;
            };
            let section_id = keys.child(KeyLines::ROOT, section.key);
            let Value::Object(entries) = value else {
                out.diagnostics.push(file.warning(
                    "npm-section-not-object",
                    format!(
                        "`{}` is not an object; its entries are not read",
                        section.key
                    ),
                    section_id.map(|id| keys.line(id)),
                ));
                continue;
            };
            for (name, spec) in entries {
                let line = keys.line_in(section_id, name);
                let Value::String(spec) = spec else {
                    out.diagnostics.push(file.warning(
                        "npm-spec-not-string",
                        format!("`{}.{name}` is not a string; entry not read", section.key),
                        Some(line),
                    ));
                    continue;
                };
                let optional = section.optional
                    || (section.key == "peerDependencies" && peer_is_optional(&doc, name));
                out.dependencies.push(
                    declared(file, name, spec, line)
                        .dev(section.dev)
                        .optional(optional),
                );
            }
        }
        if let Some(node) = doc
            .get("engines")
            .and_then(|e| e.get("node"))
            .and_then(Value::as_str)
        {
            let engines = keys.child(KeyLines::ROOT, "engines");
            let line = keys.line_in(engines, "node");
            out.dependencies
                .push(file.dep(Ecosystem::NodeJs, "node", line).requires(node));
        }
        Ok(out)
    }
}

/// One declaration `name: spec`, as a direct dependency with the spec as its requirement.
/// An `npm:` alias is recorded under the package it really installs.
pub fn declared(file: &ManifestFile<'_>, name: &str, spec: &str, line: u32) -> Dependency {
    match classify(spec) {
        Spec::Registry(range) => file.dep(Ecosystem::Npm, name, line).requires(range),
        Spec::Alias { name: real, range } => file.dep(Ecosystem::Npm, real, line).requires(range),
        Spec::Unresolvable(reason) => file
            .dep(Ecosystem::Npm, name, line)
            .requires(spec)
            .skip(reason, spec),
    }
}

fn peer_is_optional(doc: &Map<String, Value>, name: &str) -> bool {
    doc.get("peerDependenciesMeta")
        .and_then(|meta| meta.get(name))
        .and_then(|m| m.get("optional"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The names a package.json-shaped object declares in any dependency section. Lockfiles use
/// it to tell direct dependencies from transitive ones.
pub fn declared_names(manifest: &Value) -> Vec<(&str, &str)> {
    SECTIONS
        .iter()
        .filter_map(|s| manifest.get(s.key).and_then(Value::as_object))
        .flat_map(|entries| {
            entries
                .iter()
                .filter_map(|(name, spec)| Some((name.as_str(), spec.as_str()?)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SkipReason;
    use crate::extract::extract_at;
    use std::path::Path;

    fn fixture(case: &str) -> Result<Extracted, ExtractError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/npm/package-json")
            .join(case);
        extract_at(&PackageJson, &root, "package.json")
    }

    fn find<'a>(deps: &'a [Dependency], name: &str) -> &'a Dependency {
        deps.iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} missing from {deps:#?}"))
    }

    #[test]
    fn wants_only_package_json() {
        assert!(PackageJson.wants("a/package.json", "package.json"));
        assert!(!PackageJson.wants("mypackage.json", "mypackage.json"));
        assert!(!PackageJson.wants("package.json.bak", "package.json.bak"));
        assert!(!PackageJson.wants("package-lock.json", "package-lock.json"));
    }

    #[test]
    fn empty_manifest_declares_nothing() {
        let out = fixture("empty").unwrap();
        assert!(out.dependencies.is_empty());
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn one_package_with_its_range_and_line() {
        let out = fixture("one-package").unwrap();
        assert_eq!(out.dependencies.len(), 1);
        let d = &out.dependencies[0];
        assert_eq!(d.ecosystem, Ecosystem::Npm);
        assert_eq!(d.name, "lodash");
        assert_eq!(d.requirement.as_deref(), Some("^4.17.21"));
        assert_eq!(d.version, None);
        assert!(d.direct && !d.dev && !d.optional && d.skipped.is_none());
        assert_eq!(d.source.line, 6);
        assert_eq!(d.source.path, "package.json");
    }

    #[test]
    fn every_section_gets_its_flags_and_engines_node_is_a_runtime_pin() {
        let out = fixture("all-sections").unwrap();
        let deps = &out.dependencies;
        let react = find(deps, "react");
        assert_eq!(
            (react.dev, react.optional, react.source.line),
            (false, false, 7)
        );
        let jest = find(deps, "jest");
        assert_eq!(
            (jest.dev, jest.optional, jest.source.line),
            (true, false, 11)
        );
        let ts = find(deps, "typescript");
        assert_eq!(ts.requirement.as_deref(), Some("~5.4.0"));
        assert_eq!(ts.source.line, 12);
        let fsevents = find(deps, "fsevents");
        assert_eq!((fsevents.dev, fsevents.optional), (false, true));
        assert_eq!(fsevents.source.line, 15);
        let react_dom = find(deps, "react-dom");
        assert_eq!(react_dom.source.line, 18);
        assert!(
            !react_dom.optional,
            "a peer without meta is a plain declaration"
        );
        let types: Vec<_> = deps.iter().filter(|d| d.name == "@types/react").collect();
        assert_eq!(types.len(), 2, "declared as dev and as peer: two entries");
        let (dev, peer) = (types[0], types[1]);
        assert_eq!((dev.dev, dev.optional, dev.source.line), (true, false, 10));
        assert_eq!(
            (peer.dev, peer.optional, peer.source.line),
            (false, true, 19)
        );
        assert_eq!(peer.requirement.as_deref(), Some("*"));
        let node = find(deps, "node");
        assert_eq!(node.ecosystem, Ecosystem::NodeJs);
        assert_eq!(node.requirement.as_deref(), Some(">=18"));
        assert_eq!(node.source.line, 27);
        assert!(
            deps.iter().all(|d| d.name != "npm"),
            "only engines.node is read"
        );
        // react appears as a dependency (line 7) and nowhere else.
        assert_eq!(deps.iter().filter(|d| d.name == "react").count(), 1);
        assert_eq!(deps.len(), 8);
    }

    #[test]
    fn unresolvable_specs_are_kept_with_reasons() {
        let out = fixture("git-path-url").unwrap();
        let deps = &out.dependencies;
        let cases = [
            (
                "from-git",
                SkipReason::Git,
                "git+https://github.com/acme/from-git.git#v1.2.0",
            ),
            ("from-github", SkipReason::Git, "github:acme/from-github"),
            ("shorthand", SkipReason::Git, "acme/shorthand#main"),
            (
                "from-git-protocol",
                SkipReason::Git,
                "git://github.com/acme/p.git",
            ),
            ("local", SkipReason::Path, "file:../local"),
            ("linked", SkipReason::Path, "link:./vendor/linked"),
            ("relative", SkipReason::Path, "./packages/relative"),
            (
                "tarball",
                SkipReason::Url,
                "https://example.com/tarball-1.0.0.tgz",
            ),
            ("sibling", SkipReason::Workspace, "workspace:*"),
        ];
        for (name, reason, spec) in cases {
            let d = find(deps, name);
            let skip = d
                .skipped
                .as_ref()
                .unwrap_or_else(|| panic!("{name} not skipped"));
            assert_eq!(
                (skip.reason, skip.detail.as_str()),
                (reason, spec),
                "{name}"
            );
            assert_eq!(d.requirement.as_deref(), Some(spec));
            assert!(d.direct);
        }
        let aliased = find(deps, "string-width");
        assert_eq!(aliased.requirement.as_deref(), Some("^4.2.0"));
        assert!(aliased.skipped.is_none());
        assert_eq!(aliased.source.line, 15);
        let latest = find(deps, "left-pad");
        assert_eq!(latest.requirement.as_deref(), Some("latest"));
        assert!(latest.skipped.is_none());
    }

    #[test]
    fn workspace_root_declares_only_its_own_dependencies() {
        let out = fixture("workspace").unwrap();
        let names: Vec<_> = out.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["prettier"]);
        assert!(out.dependencies[0].dev);
    }

    #[test]
    fn non_string_specs_and_sections_become_warnings() {
        let out = fixture("odd-shapes").unwrap();
        let names: Vec<_> = out.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["ok"]);
        let codes: Vec<_> = out.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["npm-spec-not-string", "npm-section-not-object"]);
        assert_eq!(out.diagnostics[0].line, Some(4));
    }

    #[test]
    fn malformed_json_is_an_error_with_a_line() {
        let err = fixture("malformed").unwrap_err();
        assert!(matches!(err, ExtractError::Json { .. }), "{err}");
        assert!(err.line().is_some());
    }

    #[test]
    fn a_json_array_is_not_a_manifest() {
        let err = fixture("not-object").unwrap_err();
        assert!(matches!(err, ExtractError::Invalid(_)), "{err}");
    }
}
