//! Composer versions and constraints, following `composer/semver`'s `VersionParser`.
//!
//! Versions are normalized to four numbers plus an optional stability (`v1.2-beta2` ->
//! `1.2.0.0-beta2`) and ordered with PHP's `version_compare`, as Composer orders them. Branch
//! versions (`dev-main`) have no order and are rejected. Constraints support `^`, `~`, `*`/`x`
//! wildcards, hyphen ranges, `||`/`|` (OR), space or comma (AND) and `@stability` flags. Matching
//! has no stability filter: that is `minimum-stability`'s job at resolution time.

use super::{Scheme, VersionError};
use regex::Regex;
use std::cmp::Ordering;
use std::sync::LazyLock;

/// `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?`
const MODIFIER: &str =
    r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant regex")
}

static CLASSICAL: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(?i)^v?(\d{{1,5}})(\.\d+)?(\.\d+)?(\.\d+)?{MODIFIER}$"
    ))
});
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(?i)^v?(\d{{4}}(?:[.:-]?\d{{2}}){{1,6}}(?:[.:-]?\d{{1,3}}){{0,2}}){MODIFIER}$"
    ))
});
static STABILITY_FLAG: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)@(?:stable|RC|beta|alpha|dev)$"));
static BUILD: LazyLock<Regex> = LazyLock::new(|| regex(r"^([^,\s+]+)\+\S+$"));
static DEV_SUFFIX: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)^(.*?)[.-]?dev$"));
static NUMERIC_BRANCH: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)^v?(\d+)(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?$"));

/// The version part shared by constraint forms: numbers 1-4, stability 5, its number 6,
/// `dev` 7, and an `.x-dev` wildcard 8.
fn version_pattern() -> String {
    format!(
        r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:{MODIFIER}|\.([xX*][.-]?dev))(?:\+\S+)?"
    )
}

static CONSTRAINT_FLAG: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)^([^,\s]*?)@(stable|RC|beta|alpha|dev)$"));
static MATCH_ALL: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)^(v)?[x*](\.[x*])*$"));
static TILDE: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"(?i)^~(>)?{}$", version_pattern())));
static CARET: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"(?i)^\^{}$", version_pattern())));
static X_RANGE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.[xX*])+$"));
static HYPHEN: LazyLock<Regex> = LazyLock::new(|| {
    let v = version_pattern();
    regex(&format!(r"(?i)^({v}) +- +({v})$"))
});
static BASIC: LazyLock<Regex> = LazyLock::new(|| regex(r"^(<>|!=|>=?|<=?|==?)?\s*(.*)$"));
static DASH_MODIFIER: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"-{MODIFIER}$")));

/// A normalized Composer version such as `1.2.0.0-beta2`.
#[derive(Clone, Debug)]
pub(crate) struct ComposerVersion {
    normalized: String,
}

impl ComposerVersion {
    pub(crate) fn parse(input: &str) -> Result<ComposerVersion, VersionError> {
        let normalized = normalize(input).ok_or_else(|| {
            VersionError::version(Scheme::Composer, input, "not a Composer version")
        })?;
        if normalized.starts_with("dev-") {
            return Err(VersionError::version(
                Scheme::Composer,
                input,
                "a branch, which has no version order",
            ));
        }
        Ok(ComposerVersion { normalized })
    }

    /// Anything below `stable` (`dev`, `alpha`, `beta`, `RC`); `patch` counts as stable.
    pub(crate) fn is_prerelease(&self) -> bool {
        let lower = self.normalized.to_ascii_lowercase();
        ["-dev", "-alpha", "-beta", "-rc"]
            .iter()
            .any(|s| lower.contains(s))
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        php_version_compare(&self.normalized, &other.normalized)
    }
}

