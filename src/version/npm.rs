//! npm versions and ranges with node-semver's semantics (default options: not loose, no
//! `includePrerelease`).
//!
//! Versions are `nodejs_semver::Version` values (its ordering agrees with node on every row of
//! the differential table), but parsing and ranges are done here: the crate's range parser
//! disagreed with node on about a fifth of generated ranges (comparator sets were not
//! intersected, reversed hyphen ranges were errors instead of empty). Ranges are desugared the
//! way node desugars them, textually, into `||`-separated sets of primitive comparators
//! (`<`, `<=`, `>`, `>=`, `=`); then a version satisfies a set when it satisfies every
//! comparator and, if it is a prerelease, some comparator of that set names a prerelease of the
//! same `[major, minor, patch]`.

use super::{Scheme, VersionError};
use nodejs_semver::{Identifier, Version};
use regex::{Captures, Regex};
use std::cmp::Ordering;
use std::sync::LazyLock;

/// node's `MAX_LENGTH`: longer version strings are invalid.
const MAX_LENGTH: usize = 256;
/// `Number.MAX_SAFE_INTEGER`: larger version numbers are invalid.
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

const NUMERIC: &str = r"0|[1-9]\d*";
const NON_NUMERIC: &str = r"\d*[a-zA-Z-][a-zA-Z0-9-]*";

fn prerelease() -> String {
    let id = format!("(?:{NON_NUMERIC}|{NUMERIC})");
    format!(r"(?:-({id}(?:\.{id})*))")
}

fn build() -> String {
    r"(?:\+([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*))".to_string()
}

/// `v?MAJOR.MINOR.PATCH[-PRE][+BUILD]`, capturing the three numbers, prerelease and build.
fn full_plain() -> String {
    format!(
        r"v?({NUMERIC})\.({NUMERIC})\.({NUMERIC}){}?{}?",
        prerelease(),
        build()
    )
}

/// A partial version with `x`/`X`/`*` wildcards; captures major, minor, patch, prerelease, build.
fn x_range_plain() -> String {
    let x = format!(r"{NUMERIC}|x|X|\*");
    format!(
        r"[v=\s]*({x})(?:\.({x})(?:\.({x})(?:{})?{}?)?)?",
        prerelease(),
        build()
    )
}

/// The looser form node uses only to glue an operator to its version.
fn loose_plain() -> String {
    let id = format!(r"(?:{NON_NUMERIC}|\d+)");
    format!(
        r"[v=\s]*(\d+)\.(\d+)\.(\d+)(?:-?({id}(?:\.{id})*))?{}?",
        build()
    )
}

const GTLT: &str = r"((?:<|>)?=?)";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant regex")
}

static FULL: LazyLock<Regex> = LazyLock::new(|| regex(&format!("^{}$", full_plain())));
static HYPHEN: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"^\s*({0})\s+-\s+({0})\s*$", x_range_plain())));
static COMPARATOR_TRIM: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(\s*){GTLT}\s*({}|{})",
        loose_plain(),
        x_range_plain()
    ))
});
static TILDE_TRIM: LazyLock<Regex> = LazyLock::new(|| regex(r"(\s*)(?:~>?)\s+"));
static CARET_TRIM: LazyLock<Regex> = LazyLock::new(|| regex(r"(\s*)\^\s+"));
static CARET: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"^\^{}$", x_range_plain())));
static TILDE: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"^(?:~>?){}$", x_range_plain())));
static X_RANGE: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"^{GTLT}\s*{}$", x_range_plain())));
static BUILD_STRIP: LazyLock<Regex> = LazyLock::new(|| regex(&build()));
static STAR: LazyLock<Regex> = LazyLock::new(|| regex(r"(<|>)?=?\s*\*"));
static GTE0: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*>=\s*0\.0\.0\s*$"));
static COMPARATOR: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"^{GTLT}\s*({})$", full_plain())));

