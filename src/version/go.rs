//! Go module versions (`golang.org/x/mod/semver` semantics) and the toolchain spellings of
//! go.mod's `go`/`toolchain` lines, plus a small comparator list for rules.
//!
//! Pseudo-versions (`v0.0.0-20210101000000-abcdef123456`, `v1.2.4-0.2021…`) are ordinary SemVer
//! prereleases, so they order correctly with no special casing. `+incompatible` marks a v2+
//! module without a go.mod; it is build metadata and does not take part in ordering.

use super::{Scheme, VersionError};
use semver::Prerelease;
use std::cmp::Ordering;

/// A Go version, ordered by SemVer precedence (build metadata ignored).
#[derive(Clone, Debug)]
pub(crate) struct GoVersion {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Prerelease,
    incompatible: bool,
}

impl GoVersion {
    /// Accepts module versions (`v1.2.3`, shorthand `v1`/`v1.2`, prereleases, build metadata)
    /// and toolchain versions without the `v` (`1.21.0`, `1.21`, `1.21rc1`, `go1.22.1`).
    pub(crate) fn parse(input: &str) -> Result<GoVersion, VersionError> {
        let err = |reason: &str| VersionError::version(Scheme::Go, input, reason);
        let text = input.trim();
        if let Some(rest) = text.strip_prefix('v') {
            return parse_semver(rest).ok_or_else(|| err("not a semantic version"));
        }
        let rest = text.strip_prefix("go").unwrap_or(text);
        parse_semver(rest)
            .or_else(|| parse_toolchain(rest))
            .ok_or_else(|| err("not a Go module or toolchain version"))
    }

    pub(crate) fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// Whether the version carries `+incompatible` (a v2+ module without a go.mod).
    pub(crate) fn is_incompatible(&self) -> bool {
        self.incompatible
    }
}

impl PartialEq for GoVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GoVersion {}

impl PartialOrd for GoVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            // `semver::Prerelease` orders per SemVer 2.0, with the empty prerelease highest.
            .then_with(|| self.pre.cmp(&other.pre))
    }
}

/// `MAJOR[.MINOR[.PATCH[-PRE]]][+BUILD]`, no leading zeros. Shorthands cannot carry a
/// prerelease, as in `x/mod/semver`.
fn parse_semver(text: &str) -> Option<GoVersion> {
    let (text, build) = match text.split_once('+') {
        Some((core, build)) => (core, Some(build)),
        None => (text, None),
    };
    if let Some(build) = build
        && (build.is_empty() || !build.split('.').all(is_identifier))
    {
        return None;
    }
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (text, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() > 3 || (pre.is_some() && numbers.len() != 3) {
        return None;
    }
    let mut parsed = [0u64; 3];
    for (slot, number) in parsed.iter_mut().zip(&numbers) {
        *slot = parse_number(number)?;
    }
    let pre = match pre {
        // `semver` enforces SemVer identifier rules, including no leading zeros in numbers.
        Some(pre) if !pre.is_empty() => Prerelease::new(pre).ok()?,
        Some(_) => return None,
        None => Prerelease::EMPTY,
    };
    Some(GoVersion {
        major: parsed[0],
        minor: parsed[1],
        patch: parsed[2],
        pre,
        incompatible: build == Some("incompatible"),
    })
}

/// Toolchain prereleases: `1.21rc1`, `1.20beta2`, `1.9rc2` become `1.21.0-rc1` and so on.
fn parse_toolchain(text: &str) -> Option<GoVersion> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (numbers, pre) = text.split_at(split);
    let kind_len = pre.find(|c: char| c.is_ascii_digit())?;
    if !matches!(&pre[..kind_len], "rc" | "beta" | "alpha")
        || parse_number(&pre[kind_len..]).is_none()
    {
        return None;
    }
    let mut version = parse_semver(numbers)?;
    version.pre = Prerelease::new(pre).ok()?;
    Some(version)
}

fn parse_number(text: &str) -> Option<u64> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A comparator list such as `>=v1.2.0, <v1.3.0` (all must hold). Go has no range syntax of its
/// own; rules use this small one. A bare version means `=`.
#[derive(Clone, Debug)]
pub(crate) struct GoRange {
    comparators: Vec<(Op, GoVersion)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    /// Splits a leading operator off `text`.
    pub(crate) fn strip(text: &str) -> (Op, &str) {
        const OPS: [(&str, Op); 7] = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("==", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Eq),
        ];
        for (spelling, op) in OPS {
            if let Some(rest) = text.strip_prefix(spelling) {
                return (op, rest.trim_start());
            }
        }
        (Op::Eq, text)
    }

    pub(crate) fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
        }
    }
}

