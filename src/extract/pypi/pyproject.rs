//! `pyproject.toml`: PEP 621 `[project]` dependencies and extras, PEP 735
//! `[dependency-groups]`, `requires-python`, and Poetry's `[tool.poetry]` dependency tables.
//!
//! Every declaration is its own direct entry with its requirement as written; the interpreter
//! constraint becomes a `python` runtime entry. Lines come from TOML spans.

use super::pep508;
use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::util::{LineIndex, parse_toml};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::{Spanned, Value};

/// `pypi/pyproject`.
pub struct Pyproject;

#[derive(Deserialize)]
struct PyprojectToml {
    project: Option<Project>,
    #[serde(default, rename = "dependency-groups")]
    dependency_groups: BTreeMap<String, Vec<Spanned<Value>>>,
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Project {
    #[serde(default)]
    dependencies: Vec<Spanned<Value>>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<Spanned<Value>>>,
    #[serde(rename = "requires-python")]
    requires_python: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct Tool {
    poetry: Option<Poetry>,
}

/// Poetry's dependency tables: name to a constraint string, a table, or a list of either.
type PoetryTable = BTreeMap<Spanned<String>, Value>;

#[derive(Deserialize)]
struct Poetry {
    #[serde(default)]
    dependencies: PoetryTable,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: PoetryTable,
    #[serde(default)]
    group: BTreeMap<String, PoetryGroup>,
}

#[derive(Deserialize)]
struct PoetryGroup {
    #[serde(default)]
    dependencies: PoetryTable,
    #[serde(default)]
    optional: bool,
}

/// How a set of declarations is used: which flags its entries carry.
#[derive(Clone, Copy, Default)]
struct Role {
    dev: bool,
    optional: bool,
}

impl Extractor for Pyproject {
    fn id(&self) -> &'static str {
        "pypi/pyproject"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "pyproject.toml"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let doc: PyprojectToml = parse_toml(file.text)?;
        let mut reader = Reader {
            file,
            index: LineIndex::new(file.text),
            out: Extracted::default(),
        };
        if let Some(project) = &doc.project {
            if let Some(python) = &project.requires_python {
                let line = reader.index.line_of(python.span().start);
                let dep = file
                    .dep(Ecosystem::Python, "python", line)
                    .requires(python.get_ref().trim());
                reader.out.dependencies.push(dep);
            }
            reader.pep508_list(&project.dependencies, Role::default());
            for list in project.optional_dependencies.values() {
                let role = Role {
                    optional: true,
                    ..Role::default()
                };
                reader.pep508_list(list, role);
            }
        }
        for list in doc.dependency_groups.values() {
            let role = Role {
                dev: true,
                ..Role::default()
            };
            reader.pep508_list(list, role);
        }
        if let Some(poetry) = doc.tool.and_then(|t| t.poetry) {
            reader.poetry_table(&poetry.dependencies, Role::default());
            let dev = Role {
                dev: true,
                ..Role::default()
            };
            reader.poetry_table(&poetry.dev_dependencies, dev);
            for (name, group) in &poetry.group {
                // The `main` group is another spelling of `[tool.poetry.dependencies]`.
                let role = Role {
                    dev: name != "main",
                    optional: group.optional,
                };
                reader.poetry_table(&group.dependencies, role);
            }
        }
        let mut out = reader.out;
        out.dependencies.sort_by_key(|d| d.source.line);
        Ok(out)
    }
}

struct Reader<'f, 'a> {
    file: &'f ManifestFile<'a>,
    index: LineIndex,
    out: Extracted,
}

impl Reader<'_, '_> {
    /// A PEP 621 or PEP 735 list of PEP 508 strings. PEP 735 `{include-group = ...}` tables
    /// add no dependency of their own.
    fn pep508_list(&mut self, list: &[Spanned<Value>], role: Role) {
        for item in list {
            let line = self.index.line_of(item.span().start);
            match item.get_ref() {
                Value::String(s) => match pep508::parse(s) {
                    Ok(requirement) => {
                        let dep = requirement.to_dependency(self.file.path, line);
                        self.out.dependencies.push(with_role(dep, role));
                    }
                    Err(message) => self.warn("invalid-requirement", message, line),
                },
                Value::Table(t) if t.contains_key("include-group") => {}
                other => self.warn(
                    "invalid-requirement",
                    format!("expected a requirement string, found `{other}`"),
                    line,
                ),
            }
        }
    }

