//! A crawl tick split between replicas: one part per source, each run by whichever replica
//! claims it first, none twice.
//!
//! The replica holding the crawl tick's lease records the parts, works them itself until none
//! is left to claim, then waits for the parts other replicas run and combines their summaries
//! into the tick's result; its tick lease (and the heartbeat in [`super::ticks`]) bounds the
//! wait. Every other replica runs [`work`], which polls for claimable parts of running crawl
//! ticks. A part is claimed under a lease of its own with a heartbeat, so a part whose replica
//! died is claimed again once its lease runs out, and a part already done stays done.

use super::jobs::{self, JobContext, JobError};
use crate::store::{ClaimedPart, CrawlPart, PartStatus};
use chrono::Utc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// How often an idle replica looks for parts to run.
const WORKER_POLL: Duration = Duration::from_secs(1);

/// How often the tick's replica checks whether the other replicas' parts are done.
const WAIT_POLL: Duration = Duration::from_millis(500);

/// Claims and runs crawl parts of one crawl schedule as one replica.
#[derive(Debug, Clone)]
pub struct PartWorker {
    jobs: JobContext,
    /// The crawl schedule's id: only its ticks' parts are ours (another deployment on the same
    /// database, with another id prefix, works its own).
    schedule: String,
    /// This replica's name, recorded in the part it runs.
    replica: String,
    lease: Duration,
}

impl PartWorker {
    pub fn new(jobs: JobContext, schedule: String, replica: String, lease: Duration) -> Self {
        PartWorker {
            jobs,
            schedule,
            replica,
            lease,
        }
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::minutes(5))
    }

    fn token(&self) -> String {
        format!("{}:{:016x}", self.replica, fastrand::u64(..))
    }

    /// Claims a part nobody works on; `None` when there is none.
    async fn claim(&self) -> Option<ClaimedPart> {
        let now = Utc::now();
        match self
            .jobs
            .store
            .claim_crawl_part(
                &self.schedule,
                &self.token(),
                &self.replica,
                now,
                now + self.lease(),
            )
            .await
        {
            Ok(part) => part,
            Err(err) => {
                eprintln!("serve: {}: cannot claim a crawl part: {err}", self.schedule);
                None
            }
        }
    }

    /// Runs a claimed part under its lease and records how it ended.
    async fn run(&self, part: &ClaimedPart) {
        let name = format!("{}#{}", part.part, part.tick_id);
        eprintln!("serve: crawl part {name}: started");
        let started = std::time::Instant::now();
        let (lost_tx, lost_rx) = oneshot::channel::<()>();
        let _heartbeat = AbortOnDrop(tokio::spawn(heartbeat(self.clone(), part.clone(), lost_tx)));
        let job = async {
            // Test-only (see `ENV_TEST_JOB_DELAY_MS`): lets a test watch parts spread out.
            if let Some(delay) = self.jobs.test_delay {
                tokio::time::sleep(delay).await;
            }
            jobs::run_crawl_part(&part.part, &self.jobs).await
        };
        let result = tokio::select! {
            result = job => result,
            _ = lost_rx => {
                eprintln!("serve: crawl part {name}: lease lost (another replica took it over)");
                return;
            }
        };
        let (status, summary) = match &result {
            Ok(summary) => (PartStatus::Done, summary.clone()),
            Err(err) => (PartStatus::Failed, err.to_string()),
        };
        let elapsed = started.elapsed().as_secs_f64();
        match self
            .jobs
            .store
            .finish_crawl_part(part, status, &summary)
            .await
        {
            Ok(true) => eprintln!(
                "serve: crawl part {name}: {} in {elapsed:.1}s: {summary}",
                status.as_str()
            ),
            Ok(false) => eprintln!(
                "serve: crawl part {name}: lease lost after {elapsed:.1}s (another replica took it over)"
            ),
            Err(err) => eprintln!("serve: crawl part {name}: cannot record the outcome: {err}"),
        }
    }
}

/// Aborts the task when dropped: a part's heartbeat ends with the part, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Extends the part's lease every third of its length; says so and stops when it is lost.
async fn heartbeat(worker: PartWorker, part: ClaimedPart, lost: oneshot::Sender<()>) {
    let every = worker.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        match worker
            .jobs
            .store
            .extend_crawl_part(&part, Utc::now() + worker.lease())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                let _ = lost.send(());
                return;
            }
            // A database hiccup: try again next beat; the lease covers two more.
            Err(err) => eprintln!("serve: crawl part {}: heartbeat failed: {err}", part.part),
        }
    }
}

