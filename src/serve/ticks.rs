//! The scheduler: turns due cron times into ticks, runs the ones this replica wins under a
//! lease with a heartbeat, takes over ticks whose replica died, and on shutdown stops claiming
//! and lets running jobs finish or gives their leases back.
//!
//! Missed ticks (after downtime) are the schedule's times after the newest recorded tick: the
//! latest of them runs, plus at most `max-backfill` older ones, never a burst. A fresh schedule
//! starts with the first time after the service started.

use super::config::{Job, Schedule, ServeConfig};
use super::crawl_parts::{self, PartWorker};
use super::jobs::{self, JobContext};
use super::metrics::Metrics;
use crate::store::{ClaimedTick, Store, TickStatus};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// How often the loop looks at the clock; second-granular schedules need no less.
const POLL: Duration = Duration::from_millis(500);

/// The cron times in `(floor, now]`, oldest first: the newest plus at most `max_backfill` older.
pub fn due_ticks(
    cron: &Cron,
    tz: Tz,
    floor: DateTime<Utc>,
    now: DateTime<Utc>,
    max_backfill: u32,
) -> Vec<DateTime<Utc>> {
    let mut due = Vec::new();
    let mut cursor = now.with_timezone(&tz);
    let mut inclusive = true;
    while due.len() <= max_backfill as usize {
        let Ok(at) = cron.find_previous_occurrence(&cursor, inclusive) else {
            break;
        };
        let at_utc = at.with_timezone(&Utc);
        if at_utc <= floor {
            break;
        }
        due.push(at_utc);
        cursor = at;
        inclusive = false;
    }
    due.reverse();
    due
}

/// Everything a running tick needs.
struct Shared {
    store: Store,
    config: Arc<ServeConfig>,
    jobs: JobContext,
    metrics: Arc<Metrics>,
    replica: String,
    /// Ticks this replica holds, by id: what shutdown gives back if they outlive the grace.
    held: Mutex<HashMap<i64, ClaimedTick>>,
}

impl Shared {
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(5))
    }

    fn token(&self) -> String {
        format!("{}:{:016x}", self.replica, fastrand::u64(..))
    }

    fn holds(&self, schedule: &str) -> bool {
        self.held
            .lock()
            .map(|held| held.values().any(|t| t.schedule_id == schedule))
            .unwrap_or(false)
    }
}

pub struct Scheduler {
    shared: Arc<Shared>,
}

