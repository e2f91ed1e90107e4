//! One `"name": "constraint"` pair as Composer declares it (`require`, `require-dev`, a lock's
//! `platform`), split between the PHP runtime, platform packages and Packagist packages.

use crate::extract::ManifestFile;
use crate::{Dependency, Ecosystem, SkipReason};
use serde_json::Value;

/// The entry for one declared requirement. `php` is the interpreter; names without a vendor
/// (`ext-intl`, `lib-icu`, `php-64bit`, `composer-plugin-api`) are platform packages, which no
/// registry publishes, so they are kept and labelled.
pub(super) fn declared(
    file: &ManifestFile<'_>,
    name: &str,
    constraint: &Value,
    line: u32,
    dev: bool,
) -> Dependency {
    let dep = if name.eq_ignore_ascii_case("php") {
        file.dep(Ecosystem::Php, "php", line)
    } else {
        file.dep(Ecosystem::Packagist, name, line)
    };
    let dep = match constraint.as_str() {
        Some(constraint) => dep.requires(constraint),
        None => {
            return dep
                .direct(true)
                .dev(dev)
                .skip(SkipReason::Unsupported, "the constraint is not a string");
        }
    };
    let dep = dep.dev(dev);
    if dep.ecosystem == Ecosystem::Packagist && !name.contains('/') {
        dep.skip(
            SkipReason::Unsupported,
            format!("platform package `{name}` (an extension, library or Composer API)"),
        )
    } else {
        dep
    }
}

/// The entries of an object of requirements; PHP writes an empty one as `[]`, which is fine.
/// `None` when the value is neither.
pub(super) fn requirement_map(value: &Value) -> Option<Vec<(&String, &Value)>> {
    match value {
        Value::Object(map) => Some(map.iter().collect()),
        Value::Array(items) if items.is_empty() => Some(Vec::new()),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}
