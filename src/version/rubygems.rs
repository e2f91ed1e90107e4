//! RubyGems versions and requirements with `Gem::Version` / `Gem::Requirement` semantics.
//!
//! A version is a dot-separated run of segments; a segment containing letters starts a
//! prerelease (`1.0.a` < `1.0`, `1.0.0-rc1` is read as `1.0.0.pre.rc1`). Trailing zeros do not
//! count (`1.0` == `1`). `~> 1.2` allows `>= 1.2, < 2`; `~> 1.2.0` allows `>= 1.2.0, < 1.3`.
//! `Gem::Requirement#satisfied_by?` has no prerelease exclusion, so neither does this.

use super::go::Op;
use super::{Scheme, VersionError};
use std::cmp::Ordering;

/// One segment: a number (kept as its digits, so any length compares correctly) or letters.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Number(String),
    Letters(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(digits) if digits == "0")
    }
}

impl PartialOrd for Segment {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Segment {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            // Digits are stored without leading zeros, so length then text is numeric order.
            (Segment::Number(a), Segment::Number(b)) => {
                a.len().cmp(&b.len()).then_with(|| a.cmp(b))
            }
            (Segment::Letters(a), Segment::Letters(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Segment::Letters(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Letters(_)) => Ordering::Greater,
        }
    }
}

/// A `Gem::Version`.
#[derive(Clone, Debug)]
pub(crate) struct GemVersion {
    segments: Vec<Segment>,
}

impl GemVersion {
    pub(crate) fn parse(input: &str) -> Result<GemVersion, VersionError> {
        let text = input.trim_matches(|c: char| c.is_ascii_whitespace());
        if !is_valid(text) {
            return Err(VersionError::version(
                Scheme::RubyGems,
                input,
                "not a Gem::Version",
            ));
        }
        // `Gem::Version.new("")` is version 0.
        if text.is_empty() {
            return Ok(GemVersion {
                segments: vec![Segment::Number("0".into())],
            });
        }
        Ok(GemVersion {
            segments: segments(&text.replace('-', ".pre.")),
        })
    }

    pub(crate) fn is_prerelease(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Letters(_)))
    }

    /// The version without its prerelease part (`1.2.0.rc1` -> `1.2.0`).
    fn release(&self) -> GemVersion {
        let numeric = self
            .segments
            .iter()
            .take_while(|s| matches!(s, Segment::Number(_)))
            .cloned()
            .collect();
        GemVersion { segments: numeric }
    }

    /// The upper bound of `~>`: drop the prerelease and the last number, bump the new last.
    fn bump(&self) -> GemVersion {
        let mut numeric = self.release().segments;
        if numeric.len() > 1 {
            numeric.pop();
        }
        if let Some(Segment::Number(last)) = numeric.last_mut() {
            *last = increment_digits(last);
        }
        GemVersion { segments: numeric }
    }

    /// Segments with trailing zeros dropped from the release part and from the prerelease
    /// part separately, as `Gem::Version#canonical_segments` does.
    fn canonical(&self) -> Vec<&Segment> {
        let split = self
            .segments
            .iter()
            .position(|s| matches!(s, Segment::Letters(_)))
            .unwrap_or(self.segments.len());
        let (release, pre) = self.segments.split_at(split);
        let kept = |part: &[Segment]| part.iter().rposition(|s| !s.is_zero()).map_or(0, |i| i + 1);
        release[..kept(release)]
            .iter()
            .chain(pre[..kept(pre)].iter())
            .collect()
    }
}

/// `Gem::Version::ANCHORED_VERSION_PATTERN` without the surrounding whitespace:
/// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, or empty.
fn is_valid(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let (main, pre) = match text.split_once('-') {
        Some((main, pre)) => (main, Some(pre)),
        None => (text, None),
    };
    let mut parts = main.split('.');
    let first_is_number = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_is_number && rest_ok && pre_ok
}

/// `@version.scan(/[0-9]+|[a-z]+/i)`: runs of digits and runs of letters, separators dropped.
fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = text[start..i].trim_start_matches('0');
            out.push(Segment::Number(if digits.is_empty() {
                "0".into()
            } else {
                digits.into()
            }));
        } else if bytes[i].is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Segment::Letters(text[start..i].into()));
        } else {
            i += 1;
        }
    }
    out
}

/// Adds one to a decimal digit string of any length.
fn increment_digits(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    format!("1{}", String::from_utf8_lossy(&bytes))
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GemVersion {
    /// `Gem::Version#<=>`: segment by segment over canonical segments, a missing segment
    /// counting as 0, letters below numbers.
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number("0".into());
        let (a, b) = (self.canonical(), other.canonical());
        for i in 0..a.len().max(b.len()) {
            let left = a.get(i).copied().unwrap_or(&zero);
            let right = b.get(i).copied().unwrap_or(&zero);
            match left.cmp(right) {
                Ordering::Equal => continue,
                unequal => return unequal,
            }
        }
        Ordering::Equal
    }
}

