//! Extractors for GitHub Actions: workflows and action metadata (composite, JavaScript and
//! Docker actions). `uses:` values become `GitHub Actions` entries named `owner/repo` with the
//! ref as version; setup actions, `runs.using: nodeNN` and container images become runtime or
//! `docker` entries.

mod composite;
mod setup;
mod steps;
mod uses;
mod workflow;
mod yaml_tree;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[&workflow::Workflow, &composite::CompositeAction];

#[cfg(test)]
mod tests {
    #[test]
    fn registered_for_their_paths() {
        let ids = |path: &str| {
            crate::extract::for_path(path)
                .map(|e| e.id())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(".github/workflows/ci.yml"), ["actions/workflow"]);
        assert_eq!(
            ids(".github/actions/setup/action.yml"),
            ["actions/composite"]
        );
        assert_eq!(ids("action.yaml"), ["actions/composite"]);
    }
}
