//! `go.mod`: a module's requirements, replacements and toolchain pins.
//!
//! Since Go 1.17 a module's `require` lines list every module of its build with the version
//! minimal version selection picks, so each requirement carries its version both as `version`
//! and as `requirement` (Go requirements are minimums written as exact versions, `v` prefix
//! kept). `// indirect` requirements are not direct.
//!
//! The `go 1.21` line is the minimum language version and `toolchain go1.22.3` the preferred
//! toolchain; both become pins of the Go toolchain named `go`, with the number as `version` and
//! no `requirement`, since neither is a range in Go's own syntax.
//!
//! `replace old => new v1.2.3` reports the replacement module at its version; `replace old =>
//! ../dir` reports `old` as a path dependency. A requirement that a replacement overrides is
//! kept and labelled with what replaces it, because its written version is not what builds.
//! `exclude` and `retract` remove versions from consideration and name no dependency, so they
//! report nothing; `godebug`, `tool` and `ignore` likewise.

use super::syntax::{self, Directive};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Dependency, Ecosystem, SkipReason};

pub struct GoMod;

impl Extractor for GoMod {
    fn id(&self) -> &'static str {
        "go/go-mod"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "go.mod"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let mut out = Extracted::default();
        let mut requires = Vec::new();
        let mut replaces = Vec::new();
        for directive in syntax::parse(file.text)? {
            match directive.verb.as_str() {
                "go" | "toolchain" => out.dependencies.push(toolchain_pin(file, &directive)?),
                "require" => requires.push(requirement(file, &directive)?),
                "replace" => replaces.push(Replacement::parse(&directive)?),
                "module" | "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
                other => out.diagnostics.push(file.warning(
                    "unknown-directive",
                    format!("unknown go.mod directive `{other}`; the line is not read"),
                    Some(directive.line),
                )),
            }
        }
        for dep in &mut requires {
            if let Some(replacement) = replaces.iter().find(|r| r.overrides(dep)) {
                label_replaced(dep, replacement);
            }
        }
        out.dependencies.extend(requires);
        out.dependencies
            .extend(replaces.iter().map(|r| r.dependency(file)));
        out.dependencies.sort_by_key(|d| d.source.line);
        Ok(out)
    }
}

/// The `go` or `toolchain` line as a pin of the Go toolchain. `toolchain` names a release
/// (`go1.22.3`); anything else (`default`) cannot be checked and is labelled.
pub(super) fn toolchain_pin(
    file: &ManifestFile<'_>,
    directive: &Directive,
) -> Result<Dependency, ExtractError> {
    let [value] = directive.args.as_slice() else {
        return Err(usage(directive, "one version"));
    };
    let pin = file
        .dep(Ecosystem::GoToolchain, "go", directive.line)
        .direct(true);
    if directive.verb == "go" {
        return Ok(pin.locked(value.clone()));
    }
    Ok(match value.strip_prefix("go") {
        Some(version) if version.starts_with(|c: char| c.is_ascii_digit()) => pin.locked(version),
        _ => pin.skip(
            SkipReason::Unsupported,
            format!("toolchain `{value}` names no Go release"),
        ),
    })
}

fn requirement(file: &ManifestFile<'_>, directive: &Directive) -> Result<Dependency, ExtractError> {
    let [module, version] = directive.args.as_slice() else {
        return Err(usage(directive, "a module path and a version"));
    };
    Ok(file
        .dep(Ecosystem::Go, module, directive.line)
        .locked(version.clone())
        .requires(version.clone())
        .direct(!directive.is_indirect()))
}

/// One `replace` directive: `old [version] => new [version]`.
pub(super) struct Replacement {
    old: String,
    old_version: Option<String>,
    target: Target,
    line: u32,
}

enum Target {
    /// Another module at a version.
    Module { path: String, version: String },
    /// A directory on disk (written without a version).
    Directory(String),
}