impl GoRange {
    pub(crate) fn parse(input: &str) -> Result<GoRange, VersionError> {
        let mut comparators = Vec::new();
        // Commas separate comparators; so does whitespace between them (`>= v1.2.0` keeps its
        // operator and version together because `Op::strip` eats the gap).
        let mut rest = input.trim();
        while !rest.is_empty() {
            let (op, after_op) = Op::strip(rest);
            let end = after_op
                .find(|c: char| c == ',' || c.is_whitespace())
                .unwrap_or(after_op.len());
            let (text, tail) = after_op.split_at(end);
            let version = GoVersion::parse(text).map_err(|_| {
                VersionError::range(Scheme::Go, input, format!("bad version {text:?}"))
            })?;
            comparators.push((op, version));
            rest = tail.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        }
        if comparators.is_empty() {
            return Err(VersionError::range(Scheme::Go, input, "empty"));
        }
        Ok(GoRange { comparators })
    }

    pub(crate) fn contains(&self, version: &GoVersion) -> bool {
        self.comparators
            .iter()
            .all(|(op, bound)| op.holds(version.cmp(bound)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> GoVersion {
        GoVersion::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn orders_like_x_mod_semver() {
        let ascending = [
            "v0.0.0-20190101000000-aaaaaaaaaaaa",
            "v0.0.0-20210101000000-abcdef123456",
            "v0.1.0",
            "v1.0.0-alpha",
            "v1.0.0-alpha.1",
            "v1.0.0-beta",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.2.3",
            // A pseudo-version after v1.2.3 sorts between it and v1.2.4.
            "v1.2.4-0.20210101000000-abcdef123456",
            "v1.2.4-pre",
            "v1.2.4-pre.0.20210101000000-abcdef123456",
            "v1.2.4",
            "v1.10.0",
            "v2.0.0+incompatible",
        ];
        for pair in ascending.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn incompatible_and_build_metadata_do_not_order() {
        let plain = v("v2.3.4");
        let incompatible = v("v2.3.4+incompatible");
        assert_eq!(plain, incompatible);
        assert!(incompatible.is_incompatible());
        assert!(!plain.is_incompatible());
        assert_eq!(v("v1.0.0+build.5"), v("v1.0.0"));
    }

    #[test]
    fn shorthands_and_toolchains() {
        assert_eq!(v("v1"), v("v1.0.0"));
        assert_eq!(v("v1.2"), v("v1.2.0"));
        assert_eq!(v("1.21.0"), v("v1.21.0"));
        assert_eq!(v("go1.22.1"), v("v1.22.1"));
        assert!(v("1.21rc1") < v("1.21.0"));
        assert!(v("1.21beta1") < v("1.21rc1"));
        assert!(v("1.21rc1").is_prerelease());
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "v",
            "v01.2.3",
            "v1.02.3",
            "v1.2.3.4",
            "v1.2-pre",
            "v1.2.3-",
            "v1.2.3-01",
            "v1.2.3+",
            "v1.2.3+a..b",
            "1.21xx1",
            "1.21rc",
            "latest",
            "v1.2.3 v1.2.4",
            "v99999999999999999999.0.0",
        ] {
            assert!(GoVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn comparator_lists() {
        let range = GoRange::parse(">=v1.2.0, <v1.3.0").unwrap();
        assert!(range.contains(&v("v1.2.0")));
        assert!(range.contains(&v("v1.2.9")));
        // Go has no prerelease exclusion: a pseudo-version inside the interval matches.
        assert!(range.contains(&v("v1.2.1-0.20210101000000-abcdef123456")));
        assert!(!range.contains(&v("v1.3.0")));
        assert!(
            range.contains(&v("v1.3.0-rc.1")),
            "v1.3.0-rc.1 < v1.3.0 in SemVer order"
        );
        assert!(!range.contains(&v("v1.1.9")));

        let spaced = GoRange::parse(">= v1.2.0 < v1.3.0").unwrap();
        assert!(spaced.contains(&v("v1.2.5")));
        assert!(!spaced.contains(&v("v1.3.0")));

        let exact = GoRange::parse("v2.0.0+incompatible").unwrap();
        assert!(exact.contains(&v("v2.0.0")));
        let not = GoRange::parse("!=v1.0.0").unwrap();
        assert!(!not.contains(&v("v1.0.0")));
        assert!(not.contains(&v("v1.0.1")));

        for bad in ["", ",", ">=", ">=v1.2.0, <banana", ">>v1"] {
            assert!(GoRange::parse(bad).is_err(), "{bad:?}");
        }
    }
}
