//! Extractors for the Packagist ecosystem and the PHP runtime: `composer.json` and
//! `composer.lock`.

mod composer_json;
mod composer_lock;
mod declared;
mod locate;

pub use composer_json::ComposerJson;
pub use composer_lock::ComposerLock;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[&ComposerJson, &ComposerLock];
