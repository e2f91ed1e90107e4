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
];
