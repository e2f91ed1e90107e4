//! `Pipfile` (pipenv's manifest, TOML): `[packages]`, `[dev-packages]` and the interpreter in
//! `[requires]`. Each declaration is a direct entry with its requirement as written (`*` too).

use super::pep508;
use crate::dependency::SkipReason;
use crate::ecosystem::Ecosystem;
use crate::extract::util::{LineIndex, parse_toml};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::{Spanned, Value};

/// `pypi/pipfile`.
pub struct Pipfile;

type Packages = BTreeMap<Spanned<String>, Value>;

#[derive(Deserialize)]
struct PipfileToml {
    #[serde(default)]
    packages: Packages,
    #[serde(default, rename = "dev-packages")]
    dev_packages: Packages,
    requires: Option<Requires>,
}

#[derive(Deserialize)]
struct Requires {
    python_version: Option<Spanned<String>>,
    python_full_version: Option<Spanned<String>>,
}

impl Extractor for Pipfile {
    fn id(&self) -> &'static str {
        "pypi/pipfile"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "Pipfile"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let doc: PipfileToml = parse_toml(file.text)?;
        let index = LineIndex::new(file.text);
        let mut out = Extracted::default();
        let pythons = doc
            .requires
            .iter()
            .flat_map(|r| [&r.python_version, &r.python_full_version])
            .flatten();
        for python in pythons {
            let line = index.line_of(python.span().start);
            let dep = file
                .dep(Ecosystem::Python, "python", line)
                .requires(python.get_ref().trim());
            out.dependencies.push(dep);
        }
        for (packages, dev) in [(&doc.packages, false), (&doc.dev_packages, true)] {
            for (name, spec) in packages {
                let line = index.line_of(name.span().start);
                let name = name.get_ref();
                let mut dep = file.dep(Ecosystem::PyPI, name, line).direct(true).dev(dev);
                let (requirement, skip) = match spec {
                    Value::String(s) => (Some(s.trim()), None),
                    Value::Table(t) => (t.get("version").and_then(Value::as_str), table_skip(t)),
                    other => {
                        let message = format!("cannot read the declaration of `{name}`: `{other}`");
                        out.diagnostics.push(file.warning(
                            "invalid-requirement",
                            message,
                            Some(line),
                        ));
                        continue;
                    }
                };
                if let Some(requirement) = requirement {
                    if let Some(version) = pep508::exact_pin(requirement) {
                        dep = dep.locked(version);
                    }
                    dep = dep.requires(requirement);
                }
                if let Some((reason, detail)) = skip {
                    dep = dep.skip(reason, detail);
                }
                out.dependencies.push(dep);
            }
        }
        out.dependencies.sort_by_key(|d| d.source.line);
        Ok(out)
    }
}

/// A Pipfile table's non-index source: `git`, `path` or `file`, editable when it says so.
fn table_skip(t: &toml::Table) -> Option<(SkipReason, String)> {
    let editable = t.get("editable").and_then(Value::as_bool) == Some(true);
    let text = |key: &str| t.get(key).and_then(Value::as_str).map(str::to_string);
    let (reason, detail) = if let Some(git) = text("git") {
        (SkipReason::Git, git)
    } else if let Some(path) = text("path") {
        (SkipReason::Path, path)
    } else {
        let file = text("file")?;
        (pep508::direct_reference_reason(&file), file)
    };
    Some(if editable {
        (SkipReason::Editable, detail)
    } else {
        (reason, detail)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::extract::pypi::test_support::{extract_ok, fixture_dir, names, one};

    const FORMAT: &str = "pipfile";

    #[test]
    fn wants_pipfile_only() {
        for (path, yes) in [
            ("Pipfile", true),
            ("svc/Pipfile", true),
            ("Pipfile.lock", false),
            ("Pipfile.bak", false),
            ("pipfile", false),
        ] {
            let file_name = path.rsplit('/').next().unwrap_or(path);
            assert_eq!(Pipfile.wants(path, file_name), yes, "{path}");
        }
    }

    #[test]
    fn empty_pipfile_has_no_entries() {
        let out = extract_ok(&Pipfile, FORMAT, "empty", "Pipfile");
        assert!(out.dependencies.is_empty());
    }

    #[test]
    fn packages_dev_packages_sources_and_python() {
        let out = extract_ok(&Pipfile, FORMAT, "full", "Pipfile");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(
            names(&out.dependencies),
            [
                "requests", "django", "records", "mylib", "httpx", "pytest", "black", "python"
            ]
        );
        let requests = one(&out.dependencies, "requests");
        assert_eq!(requests.requirement.as_deref(), Some("*"));
        assert_eq!(requests.source.line, 7);
        assert!(requests.direct && !requests.dev);
        let django = one(&out.dependencies, "django");
        assert_eq!(django.requirement.as_deref(), Some("==4.2.11"));
        assert_eq!(django.version.as_deref(), Some("4.2.11"));
        let mylib = one(&out.dependencies, "mylib");
        assert_eq!(
            mylib
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.as_str())),
            Some((SkipReason::Editable, "."))
        );
        let httpx = one(&out.dependencies, "httpx");
        assert_eq!(
            httpx.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Git)
        );
        let pytest = one(&out.dependencies, "pytest");
        assert!(pytest.dev && pytest.direct);
        assert_eq!(pytest.requirement.as_deref(), Some(">=8"));
        let python = one(&out.dependencies, "python");
        assert_eq!(python.ecosystem, Ecosystem::Python);
        assert_eq!(python.requirement.as_deref(), Some("3.11"));
        assert_eq!(python.source.line, 18);
    }

    #[test]
    fn malformed_pipfile_is_an_error() {
        let r = extract_at(&Pipfile, &fixture_dir(FORMAT, "malformed"), "Pipfile");
        assert!(
            matches!(r, Err(ExtractError::Toml { line: Some(_), .. })),
            "{r:?}"
        );
    }
}
