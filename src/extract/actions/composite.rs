//! Action metadata files (`action.yml`, `action.yaml`, anywhere in the repository). Composite
//! actions list steps whose `uses:` are dependencies; JavaScript actions name the Node.js
//! runtime that runs them (`runs.using: node20` is Node.js `20`, and `node12`/`node16` are
//! runtimes GitHub has retired); Docker actions may name an image (`image: docker://…`).
//! A file without `runs` is not an action and yields nothing.

use super::steps::step_dependencies;
use super::yaml_tree::{self, Node};
use crate::ecosystem::Ecosystem;
use crate::extract::runtime::image::image_dependency;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};

pub struct CompositeAction;

impl Extractor for CompositeAction {
    fn id(&self) -> &'static str {
        "actions/composite"
    }

    fn wants(&self, path: &str, file_name: &str) -> bool {
        matches!(file_name, "action.yml" | "action.yaml") && !path.starts_with(".github/workflows/")
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let doc = yaml_tree::parse(file.text)?;
        let Some(runs) = doc.as_ref().and_then(|d| d.get("runs")) else {
            return Ok(Extracted::default());
        };
        let mut found = Vec::new();
        let using = runs.get("using");
        match using.and_then(Node::as_str).map(str::to_ascii_lowercase) {
            Some(u) if u == "composite" => {
                if let Some(steps) = runs.get("steps") {
                    step_dependencies(file, steps, None, &mut found);
                }
            }
            Some(u) if u == "docker" => {
                if let Some(node) = runs.get("image")
                    && let Some(reference) = node
                        .as_str()
                        .and_then(|image| image.trim().strip_prefix("docker://"))
                {
                    found.push(image_dependency(file, reference, node.line));
                }
            }
            Some(u) => {
                if let (Some(node), Some(major)) = (using, u.strip_prefix("node"))
                    && !major.is_empty()
                    && major.chars().all(|c| c.is_ascii_digit())
                {
                    found.push(
                        file.dep(Ecosystem::NodeJs, "node", node.line)
                            .direct(true)
                            .locked(major),
                    );
                }
            }
            None => {}
        }
        Ok(Extracted::from_dependencies(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dependency::SkipReason;
    use crate::extract::extract_at;
    use std::path::Path;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/actions/composite"
    );

    /// (ecosystem, name, version, line, skip reason)
    type Row = (Ecosystem, String, Option<String>, u32, Option<SkipReason>);

    fn extract(case: &str, rel: &str) -> Result<Extracted, ExtractError> {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        assert!(CompositeAction.wants(rel, name));
        extract_at(&CompositeAction, &Path::new(FIXTURES).join(case), rel)
    }

    fn rows(case: &str, rel: &str) -> Vec<Row> {
        let found = extract(case, rel).unwrap_or_else(|e| panic!("{case}/{rel}: {e}"));
        assert!(found.dependencies.iter().all(|d| d.direct));
        found
            .dependencies
            .into_iter()
            .map(|d| {
                (
                    d.ecosystem,
                    d.name,
                    d.version,
                    d.source.line,
                    d.skipped.map(|s| s.reason),
                )
            })
            .collect()
    }

    fn row(eco: Ecosystem, name: &str, version: Option<&str>, line: u32) -> Row {
        (eco, name.into(), version.map(Into::into), line, None)
    }

    #[test]
    fn wants_action_metadata_anywhere_but_workflows() {
        assert!(CompositeAction.wants("action.yml", "action.yml"));
        assert!(CompositeAction.wants(".github/actions/x/action.yaml", "action.yaml"));
        for (path, name) in [
            (".github/workflows/action.yml", "action.yml"),
            ("my-action.yml", "my-action.yml"),
            ("action.yml.orig", "action.yml.orig"),
            ("actions.yml", "actions.yml"),
            ("Action.yml", "Action.yml"),
        ] {
            assert!(!CompositeAction.wants(path, name), "{path}");
        }
    }

    #[test]
    fn empty_file_has_no_entries() {
        assert!(rows("empty", "action.yml").is_empty());
    }

    #[test]
    fn composite_steps() {
        let gha = Ecosystem::GitHubActions;
        assert_eq!(
            rows("composite", "action.yml"),
            [
                row(gha, "actions/setup-node", Some("v4"), 10),
                (
                    Ecosystem::NodeJs,
                    "node".into(),
                    None,
                    12,
                    Some(SkipReason::Unsupported)
                ),
                row(gha, "actions/cache", Some("v4.0.2"), 13),
                (
                    gha,
                    "./.github/actions/lint".into(),
                    None,
                    17,
                    Some(SkipReason::Path)
                ),
            ]
        );
    }

    #[test]
    fn javascript_action_pins_its_node_runtime() {
        assert_eq!(
            rows("javascript", ".github/actions/notify/action.yaml"),
            [row(Ecosystem::NodeJs, "node", Some("16"), 4)]
        );
    }

    #[test]
    fn docker_actions() {
        assert_eq!(
            rows("docker", "action.yml"),
            [row(
                Ecosystem::Docker,
                "ghcr.io/acme/linter",
                Some("2.1.0"),
                5
            )]
        );
        // A local Dockerfile is read by the Dockerfile extractor, not here.
        assert!(rows("docker-local", "action.yml").is_empty());
    }

    #[test]
    fn files_that_are_not_actions_yield_nothing() {
        assert!(rows("not-an-action", "action.yml").is_empty());
    }

    #[test]
    fn malformed_yaml_is_an_error() {
        assert!(matches!(
            extract("malformed", "action.yml"),
            Err(ExtractError::Yaml { .. })
        ));
    }
}