    fn poetry_table(&mut self, table: &PoetryTable, role: Role) {
        for (name, spec) in table {
            let line = self.index.line_of(name.span().start);
            let name = name.get_ref();
            let Some(declared) = PoetryDeclaration::read(spec) else {
                self.warn(
                    "invalid-requirement",
                    format!("cannot read the declaration of `{name}`"),
                    line,
                );
                continue;
            };
            if name.eq_ignore_ascii_case("python") {
                let dep = self.file.dep(Ecosystem::Python, "python", line);
                let dep = match declared.requirement {
                    Some(r) => dep.requires(r),
                    None => dep.direct(true),
                };
                self.out.dependencies.push(dep);
                continue;
            }
            let mut dep = self.file.dep(Ecosystem::PyPI, name, line).direct(true);
            if let Some(requirement) = declared.requirement {
                if let Some(version) = poetry_exact_version(&requirement) {
                    dep = dep.locked(version);
                }
                dep = dep.requires(requirement);
            }
            if let Some((reason, detail)) = declared.skip {
                dep = dep.skip(reason, detail);
            }
            let role = Role {
                optional: role.optional || declared.optional,
                ..role
            };
            self.out.dependencies.push(with_role(dep, role));
        }
    }

    fn warn(&mut self, code: &str, message: String, line: u32) {
        let diagnostic = self.file.warning(code, message, Some(line));
        self.out.diagnostics.push(diagnostic);
    }
}

/// What one Poetry dependency value says, whatever its shape.
#[derive(Default)]
struct PoetryDeclaration {
    /// The constraint; alternatives of a multiple-constraints list are joined with ` || `.
    requirement: Option<String>,
    optional: bool,
    skip: Option<(SkipReason, String)>,
}

impl PoetryDeclaration {
    /// `None` when the value is neither a string, a table nor a list of those.
    fn read(value: &Value) -> Option<PoetryDeclaration> {
        let mut declared = PoetryDeclaration::default();
        let items: &[Value] = match value {
            Value::Array(items) => items,
            single => std::slice::from_ref(single),
        };
        let mut constraints = Vec::new();
        for item in items {
            match item {
                Value::String(s) => constraints.push(s.trim().to_string()),
                Value::Table(t) => {
                    if let Some(Value::String(v)) = t.get("version") {
                        constraints.push(v.trim().to_string());
                    }
                    if t.get("optional").and_then(Value::as_bool) == Some(true) {
                        declared.optional = true;
                    }
                    declared.skip = declared.skip.or_else(|| poetry_source(t));
                }
                _ => return None,
            }
        }
        if !constraints.is_empty() {
            declared.requirement = Some(constraints.join(" || "));
        }
        Some(declared)
    }
}

/// A Poetry table's non-registry source: `git`, `path` (editable with `develop = true`), `url`.
fn poetry_source(t: &toml::Table) -> Option<(SkipReason, String)> {
    let text = |key: &str| t.get(key).and_then(Value::as_str).map(str::to_string);
    if let Some(git) = text("git") {
        return Some((SkipReason::Git, git));
    }
    if let Some(path) = text("path") {
        let editable = t.get("develop").and_then(Value::as_bool) == Some(true);
        let reason = if editable {
            SkipReason::Editable
        } else {
            SkipReason::Path
        };
        return Some((reason, path));
    }
    text("url").map(|url| (SkipReason::Url, url))
}

/// The version a Poetry constraint fixes: a bare version (`1.2.3`) or `==1.2.3`.
fn poetry_exact_version(constraint: &str) -> Option<&str> {
    let c = constraint.trim();
    if let Some(version) = pep508::exact_pin(c) {
        return Some(version);
    }
    let bare = c.starts_with(|ch: char| ch.is_ascii_digit())
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '+' | '!' | '-'));
    bare.then_some(c)
}

