//! `uv.lock`: every `[[package]]` uv locked, at its header line. Workspace members (sources
//! `editable` or `virtual`) are listed too, skipped as local; packages a member names directly are
//! `direct`, and those only its optional or dev groups name are `optional` or `dev`.

use crate::dependency::SkipReason;
use crate::ecosystem::{Ecosystem, pep503_normalize};
use crate::extract::util::{LineIndex, parse_toml};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use toml::{Spanned, Value};

/// `pypi/uv-lock`.
pub struct UvLock;

#[derive(Deserialize)]
struct UvLockToml {
    #[serde(default)]
    package: Vec<Spanned<Package>>,
}

/// A package's dependency lists: group (or extra) name to the packages it names.
type Groups = BTreeMap<String, Vec<PackageRef>>;

#[derive(Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    /// An inline table with one key saying where the package comes from.
    #[serde(default)]
    source: BTreeMap<String, Value>,
    #[serde(default)]
    dependencies: Vec<PackageRef>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: Groups,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: Groups,
}

#[derive(Deserialize)]
struct PackageRef {
    name: String,
}

impl Package {
    /// Why the package is not a registry release, with the location that says so.
    fn skip(&self) -> Option<(SkipReason, String)> {
        [
            ("git", SkipReason::Git),
            ("editable", SkipReason::Editable),
            ("virtual", SkipReason::Path),
            ("path", SkipReason::Path),
            ("directory", SkipReason::Path),
            ("url", SkipReason::Url),
        ]
        .into_iter()
        .find_map(|(key, reason)| {
            let value = self.source.get(key)?;
            Some((reason, value.as_str().unwrap_or_default().to_string()))
        })
    }

    /// A project of the workspace itself rather than something it installs.
    fn is_member(&self) -> bool {
        self.source.contains_key("editable") || self.source.contains_key("virtual")
    }
}

/// What the workspace members ask for, by normalized name.
#[derive(Default)]
struct MemberNeeds {
    main: HashSet<String>,
    optional: HashSet<String>,
    dev: HashSet<String>,
}

impl MemberNeeds {
    fn of(packages: &[Spanned<Package>]) -> MemberNeeds {
        let mut needs = MemberNeeds::default();
        let names = |refs: &[PackageRef]| {
            refs.iter()
                .map(|r| pep503_normalize(&r.name))
                .collect::<Vec<_>>()
        };
        for package in packages
            .iter()
            .map(Spanned::get_ref)
            .filter(|p| p.is_member())
        {
            needs.main.extend(names(&package.dependencies));
            for refs in package.optional_dependencies.values() {
                needs.optional.extend(names(refs));
            }
            for refs in package.dev_dependencies.values() {
                needs.dev.extend(names(refs));
            }
        }
        needs
    }
}

impl Extractor for UvLock {
    fn id(&self) -> &'static str {
        "pypi/uv-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "uv.lock"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let lock: UvLockToml = parse_toml(file.text)?;
        let index = LineIndex::new(file.text);
        let needs = MemberNeeds::of(&lock.package);
        let dependencies = lock
            .package
            .iter()
            .map(|spanned| {
                let package = spanned.get_ref();
                let line = index.line_of(spanned.span().start);
                let mut dep = file.dep(Ecosystem::PyPI, &package.name, line);
                if let Some(version) = &package.version {
                    dep = dep.locked(version.trim());
                }
                if let Some((reason, detail)) = package.skip() {
                    dep = dep.skip(reason, detail);
                }
                if package.is_member() {
                    return dep;
                }
                let main = needs.main.contains(&dep.name);
                let optional = !main && needs.optional.contains(&dep.name);
                let dev = !main && !optional && needs.dev.contains(&dep.name);
                dep.direct(main || optional || dev)
                    .optional(optional)
                    .dev(dev)
            })
            .collect();
        Ok(Extracted::from_dependencies(dependencies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::extract::pypi::test_support::{extract_ok, fixture_dir, names, one};

    const FORMAT: &str = "uv-lock";

    fn skip_of(d: &crate::Dependency) -> Option<(SkipReason, &str)> {
        d.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()))
    }