/// The crawl tick `tick_id`, run by the replica holding its lease: records the parts (a tick
/// taken over keeps those already done), works them until none is left to claim, waits for
/// the ones other replicas run, and combines their summaries.
pub async fn run_tick(worker: &PartWorker, tick_id: i64) -> Result<String, JobError> {
    let names = jobs::crawl_part_names();
    worker
        .jobs
        .store
        .insert_crawl_parts(tick_id, &names)
        .await
        .map_err(|e| JobError::new(format!("cannot record the crawl parts: {e}")))?;
    loop {
        if let Some(part) = worker.claim().await {
            worker.run(&part).await;
            continue;
        }
        match worker.jobs.store.list_crawl_parts(tick_id).await {
            Ok(parts) if parts.iter().all(CrawlPart::is_settled) => return combine(&parts),
            Ok(_) => {}
            // A database hiccup: ask again; the tick's lease bounds how long.
            Err(err) => eprintln!("serve: crawl tick #{tick_id}: cannot read its parts: {err}"),
        }
        tokio::time::sleep(WAIT_POLL).await;
    }
}

/// The tick's result from its settled parts.
fn combine(parts: &[CrawlPart]) -> Result<String, JobError> {
    jobs::combine_crawl_parts(parts.iter().map(|p| {
        let text = p.summary.as_deref().unwrap_or(p.part.as_str());
        let result = if p.status == PartStatus::Done.as_str() {
            Ok(text)
        } else {
            Err(text)
        };
        (p.part.as_str(), result)
    }))
}

/// Every replica's share: claims and runs parts of running crawl ticks until `shutdown`; a part
/// still running `grace` after shutdown is given back for another replica.
pub async fn work(worker: PartWorker, mut shutdown: watch::Receiver<bool>, grace: Duration) {
    while !*shutdown.borrow() {
        if let Some(part) = worker.claim().await {
            let stop = shutdown.clone();
            let expired = async move {
                super::shutdown::raised(stop).await;
                tokio::time::sleep(grace).await;
            };
            tokio::select! {
                () = worker.run(&part) => {}
                () = expired => {
                    match worker.jobs.store.release_crawl_part(&part).await {
                        Ok(_) => eprintln!(
                            "serve: crawl part {}#{}: released unfinished (another replica takes it over)",
                            part.part, part.tick_id
                        ),
                        Err(err) => eprintln!(
                            "serve: crawl part {}: cannot release: {err} (its lease expires)",
                            part.part
                        ),
                    }
                }
            }
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(WORKER_POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn part(name: &str, status: &str, summary: &str) -> CrawlPart {
        CrawlPart {
            part: name.into(),
            status: status.into(),
            worker: None,
            claims: 1,
            summary: Some(summary.into()),
        }
    }

    #[test]
    fn summaries_combine_in_order_and_a_failed_part_fails_the_tick() {
        let done = [
            part("osv", "done", "osv: 1 new"),
            part("npm", "done", "npm: 0 new"),
        ];
        assert_eq!(combine(&done).unwrap(), "osv: 1 new; npm: 0 new");
        let failed = [
            part("osv", "done", "osv: 1 new"),
            part("npm", "failed", "npm: not crawled; failed: npm: 503"),
        ];
        let err = combine(&failed).unwrap_err().to_string();
        assert!(
            err.starts_with("failed: npm; osv: 1 new; npm: not crawled"),
            "{err}"
        );
    }

    /// SQLite, one process: the tick's replica runs every part itself.
    #[tokio::test]
    async fn one_replica_runs_every_part_of_its_tick() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db"), false)
            .await
            .unwrap();
        store
            .ensure_schedule("crawl", "* * * * *", "UTC")
            .await
            .unwrap();
        let tick = store
            .claim_new_tick(
                "crawl",
                Utc::now(),
                "t",
                Utc::now() + chrono::Duration::seconds(60),
            )
            .await
            .unwrap()
            .unwrap();
        let jobs = JobContext::new(store.clone(), None, None);
        let worker = PartWorker::new(jobs, "crawl".into(), "me".into(), Duration::from_secs(30));
        let summary = run_tick(&worker, tick.id).await.unwrap();
        assert!(
            summary.starts_with("osv: no watched repositories"),
            "{summary}"
        );
        let parts = store.list_crawl_parts(tick.id).await.unwrap();
        let names: Vec<&str> = parts.iter().map(|p| p.part.as_str()).collect();
        assert_eq!(names, jobs::crawl_part_names());
        assert!(
            parts
                .iter()
                .all(|p| p.status == "done" && p.worker.as_deref() == Some("me") && p.claims == 1)
        );
    }
}
