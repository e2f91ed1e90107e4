//! `composer.json`: the packages a PHP project requires, with their constraints as written.
//!
//! `require` and `require-dev` (dev) are read; `php` becomes a pin of the PHP runtime and the
//! other platform packages (`ext-*`, `lib-*`) are kept with a skip. Branch constraints
//! (`dev-main`) stay as written: whether they resolve through Packagist or a VCS repository is
//! only known from composer.lock.

use super::declared::{declared, requirement_map};
use super::locate::find_key;
use crate::extract::util::{LineIndex, parse_json};
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use serde_json::Value;

pub struct ComposerJson;

impl Extractor for ComposerJson {
    fn id(&self) -> &'static str {
        "packagist/composer-json"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "composer.json"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let root: Value = parse_json(file.text)?;
        let Some(root) = root.as_object() else {
            return Err(ExtractError::Invalid(
                "composer.json is not a JSON object".to_string(),
            ));
        };
        let index = LineIndex::new(file.text);
        let mut out = Extracted::default();
        for (section, dev) in [("require", false), ("require-dev", true)] {
            let Some(value) = root.get(section) else {
                continue;
            };
            let section_at = find_key(file.text, section, 0).unwrap_or(0);
            let Some(entries) = requirement_map(value) else {
                out.diagnostics.push(file.warning(
                    "unexpected-shape",
                    format!("`{section}` is not an object of package constraints"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::{Dependency, Ecosystem, SkipReason};
    use std::path::PathBuf;

    fn run(case: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/packagist/composer-json")
            .join(case);
        extract_at(&ComposerJson, &root, "composer.json")
    }

    fn find<'a>(out: &'a Extracted, name: &str) -> &'a Dependency {
        out.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no entry for {name}: {:#?}", out.dependencies))
    }

    #[test]
    fn wants_only_composer_json() {
        assert!(ComposerJson.wants("composer.json", "composer.json"));
        assert!(ComposerJson.wants("app/composer.json", "composer.json"));
        assert!(!ComposerJson.wants("composer.lock", "composer.lock"));
        assert!(!ComposerJson.wants("mycomposer.json", "mycomposer.json"));
        assert!(!ComposerJson.wants("composer.json.dist", "composer.json.dist"));
    }

    #[test]
    fn empty_requirements_written_as_php_arrays() {
        let out = run("empty").expect("parses");
        assert!(out.dependencies.is_empty());
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn one_package_with_php_and_platform_packages() {
        let out = run("one-package").expect("parses");
        let names: Vec<&str> = out.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["php", "ext-intl", "monolog/monolog"]);

        let php = find(&out, "php");
        assert_eq!(php.ecosystem, Ecosystem::Php);
        assert_eq!(php.requirement.as_deref(), Some(">=8.1"));
        assert_eq!(php.source.line, 6);
        assert!(php.skipped.is_none());

        let intl = find(&out, "ext-intl");
        assert_eq!(
            intl.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported)
        );

        let monolog = find(&out, "monolog/monolog");
        assert_eq!(monolog.ecosystem, Ecosystem::Packagist);
        assert_eq!(monolog.requirement.as_deref(), Some("^3.5"));
        assert!(monolog.direct && !monolog.dev);
        assert_eq!(monolog.source.line, 8);
    }

    #[test]
    fn dev_only_and_names_lower_cased() {
        let out = run("dev-only").expect("parses");
        assert_eq!(out.dependencies.len(), 2);
        assert!(out.dependencies.iter().all(|d| d.dev && d.direct));
        let phpunit = find(&out, "phpunit/phpunit");
        assert_eq!(phpunit.requirement.as_deref(), Some("^10.5 || ^11.0"));
        assert_eq!(phpunit.source.line, 5);
        let stan = find(&out, "phpstan/phpstan");
        assert_eq!(stan.source.line, 4, "written PHPStan/PHPStan");
    }

    #[test]
    fn monorepo_app_with_vcs_and_path_repositories() {
        let out = run("monorepo").expect("parses");
        let internal = find(&out, "acme/billing");
        assert_eq!(internal.requirement.as_deref(), Some("dev-main"));
        assert_eq!(internal.source.line, 18);
        let local = find(&out, "acme/shared-kernel");
        assert_eq!(local.requirement.as_deref(), Some("*@dev"));
        // The same name under require and require-dev maps to the right section's line.
        let dumps: Vec<(bool, u32)> = out
            .dependencies
            .iter()
            .filter(|d| d.name == "symfony/var-dumper")
            .map(|d| (d.dev, d.source.line))
            .collect();
        assert_eq!(dumps, [(false, 21), (true, 24)]);
        let odd = find(&out, "acme/odd");
        assert_eq!(
            odd.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported)
        );
    }

    #[test]
    fn malformed_json_is_an_error_with_its_line() {
        let err = run("malformed").expect_err("truncated");
        assert!(matches!(err, ExtractError::Json { .. }), "{err:?}");
        assert_eq!(err.line(), Some(7));
    }

    #[test]
    fn non_object_require_is_a_warning() {
        let repo = crate::repo::Repo::open(std::path::Path::new("."), 1024).expect("cwd");
        let file = ManifestFile {
            path: "composer.json",
            text: "{\n  \"require\": \"monolog/monolog\"\n}\n",
            repo: &repo,
        };
        let out = ComposerJson.extract(&file).expect("parses");
        assert!(out.dependencies.is_empty());
        assert_eq!(out.diagnostics[0].line, Some(2));
        let file = ManifestFile {
            path: "composer.json",
            text: "[1, 2]",
            repo: &repo,
        };
        assert!(ComposerJson.extract(&file).is_err());
    }
}
