//! A small PEP 508 reader: name, extras, version specifiers or a direct URL, marker. Shared by
//! requirement files, `pyproject.toml` and `Pipfile`, which all embed these strings. It checks the
//! shape only; version semantics belong to `crate::version`.

use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;

/// One parsed dependency specification.
#[derive(Debug, PartialEq, Eq)]
pub struct Requirement<'a> {
    pub name: &'a str,
    pub extras: Vec<&'a str>,
    pub target: Target<'a>,
    pub marker: Option<&'a str>,
}

/// What a requirement asks for: a version range (possibly empty) or a direct reference.
#[derive(Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// Specifiers with whitespace removed (`>=2.0,<3`); empty when any version will do.
    Specifiers(String),
    /// `name @ <url>`.
    Url(&'a str),
}

impl Requirement<'_> {
    /// The manifest entry this requirement declares at `path`:`line`: direct, with the
    /// specifiers as its requirement (and its version when they pin one exactly), or skipped
    /// when it names a URL instead of a version.
    pub fn to_dependency(&self, path: &str, line: u32) -> Dependency {
        let dep = Dependency::new(Ecosystem::PyPI, self.name, path, line).direct(true);
        match &self.target {
            Target::Url(url) => dep.skip(direct_reference_reason(url), *url),
            Target::Specifiers(s) if s.is_empty() => dep,
            Target::Specifiers(s) => match exact_pin(s) {
                Some(version) => dep.locked(version).requires(s.as_str()),
                None => dep.requires(s.as_str()),
            },
        }
    }
}

/// Parses one PEP 508 string. The error says what is wrong, for a diagnostic.
pub fn parse(input: &str) -> Result<Requirement<'_>, String> {
    let s = input.trim();
    let name_len = name_prefix_len(s);
    if name_len == 0 {
        return Err(format!("`{s}` does not start with a package name"));
    }
    let name = &s[..name_len];
    let mut rest = s[name_len..].trim_start();

    let mut extras = Vec::new();
    if let Some(after) = rest.strip_prefix('[') {
        let close = after
            .find(']')
            .ok_or_else(|| format!("unclosed `[` in `{s}`"))?;
        for extra in after[..close].split(',').map(str::trim) {
            if extra.is_empty() {
                continue;
            }
            if name_prefix_len(extra) != extra.len() {
                return Err(format!("invalid extra `{extra}` in `{s}`"));
            }
            extras.push(extra);
        }
        rest = after[close + 1..].trim_start();
    }

    let (target, rest) = if let Some(after) = rest.strip_prefix('@') {
        let after = after.trim_start();
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let url = &after[..end];
        if url.is_empty() {
            return Err(format!("missing URL after `@` in `{s}`"));
        }
        (Target::Url(url), after[end..].trim_start())
    } else if let Some(after) = rest.strip_prefix('(') {
        let close = after
            .find(')')
            .ok_or_else(|| format!("unclosed `(` in `{s}`"))?;
        let specifiers = compact_specifiers(&after[..close])?;
        (
            Target::Specifiers(specifiers),
            after[close + 1..].trim_start(),
        )
    } else {
        let end = rest.find(';').unwrap_or(rest.len());
        let specifiers = compact_specifiers(&rest[..end])?;
        (Target::Specifiers(specifiers), &rest[end..])
    };

    let marker = match rest.strip_prefix(';') {
        Some(m) if m.trim().is_empty() => return Err(format!("empty marker after `;` in `{s}`")),
        Some(m) => Some(m.trim()),
        None if rest.is_empty() => None,
        None => return Err(format!("unexpected `{rest}` in `{s}`")),
    };
    Ok(Requirement {
        name,
        extras,
        target,
        marker,
    })
}

/// The length of the PEP 508 name at the start of `s`: `[A-Za-z0-9]` first and last,
/// `[A-Za-z0-9._-]` between. Zero when there is none.
pub fn name_prefix_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphanumeric) {
        return 0;
    }
    let run = bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        .count();
    // A name ends on an alphanumeric character; trailing separators belong to what follows.
    bytes[..run]
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |i| i + 1)
}

