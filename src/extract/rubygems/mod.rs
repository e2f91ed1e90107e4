//! Extractors for the RubyGems ecosystem and the Ruby interpreter: `Gemfile` and `Gemfile.lock`.

mod gemfile;
mod gemfile_lock;

pub use gemfile::Gemfile;
pub use gemfile_lock::GemfileLock;

use super::Extractor;

/// This ecosystem's extractors, in the order they are tried.
pub static EXTRACTORS: &[&dyn Extractor] = &[&Gemfile, &GemfileLock];
