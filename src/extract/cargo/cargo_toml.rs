//! `Cargo.toml`: the dependencies a crate or a workspace root declares.
//!
//! Entries written `workspace = true` are resolved against `[workspace.dependencies]` of the
//! workspace root (the nearest ancestor `Cargo.toml` with a `[workspace]` table), because the
//! member file alone does not say which version it gets. A root's own
//! `[workspace.dependencies]` are declarations too and are reported as entries.

use super::document::{self, kind, string, table};
use crate::extract::util::LineIndex;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::repo::ReadError;
use crate::{Dependency, Diagnostic, Ecosystem, SkipReason};
use std::collections::BTreeMap;
use toml::de::{DeTable, DeValue};

pub struct CargoToml;

/// The dependency tables of a manifest and whether they hold development-only dependencies.
/// Build dependencies run at build time but ship nothing, yet they execute code on the
/// builder's machine, so they are reported as ordinary (non-dev) dependencies.
const DEPENDENCY_TABLES: &[(&str, bool)] = &[
    ("dependencies", false),
    ("dev-dependencies", true),
    ("dev_dependencies", true),
    ("build-dependencies", false),
    ("build_dependencies", false),
];

/// How many directories up a member looks for its workspace root. Real workspaces nest members
/// a few levels deep; the bound keeps a hostile tree from costing more than a few reads.
const MAX_WORKSPACE_DEPTH: usize = 8;

impl Extractor for CargoToml {
    fn id(&self) -> &'static str {
        "cargo/cargo-toml"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "Cargo.toml"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let doc = document::parse(file.text)?;
        let doc = doc.get_ref();
        let index = LineIndex::new(file.text);
        let mut out = Extracted::default();
        let mut workspace = WorkspaceLookup::Pending;

        for (section, dev) in dependency_sections(doc, file, &index, &mut out.diagnostics) {
            for (key, value) in section {
                let line = index.line_of(key.span().start);
                let name = key.get_ref().as_ref();
                let dep = match Spec::read(value.get_ref()) {
                    Ok(spec) if spec.inherits => {
                        let root = workspace.resolve(file, doc, &mut out.diagnostics);
                        inherited(file, name, line, &spec, root)
                    }
                    Ok(spec) => declared(file, name, line, &spec, ""),
                    Err(problem) => file
                        .dep(Ecosystem::CratesIo, name, line)
                        .direct(true)
                        .skip(SkipReason::Unsupported, problem),
                };
                out.dependencies.push(dep.dev(dev));
            }
        }

        if let Some(deps) = table(doc, "workspace").and_then(|ws| table(ws, "dependencies")) {
            for (key, value) in deps {
                let line = index.line_of(key.span().start);
                let name = key.get_ref().as_ref();
                out.dependencies.push(match Spec::read(value.get_ref()) {
                    Ok(spec) => declared(file, name, line, &spec, ""),
                    Err(problem) => file
                        .dep(Ecosystem::CratesIo, name, line)
                        .direct(true)
                        .skip(SkipReason::Unsupported, problem),
                });
            }
        }

        out.dependencies.sort_by_key(|d| d.source.line);
        Ok(out)
    }
}

