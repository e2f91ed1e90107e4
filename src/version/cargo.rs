//! Cargo versions and requirements: the `semver` crate is Cargo's own implementation.

use super::{Scheme, VersionError};

pub(crate) fn parse_version(input: &str) -> Result<semver::Version, VersionError> {
    semver::Version::parse(input.trim()).map_err(|e| VersionError::version(Scheme::Cargo, input, e))
}

/// A Cargo requirement; a bare `1.2` means `^1.2`, and prereleases only match a comparator that
/// names a prerelease of the same `major.minor.patch` (both are `VersionReq`'s own rules).
pub(crate) fn parse_range(input: &str) -> Result<semver::VersionReq, VersionError> {
    semver::VersionReq::parse(input).map_err(|e| VersionError::range(Scheme::Cargo, input, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sat(version: &str, requirement: &str) -> bool {
        let v = parse_version(version).unwrap_or_else(|e| panic!("{e}"));
        parse_range(requirement)
            .unwrap_or_else(|e| panic!("{e}"))
            .matches(&v)
    }

    #[test]
    fn bare_requirements_are_carets() {
        for (version, requirement, expected) in [
            ("1.2.0", "1.2", true),
            ("1.9.9", "1.2", true),
            ("2.0.0", "1.2", false),
            ("1.1.9", "1.2", false),
            ("1.2.3", "1.2.3", true),
            ("1.3.0", "1.2.3", true),
            ("0.2.9", "0.2.3", true),
            ("0.3.0", "0.2.3", false),
            // `^0.0.3` is exactly 0.0.3.
            ("0.0.3", "^0.0.3", true),
            ("0.0.4", "^0.0.3", false),
            ("0.0.9", "0.0", true),
            ("0.1.0", "0.0", false),
        ] {
            assert_eq!(
                sat(version, requirement),
                expected,
                "{version} in {requirement}"
            );
        }
    }

    #[test]
    fn operators_and_prereleases() {
        assert!(sat("1.2.9", "~1.2.3"));
        assert!(!sat("1.3.0", "~1.2.3"));
        assert!(sat("1.2.7", "=1.2.7"));
        assert!(sat("1.5.0", ">=1.2, <1.6"));
        assert!(sat("1.4.2", "1.4.*"));
        // A prerelease only matches a comparator naming a prerelease of the same version.
        assert!(!sat("1.3.0-alpha.1", "1.2"));
        assert!(sat("1.2.0-beta.2", "1.2.0-beta.1"));
        assert!(!sat("1.2.1-beta.2", ">=1.2.0-beta.1"));
        assert!(
            parse_version("1.0.0-alpha").is_ok_and(|pre| pre < parse_version("1.0.0").unwrap())
        );
    }

    #[test]
    fn rejects_non_semver() {
        for bad in ["1.2", "v1.2.3", "01.2.3", "1.2.3.4", ""] {
            assert!(parse_version(bad).is_err(), "{bad:?}");
        }
        for bad in ["=>1.2", "1.2.3 ||", "~> 1.2"] {
            assert!(parse_range(bad).is_err(), "{bad:?}");
        }
    }
}
