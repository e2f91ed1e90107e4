//! OSV `affected[].ranges` and `versions` evaluation, per the OSV schema's `IsVulnerable`
//! pseudocode: a version is affected if it is listed in `versions` or lies in any range.
//!
//! Within a range, events are sorted by version (in the range's order) and walked:
//! `introduced` turns "affected" on when the version is at or above it (`"0"` is below
//! everything), `fixed` turns it off at or above, `last_affected` off strictly above. `limit`
//! events cap the range: the version must be below at least one of them (`"*"` is infinity).
//! `SEMVER` ranges order with SemVer 2.0 whatever the ecosystem; `ECOSYSTEM` ranges with the
//! ecosystem's scheme; `GIT` ranges name commits and cannot be evaluated against a version.

use super::go::GoVersion;
use super::{Scheme, Version, VersionError};
use serde::Deserialize;
use std::cmp::Ordering;

/// One entry of `affected[].ranges`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OsvRange {
    #[serde(rename = "type")]
    pub kind: OsvRangeKind,
    #[serde(default)]
    pub events: Vec<OsvEvent>,
}

/// How a range's event versions are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OsvRangeKind {
    Semver,
    Ecosystem,
    Git,
}

/// One event, written in OSV JSON as a single-key object (`{"fixed": "1.2.3"}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl OsvEvent {
    fn version(&self) -> &str {
        match self {
            OsvEvent::Introduced(v)
            | OsvEvent::Fixed(v)
            | OsvEvent::LastAffected(v)
            | OsvEvent::Limit(v) => v,
        }
    }
}