/// Every dependency table of the manifest, top-level and per `[target.'cfg(..)']`, with its
/// dev flag. A section that is not a table is reported and passed over.
fn dependency_sections<'a, 'i>(
    doc: &'a DeTable<'i>,
    file: &ManifestFile<'_>,
    index: &LineIndex,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(&'a DeTable<'i>, bool)> {
    let mut owners = vec![doc];
    if let Some(targets) = table(doc, "target") {
        owners.extend(targets.values().filter_map(|v| v.get_ref().as_table()));
    }
    let mut sections = Vec::new();
    for owner in owners {
        for &(name, dev) in DEPENDENCY_TABLES {
            let Some((key, value)) = owner.get_key_value(name) else {
                continue;
            };
            match value.get_ref().as_table() {
                Some(section) => sections.push((section, dev)),
                None => diagnostics.push(file.warning(
                    "unexpected-shape",
                    format!(
                        "`{name}` is a {}, not a table; its entries are not read",
                        kind(value.get_ref())
                    ),
                    Some(index.line_of(key.span().start)),
                )),
            }
        }
    }
    sections
}

/// One dependency entry, reduced to what decides how it is reported.
#[derive(Clone, Debug, Default)]
struct Spec {
    version: Option<String>,
    /// The real crate name when the entry renames it (`package = "real-name"`).
    package: Option<String>,
    git: Option<String>,
    /// `branch`, `tag` or `rev` of a git entry, as `tag=v1`.
    git_ref: Option<String>,
    path: Option<String>,
    registry: Option<String>,
    optional: bool,
    /// `workspace = true`: everything but `optional` and features comes from the root.
    inherits: bool,
}

impl Spec {
    /// Reads the string form (`"1.2"`) or the table form; any other value is a problem to
    /// report on the entry.
    fn read(value: &DeValue<'_>) -> Result<Spec, String> {
        let entry = match value {
            DeValue::String(version) => {
                return Ok(Spec {
                    version: Some(version.to_string()),
                    ..Spec::default()
                });
            }
            DeValue::Table(entry) => entry,
            other => {
                return Err(format!(
                    "written as a {} instead of a version string or a table",
                    kind(other)
                ));
            }
        };
        let owned = |key: &str| string(entry, key).map(str::to_string);
        let flag = |key: &str| {
            entry
                .get(key)
                .and_then(|v| v.get_ref().as_bool())
                .unwrap_or(false)
        };
        let git_ref = ["branch", "tag", "rev"]
            .iter()
            .find_map(|key| string(entry, key).map(|v| format!("{key}={v}")));
        Ok(Spec {
            version: owned("version"),
            package: owned("package"),
            git: owned("git"),
            git_ref,
            path: owned("path"),
            registry: owned("registry").or_else(|| owned("registry-index")),
            optional: flag("optional"),
            inherits: flag("workspace"),
        })
    }
}

/// The entry for a declaration whose source is fully written in `spec`. `origin` prefixes skip
/// details, to say where an inherited source was written.
fn declared(
    file: &ManifestFile<'_>,
    key: &str,
    line: u32,
    spec: &Spec,
    origin: &str,
) -> Dependency {
    let name = spec.package.as_deref().unwrap_or(key);
    let mut dep = file
        .dep(Ecosystem::CratesIo, name, line)
        .direct(true)
        .optional(spec.optional);
    if let Some(version) = &spec.version {
        dep = dep.requires(version.clone());
    }
    if let Some(git) = &spec.git {
        let detail = match &spec.git_ref {
            Some(git_ref) => format!("{origin}{git} ({git_ref})"),
            None => format!("{origin}{git}"),
        };
        dep.skip(SkipReason::Git, detail)
    } else if let Some(path) = &spec.path {
        let detail = match &spec.version {
            Some(version) => format!("{origin}{path} (also declares version {version})"),
            None => format!("{origin}{path}"),
        };
        dep.skip(SkipReason::Path, detail)
    } else if let Some(registry) = &spec.registry {
        dep.skip(
            SkipReason::Unsupported,
            format!("{origin}from the alternative registry `{registry}`"),
        )
    } else if spec.version.is_none() {
        dep.skip(
            SkipReason::Unsupported,
            format!("{origin}no version, git or path"),
        )
    } else {
        dep
    }
}

/// The entry for `name = { workspace = true }`: the root's declaration, with the member's own
/// `optional` flag, located at the member's line.
fn inherited(
    file: &ManifestFile<'_>,
    key: &str,
    line: u32,
    spec: &Spec,
    root: Option<&WorkspaceRoot>,
) -> Dependency {
    let unresolved = |detail: String| {
        file.dep(Ecosystem::CratesIo, key, line)
            .direct(true)
            .optional(spec.optional)
            .skip(SkipReason::Unsupported, detail)
    };
    let Some(root) = root else {
        return unresolved("inherited from a workspace root that was not found".to_string());
    };
    match root.dependencies.get(key) {
        Some(Ok(declared_at_root)) => {
            let merged = Spec {
                optional: spec.optional,
                inherits: false,
                ..declared_at_root.clone()
            };
            let origin = format!("inherited from {}: ", root.path);
            declared(file, key, line, &merged, &origin)
        }
        Some(Err(problem)) => unresolved(format!(
            "inherited from {}, where it is {problem}",
            root.path
        )),
        None => unresolved(format!(
            "inherited from {}, which does not declare it in [workspace.dependencies]",
            root.path
        )),
    }
}

/// A workspace root's path and its `[workspace.dependencies]`, owned so the root's text can go.
struct WorkspaceRoot {
    path: String,
    dependencies: BTreeMap<String, Result<Spec, String>>,
}

impl WorkspaceRoot {
    fn from_table(path: String, doc: &DeTable<'_>) -> Option<WorkspaceRoot> {
        let workspace = table(doc, "workspace")?;
        let dependencies = table(workspace, "dependencies")
            .map(|deps| {
                deps.iter()
                    .map(|(k, v)| (k.get_ref().to_string(), Spec::read(v.get_ref())))
                    .collect()
            })
            .unwrap_or_default();
        Some(WorkspaceRoot { path, dependencies })
    }
}

/// The workspace root, looked up once and only when an entry inherits from it.
enum WorkspaceLookup {
    Pending,
    Done(Option<WorkspaceRoot>),
}

impl WorkspaceLookup {
    fn resolve(
        &mut self,
        file: &ManifestFile<'_>,
        doc: &DeTable<'_>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<&WorkspaceRoot> {
        if let WorkspaceLookup::Pending = self {
            *self = WorkspaceLookup::Done(find_root(file, doc, diagnostics));
        }
        match self {
            WorkspaceLookup::Done(root) => root.as_ref(),
            WorkspaceLookup::Pending => None,
        }
    }
}

/// Finds the workspace root the way Cargo does: the manifest itself when it has `[workspace]`,
/// the directory named by `package.workspace`, else the nearest ancestor with `[workspace]`.
fn find_root(
    file: &ManifestFile<'_>,
    doc: &DeTable<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<WorkspaceRoot> {
    if let Some(root) = WorkspaceRoot::from_table(file.path.to_string(), doc) {
        return Some(root);
    }
    let explicit = table(doc, "package")
        .and_then(|package| string(package, "workspace"))
        .map(|dir| format!("{}/Cargo.toml", dir.trim_end_matches('/')));
    let candidates = explicit
        .into_iter()
        .chain((1..=MAX_WORKSPACE_DEPTH).map(|depth| format!("{}Cargo.toml", "../".repeat(depth))));
    for candidate in candidates {
        let (path, text) = match file.read_related(&candidate) {
            Ok(found) => found,
            Err(ReadError::OutsideRoot) => return None,
            Err(_) => continue,
        };
        match document::parse(&text) {
            Ok(parent) => {
                if let Some(root) = WorkspaceRoot::from_table(path, parent.get_ref()) {
                    return Some(root);
                }
            }
            Err(e) => diagnostics.push(file.warning(
                "workspace-root-unreadable",
                format!("{path} could not be read while looking for the workspace root: {e}"),
                None,
            )),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::PathBuf;

    fn run(case: &str, rel: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/cargo/cargo-toml")
            .join(case);
        extract_at(&CargoToml, &root, rel)
    }

    fn find<'a>(out: &'a Extracted, name: &str) -> &'a Dependency {
        out.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no entry for {name}: {:#?}", out.dependencies))
    }

    #[test]
    fn wants_only_the_manifest_name() {
        assert!(CargoToml.wants("Cargo.toml", "Cargo.toml"));
        assert!(CargoToml.wants("crates/a/Cargo.toml", "Cargo.toml"));
        assert!(!CargoToml.wants("cargo.toml", "cargo.toml"));
        assert!(!CargoToml.wants("Cargo.toml.orig", "Cargo.toml.orig"));
        assert!(!CargoToml.wants("Cargo.lock", "Cargo.lock"));
        assert!(!CargoToml.wants("MyCargo.toml", "MyCargo.toml"));
    }

    #[test]
    fn empty_manifest_declares_nothing() {
        let out = run("empty", "Cargo.toml").expect("parses");
        assert!(out.dependencies.is_empty(), "{:#?}", out.dependencies);
    }

    #[test]
    fn one_package_string_and_table_forms() {
        let out = run("one-package", "Cargo.toml").expect("parses");
        let names: Vec<&str> = out.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["serde", "tokio", "rand", "winapi", "cc"]);

        let serde = find(&out, "serde");
        assert_eq!(serde.requirement.as_deref(), Some("1.0.200"));
        assert_eq!(serde.version, None);
        assert!(serde.direct && !serde.dev && !serde.optional);
        assert_eq!(serde.source.line, 8);
        assert_eq!(serde.source.path, "Cargo.toml");

        let tokio = find(&out, "tokio");
        assert_eq!(tokio.requirement.as_deref(), Some("1.37"));
        assert!(tokio.optional);
        assert_eq!(tokio.source.line, 9);

        let rand = find(&out, "rand");
        assert_eq!(rand.requirement.as_deref(), Some("0.8.5"));
        assert_eq!(
            rand.source.line, 11,
            "the `[dependencies.rand]` header line"
        );

        let winapi = find(&out, "winapi");
        assert_eq!(winapi.requirement.as_deref(), Some("0.3"));
        assert_eq!(winapi.source.line, 16);

        let cc = find(&out, "cc");
        assert!(!cc.dev, "build dependencies are not dev dependencies");
        assert_eq!(cc.source.line, 19);
        assert!(out.dependencies.iter().all(|d| d.skipped.is_none()));
    }

    #[test]
    fn renamed_dependency_reports_the_real_crate() {
        let out = run("one-package", "Cargo.toml").expect("parses");
        assert!(out.dependencies.iter().all(|d| d.name != "my-rand"));
    }

    #[test]
    fn dev_only_manifest_marks_every_entry_dev() {
        let out = run("dev-only", "Cargo.toml").expect("parses");
        assert_eq!(out.dependencies.len(), 3);
        assert!(out.dependencies.iter().all(|d| d.dev && d.direct));
        assert_eq!(find(&out, "proptest").requirement.as_deref(), Some("1.4"));
        assert_eq!(find(&out, "insta").source.line, 8);
        // `[dev_dependencies]`, the underscore spelling old manifests use.
        assert_eq!(find(&out, "tempfile").requirement.as_deref(), Some("3"));
    }

    #[test]
    fn workspace_root_declarations_are_entries() {
        let out = run("workspace", "Cargo.toml").expect("parses");
        let serde = find(&out, "serde");
        assert_eq!(serde.requirement.as_deref(), Some("1.0"));
        assert!(serde.direct);
        assert_eq!(serde.source.line, 6);
        let anyhow = find(&out, "anyhow");
        assert_eq!(anyhow.requirement.as_deref(), Some("1.0.86"));
        let internal = find(&out, "app-core");
        assert_eq!(
            internal
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.as_str())),
            Some((
                SkipReason::Path,
                "crates/core (also declares version 0.3.0)"
            ))
        );
    }

    #[test]
    fn member_inherits_version_and_source_from_the_workspace_root() {
        let out = run("workspace", "crates/app/Cargo.toml").expect("parses");

        let serde = find(&out, "serde");
        assert_eq!(serde.requirement.as_deref(), Some("1.0"));
        assert_eq!(serde.source.path, "crates/app/Cargo.toml");
        assert_eq!(serde.source.line, 7);
        assert!(serde.skipped.is_none());

        let tracing = find(&out, "tracing");
        assert_eq!(tracing.requirement.as_deref(), Some("0.1.40"));
        assert!(tracing.optional, "the member's own `optional` wins");

        let rustls = find(&out, "rustls");
        assert_eq!(rustls.requirement.as_deref(), Some("0.23"));
        assert_eq!(rustls.source.line, 10);

        let core = find(&out, "app-core");
        assert_eq!(
            core.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Path)
        );
        assert!(core.skipped.as_ref().is_some_and(|s| {
            s.detail
                .starts_with("inherited from Cargo.toml: crates/core")
        }));

        let insta = find(&out, "insta");
        assert!(insta.dev);
        assert_eq!(insta.requirement.as_deref(), Some("1.39"));

        let missing = find(&out, "not-in-root");
        assert_eq!(
            missing.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported)
        );
        assert!(
            missing
                .skipped
                .as_ref()
                .is_some_and(|s| s.detail.contains("does not declare it"))
        );
    }

    #[test]
    fn inheritance_without_a_root_is_kept_and_labelled() {
        let out = run("no-workspace-root", "Cargo.toml").expect("parses");
        let serde = find(&out, "serde");
        assert_eq!(serde.requirement, None);
        assert_eq!(
            serde
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.as_str())),
            Some((
                SkipReason::Unsupported,
                "inherited from a workspace root that was not found"
            ))
        );
        assert_eq!(find(&out, "log").requirement.as_deref(), Some("0.4"));
    }

    #[test]
    fn git_path_and_registry_sources_are_skipped_with_details() {
        let out = run("git-path-sources", "Cargo.toml").expect("parses");

        let git = find(&out, "ring");
        assert_eq!(
            git.skipped.as_ref().map(|s| (s.reason, s.detail.as_str())),
            Some((
                SkipReason::Git,
                "https://github.com/briansmith/ring (tag=0.17.8)"
            ))
        );
        assert_eq!(git.source.line, 7);

        let local = find(&out, "helper");
        assert_eq!(
            local
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.as_str())),
            Some((SkipReason::Path, "../helper"))
        );
        assert!(local.direct);

        let both = find(&out, "shared");
        assert_eq!(both.requirement.as_deref(), Some("0.2.0"));
        assert_eq!(
            both.skipped.as_ref().map(|s| (s.reason, s.detail.as_str())),
            Some((SkipReason::Path, "../shared (also declares version 0.2.0)"))
        );

        let private = find(&out, "internal-auth");
        assert_eq!(
            private.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported)
        );

        let odd = find(&out, "weird");
        assert_eq!(
            odd.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported),
            "an integer where a version belongs is kept and labelled"
        );

        let renamed_git = find(&out, "futures");
        assert_eq!(
            renamed_git.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Git)
        );
    }

    #[test]
    fn malformed_manifest_is_an_error_with_its_line() {
        let err = run("malformed", "Cargo.toml").expect_err("truncated TOML");
        assert!(matches!(err, ExtractError::Toml { .. }), "{err:?}");
        assert_eq!(err.line(), Some(7), "the unterminated inline table");
    }

    #[test]
    fn deeply_nested_input_is_an_error_not_a_crash() {
        let text = format!("a = {}{}", "[".repeat(50_000), "]".repeat(50_000));
        assert!(document::parse(&text).is_err());
    }
}