impl Replacement {
    pub(super) fn parse(directive: &Directive) -> Result<Replacement, ExtractError> {
        let args = directive.args.as_slice();
        let Some(arrow) = args.iter().position(|a| a == "=>") else {
            return Err(usage(directive, "`old [version] => new [version]`"));
        };
        let (old, old_version) = match &args[..arrow] {
            [old] => (old.clone(), None),
            [old, version] => (old.clone(), Some(version.clone())),
            _ => {
                return Err(usage(
                    directive,
                    "one module path and an optional version before `=>`",
                ));
            }
        };
        let target = match &args[arrow + 1..] {
            [dir] => Target::Directory(dir.clone()),
            [path, version] => Target::Module {
                path: path.clone(),
                version: version.clone(),
            },
            _ => {
                return Err(usage(
                    directive,
                    "a directory, or a module path and a version after `=>`",
                ));
            }
        };
        Ok(Replacement {
            old,
            old_version,
            target,
            line: directive.line,
        })
    }

    /// Whether this replacement applies to a requirement: same module, and either any version
    /// or exactly the required one.
    fn overrides(&self, dep: &Dependency) -> bool {
        dep.name == self.old
            && self
                .old_version
                .as_ref()
                .is_none_or(|v| dep.version.as_ref() == Some(v))
    }

    /// The entry for the replacement itself, on the `replace` line.
    pub(super) fn dependency(&self, file: &ManifestFile<'_>) -> Dependency {
        match &self.target {
            Target::Module { path, version } => file
                .dep(Ecosystem::Go, path, self.line)
                .locked(version.clone())
                .requires(version.clone()),
            Target::Directory(dir) => {
                let dep = file.dep(Ecosystem::Go, &self.old, self.line).direct(true);
                let dep = match &self.old_version {
                    Some(version) => dep.requires(version.clone()),
                    None => dep,
                };
                dep.skip(SkipReason::Path, dir.clone())
            }
        }
    }
}

fn label_replaced(dep: &mut Dependency, replacement: &Replacement) {
    let (reason, detail) = match &replacement.target {
        Target::Module { path, version } => (
            SkipReason::Unsupported,
            format!("replaced by {path} {version} (line {})", replacement.line),
        ),
        Target::Directory(dir) => (
            SkipReason::Path,
            format!("replaced by {dir} (line {})", replacement.line),
        ),
    };
    *dep = dep.clone().skip(reason, detail);
}