/// Whether `version` is affected by an `affected[]` entry's `ranges` and `versions`.
///
/// Errors when the version, or an event version of a range that has to be evaluated, does not
/// parse; an explicit `versions` match answers `true` before anything is parsed.
pub fn osv_affected(
    scheme: Scheme,
    version: &str,
    ranges: &[OsvRange],
    versions: &[String],
) -> Result<bool, VersionError> {
    if versions.iter().any(|listed| listed == version) {
        return Ok(true);
    }
    let needs_scheme =
        !versions.is_empty() || ranges.iter().any(|r| r.kind == OsvRangeKind::Ecosystem);
    let parsed = if needs_scheme {
        Some(Version::parse(scheme, version)?)
    } else {
        None
    };
    if let Some(parsed) = &parsed {
        // `1.0` and `1.0.0` are the same PyPI version; list matches go by the scheme's equality.
        let listed_equal = versions
            .iter()
            .filter_map(|listed| Version::parse(scheme, listed).ok())
            .any(|listed| listed.compare(parsed) == Some(Ordering::Equal));
        if listed_equal {
            return Ok(true);
        }
    }
    for range in ranges {
        let affected = match (range.kind, &parsed) {
            (OsvRangeKind::Git, _) => false,
            (OsvRangeKind::Ecosystem, Some(parsed)) => {
                in_range(parsed, &range.events, |text| Version::parse(scheme, text))?
            }
            // Unreachable in practice: an ECOSYSTEM range forces `parsed`.
            (OsvRangeKind::Ecosystem, None) => false,
            (OsvRangeKind::Semver, _) => {
                let semver = GoVersion::parse(version).map_err(|_| {
                    VersionError::version(scheme, version, "not a SemVer 2.0 version")
                })?;
                in_range(&semver, &range.events, |text| {
                    GoVersion::parse(text)
                        .map_err(|_| VersionError::version(scheme, text, "OSV SEMVER event"))
                })?
            }
        };
        if affected {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An event's position: `"0"` introduced is below every version, `"*"` limit above.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Point<V> {
    Zero,
    At(V),
    Infinity,
}

fn in_range<V: Ord>(
    version: &V,
    events: &[OsvEvent],
    parse: impl Fn(&str) -> Result<V, VersionError>,
) -> Result<bool, VersionError> {
    let mut points = Vec::with_capacity(events.len());
    for event in events {
        let point = match (event, event.version()) {
            (OsvEvent::Introduced(_), "0") => Point::Zero,
            (OsvEvent::Limit(_), "*") => Point::Infinity,
            (_, text) => Point::At(parse(text)?),
        };
        points.push((point, event));
    }
    // How `version` compares with an event's point.
    let at = |point: &Point<V>| -> Ordering {
        match point {
            Point::Zero => Ordering::Greater,
            Point::At(p) => version.cmp(p),
            Point::Infinity => Ordering::Less,
        }
    };

    let limits: Vec<&Point<V>> = points
        .iter()
        .filter(|(_, event)| matches!(event, OsvEvent::Limit(_)))
        .map(|(point, _)| point)
        .collect();
    if !limits.is_empty() && !limits.iter().any(|limit| at(limit) == Ordering::Less) {
        return Ok(false);
    }

    // Stable sort keeps the written order of events at the same version.
    points.sort_by(|a, b| a.0.cmp(&b.0));
    let mut affected = false;
    for (point, event) in &points {
        match event {
            OsvEvent::Introduced(_) if at(point) != Ordering::Less => affected = true,
            OsvEvent::Fixed(_) if at(point) != Ordering::Less => affected = false,
            OsvEvent::LastAffected(_) if at(point) == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    Ok(affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(json: &str) -> Vec<OsvRange> {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn affected(scheme: Scheme, version: &str, json: &str) -> bool {
        osv_affected(scheme, version, &ranges(json), &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn deserializes_osv_json() {
        let parsed = ranges(
            r#"[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]},
                {"type":"GIT","repo":"https://example.invalid/r","events":[{"introduced":"abc"},{"limit":"def"}]},
                {"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"last_affected":"1.4"}],"database_specific":{}}]"#,
        );
        assert_eq!(parsed[0].kind, OsvRangeKind::Semver);
        assert_eq!(
            parsed[0].events,
            vec![
                OsvEvent::Introduced("0".into()),
                OsvEvent::Fixed("1.2.3".into())
            ]
        );
        assert_eq!(parsed[1].kind, OsvRangeKind::Git);
        assert_eq!(parsed[1].events[1], OsvEvent::Limit("def".into()));
        assert_eq!(parsed[2].events[1], OsvEvent::LastAffected("1.4".into()));
        assert!(serde_json::from_str::<OsvRange>(r#"{"type":"NOPE","events":[]}"#).is_err());
        assert!(serde_json::from_str::<OsvEvent>(r#"{"patched":"1"}"#).is_err());
    }

    #[test]
    fn introduced_zero_means_everything_before_the_fix() {
        let json = r#"[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.2"}]}]"#;
        assert!(affected(Scheme::Npm, "0.0.0", json));
        assert!(affected(Scheme::Npm, "1.0.1", json));
        assert!(
            affected(Scheme::Npm, "1.0.2-rc.1", json),
            "a prerelease of the fix is before it"
        );
        assert!(!affected(Scheme::Npm, "1.0.2", json));
        assert!(!affected(Scheme::Npm, "2.0.0", json));
        let unfixed = r#"[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]"#;
        assert!(affected(Scheme::Pep440, "0.0.1.dev0", unfixed));
        assert!(affected(Scheme::Pep440, "99", unfixed));
    }

    #[test]
    fn multiple_intervals_and_multiple_ranges() {
        let json = r#"[{"type":"SEMVER","events":[
            {"introduced":"1.0.0"},{"fixed":"1.0.2"},{"introduced":"3.0.0"},{"fixed":"3.2.5"}]}]"#;
        for (version, expected) in [
            ("0.9.0", false),
            ("1.0.0", true),
            ("1.0.1", true),
            ("1.0.2", false),
            ("2.5.0", false),
            ("3.0.0", true),
            ("3.2.4", true),
            ("3.2.5", false),
        ] {
            assert_eq!(
                affected(Scheme::Cargo, version, json),
                expected,
                "{version}"
            );
        }
        let two = r#"[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.1"}]},
                      {"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.1"}]}]"#;
        assert!(affected(Scheme::RubyGems, "2.0.5", two));
        assert!(!affected(Scheme::RubyGems, "1.5", two));
    }

    #[test]
    fn unsorted_events_are_sorted_in_the_ecosystem_order() {
        let json = r#"[{"type":"ECOSYSTEM","events":[
            {"fixed":"3.2.5"},{"introduced":"3.0.0"},{"fixed":"1.0.2"},{"introduced":"1.0.0"}]}]"#;
        assert!(affected(Scheme::Npm, "1.0.1", json));
        assert!(!affected(Scheme::Npm, "2.0.0", json));
        assert!(affected(Scheme::Npm, "3.1.0", json));
        // PEP 440 order, not string order: 1.10 > 1.9.
        let pypi = r#"[{"type":"ECOSYSTEM","events":[{"fixed":"1.10"},{"introduced":"1.9"}]}]"#;
        assert!(affected(Scheme::Pep440, "1.9.5", pypi));
        assert!(!affected(Scheme::Pep440, "1.10.0", pypi));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let json =
            r#"[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"2.1.214"}]}]"#;
        assert!(affected(Scheme::Npm, "2.1.214", json));
        assert!(!affected(Scheme::Npm, "2.1.215", json));
        assert!(
            affected(Scheme::Npm, "2.1.214-0", json),
            "below the last affected version"
        );
    }

    #[test]
    fn limit_caps_the_range() {
        let json = r#"[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"1.5.0"}]}]"#;
        assert!(affected(Scheme::Npm, "1.4.9", json));
        assert!(!affected(Scheme::Npm, "1.5.0", json));
        assert!(!affected(Scheme::Npm, "0.9.0", json));
        let star = r#"[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"*"}]}]"#;
        assert!(affected(Scheme::Npm, "99.0.0", star));
        // A fix below the limit still ends the range.
        let both = r#"[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"fixed":"1.2.0"},{"limit":"2.0.0"}]}]"#;
        assert!(!affected(Scheme::Npm, "1.3.0", both));
    }

    #[test]
    fn versions_list_matches_exactly_or_by_scheme_equality() {
        let none: Vec<OsvRange> = Vec::new();
        let listed = vec!["1.0".to_string(), "2.0.0".to_string()];
        assert_eq!(
            osv_affected(Scheme::Pep440, "1.0", &none, &listed),
            Ok(true)
        );
        assert_eq!(
            osv_affected(Scheme::Pep440, "1.0.0", &none, &listed),
            Ok(true)
        );
        assert_eq!(
            osv_affected(Scheme::Pep440, "1.1", &none, &listed),
            Ok(false)
        );
        // A listed string matches even when the scheme cannot parse it.
        let odd = vec!["weird-build".to_string()];
        assert_eq!(
            osv_affected(Scheme::Npm, "weird-build", &none, &odd),
            Ok(true)
        );
    }

    #[test]
    fn git_ranges_need_the_versions_list() {
        let git = ranges(
            r#"[{"type":"GIT","repo":"r","events":[{"introduced":"0"},{"fixed":"abc123"}]}]"#,
        );
        assert_eq!(osv_affected(Scheme::Go, "v1.0.0", &git, &[]), Ok(false));
        assert_eq!(
            osv_affected(Scheme::Go, "v1.0.0", &git, &["v1.0.0".to_string()]),
            Ok(true)
        );
    }

    #[test]
    fn semver_ranges_use_semver_whatever_the_ecosystem() {
        // Go advisories write SEMVER events without the `v`; module versions have it.
        let json = r#"[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.4"}]}]"#;
        assert!(affected(Scheme::Go, "v1.2.3", json));
        assert!(affected(
            Scheme::Go,
            "v1.2.4-0.20210101000000-abcdef123456",
            json
        ));
        assert!(!affected(Scheme::Go, "v1.2.4+incompatible", json));
        // Build metadata is ignored for precedence.
        assert!(!affected(Scheme::Cargo, "1.2.4+build.7", json));
    }

    #[test]
    fn pypi_ecosystem_range_includes_prereleases_in_order() {
        let json =
            r#"[{"type":"ECOSYSTEM","events":[{"introduced":"2.0.0a1"},{"fixed":"2.0.1"}]}]"#;
        assert!(
            !affected(Scheme::Pep440, "2.0.0.dev1", json),
            "dev of 2.0.0 is before its alpha"
        );
        assert!(affected(Scheme::Pep440, "2.0.0a1", json));
        assert!(affected(Scheme::Pep440, "2.0.0rc1", json));
        assert!(affected(Scheme::Pep440, "2.0", json));
        assert!(affected(Scheme::Pep440, "2.0.0.post1", json));
        assert!(
            affected(Scheme::Pep440, "2.0.1rc1", json),
            "a prerelease of the fix is not fixed"
        );
        assert!(!affected(Scheme::Pep440, "2.0.1", json));
    }

    #[test]
    fn unparsable_inputs_are_errors() {
        let json = ranges(
            r#"[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version"}]}]"#,
        );
        assert!(osv_affected(Scheme::Npm, "1.0.0", &json, &[]).is_err());
        let ok = ranges(r#"[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]"#);
        assert!(osv_affected(Scheme::Npm, "garbage", &ok, &[]).is_err());
        // No events at all: nothing is introduced, nothing is affected.
        let empty = ranges(r#"[{"type":"SEMVER","events":[]}]"#);
        assert_eq!(osv_affected(Scheme::Npm, "1.0.0", &empty, &[]), Ok(false));
    }
}