/// node's `new SemVer(input)`: trimmed, strict, at most 256 characters, numbers at most
/// `MAX_SAFE_INTEGER`, an optional leading `v`.
pub(crate) fn parse_version(input: &str) -> Result<Version, VersionError> {
    let err = |reason: &str| VersionError::version(Scheme::Npm, input, reason);
    if input.len() > MAX_LENGTH {
        return Err(err("longer than 256 characters"));
    }
    let caps = FULL
        .captures(input.trim())
        .ok_or_else(|| err("not a semantic version"))?;
    version_from(&caps, 1).ok_or_else(|| err("version number too large"))
}

/// Builds a version from captures laid out as `full_plain()` lays them out, from group `first`.
fn version_from(caps: &Captures, first: usize) -> Option<Version> {
    let number = |i: usize| -> Option<u64> {
        let value: u64 = caps.get(first + i)?.as_str().parse().ok()?;
        (value <= MAX_SAFE_INTEGER).then_some(value)
    };
    let identifiers = |i: usize| -> Vec<Identifier> {
        caps.get(first + i).map_or_else(Vec::new, |m| {
            m.as_str()
                .split('.')
                .map(|id| match id.parse::<u64>() {
                    // node keeps numeric identifiers as numbers only below MAX_SAFE_INTEGER.
                    Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) && n < MAX_SAFE_INTEGER => {
                        Identifier::Numeric(n)
                    }
                    _ => Identifier::AlphaNumeric(id.to_string()),
                })
                .collect()
        })
    };
    Some(Version::new(
        number(0)?,
        number(1)?,
        number(2)?,
        identifiers(3),
        identifiers(4),
    ))
}

/// A node-semver range: alternatives (`||`) of comparator sets (all must hold).
#[derive(Clone, Debug)]
pub(crate) struct NpmRange {
    alternatives: Vec<Vec<Comparator>>,
}

#[derive(Clone, Debug)]
enum Comparator {
    /// The empty comparator (`*`, `x`, `>=0.0.0`, an empty alternative).
    Any,
    Compare(Op, Version),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    fn test(&self, version: &Version) -> bool {
        match self {
            Comparator::Any => true,
            Comparator::Compare(op, bound) => {
                let ordering = version.cmp(bound);
                match op {
                    Op::Eq => ordering == Ordering::Equal,
                    Op::Lt => ordering == Ordering::Less,
                    Op::Le => ordering != Ordering::Greater,
                    Op::Gt => ordering == Ordering::Greater,
                    Op::Ge => ordering != Ordering::Less,
                }
            }
        }
    }

    /// Whether this comparator lets prereleases of `version`'s `[major, minor, patch]` in.
    fn admits_prereleases_of(&self, version: &Version) -> bool {
        match self {
            Comparator::Any => false,
            Comparator::Compare(_, bound) => {
                bound.is_prerelease()
                    && (bound.major(), bound.minor(), bound.patch())
                        == (version.major(), version.minor(), version.patch())
            }
        }
    }
}

impl NpmRange {
    pub(crate) fn parse(input: &str) -> Result<NpmRange, VersionError> {
        let err = |reason: String| VersionError::range(Scheme::Npm, input, reason);
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut alternatives = Vec::new();
        for alternative in collapsed.split("||") {
            let desugared = desugar(alternative.trim());
            let mut set = Vec::new();
            for comparator in desugared.split_whitespace() {
                set.push(
                    parse_comparator(comparator)
                        .ok_or_else(|| err(format!("invalid comparator {comparator:?}")))?,
                );
            }
            if set.is_empty() {
                set.push(Comparator::Any);
            }
            alternatives.push(set);
        }
        Ok(NpmRange { alternatives })
    }

    /// node's `satisfies(version, range)` with default options.
    pub(crate) fn contains(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|set| {
            set.iter().all(|c| c.test(version))
                && (!version.is_prerelease()
                    || set.iter().any(|c| c.admits_prereleases_of(version)))
        })
    }
}

