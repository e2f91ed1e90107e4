//! PEP 440 versions (`pep440_rs`, whose order agrees with `packaging` on every row of the
//! differential table) and specifier sets with `packaging`'s semantics.
//!
//! The reference is `SpecifierSet(spec).contains(version)` with default arguments, as of
//! packaging 26: a single candidate has no final release to prefer, so pre-releases are *not*
//! filtered out; only PEP 440's interval rules apply (`<V` stops below `V.dev0` unless `V` is a
//! pre-release, `>V` skips `V`'s post-releases, `==V` without a local label matches any local
//! label, `===` compares strings case-insensitively). Specifiers are parsed here rather than by
//! `pep440_rs::VersionSpecifiers`, which rejects empty items (`">=1.0,"`) and `===` on arbitrary
//! strings that `packaging` accepts, and whose `~=`/`.*`/`<` edge cases differed from
//! `packaging` 26 in the differential run.

use super::{Scheme, VersionError};
use pep440_rs::Version;
use regex::Regex;
use std::cmp::Ordering;
use std::str::FromStr;
use std::sync::LazyLock;

pub(crate) fn parse_version(input: &str) -> Result<Version, VersionError> {
    Version::from_str(input).map_err(|e| VersionError::version(Scheme::Pep440, input, e))
}

/// `packaging`'s specifier grammar (`Specifier._specifier_regex_str`).
static SPECIFIER: LazyLock<Regex> = LazyLock::new(|| {
    const NUMBERS: &str = r"v?(?:[0-9]+!)?[0-9]+";
    const PRE: &str = r"(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?";
    const POST: &str = r"(?:(?:-[0-9]+)|(?:[-_.]?(?:post|rev|r)[-_.]?[0-9]*))?";
    const DEV: &str = r"(?:[-_.]?dev[-_.]?[0-9]*)?";
    const LOCAL: &str = r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?";
    let pattern = format!(
        r"(?i)^\s*(?:(===)\s*([^\s;)]+)|(==|!=)\s*({NUMBERS}(?:\.[0-9]+)*(?:\.\*|{PRE}{POST}{DEV}{LOCAL}))|(~=)\s*({NUMBERS}(?:\.[0-9]+)+{PRE}{POST}{DEV})|(<=|>=|<|>)\s*({NUMBERS}(?:\.[0-9]+)*{PRE}{POST}{DEV}))\s*$"
    );
    Regex::new(&pattern).expect("constant regex")
});

/// A comma-separated PEP 440 specifier set; empty items are ignored, as `packaging` does.
#[derive(Clone, Debug)]
pub(crate) struct Pep440Range {
    specifiers: Vec<Specifier>,
}

#[derive(Clone, Debug)]
enum Specifier {
    /// `===text`: the candidate's string, compared case-insensitively.
    Arbitrary(String),
    /// `==V.*` (`matches` true) or `!=V.*`: inside `[V.dev0, next prefix .dev0)`.
    Prefix {
        matches: bool,
        lower: Version,
        upper: Version,
    },
    Compare {
        op: Op,
        version: Version,
        has_local: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Compatible,
}

impl Pep440Range {
    pub(crate) fn parse(input: &str) -> Result<Pep440Range, VersionError> {
        let mut specifiers = Vec::new();
        for item in input.split(',') {
            if item.trim().is_empty() {
                continue;
            }
            let specifier = parse_specifier(item).ok_or_else(|| {
                VersionError::range(
                    Scheme::Pep440,
                    input,
                    format!("invalid specifier {:?}", item.trim()),
                )
            })?;
            specifiers.push(specifier);
        }
        Ok(Pep440Range { specifiers })
    }

