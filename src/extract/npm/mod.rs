//! Extractors for the npm ecosystem: the `package.json` manifest and the lockfiles of npm,
//! pnpm, yarn (classic and berry) and bun.

mod bun_lock;
mod json_lines;
mod package_json;
mod package_lock;
mod pnpm_lock;
mod spec;
mod yaml_lines;
mod yarn_berry;
mod yarn_classic;
mod yarn_lock;

pub use bun_lock::BunLock;
pub use package_json::PackageJson;
pub use package_lock::{PackageLock, Shrinkwrap};
pub use pnpm_lock::PnpmLock;
pub use yarn_lock::YarnLock;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[
    &PackageJson,
    &PackageLock,
    &Shrinkwrap,
    &PnpmLock,
    &YarnLock,
    &BunLock,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ManifestFile;
    use crate::repo::{DEFAULT_MAX_FILE_BYTES, Repo};
    use std::path::{Path, PathBuf};

    fn fixture_files(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                fixture_files(&path, found);
            } else {
                found.push(path);
            }
        }
    }

    /// Truncation is the commonest damage a lockfile suffers: every prefix of every fixture,
    /// through every npm extractor, must give a result or an error, never a panic.
    #[test]
    fn every_prefix_of_every_fixture_is_handled_without_panic() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/npm");
        let mut files = Vec::new();
        fixture_files(&root, &mut files);
        assert!(
            files.len() > 30,
            "fixtures not found under {}",
            root.display()
        );
        let repo = Repo::open(&root, DEFAULT_MAX_FILE_BYTES).unwrap();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let cuts = (0..text.len())
                .step_by(3)
                .filter(|&i| text.is_char_boundary(i));
            for cut in cuts {
                let file = ManifestFile {
                    path: "x",
                    text: &text[..cut],
                    repo: &repo,
                };
                for extractor in EXTRACTORS {
                    let _ = extractor.extract(&file);
                }
            }
        }
    }
}
