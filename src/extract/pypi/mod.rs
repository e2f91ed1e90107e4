//! Extractors for the PyPI ecosystem: pip requirement files, `pyproject.toml` (PEP 621, PEP 735
//! and Poetry), `Pipfile`, and the poetry, uv, pipenv and PDM lockfiles.

mod pdm_lock;
mod pep508;
mod pipfile;
mod pipfile_lock;
mod poetry_lock;
mod pyproject;
mod requirements_txt;
mod uv_lock;

pub use pdm_lock::PdmLock;
pub use pipfile::Pipfile;
pub use pipfile_lock::PipfileLock;
pub use poetry_lock::PoetryLock;
pub use pyproject::Pyproject;
pub use requirements_txt::RequirementsTxt;
pub use uv_lock::UvLock;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[
    &RequirementsTxt,
    &Pyproject,
    &Pipfile,
    &PoetryLock,
    &UvLock,
    &PipfileLock,
    &PdmLock,
];

#[cfg(test)]
mod test_support {
    use crate::dependency::Dependency;
    use crate::extract::{Extracted, Extractor, extract_at};
    use std::path::PathBuf;

    /// The directory of one fixture case: `tests/fixtures/extract/pypi/<format>/<case>`.
    pub fn fixture_dir(format: &str, case: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/pypi")
            .join(format)
            .join(case)
    }

    /// Runs `extractor` on `file` inside a fixture case, failing the test on an error.
    pub fn extract_ok(
        extractor: &dyn Extractor,
        format: &str,
        case: &str,
        file: &str,
    ) -> Extracted {
        match extract_at(extractor, &fixture_dir(format, case), file) {
            Ok(extracted) => extracted,
            Err(e) => panic!("{format}/{case}/{file}: unexpected error: {e}"),
        }
    }

    /// The single entry called `name` (normalized); fails the test when there are none or several.
    pub fn one<'a>(deps: &'a [Dependency], name: &str) -> &'a Dependency {
        let found: Vec<&Dependency> = deps.iter().filter(|d| d.name == name).collect();
        assert_eq!(found.len(), 1, "expected one `{name}` in {deps:#?}");
        found[0]
    }

    /// The names of all entries, in order.
    pub fn names(deps: &[Dependency]) -> Vec<&str> {
        deps.iter().map(|d| d.name.as_str()).collect()
    }
}
