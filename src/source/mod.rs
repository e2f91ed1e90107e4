//! Sources of knowledge that ecowatch crawls into the store, each in its own module, all through
//! the one polite client in [`crate::http`] and all recording their crawl state in the store.

pub mod endoflife;
pub mod github;
pub mod osv;
pub mod registry;
pub mod settings;
pub mod vendor_pages;

use std::time::Duration;

/// What one crawl did, for the summary line and the crawl state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrawlSummary {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Notices stored for the first time.
    pub new: usize,
    /// Stored notices replaced by a newer version.
    pub updated: usize,
    /// Matches already stored at their current version (no details fetched).
    pub unchanged: usize,
    /// Problems that spoiled part of the crawl (one record, one id), in the order met.
    pub errors: Vec<String>,
    pub elapsed: Duration,
}

/// Where a crawl is, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrawlProgress {
    /// Batch queries answered so far (pages included) of those known so far.
    Querying { done: usize, total: usize },
    /// Detail records fetched so far of those needed.
    Fetching { done: usize, total: usize },
}