/// Removes whitespace from a specifier list and checks each clause is an operator and a
/// version-looking word.
fn compact_specifiers(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    let mut clauses = Vec::new();
    for clause in raw.split(',').map(str::trim) {
        let (op, version) = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|v| (*op, v.trim())))
            .ok_or_else(|| format!("`{clause}` has no comparison operator"))?;
        let looks_like_version = !version.is_empty()
            && version.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '+' | '!' | '-' | '_')
            });
        if !looks_like_version {
            return Err(format!("invalid version in specifier `{clause}`"));
        }
        clauses.push(format!("{op}{version}"));
    }
    Ok(clauses.join(","))
}

/// The version an exact pin fixes: `==1.2.3` or `===1.2.3`, one clause, no wildcard.
pub fn exact_pin(specifiers: &str) -> Option<&str> {
    if specifiers.contains(',') {
        return None;
    }
    let version = specifiers
        .trim()
        .strip_prefix("===")
        .or_else(|| specifiers.trim().strip_prefix("=="))?
        .trim();
    (!version.is_empty() && !version.contains('*')).then_some(version)
}

/// How a direct reference (a URL or a local path) cannot be resolved against the registry.
pub fn direct_reference_reason(reference: &str) -> SkipReason {
    let lower = reference.to_ascii_lowercase();
    if lower.starts_with("git+") || lower.starts_with("git://") || lower.ends_with(".git") {
        SkipReason::Git
    } else if lower.starts_with("hg+") || lower.starts_with("svn+") || lower.starts_with("bzr+") {
        // Other version-control systems: not git, but still a checkout and not a registry release.
        SkipReason::Url
    } else if lower.starts_with("file:") || !lower.contains("://") {
        SkipReason::Path
    } else {
        SkipReason::Url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_extras_specifiers_and_marker() {
        let r = parse(r#"Requests[security, socks] >= 2.8.1, == 2.8.* ; python_version < "2.7""#)
            .expect("valid");
        assert_eq!(r.name, "Requests");
        assert_eq!(r.extras, vec!["security", "socks"]);
        assert_eq!(r.target, Target::Specifiers(">=2.8.1,==2.8.*".into()));
        assert_eq!(r.marker, Some(r#"python_version < "2.7""#));
    }

    #[test]
    fn parses_parenthesized_specifiers_and_bare_names() {
        let r = parse("zope.interface (>=5.0)").expect("valid");
        assert_eq!(r.name, "zope.interface");
        assert_eq!(r.target, Target::Specifiers(">=5.0".into()));
        let r = parse("flask").expect("valid");
        assert_eq!(r.target, Target::Specifiers(String::new()));
        assert_eq!(r.marker, None);
    }

    #[test]
    fn parses_direct_url_references() {
        let r = parse("pip @ https://github.com/pypa/pip/archive/1.3.1.zip ; python_version > '3'")
            .expect("valid");
        assert_eq!(r.name, "pip");
        assert_eq!(
            r.target,
            Target::Url("https://github.com/pypa/pip/archive/1.3.1.zip")
        );
        assert_eq!(r.marker, Some("python_version > '3'"));
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in [
            "",
            ">=1.0",
            "foo[bar",
            "foo (>=1.0",
            "foo >=",
            "foo 1.0",
            "foo @",
            "foo ;",
            "foo >=1.0 bar",
            "-e .",
        ] {
            assert!(parse(bad).is_err(), "`{bad}` must be rejected");
        }
    }

    #[test]
    fn exact_pins_are_single_equality_clauses_without_wildcards() {
        assert_eq!(exact_pin("==1.2.3"), Some("1.2.3"));
        assert_eq!(exact_pin("===1.0-custom"), Some("1.0-custom"));
        assert_eq!(exact_pin("==1.2.*"), None);
        assert_eq!(exact_pin(">=1.2.3"), None);
        assert_eq!(exact_pin("==1.2,!=1.2.1"), None);
        assert_eq!(exact_pin("=="), None);
    }

    #[test]
    fn direct_references_map_to_skip_reasons() {
        assert_eq!(
            direct_reference_reason("git+https://github.com/a/b.git@v1"),
            SkipReason::Git
        );
        assert_eq!(
            direct_reference_reason("file:///tmp/x.whl"),
            SkipReason::Path
        );
        assert_eq!(direct_reference_reason("./vendor/x.whl"), SkipReason::Path);
        assert_eq!(
            direct_reference_reason("https://example.com/x-1.0.tar.gz"),
            SkipReason::Url
        );
    }
}