/// `VersionParser::normalize`; `None` where Composer throws. Branches come back as `dev-…`.
fn normalize(input: &str) -> Option<String> {
    let mut version = input.trim().to_string();
    if let Some((source, _alias)) = split_alias(&version) {
        version = source;
    }
    if let Some(found) = STABILITY_FLAG.find(&version) {
        version.truncate(found.start());
    }
    if matches!(version.as_str(), "master" | "trunk" | "default") {
        version = format!("dev-{version}");
    }
    if let Some(branch) = version
        .get(..4)
        .filter(|prefix| prefix.eq_ignore_ascii_case("dev-"))
        .and_then(|_| version.get(4..))
    {
        return Some(format!("dev-{branch}"));
    }
    if let Some(caps) = BUILD.captures(&version) {
        version = caps[1].to_string();
    }
    let numbered = if let Some(caps) = CLASSICAL.captures(&version) {
        let part = |i: usize| caps.get(i).map_or(".0", |m| m.as_str()).to_string();
        Some((
            format!("{}{}{}{}", &caps[1], part(2), part(3), part(4)),
            caps,
            5,
        ))
    } else if let Some(caps) = DATE.captures(&version) {
        let digits = caps[1].replace(|c: char| !c.is_ascii_digit(), ".");
        Some((digits, caps, 2))
    } else {
        None
    };
    if let Some((mut normalized, caps, index)) = numbered {
        if let Some(stability) = caps
            .get(index)
            .map(|m| m.as_str())
            .filter(|s| !s.is_empty())
        {
            if stability == "stable" {
                return Some(normalized);
            }
            let number = caps
                .get(index + 1)
                .map_or("", |m| m.as_str().trim_start_matches(['.', '-']));
            normalized = format!("{normalized}-{}{number}", expand_stability(stability));
        }
        if caps.get(index + 2).is_some_and(|m| !m.as_str().is_empty()) {
            normalized.push_str("-dev");
        }
        return Some(normalized);
    }
    let caps = DEV_SUFFIX.captures(&version)?;
    normalize_numeric_branch(&caps[1])
}

/// `1.x-dev` style branches: wildcards become 9999999, a Composer convention for "newest".
fn normalize_numeric_branch(name: &str) -> Option<String> {
    let caps = NUMERIC_BRANCH.captures(name.trim())?;
    let mut out = caps[1].to_string();
    for i in 2..5 {
        out.push_str(
            &caps
                .get(i)
                .map_or(".x".to_string(), |m| m.as_str().replace(['*', 'X'], "x")),
        );
    }
    Some(format!("{}-dev", out.replace('x', "9999999")))
}

/// `1.0 as 2.0` -> the source version (`1.0`).
fn split_alias(text: &str) -> Option<(String, String)> {
    let (source, alias) = text.split_once(" as ")?;
    let (source, alias) = (source.trim_end(), alias.trim_start());
    let bare = |s: &str| !s.is_empty() && !s.contains([',', ' ', '\t']);
    (bare(source) && bare(alias)).then(|| (source.to_string(), alias.to_string()))
}

fn expand_stability(stability: &str) -> String {
    match stability.to_ascii_lowercase().as_str() {
        "a" => "alpha".into(),
        "b" => "beta".into(),
        "p" | "pl" => "patch".into(),
        "rc" => "RC".into(),
        other => other.to_string(),
    }
}

/// PHP's `version_compare`: canonicalize (separators to `.`, a `.` between digits and
/// letters), then compare part by part; special words order `dev < alpha < beta < RC <
/// number < patch`, unknown words lowest.
pub(crate) fn php_version_compare(a: &str, b: &str) -> Ordering {
    let a = php_canonicalize(a);
    let b = php_canonicalize(b);
    let mut left = a.split('.').filter(|p| !p.is_empty());
    let mut right = b.split('.').filter(|p| !p.is_empty());
    loop {
        match (left.next(), right.next()) {
            (Some(l), Some(r)) => {
                let ordering = compare_parts(l, r);
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            // A longer version wins with a number (`1.0.1` > `1.0`); a trailing word is compared
            // with a number's rank (`1.0-dev` < `1.0`, `1.0-patch1` > `1.0`).
            (Some(l), None) => return compare_parts(l, "#").then(Ordering::Greater),
            (None, Some(r)) => return compare_parts("#", r).then(Ordering::Less),
            (None, None) => return Ordering::Equal,
        }
    }
}

fn php_canonicalize(version: &str) -> String {
    let mut out = String::with_capacity(version.len() + 4);
    let mut previous: Option<char> = None;
    for c in version.chars() {
        let kind_changed = previous
            .is_some_and(|p| p != '.' && c != '.' && p.is_ascii_digit() != c.is_ascii_digit());
        if matches!(c, '-' | '_' | '+') || (!c.is_ascii_alphanumeric() && c != '.') {
            if !out.ends_with('.') {
                out.push('.');
            }
        } else if kind_changed {
            if !out.ends_with('.') {
                out.push('.');
            }
            out.push(c);
        } else {
            out.push(c);
        }
        previous = Some(c);
    }
    out
}

fn compare_parts(left: &str, right: &str) -> Ordering {
    let digit = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
    match (digit(left), digit(right)) {
        (true, true) => compare_digits(left, right),
        (false, false) => special_rank(left).cmp(&special_rank(right)),
        (true, false) => special_rank("#").cmp(&special_rank(right)),
        (false, true) => special_rank(left).cmp(&special_rank("#")),
    }
}

fn compare_digits(left: &str, right: &str) -> Ordering {
    let take = |s: &str| -> String {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        let trimmed = digits.trim_start_matches('0');
        if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.into()
        }
    };
    let (l, r) = (take(left), take(right));
    l.len().cmp(&r.len()).then_with(|| l.cmp(&r))
}

