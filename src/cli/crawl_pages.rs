//! `ecowatch crawl --source pages`: the vendor changelog and deprecation pages of the watch list
//! (`[[page]]` in `feeds/watch.toml`, or `--feeds DIR`), through the SSRF guard.

use super::{EXIT_ERROR, EXIT_OK};
use crate::http::ssrf::SsrfPolicy;
use crate::source::vendor_pages;
use crate::store::{Store, StoreConfig};
use anyhow::Context;
use std::path::Path;

pub fn run(feeds: Option<&Path>, db: Option<&Path>) -> anyhow::Result<u8> {
    let pages = vendor_pages::load(feeds)?;
    let store_config = StoreConfig::from_env(db)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = runtime.block_on(async {
        let store = Store::open(&store_config)
            .await
            .with_context(|| format!("cannot open {}", store_config.describe()))?;
        let summary = vendor_pages::crawl(
            &store,
            &pages,
            &SsrfPolicy::from_env(),
            &vendor_pages::limits_from_env(),
        )
        .await;
        store.close().await;
        summary.context("cannot record the crawl state")
    })?;
    super::crawl::print_source_summary("pages", &summary)?;
    for error in &summary.errors {
        eprintln!("error: pages: {error}");
    }
    Ok(if summary.errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