impl Scheduler {
    /// `replica` names this process in lease tokens (host and pid).
    pub fn new(
        store: Store,
        config: Arc<ServeConfig>,
        jobs: JobContext,
        metrics: Arc<Metrics>,
        replica: String,
    ) -> Self {
        Scheduler {
            shared: Arc::new(Shared {
                store,
                config,
                jobs,
                metrics,
                replica,
                held: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Runs until `shutdown` turns true, then drains within the grace period.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let shared = self.shared;
        let started = Utc::now();
        let mut floors: HashMap<String, DateTime<Utc>> = HashMap::new();
        for schedule in &shared.config.schedules {
            let floor = match shared.store.latest_tick(&schedule.id).await {
                Ok(Some(latest)) => latest,
                Ok(None) => started,
                Err(err) => {
                    eprintln!("serve: {}: cannot read its ticks: {err}", schedule.id);
                    started
                }
            };
            floors.insert(schedule.id.clone(), floor);
        }
        let takeover_every =
            (shared.config.lease / 3).clamp(Duration::from_secs(1), Duration::from_secs(30));
        let mut next_takeover = tokio::time::Instant::now();
        let mut running = JoinSet::new();
        while !*shutdown.borrow() {
            let now = Utc::now();
            let takeover_due = tokio::time::Instant::now() >= next_takeover;
            if takeover_due {
                next_takeover = tokio::time::Instant::now() + takeover_every;
            }
            for schedule in &shared.config.schedules {
                // One tick of a schedule at a time per replica; the floor waits, so what comes
                // due meanwhile is a missed tick, not a pile-up.
                if shared.holds(&schedule.id) {
                    continue;
                }
                let floor = floors.get(&schedule.id).copied().unwrap_or(started);
                let due = due_ticks(
                    &schedule.cron,
                    shared.config.timezone,
                    floor,
                    now,
                    shared.config.max_backfill,
                );
                if let Some(newest) = due.last() {
                    floors.insert(schedule.id.clone(), *newest);
                }
                // The oldest due tick this replica wins runs here; newer ones it inserts without
                // a lease, for whichever replica is free first (takeover picks them up).
                let mut claimed = None;
                for at in due {
                    let result = if claimed.is_none() {
                        let lease_until = Utc::now() + shared.lease();
                        shared
                            .store
                            .claim_new_tick(&schedule.id, at, &shared.token(), lease_until)
                            .await
                            .map(|tick| claimed = tick)
                    } else {
                        shared.store.insert_tick(&schedule.id, at).await.map(drop)
                    };
                    if let Err(err) = result {
                        eprintln!("serve: {}: cannot claim a tick: {err}", schedule.id);
                    }
                }
                if claimed.is_none() && takeover_due {
                    let now = Utc::now();
                    match shared
                        .store
                        .take_over_tick(&schedule.id, &shared.token(), now, now + shared.lease())
                        .await
                    {
                        Ok(tick) => claimed = tick,
                        Err(err) => {
                            eprintln!("serve: {}: cannot take over a tick: {err}", schedule.id)
                        }
                    }
                }
                if let Some(tick) = claimed {
                    if let Ok(mut held) = shared.held.lock() {
                        held.insert(tick.id, tick.clone());
                    }
                    running.spawn(run_tick(shared.clone(), schedule.clone(), tick));
                }
            }
            while running.try_join_next().is_some() {}
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
        drain(&shared, running).await;
    }
}

/// Waits for running ticks up to the grace period, then gives the rest back.
async fn drain(shared: &Shared, mut running: JoinSet<()>) {
    if !running.is_empty() {
        eprintln!(
            "serve: stopping: waiting up to {}s for {} running tick(s)",
            shared.config.grace.as_secs(),
            running.len()
        );
    }
    let deadline = tokio::time::sleep(shared.config.grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = running.join_next() => if next.is_none() { break },
            () = &mut deadline => {
                running.abort_all();
                break;
            }
        }
    }
    while running.join_next().await.is_some() {}
    let left: Vec<ClaimedTick> = shared
        .held
        .lock()
        .map(|mut held| held.drain().map(|(_, t)| t).collect())
        .unwrap_or_default();
    for tick in left {
        match shared.store.release_tick(&tick).await {
            Ok(_) => {
                shared.metrics.tick(&tick.schedule_id, "released");
                eprintln!(
                    "serve: tick {}@{}: released unfinished (another replica takes it over)",
                    tick.schedule_id,
                    tick.scheduled_at.to_rfc3339()
                );
            }
            Err(err) => eprintln!(
                "serve: tick {}@{}: cannot release: {err} (its lease expires)",
                tick.schedule_id,
                tick.scheduled_at.to_rfc3339()
            ),
        }
    }
}

/// Runs one tick's job under its lease and records how it ended.
async fn run_tick(shared: Arc<Shared>, schedule: Schedule, tick: ClaimedTick) {
    let name = format!("{}@{}", tick.schedule_id, tick.scheduled_at.to_rfc3339());
    eprintln!("serve: tick {name}: started");
    let started = std::time::Instant::now();
    let (lost_tx, lost_rx) = oneshot::channel::<()>();
    let heartbeat = tokio::spawn(heartbeat(shared.clone(), tick.clone(), lost_tx));

    let jitter_ms = u64::try_from(shared.config.jitter.as_millis()).unwrap_or(0);
    if jitter_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=jitter_ms))).await;
    }
    // The job runs on a thread of its own: scans and inventories block, and must not starve
    // the heartbeat or the HTTP side.
    let job = schedule.job;
    let ctx = shared.jobs.clone();
    // A crawl tick is split into parts other replicas share (see `crawl_parts`).
    let parts = PartWorker::new(
        ctx.clone(),
        tick.schedule_id.clone(),
        shared.replica.clone(),
        shared.config.lease,
    );
    let tick_id = tick.id;
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            let run = async {
                match job {
                    Job::Crawl => crawl_parts::run_tick(&parts, tick_id).await,
                    _ => jobs::run(job, &ctx).await,
                }
            };
            tokio::select! {
                result = run => Some(result),
                _ = lost_rx => None,
            }
        })
    })
    .await;
    heartbeat.abort();

    let elapsed = started.elapsed().as_secs_f64();
    let (status, error, note) = match result {
        Ok(Some(Ok(summary))) => (Some(TickStatus::Finished), None, summary),
        Ok(Some(Err(err))) => {
            let message = err.to_string();
            (Some(TickStatus::Failed), Some(message.clone()), message)
        }
        Ok(None) => (None, None, String::new()),
        Err(_) => {
            let message = "the job stopped unexpectedly".to_string();
            (Some(TickStatus::Failed), Some(message.clone()), message)
        }
    };
    let outcome = match status {
        None => "lost".to_string(),
        Some(status) => match shared
            .store
            .finish_tick(&tick, status, error.as_deref())
            .await
        {
            Ok(true) => status.as_str().to_string(),
            Ok(false) => "lost".to_string(),
            Err(err) => {
                eprintln!("serve: tick {name}: cannot record the outcome: {err}");
                "unrecorded".to_string()
            }
        },
    };
    if let Ok(mut held) = shared.held.lock() {
        held.remove(&tick.id);
    }
    shared.metrics.tick(&tick.schedule_id, &outcome);
    match outcome.as_str() {
        "lost" => eprintln!(
            "serve: tick {name}: lease lost after {elapsed:.1}s (another replica took it over)"
        ),
        _ => eprintln!("serve: tick {name}: {outcome} in {elapsed:.1}s: {note}"),
    }
}

