//! `kind = "dependency"`: an inventory entry by ecosystem, name and optional range. The
//! finding points at the manifest or lockfile line that declares or locks the package.

use super::{Hit, versions};
use crate::dependency::Dependency;
use crate::ecosystem::Ecosystem;
use crate::finding::PackageRef;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct DependencyMatcher {
    pub ecosystem: Ecosystem,
    /// Normalized the ecosystem's way.
    pub name: String,
    /// A range in the ecosystem's syntax; `None` matches any version.
    pub version: Option<String>,
}

impl DependencyMatcher {
    /// The entries that match, each with the path it is written in.
    ///
    /// With a range, an entry matches when its locked version satisfies it, or when its
    /// requirement pins one exact version that does; an open requirement (`^1.2`) alone does
    /// not match, because the installed version is unknown (the lockfile entry decides).
    pub fn find(&self, deps: &[Dependency]) -> Vec<(String, Hit)> {
        let mut out = Vec::new();
        for dep in deps {
            if dep.ecosystem != self.ecosystem || dep.name != self.name {
                continue;
            }
            let version = dep
                .version
                .as_deref()
                .or_else(|| dep.requirement.as_deref().and_then(versions::exact_pin));
            if let Some(range) = &self.version {
                let Some(v) = version else { continue };
                if !versions::satisfies(self.ecosystem, v, range).unwrap_or(false) {
                    continue;
                }
            }
            let shown = version
                .map(str::to_string)
                .or_else(|| dep.requirement.clone())
                .unwrap_or_default();
            let mut captures = BTreeMap::new();
            captures.insert("PACKAGE".to_string(), dep.name.clone());
            captures.insert("VERSION".to_string(), shown.clone());
            out.push((
                dep.source.path.clone(),
                Hit {
                    line: dep.source.line.max(1),
                    column: 1,
                    matched: format!("{}:{}@{}", dep.ecosystem, dep.name, shown),
                    snippet: format!("{} {}", dep.name, shown).trim().to_string(),
                    captures,
                    package: Some(PackageRef {
                        ecosystem: dep.ecosystem,
                        name: dep.name.clone(),
                        version: version.map(str::to_string),
                    }),
                },
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps() -> Vec<Dependency> {
        vec![
            Dependency::new(Ecosystem::PyPI, "Pydantic", "requirements.txt", 3).requires(">=1"),
            Dependency::new(Ecosystem::PyPI, "pydantic", "uv.lock", 40).locked("1.10.2"),
            Dependency::new(Ecosystem::PyPI, "pydantic", "other/requirements.txt", 1)
                .requires("==1.9.0"),
            Dependency::new(Ecosystem::Npm, "pydantic", "package.json", 2).requires("1.0.0"),
        ]
    }

    #[test]
    fn matches_locked_versions_and_exact_pins_in_range() {
        let m = DependencyMatcher {
            ecosystem: Ecosystem::PyPI,
            name: "pydantic".into(),
            version: Some("<2".into()),
        };
        let hits = m.find(&deps());
        let places: Vec<(&str, u32)> = hits.iter().map(|(p, h)| (p.as_str(), h.line)).collect();
        assert_eq!(places, vec![("uv.lock", 40), ("other/requirements.txt", 1)]);
        let pkg = hits[0].1.package.as_ref().unwrap();
        assert_eq!(pkg.version.as_deref(), Some("1.10.2"));
        assert_eq!(hits[0].1.captures["VERSION"], "1.10.2");
    }

    #[test]
    fn without_a_range_every_entry_matches() {
        let m = DependencyMatcher {
            ecosystem: Ecosystem::PyPI,
            name: "pydantic".into(),
            version: None,
        };
        assert_eq!(m.find(&deps()).len(), 3);
        let none = DependencyMatcher {
            ecosystem: Ecosystem::PyPI,
            name: "pydantic".into(),
            version: Some(">=2".into()),
        };
        assert!(none.find(&deps()).is_empty());
    }
}
