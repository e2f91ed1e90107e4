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
