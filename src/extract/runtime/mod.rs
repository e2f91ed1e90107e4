//! Extractors for runtime pins: version files (`.nvmrc`, `.python-version`, `.tool-versions`,
//! `rust-toolchain`) and the base images of Dockerfiles.
//!
//! Runtimes carry one inventory name each, whatever the file calls them: `node`, `python`,
//! `ruby`, `go`, `rust`, `php`. A pin's `version` is the value as written (`18`, `3.11`,
//! `lts/hydrogen`, `stable`), and every pin is `direct`.

mod dockerfile;
pub mod image;
mod nvmrc;
mod python_version;
mod rust_toolchain;
mod tool_versions;
mod version_file;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[
    &nvmrc::Nvmrc,
    &python_version::PythonVersion,
    &tool_versions::ToolVersions,
    &rust_toolchain::RustToolchain,
    &dockerfile::Dockerfile,
];

#[cfg(test)]
mod tests {
    #[test]
    fn registered_for_their_paths() {
        let ids = |path: &str| {
            crate::extract::for_path(path)
                .map(|e| e.id())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(".nvmrc"), ["runtime/nvmrc"]);
        assert_eq!(ids("web/.node-version"), ["runtime/nvmrc"]);
        assert_eq!(ids(".python-version"), ["runtime/python-version"]);
        assert_eq!(ids(".tool-versions"), ["runtime/tool-versions"]);
        assert_eq!(ids("rust-toolchain.toml"), ["runtime/rust-toolchain"]);
        assert_eq!(ids("rust-toolchain"), ["runtime/rust-toolchain"]);
        assert_eq!(ids("docker/Dockerfile.prod"), ["runtime/dockerfile"]);
        assert_eq!(ids("Containerfile"), ["runtime/dockerfile"]);
    }
}
