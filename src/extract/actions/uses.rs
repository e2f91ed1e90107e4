//! The value of a `uses:` key: a repository action (`actions/checkout@v4`), an action or
//! reusable workflow in a subdirectory (`github/codeql-action/init@v3`,
//! `octo/ci/.github/workflows/build.yml@main`), a local action (`./.github/actions/x`) or a
//! container (`docker://alpine:3.19`).
//!
//! Names are `owner/repo` in lower case, the way OSV's GitHub Actions ecosystem names packages
//! (GitHub compares them without case); a subdirectory is part of the same repository and
//! release, so it is not part of the name. The version is the ref as written: a tag (`v4`,
//! `v4.1.1`), a branch, or a 40-hex commit SHA. A trailing `# v4.1.1` comment after a SHA is
//! not read.

use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::ManifestFile;
use crate::extract::runtime::image::image_dependency;

/// What a `uses:` value points at.
#[derive(Debug, PartialEq, Eq)]
pub enum Uses<'a> {
    /// `owner/repo[/path]@ref`; `name` is `owner/repo` in lower case.
    Action { name: String, reference: &'a str },
    /// `./path` in the same repository.
    Local,
    /// `docker://image`, with the image reference.
    Docker(&'a str),
    /// Anything else, with the reason.
    Invalid(String),
}

impl<'a> Uses<'a> {
    pub fn parse(text: &'a str) -> Uses<'a> {
        let text = text.trim();
        if text.starts_with("./") || text.starts_with("../") || text.starts_with(".\\") {
            return Uses::Local;
        }
        if let Some(image) = text.strip_prefix("docker://") {
            return Uses::Docker(image);
        }
        if text.contains("${{") {
            return Uses::Invalid(format!("`{text}` is an expression"));
        }
        let Some((path, reference)) = text.split_once('@') else {
            return Uses::Invalid(format!("`{text}` has no `@ref`"));
        };
        if reference.is_empty() || reference.chars().any(char::is_whitespace) {
            return Uses::Invalid(format!("`{text}` has no usable ref"));
        }
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let mut parts = path.split('/');
        match (parts.next(), parts.next()) {
            (Some(owner), Some(repo)) if valid(owner) && valid(repo) => Uses::Action {
                name: format!("{owner}/{repo}").to_ascii_lowercase(),
                reference,
            },
            _ => Uses::Invalid(format!("`{text}` is not `owner/repo@ref`")),
        }
    }
}

/// The inventory entry for a `uses:` value written at `line`.
pub fn uses_dependency(file: &ManifestFile<'_>, text: &str, line: u32) -> Dependency {
    let as_written = || {
        file.dep(Ecosystem::GitHubActions, text.trim(), line)
            .direct(true)
    };
    match Uses::parse(text) {
        Uses::Action { name, reference } => file
            .dep(Ecosystem::GitHubActions, &name, line)
            .direct(true)
            .locked(reference),
        Uses::Local => as_written().skip(SkipReason::Path, text.trim()),
        Uses::Docker(image) => image_dependency(file, image, line),
        Uses::Invalid(detail) => as_written().skip(SkipReason::Unsupported, detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(name: &str, reference: &'static str) -> Uses<'static> {
        Uses::Action {
            name: name.to_string(),
            reference,
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(
            Uses::parse("actions/checkout@v4"),
            action("actions/checkout", "v4")
        );
        assert_eq!(
            Uses::parse(" Actions/Setup-Node@v4.0.2 "),
            action("actions/setup-node", "v4.0.2")
        );
        assert_eq!(
            Uses::parse("github/codeql-action/init@v3"),
            action("github/codeql-action", "v3")
        );
        assert_eq!(
            Uses::parse("octo-org/ci/.github/workflows/build.yml@main"),
            action("octo-org/ci", "main")
        );
        assert_eq!(
            Uses::parse("actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11"),
            action(
                "actions/checkout",
                "b4ffde65f46336ab88eb53be808477a3936bae11"
            )
        );
        assert_eq!(Uses::parse("./.github/actions/build"), Uses::Local);
        assert_eq!(Uses::parse("../shared"), Uses::Local);
        assert_eq!(
            Uses::parse("docker://alpine:3.19"),
            Uses::Docker("alpine:3.19")
        );
    }

    #[test]
    fn refuses_what_github_would_refuse() {
        for bad in [
            "actions/checkout",
            "actions/checkout@",
            "checkout@v4",
            "/checkout@v4",
            "a b/c@v1",
            "${{ matrix.action }}@v1",
            "",
            "@v1",
        ] {
            assert!(matches!(Uses::parse(bad), Uses::Invalid(_)), "{bad}");
        }
    }
}
