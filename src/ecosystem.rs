//! Ecosystems, spelled exactly as OSV spells them, plus the runtimes that pins name.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A package ecosystem (as OSV names it) or a runtime (as endoflife.date names it).
///
/// Runtimes are separate values so that a `.nvmrc` pin (`nodejs`) never compares against an npm
/// package called `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPI,
    #[serde(rename = "crates.io")]
    CratesIo,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "Packagist")]
    Packagist,
    #[serde(rename = "GitHub Actions")]
    GitHubActions,
    /// A container image named by a Dockerfile `FROM` line that is not a known runtime.
    #[serde(rename = "docker")]
    Docker,
    /// The Python interpreter (`requires-python`, `.python-version`, `python:3.12` images).
    #[serde(rename = "python")]
    Python,
    /// The Node.js runtime (`engines.node`, `.nvmrc`, `node:20` images).
    #[serde(rename = "nodejs")]
    NodeJs,
    /// The Rust toolchain (`rust-toolchain.toml`).
    #[serde(rename = "rust")]
    Rust,
    /// The Go toolchain (`go` and `toolchain` lines of go.mod), distinct from Go modules.
    #[serde(rename = "go")]
    GoToolchain,
    /// The Ruby interpreter.
    #[serde(rename = "ruby")]
    Ruby,
    /// The PHP interpreter.
    #[serde(rename = "php")]
    Php,
}

impl Ecosystem {
    /// Every value, for help texts and exhaustive tests.
    pub const ALL: &'static [Ecosystem] = &[
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::CratesIo,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::GitHubActions,
        Ecosystem::Docker,
        Ecosystem::Python,
        Ecosystem::NodeJs,
        Ecosystem::Rust,
        Ecosystem::GoToolchain,
        Ecosystem::Ruby,
        Ecosystem::Php,
    ];

    /// The spelling used in JSON, in OSV records and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::GitHubActions => "GitHub Actions",
            Ecosystem::Docker => "docker",
            Ecosystem::Python => "python",
            Ecosystem::NodeJs => "nodejs",
            Ecosystem::Rust => "rust",
            Ecosystem::GoToolchain => "go",
            Ecosystem::Ruby => "ruby",
            Ecosystem::Php => "php",
        }
    }

    /// Parses the OSV spelling (case-sensitive, as OSV is), plus a few common aliases.
    pub fn parse(s: &str) -> Option<Ecosystem> {
        Ecosystem::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == s)
            .or(match s {
                "pypi" => Some(Ecosystem::PyPI),
                "crates" | "cargo" => Some(Ecosystem::CratesIo),
                "rubygems" => Some(Ecosystem::RubyGems),
                "packagist" | "composer" => Some(Ecosystem::Packagist),
                "node" => Some(Ecosystem::NodeJs),
                "golang" => Some(Ecosystem::GoToolchain),
                _ => None,
            })
    }

    /// True for interpreters and toolchains (pins), false for package ecosystems.
    pub fn is_runtime(self) -> bool {
        matches!(
            self,
            Ecosystem::Python
                | Ecosystem::NodeJs
                | Ecosystem::Rust
                | Ecosystem::GoToolchain
                | Ecosystem::Ruby
                | Ecosystem::Php
        )
    }

    /// Normalizes a package name the way the ecosystem compares names, so that one package
    /// has one spelling everywhere (PEP 503 for PyPI, lower case for Packagist).
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => pep503_normalize(name),
            Ecosystem::Packagist => name.trim().to_ascii_lowercase(),
            _ => name.trim().to_string(),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// PEP 503: lower case, and every run of `-`, `_` and `.` becomes one `-`.
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator_run = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_collapses_separator_runs_and_lowercases() {
        assert_eq!(pep503_normalize("Django"), "django");
        assert_eq!(pep503_normalize("zope.interface"), "zope-interface");
        assert_eq!(pep503_normalize("Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(pep503_normalize("ruamel.yaml.clib"), "ruamel-yaml-clib");
    }

    #[test]
    fn spelling_round_trips_through_serde_and_parse() {
        for eco in Ecosystem::ALL {
            let json = serde_json::to_string(eco).expect("serialize");
            assert_eq!(json, format!("\"{}\"", eco.as_str()));
            assert_eq!(Ecosystem::parse(eco.as_str()), Some(*eco));
        }
    }
}