/// One comparator after desugaring: `OP? v?X.Y.Z[-pre][+build]`, or empty.
fn parse_comparator(text: &str) -> Option<Comparator> {
    let caps = COMPARATOR.captures(text)?;
    let op = match caps.get(1).map_or("", |m| m.as_str()) {
        "" | "=" => Op::Eq,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        _ => return None,
    };
    Some(Comparator::Compare(op, version_from(&caps, 3)?))
}

/// Rewrites one alternative into primitive comparators, step by step as node does: hyphen
/// ranges, glue operators to versions, then per comparator carets, tildes, x-ranges, stars,
/// and `>=0.0.0`.
fn desugar(alternative: &str) -> String {
    // Build metadata never takes part in ranges; node strips it first.
    let alternative = BUILD_STRIP.replace_all(alternative, "");
    let mut text = HYPHEN
        .replace(&alternative, |caps: &Captures| hyphen(caps))
        .into_owned();
    text = COMPARATOR_TRIM
        .replace_all(&text, "${1}${2}${3}")
        .into_owned();
    text = TILDE_TRIM.replace_all(&text, "${1}~").into_owned();
    text = CARET_TRIM.replace_all(&text, "${1}^").into_owned();
    let mut out = Vec::new();
    for comparator in text.split(' ') {
        let mut comparator = each_word(comparator, caret);
        comparator = each_word(&comparator, tilde);
        comparator = each_word(&comparator, x_range);
        comparator = STAR.replace(comparator.trim(), "").into_owned();
        out.push(comparator);
    }
    out.join(" ")
        .split_whitespace()
        .filter(|c| !GTE0.is_match(c))
        .collect::<Vec<_>>()
        .join(" ")
}

fn each_word(text: &str, rewrite: fn(&str) -> String) -> String {
    let words: Vec<String> = text.split_whitespace().map(rewrite).collect();
    words.join(" ")
}

/// node's `isX`: a missing part or a wildcard.
fn is_x(part: Option<&str>) -> bool {
    matches!(part, None | Some("") | Some("x") | Some("X") | Some("*"))
}

/// `+part + 1` in JavaScript; saturates rather than overflow on absurd inputs.
fn plus_one(part: &str) -> String {
    part.parse::<u64>()
        .map_or_else(|_| part.to_string(), |n| n.saturating_add(1).to_string())
}

/// Captures as `x_range_plain()` lays them out, from group `first`: major, minor, patch, pre.
fn parts<'a>(caps: &'a Captures, first: usize) -> [Option<&'a str>; 4] {
    std::array::from_fn(|i| caps.get(first + i).map(|m| m.as_str()))
}

fn hyphen(caps: &Captures) -> String {
    let from_raw = caps.get(1).map_or("", |m| m.as_str());
    let [f_major, f_minor, f_patch, f_pre] = parts(caps, 2);
    let to_raw = caps.get(7).map_or("", |m| m.as_str());
    let [t_major, t_minor, t_patch, t_pre] = parts(caps, 8);
    let from = if is_x(f_major) {
        String::new()
    } else if is_x(f_minor) {
        format!(">={}.0.0", f_major.unwrap_or("0"))
    } else if is_x(f_patch) {
        format!(">={}.{}.0", f_major.unwrap_or("0"), f_minor.unwrap_or("0"))
    } else {
        // node keeps the text as written here (a `v`, even a `=`), so does this.
        let _ = f_pre;
        format!(">={from_raw}")
    };
    let to = if is_x(t_major) {
        String::new()
    } else if is_x(t_minor) {
        format!("<{}.0.0-0", plus_one(t_major.unwrap_or("0")))
    } else if is_x(t_patch) {
        format!(
            "<{}.{}.0-0",
            t_major.unwrap_or("0"),
            plus_one(t_minor.unwrap_or("0"))
        )
    } else if let Some(pre) = t_pre {
        format!(
            "<={}.{}.{}-{pre}",
            t_major.unwrap_or("0"),
            t_minor.unwrap_or("0"),
            t_patch.unwrap_or("0")
        )
    } else {
        format!("<={to_raw}")
    };
    format!("{from} {to}").trim().to_string()
}

