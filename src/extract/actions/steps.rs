//! The steps of a job or a composite action: each `uses:` is an entry, and setup actions add
//! the runtime pins of their inputs.

use super::setup::setup_pins;
use super::uses::{Uses, uses_dependency};
use super::yaml_tree::Node;
use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::ManifestFile;

/// Appends the dependencies of `steps` (a sequence of step mappings) to `out`. `matrix` is the
/// job's `strategy.matrix`, for versions written as `${{ matrix.KEY }}`.
pub fn step_dependencies(
    file: &ManifestFile<'_>,
    steps: &Node,
    matrix: Option<&Node>,
    out: &mut Vec<Dependency>,
) {
    for step in steps.items() {
        let Some(uses) = step.get("uses") else {
            continue;
        };
        out.push(uses_node_dependency(file, uses));
        if let Some(text) = uses.as_str()
            && let Uses::Action { name, .. } = Uses::parse(text)
        {
            out.extend(setup_pins(file, &name, step.get("with"), matrix));
        }
    }
}

/// The entry for a `uses:` node; a value that is not a string is kept as unsupported.
pub fn uses_node_dependency(file: &ManifestFile<'_>, uses: &Node) -> Dependency {
    match uses.text(file.text) {
        Some(text) => uses_dependency(file, &text, uses.line),
        None => file
            .dep(Ecosystem::GitHubActions, "uses", uses.line)
            .direct(true)
            .skip(SkipReason::Unsupported, "`uses:` is not a string"),
    }
}
