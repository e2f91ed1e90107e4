//! The rule files of `feeds/rules/**`, embedded at build time by `build.rs`, so that
//! `ecowatch scan` needs no install step and works from any directory.

use super::FeedFile;

include!(concat!(env!("OUT_DIR"), "/bundled_feeds.rs"));

/// The bundled rule files, as [`FeedFile`]s named `feeds/rules/<path>`.
pub fn files() -> Vec<FeedFile> {
    BUNDLED_RULES
        .iter()
        .map(|(rel, text)| FeedFile {
            rel: (*rel).to_string(),
            display: format!("feeds/rules/{rel}"),
            text: (*text).to_string(),
        })
        .collect()
}