/// A `Gem::Requirement`: comma-separated `op version` pairs, all of which must hold.
#[derive(Clone, Debug)]
pub(crate) struct GemRequirement {
    requirements: Vec<(GemOp, GemVersion)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GemOp {
    Compare(Op),
    Pessimistic,
}

impl GemRequirement {
    pub(crate) fn parse(input: &str) -> Result<GemRequirement, VersionError> {
        let err = |reason: &str| VersionError::range(Scheme::RubyGems, input, reason);
        let mut requirements = Vec::new();
        for part in input.split(',') {
            let part = part.trim_matches(|c: char| c.is_ascii_whitespace());
            let (op, rest) = if let Some(rest) = part.strip_prefix("~>") {
                (GemOp::Pessimistic, rest.trim_start())
            } else if part.starts_with("==") {
                // RubyGems has no `==`; only `=`.
                return Err(err("unknown operator"));
            } else {
                let (op, rest) = Op::strip(part);
                (GemOp::Compare(op), rest)
            };
            // Unlike a bare version string, a requirement needs a version after the operator.
            if rest.is_empty() {
                return Err(err("missing version"));
            }
            let version = GemVersion::parse(rest).map_err(|_| err("bad version"))?;
            requirements.push((op, version));
        }
        Ok(GemRequirement { requirements })
    }

    pub(crate) fn contains(&self, version: &GemVersion) -> bool {
        self.requirements.iter().all(|(op, bound)| match op {
            GemOp::Compare(op) => op.holds(version.cmp(bound)),
            GemOp::Pessimistic => version >= bound && version.release() < bound.bump(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> GemVersion {
        GemVersion::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn sat(version: &str, requirement: &str) -> bool {
        GemRequirement::parse(requirement)
            .unwrap_or_else(|e| panic!("{e}"))
            .contains(&v(version))
    }

    #[test]
    fn orders_like_gem_version() {
        let ascending = [
            "0.9",
            "1.0.a",
            "1.0.a.1",
            "1.0.b",
            "1.0.0-rc1",
            "1.0.rc2",
            "1",
            "1.0.1",
            "1.1",
            "1.9",
            "1.10",
            "2.0.0.pre",
            "2",
            "10",
        ];
        for pair in ascending.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("1.0.0"), v("1"));
        assert_eq!(v("1.0.a"), v("1.0.a.0"));
        assert_eq!(v("1.0a"), v("1.0.a"));
        assert_eq!(v(""), v("0"));
        assert_eq!(v(" 1.2 "), v("1.2"));
        assert!(v("1.0.0-alpha") < v("1.0.0"));
        assert!(v("12345678901234567890123") > v("12345678901234567890122"));
    }

    #[test]
    fn prerelease_is_any_letter() {
        assert!(v("1.0.a").is_prerelease());
        assert!(v("1.0.0-rc1").is_prerelease());
        assert!(!v("1.0.0").is_prerelease());
    }

    #[test]
    fn pessimistic_operator_depends_on_precision() {
        // `~> 1.2` allows 1.x from 1.2 up; `~> 1.2.0` allows only 1.2.x.
        assert!(sat("1.9.9", "~> 1.2"));
        assert!(!sat("2.0", "~> 1.2"));
        assert!(sat("1.2.9", "~> 1.2.0"));
        assert!(!sat("1.3.0", "~> 1.2.0"));
        assert!(!sat("1.1.9", "~> 1.2.0"));
        // A single segment bumps itself.
        assert!(sat("1.5", "~> 1"));
        assert!(!sat("2.0", "~> 1"));
        // Prereleases of the upper bound are excluded by comparing releases.
        assert!(!sat("2.0.a", "~> 1.2"));
        assert!(sat("1.3.a", "~> 1.2"));
        // A prerelease bound: `~> 1.0.a` is `>= 1.0.a, < 2`.
        assert!(sat("1.0.b", "~> 1.0.a"));
        assert!(sat("1.9", "~> 1.0.a"));
        assert!(!sat("2.0", "~> 1.0.a"));
    }

    #[test]
    fn comparison_operators_and_lists() {
        assert!(sat("1.0", "= 1.0.0"));
        assert!(sat("1.0", "1"));
        assert!(!sat("1.0", "!= 1"));
        assert!(sat("1.0.1", "> 1.0"));
        assert!(sat("0.9", "< 1.0.a"));
        assert!(sat("1.0.a", "< 1.0"));
        assert!(sat("7.0.5", "~> 7.0, >= 7.0.1"));
        assert!(!sat("7.0.0", "~> 7.0, >= 7.0.1"));
        assert!(sat("3.1.4", ">=3.0,<4"));
    }

    #[test]
    fn rejects_what_rubygems_rejects() {
        for bad in [
            "a",
            "1..2",
            ".1",
            "1.",
            "1.2.3 4",
            "1_0",
            "v1.0",
            "1.0-",
            "1.0-rc..1",
        ] {
            assert!(GemVersion::parse(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "",
            "~>",
            ">= ",
            "=> 1.0",
            "== 1.0",
            "~ 1.0",
            "1.0,",
            ">= 1.0 < 2",
        ] {
            assert!(GemRequirement::parse(bad).is_err(), "{bad:?}");
        }
    }
}