    /// `SpecifierSet.contains` with default arguments; `raw` is the candidate as written, which
    /// `===` compares.
    pub(crate) fn contains(&self, version: &Version, raw: &str) -> bool {
        self.specifiers.iter().all(|s| s.contains(version, raw))
    }
}

fn parse_specifier(item: &str) -> Option<Specifier> {
    let caps = SPECIFIER.captures(item)?;
    if let Some(text) = caps.get(2) {
        return Some(Specifier::Arbitrary(text.as_str().to_lowercase()));
    }
    let (op, text) = [(3, 4), (5, 6), (7, 8)]
        .iter()
        .find_map(|&(op, text)| Some((caps.get(op)?.as_str(), caps.get(text)?.as_str())))?;
    if let Some(base) = text.strip_suffix(".*") {
        let base = Version::from_str(base).ok()?;
        let lower = Version::new(base.release().iter().copied())
            .with_epoch(base.epoch())
            .with_dev(Some(0));
        return Some(Specifier::Prefix {
            matches: op == "==",
            lower,
            upper: next_prefix_dev0(&base, base.release())?,
        });
    }
    let version = Version::from_str(text).ok()?;
    let op = match op {
        "==" => Op::Eq,
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "~=" => Op::Compatible,
        _ => return None,
    };
    Some(Specifier::Compare {
        op,
        has_local: text.contains('+'),
        version,
    })
}

/// The smallest version of the next prefix: `1.2` -> `1.3.dev0` (epoch kept).
fn next_prefix_dev0(epoch_from: &Version, prefix: &[u64]) -> Option<Version> {
    let (last, head) = prefix.split_last()?;
    let mut release = head.to_vec();
    release.push(last.checked_add(1)?);
    Some(
        Version::new(release)
            .with_epoch(epoch_from.epoch())
            .with_dev(Some(0)),
    )
}

/// The release with trailing zeros removed, for "same release" tests (`1.0` is `1`).
fn trimmed(release: &[u64]) -> &[u64] {
    let keep = release.iter().rposition(|&n| n != 0).map_or(1, |i| i + 1);
    &release[..keep.min(release.len())]
}

impl Specifier {
    fn contains(&self, v: &Version, raw: &str) -> bool {
        match self {
            Specifier::Arbitrary(text) => raw.to_lowercase() == *text,
            Specifier::Prefix {
                matches,
                lower,
                upper,
            } => {
                let inside = v.cmp(lower) != Ordering::Less && v.cmp(upper) == Ordering::Less;
                inside == *matches
            }
            Specifier::Compare {
                op,
                version,
                has_local,
            } => compare(*op, v, version, *has_local),
        }
    }
}

fn compare(op: Op, v: &Version, spec: &Version, has_local: bool) -> bool {
    let public = || v.clone().without_local();
    match op {
        Op::Ge => v >= spec,
        // Below or at V, whatever v's local label (`<=V` ends after V's locals).
        Op::Le => public().cmp(spec) != Ordering::Greater,
        Op::Eq | Op::Ne => {
            let equal = if has_local {
                v.cmp(spec) == Ordering::Equal
            } else {
                public().cmp(spec) == Ordering::Equal
            };
            equal == (op == Op::Eq)
        }
        Op::Lt => {
            // `<V` excludes V's pre-releases unless V is itself one: it means `< V.dev0`.
            if spec.any_prerelease() {
                v < spec
            } else {
                v < &spec.clone().with_dev(Some(0))
            }
        }
        Op::Gt => {
            if spec.dev().is_some() || spec.post().is_some() {
                // The next real version after V.devN / V.postN; only V's locals lie between.
                public().cmp(spec) == Ordering::Greater
            } else {
                // `>V` excludes V's post-releases (and V's locals): the versions sharing
                // V's epoch, release and pre-release segment.
                let same_family = v.epoch() == spec.epoch()
                    && trimmed(v.release()) == trimmed(spec.release())
                    && v.pre() == spec.pre();
                v > spec && !same_family
            }
        }
        Op::Compatible => {
            let prefix = &spec.release()[..spec.release().len().saturating_sub(1)];
            match next_prefix_dev0(spec, prefix) {
                Some(upper) => v >= spec && v < &upper,
                None => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sat(version: &str, spec: &str) -> bool {
        let v = parse_version(version).unwrap_or_else(|e| panic!("{e}"));
        Pep440Range::parse(spec)
            .unwrap_or_else(|e| panic!("{e}"))
            .contains(&v, version)
    }

    #[test]
    fn normalizes_and_pads_versions() {
        let v = |s: &str| parse_version(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v("1.0-RC1"), v("1.0rc1"));
        assert_eq!(v("v1.0.post"), v("1.0.post0"));
        assert!(v("1!0.1") > v("2.0"), "epochs come first");
        assert!(v("1.0.dev0") < v("1.0a1"));
        assert!(v("1.0a1") < v("1.0"));
        assert!(v("1.0") < v("1.0+local"));
        assert!(v("1.0+local") < v("1.0.post1"));
    }

    #[test]
    fn operators_follow_pep_440() {
        assert!(sat("1.4.9", "~=1.4.5"));
        assert!(!sat("1.5.0", "~=1.4.5"));
        assert!(sat("1.9", "~=1.4"));
        assert!(!sat("2.0", "~=1.4"));
        assert!(sat("1.4.9", "!=1.5.*"));
        assert!(!sat("1.5.3", "!=1.5.*"));
        assert!(!sat("1.5rc1", "!=1.5.*"), "1.5rc1 is in the 1.5 prefix");
        assert!(sat("1.0+anything", "==1.0"));
        assert!(!sat("1.0+other", "==1.0+local"));
        assert!(sat("1.0RC1", "===1.0rc1"), "=== ignores case");
        assert!(sat("1.0", "===1.0"));
        assert!(
            !sat("1.0.0", "===1.0"),
            "=== compares strings, not versions"
        );
    }

    #[test]
    fn exclusive_comparisons_carve_out_the_version_family() {
        assert!(!sat("2.0a1", "<2.0"), "<V excludes V's pre-releases");
        assert!(sat("2.0a1", "<2.0b1"));
        assert!(!sat("1.0.post1", ">1.0"), ">V excludes V's post-releases");
        assert!(sat("1.0.post2", ">1.0.post1"));
        assert!(sat("1.0.1", ">1.0"));
        assert!(!sat("1.0+local", ">1.0"));
        assert!(sat("1.0+local", "<=1.0"));
    }

    #[test]
    fn prereleases_match_when_the_interval_admits_them() {
        // packaging 26's default: a lone candidate is not filtered for being a pre-release.
        assert!(sat("1.5a1", ">=1.0"));
        assert!(sat("1.5.dev0", ">=1.0,<2"));
        assert!(sat("2.0b1", ""));
    }

    #[test]
    fn parses_like_packaging() {
        for ok in [
            "",
            ",",
            ">=1.0,",
            " >= 1.0 , < 2 ",
            "===anything-goes",
            "==1.0.*",
            "~=1.0.post1",
        ] {
            assert!(Pep440Range::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "1.0",
            "=>1.0",
            "~=1",
            ">=1.0.*",
            "<=1.0+local",
            "==1.0a1.*",
            ">=1.0 <2.0",
            "~1.0",
            "==",
            "===",
        ] {
            assert!(Pep440Range::parse(bad).is_err(), "{bad:?}");
        }
    }
}