fn caret(word: &str) -> String {
    let Some(caps) = CARET.captures(word) else {
        return word.to_string();
    };
    let [major, minor, patch, pre] = parts(&caps, 1);
    let (m, n, p) = (
        major.unwrap_or("0"),
        minor.unwrap_or("0"),
        patch.unwrap_or("0"),
    );
    if is_x(major) {
        String::new()
    } else if is_x(minor) {
        format!(">={m}.0.0 <{}.0.0-0", plus_one(m))
    } else if is_x(patch) {
        if m == "0" {
            format!(">={m}.{n}.0 <{m}.{}.0-0", plus_one(n))
        } else {
            format!(">={m}.{n}.0 <{}.0.0-0", plus_one(m))
        }
    } else {
        let low = match pre {
            Some(pre) => format!(">={m}.{n}.{p}-{pre}"),
            None => format!(">={m}.{n}.{p}"),
        };
        let high = if m != "0" {
            format!("<{}.0.0-0", plus_one(m))
        } else if n != "0" {
            format!("<{m}.{}.0-0", plus_one(n))
        } else {
            format!("<{m}.{n}.{}-0", plus_one(p))
        };
        format!("{low} {high}")
    }
}

fn tilde(word: &str) -> String {
    let Some(caps) = TILDE.captures(word) else {
        return word.to_string();
    };
    let [major, minor, patch, pre] = parts(&caps, 1);
    let (m, n, p) = (
        major.unwrap_or("0"),
        minor.unwrap_or("0"),
        patch.unwrap_or("0"),
    );
    if is_x(major) {
        String::new()
    } else if is_x(minor) {
        format!(">={m}.0.0 <{}.0.0-0", plus_one(m))
    } else if is_x(patch) {
        format!(">={m}.{n}.0 <{m}.{}.0-0", plus_one(n))
    } else if let Some(pre) = pre {
        format!(">={m}.{n}.{p}-{pre} <{m}.{}.0-0", plus_one(n))
    } else {
        format!(">={m}.{n}.{p} <{m}.{}.0-0", plus_one(n))
    }
}