/// Extends the lease every third of its length; says so and stops when it is no longer ours.
async fn heartbeat(shared: Arc<Shared>, tick: ClaimedTick, lost: oneshot::Sender<()>) {
    let every = shared.config.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        match shared
            .store
            .extend_tick_lease(&tick, Utc::now() + shared.lease())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                let _ = lost.send(());
                return;
            }
            // A database hiccup: try again next beat; the lease covers two more.
            Err(err) => eprintln!("serve: tick {}: heartbeat failed: {err}", tick.schedule_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::config::parse_cron;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn after_downtime_the_latest_and_at_most_max_backfill_older_ticks_run() {
        let hourly = parse_cron("0 * * * *").unwrap();
        let floor = at("2025-03-01T00:00:00Z");
        let now = at("2025-03-01T05:30:00Z");
        assert_eq!(
            due_ticks(&hourly, Tz::UTC, floor, now, 1),
            [at("2025-03-01T04:00:00Z"), at("2025-03-01T05:00:00Z")]
        );
        assert_eq!(
            due_ticks(&hourly, Tz::UTC, floor, now, 0),
            [at("2025-03-01T05:00:00Z")]
        );
        assert_eq!(due_ticks(&hourly, Tz::UTC, floor, now, 100).len(), 5);
        assert!(due_ticks(&hourly, Tz::UTC, at("2025-03-01T05:00:00Z"), now, 1).is_empty());
    }

    #[test]
    fn a_tick_at_exactly_now_is_due_and_time_zones_apply() {
        let monday_nine = parse_cron("0 9 * * MON").unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Monday 2025-01-06 09:00 in Berlin (CET, UTC+1) is 08:00 UTC.
        let now = at("2025-01-06T08:00:00Z");
        assert_eq!(
            due_ticks(&monday_nine, berlin, at("2025-01-01T00:00:00Z"), now, 0),
            [now]
        );
        // In summer (CEST, UTC+2) it is 07:00 UTC.
        let summer = at("2025-07-07T07:00:00Z");
        assert_eq!(
            due_ticks(&monday_nine, berlin, at("2025-07-01T00:00:00Z"), summer, 0),
            [summer]
        );
    }

    #[test]
    fn seconds_schedules_tick_every_few_seconds() {
        let every_two = parse_cron("*/2 * * * * *").unwrap();
        let due = due_ticks(
            &every_two,
            Tz::UTC,
            at("2025-03-01T00:00:00Z"),
            at("2025-03-01T00:00:05Z"),
            5,
        );
        assert_eq!(
            due,
            [at("2025-03-01T00:00:02Z"), at("2025-03-01T00:00:04Z")]
        );
    }
}
