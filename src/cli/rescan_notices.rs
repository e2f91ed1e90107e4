//! The store's notices (advisories, crawled deprecations and announcements) for a scan started
//! from async code, as `rescan` and `serve`'s rescan schedule run it. Without them a rescan
//! would record only the bundled rules' findings and never what the crawl learned.
//!
//! The scan is synchronous and runs on a blocking thread; each lookup it makes comes back
//! here as a message and is answered by the async store, so no runtime is ever blocked inside
//! another (the CLI's runtime is single-threaded, `serve` runs jobs inside `block_on`).

use crate::ecosystem::Ecosystem;
use crate::finding::ScanReport;
use crate::rules::Rule;
use crate::scan::advisories::NoticeLookup;
use crate::scan::{self, ScanOptions};
use crate::store::{Notice, Store};
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

type Answer = Result<Vec<Notice>, String>;
type Request = (Vec<(Ecosystem, String)>, oneshot::Sender<Answer>);

/// The scan's side: sends the packages, waits for the notices.
#[derive(Debug)]
struct Bridge(mpsc::Sender<Request>);

impl NoticeLookup for Bridge {
    fn notices_for(&self, packages: &[(Ecosystem, String)]) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.0
            .blocking_send((packages.to_vec(), reply))
            .map_err(|_| "the store is no longer reachable".to_string())?;
        answer
            .blocking_recv()
            .map_err(|_| "the store did not answer".to_string())?
    }
}

/// Scans `dir` with `rules` and the store's notices for its packages. A store that cannot
/// be read fails the scan: recording it without the notices would mark their findings fixed.
pub(crate) async fn scan_with_notices(
    store: &Store,
    dir: PathBuf,
    rules: Arc<Vec<Rule>>,
    mut options: ScanOptions,
) -> anyhow::Result<ScanReport> {
    let (requests, mut incoming) = mpsc::channel::<Request>(1);
    options.notices = Some(Arc::new(Bridge(requests)));
    let mut scan = tokio::task::spawn_blocking(move || scan::scan(&dir, &rules, &options));
    let mut failure = None;
    let finished = loop {
        tokio::select! {
            finished = &mut scan => break finished,
            Some((packages, reply)) = incoming.recv() => {
                let answer = store
                    .notices_for_packages(&packages)
                    .await
                    .map_err(|e| format!("cannot read notices: {e}"));
                if let Err(message) = &answer {
                    failure.get_or_insert_with(|| message.clone());
                }
                // The scan may have stopped waiting; nothing to tell it then.
                let _ = reply.send(answer);
            }
        }
    };
    let report = finished
        .context("the scan stopped unexpectedly")?
        .context("scan failed")?;
    match failure {
        Some(message) => Err(anyhow::anyhow!(message)),
        None => Ok(report),
    }
}
