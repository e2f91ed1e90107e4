//! Repository-level gates, evaluated on the inventory before the walk: a rule whose `[when]`
//! fails is dropped and costs nothing. (The per-file gates, `[files]` and `imports`, run in
//! [`super::plan`].)

use crate::dependency::Dependency;
use crate::matcher::versions;
use crate::rules::{DependencyGate, Rule, RuntimeGate};

/// Do the rule's `dependencies` and `runtimes` gates pass for this inventory?
pub fn admits(rule: &Rule, deps: &[Dependency]) -> bool {
    let when = &rule.when;
    let dependencies_ok = when.dependencies.is_empty()
        || when
            .dependencies
            .iter()
            .any(|gate| dependency_present(gate, deps));
    dependencies_ok
        && when
            .runtimes
            .iter()
            .all(|gate| runtime_admitted(gate, deps))
}

/// Is the package there, in range? A lockfile's locked version (or an exact pin) decides; a
/// manifest requirement that allows a range (`^1.2`) without a lockfile counts as present,
/// because the version that would be installed is unknown.
fn dependency_present(gate: &DependencyGate, deps: &[Dependency]) -> bool {
    deps.iter()
        .filter(|d| d.ecosystem == gate.ecosystem && d.name == gate.name)
        .any(|d| {
            let Some(range) = &gate.version else {
                return true;
            };
            let exact = d
                .version
                .as_deref()
                .or_else(|| d.requirement.as_deref().and_then(versions::exact_pin));
            match exact {
                Some(v) => versions::satisfies(gate.ecosystem, v, range).unwrap_or(false),
                None => true,
            }
        })
}

/// Does any pin of the runtime admit a version in the gate's range? Unreadable pins
/// (`lts/*`) admit; no pin at all admits unless the rule says `unknown = "skip"`.
fn runtime_admitted(gate: &RuntimeGate, deps: &[Dependency]) -> bool {
    let pins: Vec<&str> = deps
        .iter()
        .filter(|d| d.ecosystem == gate.runtime)
        .filter_map(|d| d.version.as_deref().or(d.requirement.as_deref()))
        .collect();
    if pins.is_empty() {
        return gate.pass_when_unknown;
    }
    pins.iter().any(|pin| {
        versions::pin_admits(gate.runtime, pin, &gate.version)
            .ok()
            .flatten()
            .unwrap_or(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use crate::rules::{FeedFile, load_rules};

    fn rule(when: &str) -> Rule {
        let text = format!(
            r#"schema = 1
id = "demo/gated"
title = "t"
message = "m"
kind = "deprecation"
severity = "low"
note = "n"
references = ["https://example.com/"]
{when}
[[match]]
kind = "regex"
pattern = "x"
"#
        );
        load_rules(&FeedFile {
            rel: "demo/gated.toml".into(),
            display: "demo/gated.toml".into(),
            text,
        })
        .unwrap()
    }

    #[test]
    fn dependency_gate_uses_locked_versions_and_passes_open_requirements() {
        let r = rule(
            "[when]\ndependencies = [{ ecosystem = \"PyPI\", name = \"Pydantic\", version = \"<2\" }]",
        );
        let locked_old =
            [Dependency::new(Ecosystem::PyPI, "pydantic", "uv.lock", 1).locked("1.10.0")];
        let locked_new =
            [Dependency::new(Ecosystem::PyPI, "pydantic", "uv.lock", 1).locked("2.5.0")];
        let open =
            [Dependency::new(Ecosystem::PyPI, "pydantic", "pyproject.toml", 1).requires(">=1")];
        let pinned_new = [
            Dependency::new(Ecosystem::PyPI, "pydantic", "requirements.txt", 1).requires("==2.1.0"),
        ];
        let other =
            [Dependency::new(Ecosystem::Npm, "pydantic", "package.json", 1).locked("1.0.0")];
        assert!(admits(&r, &locked_old));
        assert!(!admits(&r, &locked_new));
        assert!(admits(&r, &open));
        assert!(!admits(&r, &pinned_new));
        assert!(!admits(&r, &other));
        assert!(!admits(&r, &[]));
        assert!(admits(&rule(""), &[]));
    }

    #[test]
    fn runtime_gate_reads_pins_and_ranges() {
        let r = rule("[when]\nruntimes = [{ runtime = \"python\", version = \">=3.12\" }]");
        let pin = |v: &str| {
            [Dependency::new(Ecosystem::Python, "python", ".python-version", 1).locked(v)]
        };
        let req = |v: &str| {
            [Dependency::new(Ecosystem::Python, "python", "pyproject.toml", 3).requires(v)]
        };
        assert!(admits(&r, &pin("3.12")));
        assert!(!admits(&r, &pin("3.11")));
        assert!(admits(&r, &req(">=3.8")));
        assert!(!admits(&r, &req(">=3.8,<3.11")));
        assert!(admits(&r, &[]), "no pin passes by default");
        let strict = rule(
            "[when]\nruntimes = [{ runtime = \"python\", version = \">=3.12\", unknown = \"skip\" }]",
        );
        assert!(!admits(&strict, &[]));
        assert!(admits(&strict, &pin("3.13")));
    }
}
