//! Workflows in `.github/workflows/` (that directory only, as GitHub reads it): every job's
//! reusable-workflow `uses:`, every step's `uses:`, the runtimes that setup actions install,
//! and the images of job containers and service containers.

use super::steps::{step_dependencies, uses_node_dependency};
use super::yaml_tree::{self, Node, Value};
use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::runtime::image::image_dependency;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};

pub struct Workflow;

impl Extractor for Workflow {
    fn id(&self) -> &'static str {
        "actions/workflow"
    }

    fn wants(&self, path: &str, file_name: &str) -> bool {
        (file_name.ends_with(".yml") || file_name.ends_with(".yaml"))
            && path.strip_prefix(".github/workflows/") == Some(file_name)
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let Some(doc) = yaml_tree::parse(file.text)? else {
            return Ok(Extracted::default());
        };
        if !matches!(doc.value, Value::Map(_)) {
            return Err(ExtractError::Invalid(
                "a workflow must be a mapping with `jobs`".to_string(),
            ));
        }
        let mut found = Vec::new();
        let jobs = doc.get("jobs").map(Node::entries).unwrap_or_default();
        for (_, job) in jobs {
            if let Some(uses) = job.get("uses") {
                found.push(uses_node_dependency(file, uses));
            }
            if let Some(container) = job.get("container") {
                found.extend(container_image(file, container));
            }
            let services = job.get("services").map(Node::entries).unwrap_or_default();
            for (_, service) in services {
                found.extend(container_image(file, service));
            }
            let matrix = job.get("strategy").and_then(|s| s.get("matrix"));
            if let Some(steps) = job.get("steps") {
                step_dependencies(file, steps, matrix, &mut found);
            }
        }
        Ok(Extracted::from_dependencies(found))
    }
}

