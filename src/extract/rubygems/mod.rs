//! Extractors for the RubyGems ecosystem and the Ruby interpreter: `Gemfile.lock`.

mod gemfile_lock;

pub use gemfile_lock::GemfileLock;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[&GemfileLock];