/// PHP matches these as prefixes, in this order (so `patch` ranks as `p`).
fn special_rank(form: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| form.starts_with(name))
        .map_or(-1, |&(_, rank)| rank)
}

/// A parsed constraint: OR of ANDs of simple comparisons.
#[derive(Clone, Debug)]
pub(crate) struct ComposerConstraint {
    alternatives: Vec<Vec<Comparison>>,
}

#[derive(Clone, Debug)]
enum Comparison {
    Any,
    Op(CmpOp, ComposerVersion),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl ComposerConstraint {
    pub(crate) fn parse(input: &str) -> Result<ComposerConstraint, VersionError> {
        let err = |reason: &str| VersionError::range(Scheme::Composer, input, reason);
        let mut alternatives = Vec::new();
        for alternative in split_or(input.trim()) {
            let mut all = Vec::new();
            for single in split_and(alternative).ok_or_else(|| err("malformed list"))? {
                all.extend(parse_single(&single).ok_or_else(|| err("cannot parse constraint"))?);
            }
            alternatives.push(all);
        }
        Ok(ComposerConstraint { alternatives })
    }

    pub(crate) fn contains(&self, version: &ComposerVersion) -> bool {
        self.alternatives.iter().any(|all| {
            all.iter().all(|comparison| match comparison {
                Comparison::Any => true,
                Comparison::Op(op, bound) => {
                    let ordering = version.cmp(bound);
                    match op {
                        CmpOp::Eq => ordering == Ordering::Equal,
                        CmpOp::Ne => ordering != Ordering::Equal,
                        CmpOp::Lt => ordering == Ordering::Less,
                        CmpOp::Le => ordering != Ordering::Greater,
                        CmpOp::Gt => ordering == Ordering::Greater,
                        CmpOp::Ge => ordering != Ordering::Less,
                    }
                }
            })
        })
    }
}

/// Splits on `|` or `||` with optional whitespace around (`\s*\|\|?\s*`).
fn split_or(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(pipe) = rest.find('|') {
        pieces.push(rest[..pipe].trim());
        let after = &rest[pipe + 1..];
        rest = after.strip_prefix('|').unwrap_or(after);
    }
    pieces.push(rest.trim());
    pieces
}

/// Splits an AND list on spaces or commas, keeping an operator with its version
/// (`>= 1.0`) and a hyphen range (`1.0 - 2.0`) together, as Composer's split regex does.
fn split_and(text: &str) -> Option<Vec<String>> {
    let mut words: Vec<&str> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find([' ', ',']).unwrap_or(rest.len());
        words.push(&rest[..end]);
        let after = &rest[end..];
        let sep_len = after.len() - after.trim_start_matches([' ', ',']).len();
        let commas = after[..sep_len].matches(',').count();
        // `a,,b` and a trailing comma do not split in Composer, so they fail to parse.
        if commas > 1 || (commas == 1 && sep_len == after.len()) {
            return None;
        }
        rest = &after[sep_len..];
    }
    let is_operator = |w: &str| matches!(w, "<>" | "!=" | ">" | ">=" | "<" | "<=" | "=" | "==");
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if is_operator(word) {
            let next = words.get(i + 1)?;
            out.push(format!("{word}{next}"));
            i += 2;
        } else if words.get(i + 1) == Some(&"-") {
            let to = words.get(i + 2)?;
            out.push(format!("{word} - {to}"));
            i += 3;
        } else {
            out.push(word.to_string());
            i += 1;
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    Some(out)
}

fn version(normalized: String) -> Option<ComposerVersion> {
    (!normalized.starts_with("dev-")).then_some(ComposerVersion { normalized })
}

fn present<'a>(caps: &regex::Captures<'a>, i: usize) -> Option<&'a str> {
    caps.get(i).map(|m| m.as_str()).filter(|s| !s.is_empty())
}