fn x_range(word: &str) -> String {
    let Some(caps) = X_RANGE.captures(word) else {
        return word.to_string();
    };
    let mut op = caps.get(1).map_or("", |m| m.as_str());
    let [major, minor, patch, _] = parts(&caps, 2);
    // A wildcard followed by a number (`*.1`, `1.x.3`) is left alone, and then fails to parse.
    if (is_x(major) && !is_x(minor)) || (is_x(minor) && patch.is_some() && !is_x(patch)) {
        return word.to_string();
    }
    let x_major = is_x(major);
    let x_minor = x_major || is_x(minor);
    let any_x = x_minor || is_x(patch);
    if !any_x {
        return word.to_string();
    }
    if op == "=" {
        op = "";
    }
    let m = major.unwrap_or("0");
    if x_major {
        return if op == ">" || op == "<" {
            "<0.0.0-0".into()
        } else {
            "*".into()
        };
    }
    if !op.is_empty() {
        let (mut m, mut n) = (
            m.to_string(),
            if x_minor {
                "0".to_string()
            } else {
                minor.unwrap_or("0").to_string()
            },
        );
        let mut op = op;
        if op == ">" {
            // `>1` is `>=2.0.0`, `>1.2` is `>=1.3.0`.
            op = ">=";
            if x_minor {
                m = plus_one(&m);
                n = "0".into();
            } else {
                n = plus_one(&n);
            }
        } else if op == "<=" {
            // `<=0.7.x` is `<0.8.0`.
            op = "<";
            if x_minor {
                m = plus_one(&m);
            } else {
                n = plus_one(&n);
            }
        }
        let pre = if op == "<" { "-0" } else { "" };
        return format!("{op}{m}.{n}.0{pre}");
    }
    if x_minor {
        format!(">={m}.0.0 <{}.0.0-0", plus_one(m))
    } else {
        let n = minor.unwrap_or("0");
        format!(">={m}.{n}.0 <{m}.{}.0-0", plus_one(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sat(version: &str, range: &str) -> bool {
        let v = parse_version(version).unwrap_or_else(|e| panic!("{e}"));
        NpmRange::parse(range)
            .unwrap_or_else(|e| panic!("{e}"))
            .contains(&v)
    }

    #[test]
    fn desugars_like_node() {
        for (range, expected) in [
            ("^1.2.3", ">=1.2.3 <2.0.0-0"),
            ("^0.2.3", ">=0.2.3 <0.3.0-0"),
            ("^0.0.3", ">=0.0.3 <0.0.4-0"),
            ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
            ("^0.x", "<1.0.0-0"),
            ("~1.2", ">=1.2.0 <1.3.0-0"),
            ("~> 1.2.3", ">=1.2.3 <1.3.0-0"),
            ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
            ("1.x", ">=1.0.0 <2.0.0-0"),
            (">1.2", ">=1.3.0"),
            ("<=1.2", "<1.3.0-0"),
            (">= 1.2.3", ">=1.2.3"),
            ("*", ""),
            (">=0.0.0", ""),
        ] {
            assert_eq!(desugar(range), expected, "{range}");
        }
    }

    #[test]
    fn prereleases_need_a_same_tuple_prerelease_comparator() {
        assert!(!sat("1.3.0-beta", ">=1.2.0 <2.0.0"));
        assert!(sat("1.2.3-beta.3", ">=1.2.3-beta.2 <2.0.0"));
        assert!(!sat("1.2.4-beta.3", ">=1.2.3-beta.2 <2.0.0"));
        assert!(sat("1.2.3-beta.3", "^1.2.3-beta.2"));
        // Another alternative naming the tuple does not help this one.
        assert!(!sat("1.5.0-rc.1", ">=1.0.0 || 1.5.0-rc.0"));
        assert!(sat("1.5.0-rc.1", ">=1.5.0-rc.0 || 3"));
    }

    #[test]
    fn zero_major_carets_and_x_ranges() {
        assert!(sat("0.0.3", "^0.0.3"));
        assert!(!sat("0.0.4", "^0.0.3"));
        assert!(sat("0.2.9", "^0.2.3"));
        assert!(!sat("0.3.0", "^0.2.3"));
        assert!(sat("1.9.9", "1.x || >=2.5.0"));
        assert!(!sat("2.0.0", "1.x || >=2.5.0"));
        assert!(sat("2.5.0", "1.x || >=2.5.0"));
        assert!(!sat("1.0.0", ">1"));
        assert!(sat("2.0.0", ">1"));
        assert!(!sat("0.0.0", "<0.x"));
    }

    #[test]
    fn reversed_hyphen_range_is_empty_not_an_error() {
        assert!(!sat("2.0.0", "3.0.0 - 1.0.0"));
    }

    #[test]
    fn node_rejects_leading_zeros_and_garbage() {
        for bad in [
            "01.2.3",
            "1.02.3",
            "1.2.3-01",
            "=1.2.3",
            "1.2",
            "v",
            "1.2.3.4",
            "9007199254740992.0.0",
        ] {
            assert!(parse_version(bad).is_err(), "{bad:?}");
        }
        assert!(parse_version(" v1.2.3 ").is_ok());
        assert!(parse_version("9007199254740991.0.0").is_ok());
        for bad in ["^01.2.3", ">=1.2.3 <", ">>1", "foo", "1.2.3 - ", ">=*x"] {
            assert!(NpmRange::parse(bad).is_err(), "{bad:?}");
        }
        for ok in ["", "*", "x", "1.2.3 ||", "|| 1.x", ">=*"] {
            assert!(NpmRange::parse(ok).is_ok(), "{ok:?}");
        }
    }
}
