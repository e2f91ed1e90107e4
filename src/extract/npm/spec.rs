//! What an npm dependency spec points at: a registry range, an alias of another registry
//! package, or something ecowatch cannot resolve (git, path, URL, workspace). Shared by the
//! manifest and every lockfile, because they all write specs in npm-package-arg's syntax.

use crate::SkipReason;

/// One spec (`^1.2.0`, `npm:real@^1`, `github:user/repo`, `file:../x`, ...) classified.
#[derive(Debug, PartialEq, Eq)]
pub enum Spec<'a> {
    /// A range, exact version or dist-tag on the registry, as written.
    Registry(&'a str),
    /// `npm:real-name@range`: the registry package `name`, installed under another name.
    Alias { name: &'a str, range: &'a str },
    /// Not on the registry; the reason says where it comes from.
    Unresolvable(SkipReason),
}

/// Classifies `spec` the way npm-package-arg reads it.
pub fn classify(spec: &str) -> Spec<'_> {
    let spec = spec.trim();
    if let Some(aliased) = spec.strip_prefix("npm:") {
        let (name, range) = split_name_at(aliased).unwrap_or((aliased, ""));
        return Spec::Alias { name, range };
    }
    match unresolvable_reason(spec) {
        Some(reason) => Spec::Unresolvable(reason),
        None => Spec::Registry(spec),
    }
}

fn unresolvable_reason(spec: &str) -> Option<SkipReason> {
    const GIT_PREFIXES: &[&str] = &[
        "git+",
        "git://",
        "git@",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
    ];
    const PATH_PREFIXES: &[&str] = &["file:", "link:", "portal:", "./", "../", "/", "~/"];
    if spec.starts_with("workspace:") {
        return Some(SkipReason::Workspace);
    }
    if GIT_PREFIXES.iter().any(|p| spec.starts_with(p)) {
        return Some(SkipReason::Git);
    }
    if PATH_PREFIXES.iter().any(|p| spec.starts_with(p)) || spec == "." || spec == ".." {
        return Some(SkipReason::Path);
    }
    if spec.starts_with("http://") || spec.starts_with("https://") {
        // A hosted repository URL is git; anything else is a tarball.
        return Some(if spec.ends_with(".git") || spec.contains(".git#") {
            SkipReason::Git
        } else {
            SkipReason::Url
        });
    }
    if is_github_shorthand(spec) {
        return Some(SkipReason::Git);
    }
    // `catalog:` (pnpm), `exec:` (yarn) and other protocols name no registry range.
    if let Some((protocol, _)) = spec.split_once(':')
        && !protocol.is_empty()
        && protocol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !protocol.chars().all(|c| c.is_ascii_digit())
    {
        return Some(SkipReason::Unsupported);
    }
    None
}

/// `user/repo` or `user/repo#ref`: npm's GitHub shorthand. Ranges never contain a slash.
fn is_github_shorthand(spec: &str) -> bool {
    let repo = spec.split('#').next().unwrap_or(spec);
    match repo.split_once('/') {
        Some((user, name)) => {
            !user.is_empty()
                && !name.is_empty()
                && !user.starts_with('@')
                && !name.contains('/')
                && !repo.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Splits `name@rest` at the `@` that ends the name (`@scope/name@1.0.0` keeps its scope).
/// `None` when there is no `@` after the name.
pub fn split_name_at(s: &str) -> Option<(&str, &str)> {
    let search_from = usize::from(s.starts_with('@'));
    let at = s.get(search_from..)?.find('@')? + search_from;
    Some((&s[..at], &s[at + 1..]))
}

/// The package name in a `node_modules` path: `node_modules/a/node_modules/@s/b` → `@s/b`.
pub fn name_from_node_modules_path(path: &str) -> Option<&str> {
    const MARKER: &str = "node_modules/";
    let at = path.rfind(MARKER)?;
    let name = &path[at + MARKER.len()..];
    (!name.is_empty()).then_some(name)
}

/// Whether a lockfile's version field is a plain registry version (`1.2.3`, `1.0.0-rc.1`),
/// as opposed to a URL, git reference or path.
pub fn is_plain_version(version: &str) -> bool {
    version.starts_with(|c: char| c.is_ascii_digit()) && !version.contains([':', '/', ' '])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_ranges_and_tags_are_registry_specs() {
        for spec in [
            "^1.2.0",
            "1.2.3",
            "~0.1",
            "*",
            "",
            "latest",
            ">=1 <2",
            "1.0.0 - 2.0.0",
        ] {
            assert_eq!(classify(spec), Spec::Registry(spec), "{spec}");
        }
    }

    #[test]
    fn unresolvable_specs_get_their_reason() {
        let cases = [
            ("git+https://github.com/a/b.git#v1", SkipReason::Git),
            ("git://github.com/a/b.git", SkipReason::Git),
            ("github:user/repo", SkipReason::Git),
            ("user/repo#semver:^1", SkipReason::Git),
            ("https://github.com/a/b.git", SkipReason::Git),
            ("file:../local", SkipReason::Path),
            ("link:../local", SkipReason::Path),
            ("./vendor/pkg", SkipReason::Path),
            ("../sibling", SkipReason::Path),
            ("https://example.com/pkg-1.0.0.tgz", SkipReason::Url),
            ("workspace:*", SkipReason::Workspace),
            ("workspace:^", SkipReason::Workspace),
            ("catalog:", SkipReason::Unsupported),
        ];
        for (spec, reason) in cases {
            assert_eq!(classify(spec), Spec::Unresolvable(reason), "{spec}");
        }
    }

    #[test]
    fn aliases_name_the_real_package() {
        assert_eq!(
            classify("npm:@scope/real@^1.0.0"),
            Spec::Alias {
                name: "@scope/real",
                range: "^1.0.0"
            }
        );
        assert_eq!(
            classify("npm:real"),
            Spec::Alias {
                name: "real",
                range: ""
            }
        );
    }

    #[test]
    fn names_split_after_their_scope() {
        assert_eq!(split_name_at("@s/x@1.0.0"), Some(("@s/x", "1.0.0")));
        assert_eq!(split_name_at("x@npm:^1"), Some(("x", "npm:^1")));
        assert_eq!(split_name_at("@s/x"), None);
        assert_eq!(split_name_at(""), None);
        assert_eq!(
            name_from_node_modules_path("node_modules/a/node_modules/@s/b"),
            Some("@s/b")
        );
        assert_eq!(name_from_node_modules_path("packages/a"), None);
        assert_eq!(name_from_node_modules_path("node_modules/"), None);
    }
}