/// Composer's `manipulateVersionString`: zero the parts after `position`, add `increment` at it.
fn manipulate(numbers: [Option<&str>; 4], position: usize, increment: u64) -> Option<String> {
    let mut parts = [0u64; 4];
    for (i, slot) in parts.iter_mut().enumerate() {
        let index = i + 1;
        if index > position {
            *slot = 0;
        } else {
            let value: u64 = numbers[i].unwrap_or("0").parse().ok()?;
            *slot = if index == position {
                value.checked_add(increment)?
            } else {
                value
            };
        }
    }
    Some(format!(
        "{}.{}.{}.{}",
        parts[0], parts[1], parts[2], parts[3]
    ))
}

fn as_refs(numbers: &[Option<String>; 4]) -> [Option<&str>; 4] {
    std::array::from_fn(|i| numbers[i].as_deref())
}

fn parse_single(constraint: &str) -> Option<Vec<Comparison>> {
    let mut constraint = constraint.to_string();
    if let Some((source, _)) = split_alias(&constraint) {
        constraint = source;
    }
    let mut stability_modifier: Option<String> = None;
    if let Some(caps) = CONSTRAINT_FLAG.captures(&constraint) {
        let flag = caps[2].to_string();
        constraint = if caps[1].is_empty() {
            "*".into()
        } else {
            caps[1].to_string()
        };
        if flag != "stable" {
            stability_modifier = Some(flag);
        }
    }
    if let Some(caps) = MATCH_ALL.captures(&constraint) {
        if caps.get(1).is_some() || caps.get(2).is_some() {
            return Some(vec![Comparison::Op(
                CmpOp::Ge,
                version("0.0.0.0-dev".into())?,
            )]);
        }
        return Some(vec![Comparison::Any]);
    }
    let numbers = |caps: &regex::Captures, first: usize| -> [Option<String>; 4] {
        std::array::from_fn(|i| present(caps, first + i).map(str::to_string))
    };

    if let Some(caps) = TILDE.captures(&constraint) {
        if caps.get(1).is_some() {
            // `~>` is RubyGems' operator; Composer rejects it.
            return None;
        }
        // Groups shift by one because of the `(>)?` group.
        let n = numbers(&caps, 2);
        let mut position = (1..=4).rev().find(|&p| n[p - 1].is_some()).unwrap_or(1);
        if present(&caps, 9).is_some() {
            position += 1;
        }
        let suffix = if present(&caps, 6).is_none()
            && present(&caps, 8).is_none()
            && present(&caps, 9).is_none()
        {
            "-dev"
        } else {
            ""
        };
        let low = normalize(&format!("{}{suffix}", &constraint[1..]))?;
        let high = manipulate(as_refs(&n), position.saturating_sub(1).max(1), 1)?;
        return Some(vec![
            Comparison::Op(CmpOp::Ge, version(low)?),
            Comparison::Op(CmpOp::Lt, version(format!("{high}-dev"))?),
        ]);
    }

    if let Some(caps) = CARET.captures(&constraint) {
        let n = numbers(&caps, 1);
        let raw = |i: usize| caps.get(i).map(|m| m.as_str());
        let position = if raw(1) != Some("0") || present(&caps, 2).is_none() {
            1
        } else if raw(2) != Some("0") || present(&caps, 3).is_none() {
            2
        } else {
            3
        };
        let suffix = if present(&caps, 5).is_none()
            && present(&caps, 7).is_none()
            && present(&caps, 8).is_none()
        {
            "-dev"
        } else {
            ""
        };
        let low = normalize(&format!("{}{suffix}", &constraint[1..]))?;
        let high = manipulate(as_refs(&n), position, 1)?;
        return Some(vec![
            Comparison::Op(CmpOp::Ge, version(low)?),
            Comparison::Op(CmpOp::Lt, version(format!("{high}-dev"))?),
        ]);
    }

    if let Some(caps) = X_RANGE.captures(&constraint) {
        let n: [Option<String>; 4] =
            std::array::from_fn(|i| present(&caps, i + 1).map(str::to_string));
        let position = (1..=3).rev().find(|&p| n[p - 1].is_some()).unwrap_or(1);
        let low = format!("{}-dev", manipulate(as_refs(&n), position, 0)?);
        let high = format!("{}-dev", manipulate(as_refs(&n), position, 1)?);
        let upper = Comparison::Op(CmpOp::Lt, version(high)?);
        if low == "0.0.0.0-dev" {
            return Some(vec![upper]);
        }
        return Some(vec![Comparison::Op(CmpOp::Ge, version(low)?), upper]);
    }

    if let Some(caps) = HYPHEN.captures(&constraint) {
        // Groups: from = 1 (numbers 2-5, stability 6, number 7, dev 8, x-dev 9);
        //         to = 10 (numbers 11-14, stability 15, number 16, dev 17, x-dev 18).
        let low_suffix = if present(&caps, 6).is_none()
            && present(&caps, 8).is_none()
            && present(&caps, 9).is_none()
        {
            "-dev"
        } else {
            ""
        };
        let low = format!("{}{low_suffix}", normalize(&caps[1])?);
        let to = &caps[10];
        let upper = if (present(&caps, 12).is_some() && present(&caps, 13).is_some())
            || present(&caps, 15).is_some()
            || present(&caps, 17).is_some()
            || present(&caps, 18).is_some()
        {
            Comparison::Op(CmpOp::Le, version(normalize(to)?)?)
        } else {
            normalize(to)?;
            let n: [Option<&str>; 4] = std::array::from_fn(|i| present(&caps, 11 + i));
            let position = if n[1].is_none() { 1 } else { 2 };
            Comparison::Op(
                CmpOp::Lt,
                version(format!("{}-dev", manipulate(n, position, 1)?))?,
            )
        };
        return Some(vec![Comparison::Op(CmpOp::Ge, version(low)?), upper]);
    }

    let caps = BASIC.captures(&constraint)?;
    let operator = caps.get(1).map_or("", |m| m.as_str());
    let text = &caps[2];
    let mut normalized = normalize(text)?;
    if normalized.starts_with("dev-") {
        return None;
    }
    let op = match operator {
        "" | "=" | "==" => CmpOp::Eq,
        "!=" | "<>" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => return None,
    };
    let stable = !ComposerVersion {
        normalized: normalized.clone(),
    }
    .is_prerelease();
    match (&stability_modifier, op) {
        (Some(flag), op) if op != CmpOp::Eq && stable => {
            normalized = format!("{normalized}-{flag}")
        }
        (_, CmpOp::Lt | CmpOp::Ge) if !DASH_MODIFIER.is_match(&text.to_ascii_lowercase()) => {
            normalized.push_str("-dev");
        }
        _ => {}
    }
    Some(vec![Comparison::Op(op, version(normalized)?)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> Option<String> {
        normalize(text)
    }

    fn sat(version: &str, constraint: &str) -> bool {
        let v = ComposerVersion::parse(version).unwrap_or_else(|e| panic!("{e}"));
        ComposerConstraint::parse(constraint)
            .unwrap_or_else(|e| panic!("{e}"))
            .contains(&v)
    }

    #[test]
    fn normalizes_like_version_parser() {
        let cases = [
            ("1.0.0", "1.0.0.0"),
            ("v1.2", "1.2.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0-beta2", "1.0.0.0-beta2"),
            ("1.0.0-b.2", "1.0.0.0-beta2"),
            ("1.0.0-RC1", "1.0.0.0-RC1"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0-alpha", "1.0.0.0-alpha"),
            ("1.0.0-p1", "1.0.0.0-patch1"),
            ("1.0.0-pl2", "1.0.0.0-patch2"),
            ("1.0.0-stable", "1.0.0.0"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("1.0.0-beta.5-dev", "1.0.0.0-beta5-dev"),
            ("1.2.3+build.5", "1.2.3.0"),
            ("1.0.0@beta", "1.0.0.0"),
            ("2010-01-02", "2010.01.02"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("dev-main", "dev-main"),
            ("master", "dev-master"),
        ];
        for (input, expected) in cases {
            assert_eq!(norm(input).as_deref(), Some(expected), "{input}");
        }
        for bad in ["", "foo", "1.0.0-gamma", "1.2.3.4.5", "1.0 2.0"] {
            assert_eq!(norm(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn branches_are_not_comparable_versions() {
        assert!(ComposerVersion::parse("dev-main").is_err());
        assert!(ComposerVersion::parse("master").is_err());
        assert!(ComposerVersion::parse("1.x-dev").is_ok());
    }

    #[test]
    fn orders_stabilities_like_composer() {
        let ascending = [
            "1.0.0-dev",
            "1.0.0-alpha",
            "1.0.0-alpha2",
            "1.0.0-beta",
            "1.0.0-RC1",
            "1.0.0-RC2",
            "1.0.0",
            "1.0.0-patch1",
            "1.0.1",
            "v1.1",
            "1.10",
            "1.x-dev",
            "2.0",
        ];
        let parsed: Vec<_> = ascending
            .iter()
            .map(|v| ComposerVersion::parse(v).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        for (i, pair) in parsed.windows(2).enumerate() {
            assert!(pair[0] < pair[1], "{} < {}", ascending[i], ascending[i + 1]);
        }
        assert_eq!(
            ComposerVersion::parse("v1.0").unwrap_or_else(|e| panic!("{e}")),
            ComposerVersion::parse("1.0.0.0").unwrap_or_else(|e| panic!("{e}"))
        );
    }

    #[test]
    fn php_version_compare_special_forms() {
        assert_eq!(
            php_version_compare("1.0.0.0-dev", "1.0.0.0"),
            Ordering::Less
        );
        assert_eq!(
            php_version_compare("1.0.0.0-patch1", "1.0.0.0"),
            Ordering::Greater
        );
        assert_eq!(php_version_compare("1.0rc1", "1.0.0"), Ordering::Less);
        assert_eq!(
            php_version_compare("1.0.0.0-beta2-dev", "1.0.0.0-beta2"),
            Ordering::Less
        );
        assert_eq!(php_version_compare("1.10", "1.9"), Ordering::Greater);
        assert_eq!(php_version_compare("1.0-foo", "1.0-dev"), Ordering::Less);
    }

    #[test]
    fn caret_is_strict_below_one() {
        assert!(sat("1.9.9", "^1.2.3"));
        assert!(!sat("2.0.0", "^1.2.3"));
        assert!(!sat("1.2.2", "^1.2.3"));
        // `^0.3` allows only 0.3.x.
        assert!(sat("0.3.9", "^0.3"));
        assert!(!sat("0.4.0", "^0.3"));
        // `^0.0.3` allows only 0.0.3.
        assert!(sat("0.0.3", "^0.0.3"));
        assert!(!sat("0.0.4", "^0.0.3"));
        // No stability filter: a beta inside the interval matches; the lower bound's dev is in.
        assert!(sat("1.5.0-beta1", "^1.2"));
        assert!(sat("1.2.0-dev", "^1.2"));
        assert!(!sat("2.0.0-dev", "^1.2"));
    }

    #[test]
    fn tilde_wildcard_and_hyphen() {
        assert!(sat("1.9", "~1.2"));
        assert!(!sat("2.0", "~1.2"));
        assert!(sat("1.2.9", "~1.2.3"));
        assert!(!sat("1.3.0", "~1.2.3"));
        assert!(sat("1.5", "~1"));
        assert!(sat("1.0.5", "1.0.*"));
        assert!(!sat("1.1.0", "1.0.*"));
        assert!(sat("0.5", "0.*"));
        assert!(sat("7.0", "*"));
        // Partial upper bound of a hyphen range is a wildcard; a full one is inclusive.
        assert!(sat("2.0.9", "1.0 - 2.0"));
        assert!(!sat("2.1.0", "1.0 - 2.0"));
        assert!(sat("2.1.0", "1.0.0 - 2.1.0"));
        assert!(!sat("2.1.1", "1.0.0 - 2.1.0"));
    }

    #[test]
    fn operators_lists_and_flags() {
        assert!(sat("1.5", ">=1.0 <2.0"));
        assert!(sat("1.5", ">=1.0,<2.0"));
        assert!(sat("1.5", ">= 1.0, < 2.0"));
        assert!(!sat("2.0", ">=1.0 <2.0"));
        // `<2.0` means below 2.0's dev, so 2.0's prereleases are out too.
        assert!(!sat("2.0.0-beta", ">=1.0 <2.0"));
        assert!(sat("3.1", ">=1.0 <1.1 || >=1.2"));
        assert!(sat("3.1", ">=1.0 <1.1 | >=1.2"));
        assert!(!sat("1.1.5", ">=1.0 <1.1 || >=1.2"));
        assert!(sat("1.0.0", "1.0.0"));
        assert!(sat("1.0.0", "==1.0"));
        assert!(!sat("1.0.0", "!=1.0"));
        assert!(sat("1.0.1", "<>1.0"));
        assert!(sat("1.2.0-beta1", ">=1.0@beta"));
        assert!(sat("1.2.0", "^1.0@dev"));
        assert!(sat("1.0.0", "v1.0.0"));
    }

    #[test]
    fn rejects_what_composer_rejects() {
        for bad in [
            "",
            "~>1.2",
            "foo",
            ">=",
            "^",
            "1.0 -",
            ">=1.0,,<2.0",
            ">=1.0,",
            "dev-main",
            "^1.0 ||| 2",
        ] {
            assert!(ComposerConstraint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