fn with_role(dep: Dependency, role: Role) -> Dependency {
    dep.dev(role.dev).optional(role.optional)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::extract::pypi::test_support::{extract_ok, fixture_dir, names, one};

    const FORMAT: &str = "pyproject";

    fn skip_of(d: &Dependency) -> Option<(SkipReason, &str)> {
        d.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()))
    }

    #[test]
    fn wants_pyproject_toml_only() {
        for (path, yes) in [
            ("pyproject.toml", true),
            ("packages/a/pyproject.toml", true),
            ("pyproject.toml.bak", false),
            ("mypyproject.toml", false),
            ("pyproject.json", false),
        ] {
            let file_name = path.rsplit('/').next().unwrap_or(path);
            assert_eq!(Pyproject.wants(path, file_name), yes, "{path}");
        }
    }

    #[test]
    fn empty_project_has_no_entries() {
        let out = extract_ok(&Pyproject, FORMAT, "empty", "pyproject.toml");
        assert!(out.dependencies.is_empty());
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn one_package_and_requires_python() {
        let out = extract_ok(&Pyproject, FORMAT, "one-package", "pyproject.toml");
        assert_eq!(out.dependencies.len(), 2);
        let python = &out.dependencies[0];
        assert_eq!(python.ecosystem, Ecosystem::Python);
        assert_eq!(python.name, "python");
        assert_eq!(python.requirement.as_deref(), Some(">=3.10"));
        assert_eq!(python.source.line, 4);
        let httpx = one(&out.dependencies, "httpx");
        assert_eq!(httpx.ecosystem, Ecosystem::PyPI);
        assert_eq!(httpx.requirement.as_deref(), Some(">=0.27,<1"));
        assert_eq!(httpx.source.line, 6);
        assert!(httpx.direct && !httpx.dev && !httpx.optional);
    }

    #[test]
    fn pep621_extras_and_pep735_groups() {
        let out = extract_ok(&Pyproject, FORMAT, "pep621", "pyproject.toml");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(
            names(&out.dependencies),
            [
                "python",
                "fastapi",
                "pydantic",
                "typing-extensions",
                "uvicorn",
                "orjson",
                "pytest",
                "pytest-cov",
                "ruff"
            ]
        );
        let pydantic = one(&out.dependencies, "pydantic");
        assert_eq!(pydantic.version.as_deref(), Some("2.7.1"));
        assert_eq!(pydantic.requirement.as_deref(), Some("==2.7.1"));
        assert_eq!(pydantic.source.line, 9);
        let typing = one(&out.dependencies, "typing-extensions");
        assert_eq!(typing.requirement, None);
        assert!(typing.direct);
        let uvicorn = one(&out.dependencies, "uvicorn");
        assert!(uvicorn.optional && !uvicorn.dev);
        assert_eq!(uvicorn.requirement.as_deref(), Some(">=0.29"));
        let pytest = one(&out.dependencies, "pytest");
        assert!(pytest.dev && !pytest.optional);
        assert_eq!(pytest.source.line, 18);
        assert!(one(&out.dependencies, "ruff").dev);
    }

    #[test]
    fn dev_only_groups() {
        let out = extract_ok(&Pyproject, FORMAT, "dev-only", "pyproject.toml");
        assert_eq!(names(&out.dependencies), ["mypy", "black"]);
        assert!(out.dependencies.iter().all(|d| d.dev && d.direct));
    }

    #[test]
    fn poetry_tables_groups_and_sources() {
        let out = extract_ok(&Pyproject, FORMAT, "poetry", "pyproject.toml");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let python = &out.dependencies[0];
        assert_eq!(
            (
                python.ecosystem,
                python.requirement.as_deref(),
                python.source.line
            ),
            (Ecosystem::Python, Some("^3.9"), 7)
        );
        let requests = one(&out.dependencies, "requests");
        assert_eq!(requests.requirement.as_deref(), Some("^2.31"));
        assert_eq!(requests.version, None);
        assert_eq!(requests.source.line, 8);
        let pendulum = one(&out.dependencies, "pendulum");
        assert_eq!(pendulum.version.as_deref(), Some("3.0.0"));
        assert_eq!(pendulum.requirement.as_deref(), Some("3.0.0"));
        let sqlalchemy = one(&out.dependencies, "sqlalchemy");
        assert_eq!(sqlalchemy.requirement.as_deref(), Some("~2.0"));
        assert_eq!(sqlalchemy.source.line, 10);
        let psycopg = one(&out.dependencies, "psycopg2-binary");
        assert!(psycopg.optional && !psycopg.dev);
        let numpy = one(&out.dependencies, "numpy");
        assert_eq!(numpy.requirement.as_deref(), Some("<1.25 || >=1.26"));
        let flask = one(&out.dependencies, "flask");
        assert_eq!(
            skip_of(flask),
            Some((SkipReason::Git, "https://github.com/pallets/flask.git"))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "my-lib")),
            Some((SkipReason::Editable, "../my-lib"))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "vendored")),
            Some((SkipReason::Path, "vendor/vendored-1.0.tar.gz"))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "platformdirs")),
            Some((
                SkipReason::Url,
                "https://example.com/platformdirs-4.2.0-py3-none-any.whl"
            ))
        );
        let click = one(&out.dependencies, "click");
        assert_eq!(click.source.line, 25);
        assert!(!click.dev, "the `main` group is not dev");
        let pytest = one(&out.dependencies, "pytest");
        assert!(pytest.dev && !pytest.optional);
        assert_eq!(pytest.source.line, 22);
        let mkdocs = one(&out.dependencies, "mkdocs");
        assert!(mkdocs.dev && mkdocs.optional);
        let black = one(&out.dependencies, "black");
        assert!(black.dev);
        assert_eq!(black.source.line, 33);
    }

    #[test]
    fn pep621_url_references_are_skipped() {
        let out = extract_ok(&Pyproject, FORMAT, "sources", "pyproject.toml");
        assert_eq!(
            skip_of(one(&out.dependencies, "rich")),
            Some((
                SkipReason::Git,
                "git+https://github.com/Textualize/rich.git@v13.7.1"
            ))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "pip")),
            Some((
                SkipReason::Url,
                "https://github.com/pypa/pip/archive/22.0.2.zip"
            ))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "local")),
            Some((
                SkipReason::Path,
                "file:///opt/wheels/local-1.0-py3-none-any.whl"
            ))
        );
        // A bad string is a warning; the others are still read.
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].line, Some(9));
        assert_eq!(names(&out.dependencies), ["rich", "pip", "local", "anyio"]);
    }

    #[test]
    fn malformed_toml_is_an_error_with_its_line() {
        let r = extract_at(
            &Pyproject,
            &fixture_dir(FORMAT, "malformed"),
            "pyproject.toml",
        );
        match r {
            Err(ExtractError::Toml { line, .. }) => assert_eq!(line, Some(5)),
            other => panic!("expected a TOML error, got {other:?}"),
        }
    }

    #[test]
    fn wrongly_typed_dependencies_are_an_error() {
        let r = extract_at(
            &Pyproject,
            &fixture_dir(FORMAT, "wrong-type"),
            "pyproject.toml",
        );
        assert!(matches!(r, Err(ExtractError::Toml { .. })), "{r:?}");
    }

    #[test]
    fn poetry_exact_versions() {
        assert_eq!(poetry_exact_version("1.2.3"), Some("1.2.3"));
        assert_eq!(poetry_exact_version("==1.2.3"), Some("1.2.3"));
        assert_eq!(poetry_exact_version("1.2.*"), None);
        assert_eq!(poetry_exact_version("^1.2"), None);
        assert_eq!(poetry_exact_version(">=1.2,<2"), None);
        assert_eq!(poetry_exact_version("*"), None);
    }
}