/// The image of `container: node:20` or `container: { image: node:20 }` (services likewise).
fn container_image(file: &ManifestFile<'_>, container: &Node) -> Option<Dependency> {
    let image = match &container.value {
        Value::Map(_) => container.get("image")?,
        _ => container,
    };
    let text = image.text(file.text)?;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.contains("${{") {
        return Some(
            file.dep(Ecosystem::Docker, text, image.line)
                .direct(true)
                .skip(
                    SkipReason::Unsupported,
                    format!("`{text}` is an expression"),
                ),
        );
    }
    Some(image_dependency(file, text, image.line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dependency::SkipReason;
    use crate::extract::extract_at;
    use std::path::Path;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/actions/workflow"
    );

    /// (ecosystem, name, version, line, skip reason)
    type Row = (Ecosystem, String, Option<String>, u32, Option<SkipReason>);

    fn extract(case: &str, file: &str) -> Result<Extracted, ExtractError> {
        let rel = format!(".github/workflows/{file}");
        assert!(Workflow.wants(&rel, file));
        extract_at(&Workflow, &Path::new(FIXTURES).join(case), &rel)
    }

    fn rows(case: &str, file: &str) -> Vec<Row> {
        let found = extract(case, file).unwrap_or_else(|e| panic!("{case}/{file}: {e}"));
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

    fn skipped(eco: Ecosystem, name: &str, line: u32, reason: SkipReason) -> Row {
        (eco, name.into(), None, line, Some(reason))
    }

    const GHA: Ecosystem = Ecosystem::GitHubActions;

    #[test]
    fn wants_only_top_level_workflow_files() {
        assert!(Workflow.wants(".github/workflows/ci.yml", "ci.yml"));
        assert!(Workflow.wants(".github/workflows/release.yaml", "release.yaml"));
        for (path, name) in [
            (".github/workflows/sub/x.yml", "x.yml"),
            ("workflows/x.yml", "x.yml"),
            ("pkg/.github/workflows/ci.yml", "ci.yml"),
            (".github/workflows/ci.yml.bak", "ci.yml.bak"),
            (".github/workflows/README.md", "README.md"),
            (".github/workflow/ci.yml", "ci.yml"),
            (".github/actions/x/action.yml", "action.yml"),
        ] {
            assert!(!Workflow.wants(path, name), "{path}");
        }
    }

    #[test]
    fn empty_and_comment_only_workflows_have_no_entries() {
        assert!(rows("empty", "empty.yml").is_empty());
        assert!(rows("empty", "comments.yaml").is_empty());
    }

    #[test]
    fn one_action() {
        assert_eq!(
            rows("one", "ci.yml"),
            [row(GHA, "actions/checkout", Some("v4"), 7)]
        );
    }

    #[test]
    fn matrices_containers_and_reusable_workflows() {
        use Ecosystem::{Docker, NodeJs, Python};
        assert_eq!(
            rows("several", "ci.yml"),
            [
                row(GHA, "actions/checkout", Some("v4"), 17),
                row(GHA, "actions/setup-node", Some("v4"), 19),
                row(NodeJs, "node", Some("18"), 12),
                row(NodeJs, "node", Some("20"), 12),
                row(NodeJs, "node", Some("22"), 14),
                row(NodeJs, "node", Some("20"), 27),
                row(Docker, "postgres", Some("16"), 30),
                row(GHA, "actions/checkout", Some("v4"), 34),
                row(GHA, "actions/setup-python", Some("v5"), 35),
                row(Python, "python", Some("3.12"), 37),
                row(GHA, "actions/checkout", Some("v4"), 50),
                row(GHA, "actions/setup-python", Some("v5"), 51),
                row(Python, "python", Some("3.9"), 46),
                row(Python, "python", Some("3.10"), 47),
                row(Python, "python", Some("3.11"), 48),
                row(GHA, "octo-org/shared-workflows", Some("v2"), 57),
            ]
        );
    }

    #[test]
    fn sha_pins_local_docker_and_unresolved_forms() {
        use Ecosystem::{Docker, GoToolchain, NodeJs, Python, Ruby};
        use SkipReason::{Path as Local, Unsupported};
        assert_eq!(
            rows("weird", "weird.yaml"),
            [
                row(
                    GHA,
                    "actions/checkout",
                    Some("b4ffde65f46336ab88eb53be808477a3936bae11"),
                    7
                ),
                skipped(GHA, "./.github/actions/build", 8, Local),
                row(Docker, "alpine", Some("3.19"), 9),
                row(NodeJs, "node", Some("18"), 10),
                row(GHA, "github/codeql-action", Some("v3"), 11),
                skipped(GHA, "actions/checkout", 12, Unsupported),
                row(GHA, "actions/setup-node", Some("v4"), 13),
                skipped(NodeJs, "node", 15, Unsupported),
                row(GHA, "actions/setup-node", Some("v4"), 16),
                row(GHA, "actions/setup-python", Some("v5"), 19),
                row(Python, "python", Some("3.10"), 22),
                row(Python, "python", Some("3.11"), 23),
                row(GHA, "actions/setup-go", Some("v5"), 24),
                row(GoToolchain, "go", Some("1.22"), 26),
                skipped(Docker, "${{ vars.IMAGE }}", 33, Unsupported),
                row(GHA, "actions/setup-python", Some("v5"), 35),
                skipped(Python, "python", 37, Unsupported),
                row(GHA, "ruby/setup-ruby", Some("v1"), 38),
                row(Ruby, "ruby", Some("3.3"), 40),
                skipped(GHA, "uses", 41, Unsupported),
            ]
        );
    }

    #[test]
    fn malformed_yaml_and_non_mappings_are_errors() {
        assert!(matches!(
            extract("malformed", "broken.yml"),
            Err(ExtractError::Yaml { .. })
        ));
        assert!(matches!(
            extract("malformed", "list.yml"),
            Err(ExtractError::Invalid(_))
        ));
    }

    #[test]
    fn hostile_shapes_do_not_panic() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let workflows = dir.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap_or_else(|e| panic!("{e}"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let deep = format!("jobs: {}{}", "[".repeat(5000), "]".repeat(5000));
        let texts = [
            "jobs: 5",
            "jobs: [a, b]",
            "jobs:\n  a: 1\n  b: [1]\n  c:\n    steps: 7",
            "jobs:\n  a:\n    steps:\n      - 1\n      - [uses]\n      - uses: null",
            "jobs:\n  a:\n    strategy: {matrix: 3}\n    steps:\n      - uses: actions/setup-node@v4\n        with: 5",
            "jobs:\n  a:\n    strategy: {matrix: {n: {x: 1}}}\n    steps:\n      - uses: actions/setup-node@v4\n        with: {node-version: '${{ matrix.n }}'}",
            "jobs:\n  a:\n    container: {image: [1]}\n    services: 3",
            "\u{feff}jobs: {}",
            "? [complex, key]\n: value",
            bomb.as_str(),
            deep.as_str(),
        ];
        for (i, text) in texts.iter().enumerate() {
            let name = format!("w{i}.yml");
            std::fs::write(workflows.join(&name), text).unwrap_or_else(|e| panic!("{e}"));
            // Ok or Err are both fine; a panic fails the test.
            let _ = extract_at(&Workflow, dir.path(), &format!(".github/workflows/{name}"));
        }
        let nested = "jobs:\n  a:\n    strategy: {matrix: {n: {x: 1}}}\n    steps:\n      - uses: actions/setup-node@v4\n        with: {node-version: '${{ matrix.n }}'}";
        std::fs::write(workflows.join("nested.yml"), nested).unwrap_or_else(|e| panic!("{e}"));
        let found = extract_at(&Workflow, dir.path(), ".github/workflows/nested.yml")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.dependencies.len(), 2);
        assert!(found.dependencies[1].skipped.is_some());
    }
}
