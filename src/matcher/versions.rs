//! The one place rules and gates ask version questions: "does this range parse", "does this
//! version satisfy it", "does this runtime pin admit a version in it".
//!
//! A thin layer over [`crate::version`] (each ecosystem's own scheme) that adds what gates
//! need: runtime pins that are ranges or release series, and exact pins in requirements.

use crate::ecosystem::Ecosystem;
use crate::version::Scheme;

/// Why a version or range could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VersionProblem(pub String);

/// Checks that `range` parses in `eco`'s range syntax.
pub fn check_range(eco: Ecosystem, range: &str) -> Result<(), VersionProblem> {
    match Scheme::for_ecosystem(eco) {
        Some(scheme) => crate::version::Range::parse(scheme, range)
            .map(|_| ())
            .map_err(|e| VersionProblem(e.to_string())),
        None => fallback_range(range).map(|_| ()),
    }
}

/// Does `version` (exact) satisfy `range`, both in `eco`'s syntax? Release series written
/// short (`3.12`, `20`, `v1.21`) are read as their first release when the scheme wants three
/// components.
pub fn satisfies(eco: Ecosystem, version: &str, range: &str) -> Result<bool, VersionProblem> {
    let Some(scheme) = Scheme::for_ecosystem(eco) else {
        let range = fallback_range(range)?;
        let version = nodejs_semver::Version::parse(pad_version(version))
            .map_err(|e| VersionProblem(format!("version `{version}`: {e}")))?;
        return Ok(range.satisfies(&version));
    };
    let parsed =
        crate::version::Range::parse(scheme, range).map_err(|e| VersionProblem(e.to_string()))?;
    let padded = pad_version(version);
    let attempts = [
        version.trim().to_string(),
        padded.clone(),
        format!("v{padded}"),
    ];
    let mut last = None;
    for attempt in attempts {
        match crate::version::Version::parse(scheme, &attempt) {
            Ok(v) => return Ok(parsed.contains(&v)),
            Err(e) => last = Some(e),
        }
    }
    Err(VersionProblem(last.map_or_else(
        || format!("version `{version}`"),
        |e| e.to_string(),
    )))
}

/// Known releases per runtime (major or major.minor), used to ask whether a pin that is itself a
/// range (`requires-python = ">=3.8"`) admits any release inside a rule's range.
fn candidates(eco: Ecosystem) -> Vec<String> {
    let series = |major: u32, minors: std::ops::RangeInclusive<u32>| {
        minors.map(move |m| format!("{major}.{m}"))
    };
    match eco {
        Ecosystem::Python => std::iter::once("2.7".to_string())
            .chain(series(3, 0..=15))
            .collect(),
        Ecosystem::NodeJs => ["0.10", "0.12"]
            .into_iter()
            .map(str::to_string)
            .chain((4..=26).map(|m| m.to_string()))
            .collect(),
        Ecosystem::GoToolchain => series(1, 11..=26).collect(),
        Ecosystem::Ruby => series(2, 0..=7).chain(series(3, 0..=5)).collect(),
        Ecosystem::Php => std::iter::once("5.6".to_string())
            .chain(series(7, 0..=4))
            .chain(series(8, 0..=5))
            .collect(),
        Ecosystem::Rust => series(1, 56..=95).collect(),
        _ => Vec::new(),
    }
}

/// Does a runtime pin admit a version inside `range`? A pin is an exact version (`3.12.1`), a
/// partial one (`3.12`, `20`: any release of that series), or a range (`>=3.8`): then the
/// known releases it admits are tried. `Ok(None)` when the pin cannot be read (`lts/*`).
pub fn pin_admits(eco: Ecosystem, pin: &str, range: &str) -> Result<Option<bool>, VersionProblem> {
    check_range(eco, range)?;
    let pin = pin.trim().trim_start_matches('v');
    if is_full_version(pin) {
        return Ok(satisfies(eco, pin, range).ok());
    }
    let known = candidates(eco);
    if is_partial_version(pin) {
        let prefix_hits: Vec<&String> = known
            .iter()
            .filter(|c| *c == pin || c.starts_with(&format!("{pin}.")))
            .collect();
        if prefix_hits.is_empty() {
            return Ok(satisfies(eco, pin, range).ok());
        }
        return Ok(Some(
            prefix_hits
                .into_iter()
                .any(|c| satisfies(eco, c, range).unwrap_or(false)),
        ));
    }
    if check_range(eco, pin).is_err() || known.is_empty() {
        return Ok(None);
    }
    Ok(Some(known.iter().any(|c| {
        satisfies(eco, c, pin).unwrap_or(false) && satisfies(eco, c, range).unwrap_or(false)
    })))
}