fn usage(directive: &Directive, expected: &str) -> ExtractError {
    ExtractError::Syntax {
        line: directive.line,
        message: format!("`{}` expects {expected}", directive.verb),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::PathBuf;

    fn run(case: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/go/go-mod")
            .join(case);
        extract_at(&GoMod, &root, "go.mod")
    }

    fn find<'a>(out: &'a Extracted, eco: Ecosystem, name: &str) -> Vec<&'a Dependency> {
        out.dependencies
            .iter()
            .filter(|d| d.ecosystem == eco && d.name == name)
            .collect()
    }

    fn skip(dep: &Dependency) -> Option<(SkipReason, &str)> {
        dep.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()))
    }

    #[test]
    fn wants_only_go_mod() {
        assert!(GoMod.wants("go.mod", "go.mod"));
        assert!(GoMod.wants("tools/go.mod", "go.mod"));
        assert!(!GoMod.wants("go.sum", "go.sum"));
        assert!(!GoMod.wants("go.mod.orig", "go.mod.orig"));
        assert!(!GoMod.wants("mygo.mod", "mygo.mod"));
        assert!(!GoMod.wants("go.work", "go.work"));
    }

    #[test]
    fn empty_module_has_only_its_go_line() {
        let out = run("empty").expect("parses");
        assert_eq!(out.dependencies.len(), 1);
        let go = &out.dependencies[0];
        assert_eq!(go.ecosystem, Ecosystem::GoToolchain);
        assert_eq!(go.name, "go");
        assert_eq!(go.version.as_deref(), Some("1.21"));
        assert_eq!(go.requirement, None);
        assert_eq!(go.source.line, 3);
    }

    #[test]
    fn one_package_single_line_require_and_toolchain() {
        let out = run("one-package").expect("parses");
        let toolchain = find(&out, Ecosystem::GoToolchain, "go");
        let versions: Vec<_> = toolchain.iter().map(|d| d.version.as_deref()).collect();
        assert_eq!(versions, [Some("1.22"), Some("1.22.3")]);

        let [cobra] = find(&out, Ecosystem::Go, "github.com/spf13/cobra")[..] else {
            panic!("one cobra entry")
        };
        assert_eq!(cobra.version.as_deref(), Some("v1.8.0"));
        assert_eq!(cobra.requirement.as_deref(), Some("v1.8.0"));
        assert!(cobra.direct && !cobra.dev);
        assert_eq!(cobra.source.line, 7);
        assert!(cobra.skipped.is_none());
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn indirect_requirements_are_not_direct() {
        let out = run("indirect-only").expect("parses");
        let go_deps: Vec<_> = out
            .dependencies
            .iter()
            .filter(|d| d.ecosystem == Ecosystem::Go)
            .collect();
        assert_eq!(go_deps.len(), 3);
        assert!(go_deps.iter().all(|d| !d.direct));
        let lines: Vec<u32> = go_deps.iter().map(|d| d.source.line).collect();
        assert_eq!(lines, [6, 7, 8]);
        assert_eq!(
            find(&out, Ecosystem::Go, "golang.org/x/sys")[0]
                .version
                .as_deref(),
            Some("v0.20.0")
        );
    }

    #[test]
    fn monorepo_with_replace_block() {
        let out = run("monorepo").expect("parses");

        // A requirement replaced by a directory is kept and labelled as a path dependency.
        let shared = find(&out, Ecosystem::Go, "example.com/platform/shared");
        assert_eq!(shared.len(), 2, "the require line and the replace line");
        assert_eq!(
            skip(shared[0]),
            Some((SkipReason::Path, "replaced by ../shared (line 19)"))
        );
        assert_eq!(skip(shared[1]), Some((SkipReason::Path, "../shared")));
        assert_eq!(shared[1].source.line, 19);

        // A module replacement reports the replacement at its version.
        let [fork] = find(&out, Ecosystem::Go, "github.com/acme/yaml")[..] else {
            panic!("one fork entry")
        };
        assert_eq!(fork.version.as_deref(), Some("v3.0.2-acme.1"));
        assert_eq!(fork.source.line, 20);
        assert!(fork.skipped.is_none());
        let [original] = find(&out, Ecosystem::Go, "gopkg.in/yaml.v3")[..] else {
            panic!("one yaml entry")
        };
        assert_eq!(
            skip(original),
            Some((
                SkipReason::Unsupported,
                "replaced by github.com/acme/yaml v3.0.2-acme.1 (line 20)"
            ))
        );

        // A versioned replacement only overrides that version.
        let grpc: Vec<_> = find(&out, Ecosystem::Go, "google.golang.org/grpc")
            .iter()
            .map(|d| (d.version.as_deref(), d.source.line, d.skipped.is_none()))
            .collect();
        assert_eq!(
            grpc,
            [(Some("v1.64.0"), 7, true), (Some("v1.58.3"), 21, true)],
            "the replace names v1.58.0, the require is v1.64.0"
        );
        let local_only = find(&out, Ecosystem::Go, "example.com/platform/tools");
        assert_eq!(local_only.len(), 1, "a replace without a matching require");
        assert_eq!(local_only[0].requirement.as_deref(), Some("v0.1.0"));

        // exclude and retract report nothing.
        assert!(find(&out, Ecosystem::Go, "github.com/old/broken").is_empty());
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn unknown_directive_is_a_warning_not_an_error() {
        let repo = crate::repo::Repo::open(std::path::Path::new("."), 1024).expect("cwd");
        let file = ManifestFile {
            path: "go.mod",
            text: "module m\n\nfrobnicate x\nrequire a.b/c v1.0.0\n",
            repo: &repo,
        };
        let out = GoMod.extract(&file).expect("parses");
        assert_eq!(out.dependencies.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].line, Some(3));
    }

    #[test]
    fn malformed_module_is_an_error_with_its_line() {
        let err = run("malformed").expect_err("truncated");
        assert!(
            matches!(err, ExtractError::Syntax { line: 5, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn require_with_a_missing_version_is_an_error() {
        let repo = crate::repo::Repo::open(std::path::Path::new("."), 1024).expect("cwd");
        let file = ManifestFile {
            path: "go.mod",
            text: "module m\nrequire a.b/c\n",
            repo: &repo,
        };
        let err = GoMod.extract(&file).expect_err("no version");
        assert_eq!(err.line(), Some(2));
    }
}