    #[test]
    fn wants_uv_lock_only() {
        for (path, yes) in [
            ("uv.lock", true),
            ("apps/web/uv.lock", true),
            ("uv.lock.file", false),
            ("path.to.uv.lock", false),
            ("uv.toml", false),
        ] {
            let file_name = path.rsplit('/').next().unwrap_or(path);
            assert_eq!(UvLock.wants(path, file_name), yes, "{path}");
        }
    }

    #[test]
    fn empty_lock_has_no_entries() {
        let out = extract_ok(&UvLock, FORMAT, "empty", "uv.lock");
        assert!(out.dependencies.is_empty());
    }

    #[test]
    fn one_package_with_its_project() {
        let out = extract_ok(&UvLock, FORMAT, "one-package", "uv.lock");
        assert_eq!(names(&out.dependencies), ["hello", "idna"]);
        let project = one(&out.dependencies, "hello");
        assert_eq!(skip_of(project), Some((SkipReason::Path, ".")));
        assert_eq!(project.version.as_deref(), Some("0.1.0"));
        assert_eq!(project.source.line, 5);
        let idna = one(&out.dependencies, "idna");
        assert_eq!(idna.version.as_deref(), Some("3.7"));
        assert_eq!(idna.source.line, 16);
        assert!(idna.direct && !idna.dev && idna.skipped.is_none());
    }

    #[test]
    fn dev_only_packages_are_dev_and_transitive_ones_are_not_direct() {
        let out = extract_ok(&UvLock, FORMAT, "dev-only", "uv.lock");
        let pytest = one(&out.dependencies, "pytest");
        assert!(pytest.direct && pytest.dev);
        let pluggy = one(&out.dependencies, "pluggy");
        assert!(
            !pluggy.direct && !pluggy.dev,
            "transitive: not known to be dev"
        );
        assert_eq!(pluggy.version.as_deref(), Some("1.5.0"));
    }

    #[test]
    fn workspace_members_are_kept_and_their_needs_flag_packages() {
        let out = extract_ok(&UvLock, FORMAT, "workspace", "uv.lock");
        assert_eq!(
            names(&out.dependencies),
            [
                "albatross",
                "anyio",
                "bird-feeder",
                "idna",
                "seeds",
                "sniffio",
                "tqdm",
                "typing-extensions"
            ]
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "albatross")),
            Some((SkipReason::Editable, "."))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "bird-feeder")),
            Some((SkipReason::Editable, "packages/bird-feeder"))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "seeds")),
            Some((SkipReason::Path, "packages/seeds"))
        );
        let anyio = one(&out.dependencies, "anyio");
        assert!(anyio.direct && !anyio.optional && !anyio.dev);
        assert_eq!(anyio.source.line, 39);
        let tqdm = one(&out.dependencies, "tqdm");
        assert!(tqdm.direct && tqdm.optional && !tqdm.dev);
        let typing = one(&out.dependencies, "typing-extensions");
        assert!(typing.direct && typing.dev);
        let sniffio = one(&out.dependencies, "sniffio");
        assert!(!sniffio.direct);
    }

    #[test]
    fn git_path_and_url_sources_are_skipped() {
        let out = extract_ok(&UvLock, FORMAT, "sources", "uv.lock");
        assert_eq!(
            skip_of(one(&out.dependencies, "httpx")),
            Some((
                SkipReason::Git,
                "https://github.com/encode/httpx?rev=0.27.0#326b9431c761e1ef1e00b9f760d1f654c8db48c6"
            ))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "local-tool")),
            Some((SkipReason::Path, "wheels/local_tool-0.3.0-py3-none-any.whl"))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "vendored")),
            Some((SkipReason::Path, "../vendored"))
        );
        assert_eq!(
            skip_of(one(&out.dependencies, "attrs")),
            Some((
                SkipReason::Url,
                "https://files.example.com/attrs-23.2.0-py3-none-any.whl"
            ))
        );
    }

    #[test]
    fn truncated_lock_is_an_error() {
        let r = extract_at(&UvLock, &fixture_dir(FORMAT, "malformed"), "uv.lock");
        assert!(
            matches!(r, Err(ExtractError::Toml { line: Some(_), .. })),
            "{r:?}"
        );
    }
}