/// The version a requirement pins exactly (`==1.2.3`, `=1.2.3`, `1.2.3`), if it does.
pub fn exact_pin(requirement: &str) -> Option<&str> {
    let r = requirement.trim();
    let v = r
        .strip_prefix("===")
        .or_else(|| r.strip_prefix("=="))
        .or_else(|| r.strip_prefix('='))
        .unwrap_or(r)
        .trim();
    let bare = v.trim_start_matches('v');
    is_full_version(bare).then_some(v)
}

fn is_full_version(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_partial_version(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() <= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `3.12` → `3.12.0`, `v20` → `20.0.0`: release series compare as their first release.
fn pad_version(version: &str) -> String {
    let v = version.trim().trim_start_matches('v');
    let (core, rest) = match v.find(['-', '+']) {
        Some(i) => (&v[..i], &v[i..]),
        None => (v, ""),
    };
    let dots = core.matches('.').count();
    let padding = match dots {
        0 => ".0.0",
        1 => ".0",
        _ => "",
    };
    format!("{core}{padding}{rest}")
}

/// Ecosystems without an ordered version scheme (GitHub Actions refs, docker tags) are
/// compared as npm semver, the most forgiving reading of `v4`-style tags.
fn fallback_range(range: &str) -> Result<nodejs_semver::Range, VersionProblem> {
    let normalized = range.replace(',', " ");
    nodejs_semver::Range::parse(normalized.trim())
        .map_err(|e| VersionProblem(format!("range `{range}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfies_per_scheme() {
        assert_eq!(satisfies(Ecosystem::Npm, "1.2.3", "^1.0.0"), Ok(true));
        assert_eq!(satisfies(Ecosystem::Npm, "2.0.0", "^1.0.0"), Ok(false));
        assert_eq!(satisfies(Ecosystem::PyPI, "2.5", ">=2,<3"), Ok(true));
        assert_eq!(satisfies(Ecosystem::PyPI, "1.10", ">=2"), Ok(false));
        assert_eq!(satisfies(Ecosystem::CratesIo, "0.3.1", "0.3"), Ok(true));
        assert_eq!(satisfies(Ecosystem::Go, "v1.4.0", ">=1.2.0, <2"), Ok(true));
        assert_eq!(satisfies(Ecosystem::RubyGems, "1.4.0", "~> 1.2"), Ok(true));
        assert_eq!(satisfies(Ecosystem::Packagist, "1.3.0", "^1.2"), Ok(true));
        assert_eq!(satisfies(Ecosystem::GitHubActions, "v3", "<4"), Ok(true));
        assert!(check_range(Ecosystem::PyPI, ">=>2").is_err());
        assert!(check_range(Ecosystem::Npm, "not a range !!").is_err());
    }

    #[test]
    fn runtime_pins_admit_by_exact_partial_or_range() {
        let py = Ecosystem::Python;
        assert_eq!(pin_admits(py, "3.12", ">=3.12"), Ok(Some(true)));
        assert_eq!(pin_admits(py, "3.11", ">=3.12"), Ok(Some(false)));
        assert_eq!(pin_admits(py, ">=3.8", ">=3.12"), Ok(Some(true)));
        assert_eq!(pin_admits(py, ">=3.8,<3.10", ">=3.12"), Ok(Some(false)));
        assert_eq!(pin_admits(py, "3.12.4", "<3.12"), Ok(Some(false)));
        assert_eq!(pin_admits(Ecosystem::NodeJs, "v16", "<18"), Ok(Some(true)));
        assert_eq!(
            pin_admits(Ecosystem::NodeJs, ">=20", "<18"),
            Ok(Some(false))
        );
        assert_eq!(pin_admits(Ecosystem::NodeJs, "lts/*", "<18"), Ok(None));
        assert_eq!(
            pin_admits(Ecosystem::GoToolchain, "1.21", "<1.22"),
            Ok(Some(true))
        );
        assert_eq!(
            pin_admits(Ecosystem::Ruby, ">= 3.1", "< 3.0"),
            Ok(Some(false))
        );
        assert!(pin_admits(py, "3.12", "nonsense>>").is_err());
    }

    #[test]
    fn exact_pins() {
        assert_eq!(exact_pin("==1.2.3"), Some("1.2.3"));
        assert_eq!(exact_pin("1.2.3"), Some("1.2.3"));
        assert_eq!(exact_pin("^1.2.3"), None);
        assert_eq!(exact_pin(">=1.2.3"), None);
    }
}
