//! `ecowatch serve` through the built binary: replicas on one PostgreSQL run each tick once,
//! a replica killed mid-tick is replaced by another that finishes the same tick, SIGTERM
//! drains and exits 0, the HTTP endpoints answer, and a second `serve` on one SQLite file is
//! refused.
//!
//! The PostgreSQL tests need `ECOWATCH_TEST_POSTGRES_URL` / `ECOWATCH_TEST_POSTGRES_OWNER_URL`
//! (scripts/services/postgres.sh); without them they skip loudly, except under `CI=true`,
//! where they fail. The database is shared with other tests: every test has its own tenant and
//! schedule ids (`[schedule] id-prefix`).
//!
//! Test-only knob: `ECOWATCH_TEST_JOB_DELAY_MS` makes every job sleep first, so a test can act
//! while a tick's job runs.

mod common;

use ecowatch::store::{Store, StoreConfig, TickRecord};
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Where a test's files live and which database its processes use.
struct World {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl World {
    fn postgres(app: &str, owner: &str) -> World {
        World {
            dir: tempfile::tempdir().unwrap(),
            env: vec![
                ("ECOWATCH_DATABASE_URL".into(), app.into()),
                ("ECOWATCH_DATABASE_OWNER_URL".into(), owner.into()),
            ],
        }
    }

    fn sqlite() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ecowatch.db").display().to_string();
        World {
            dir,
            env: vec![("ECOWATCH_DB".into(), db)],
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecowatch"));
        cmd.current_dir(self.dir.path())
            .env_remove("ECOWATCH_DATABASE_URL")
            .env_remove("ECOWATCH_DATABASE_OWNER_URL")
            .env_remove("ECOWATCH_DB")
            .env_remove("ECOWATCH_SMTP_URL")
            .env_remove(ecowatch::serve::jobs::ENV_TEST_JOB_DELAY_MS)
            .env("ECOWATCH_CACHE_DIR", self.path("cache"))
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// A watched local repository with one finding, for `tenant`.
    fn watch_repo(&self, tenant: &str) {
        let repo = self.path("repo");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(
            repo.join("app.py"),
            "import datetime\nnow = datetime.datetime.utcnow()\n",
        )
        .unwrap();
        let out = self
            .command()
            .args(["watch", "add"])
            .arg(&repo)
            .args(["--name", "app", "--tenant", tenant])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    fn config(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts `ecowatch serve --config CONFIG` with stderr in a log file.
    fn serve(&self, config: &Path, log: &str, env: &[(&str, &str)]) -> Replica {
        let log = self.path(log);
        let child = self
            .command()
            .args(["serve", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Replica {
            child: Some(child),
            log,
        }
    }
}

struct Replica {
    child: Option<Child>,
    log: PathBuf,
}

impl Replica {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (at most `limit`).
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "serve did not exit; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The address from the "listening on http://ADDR" line.
    fn address(&self) -> String {
        let log = wait_for(Duration::from_secs(60), || {
            let log = self.log();
            log.contains("listening on").then_some(log)
        });
        let rest = log.split("listening on http://").nth(1).unwrap();
        rest.split_whitespace().next().unwrap().to_string()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` every 100 ms until it gives a value; panics after `limit`.
fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < limit, "gave up waiting after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A GET over plain HTTP/1.1: (status, body).
fn get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Reads the shared database the way the service does (the app role).
struct Db {
    runtime: tokio::runtime::Runtime,
    store: Store,
    app_url: String,
}

impl Db {
    fn open(app: &str) -> Db {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = runtime
            .block_on(Store::connect(&StoreConfig::Postgres {
                url: app.into(),
                owner_url: None,
            }))
            .unwrap();
        Db {
            runtime,
            store,
            app_url: app.into(),
        }
    }

    fn ticks(&self, schedule: &str) -> Vec<TickRecord> {
        self.runtime
            .block_on(self.store.list_ticks(schedule))
            .unwrap()
    }

    /// Scans recorded for the tenant, read inside its row-level-security context.
    fn scans(&self, tenant: &str) -> i64 {
        self.runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&self.app_url).await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            let (id,): (i64,) = sqlx::query_as("SELECT id FROM tenants WHERE name = $1")
                .bind(tenant)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .unwrap();
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM scans WHERE tenant_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            pool.close().await;
            n
        })
    }
}

/// `tick PREFIX-rescan@TIME: started` lines in a log.
fn started_ticks(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix("serve: tick "))
        .filter_map(|l| l.strip_suffix(": started"))
        .map(str::to_string)
        .collect()
}

fn config_text(prefix: &str, tenant: &str, rescan: &str, lease: u32) -> String {
    format!(
        "[schedule]\nid-prefix = \"{prefix}-\"\nrescan = \"{rescan}\"\ncrawl = \"off\"\n\
         relay = \"off\"\ndigest = \"off\"\ntimezone = \"UTC\"\nmax-backfill = 0\n\
         jitter-secs = 0\nlease-secs = {lease}\n\n[serve]\nlisten = \"127.0.0.1:0\"\n\
         grace-secs = 20\ntenants = [\"{tenant}\"]\n"
    )
}

#[test]
fn three_replicas_run_each_tick_once_and_answer_health_and_metrics() {
    let Some((app, owner)) = common::postgres_urls("serve replicas") else {
        return;
    };
    let world = World::postgres(&app, &owner);
    let (prefix, tenant) = (common::unique("r"), common::unique("serve-"));
    world.watch_repo(&tenant);
    let config = world.config(
        "ecowatch.toml",
        &config_text(&prefix, &tenant, "*/2 * * * * *", 10),
    );
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| world.serve(&config, &format!("replica{i}.log"), &[]))
        .collect();
    let address = replicas[0].address();
    let schedule = format!("{prefix}-rescan");
    let db = Db::open(&app);
    wait_for(Duration::from_secs(90), || {
        let finished = db
            .ticks(&schedule)
            .iter()
            .filter(|t| t.status == "finished")
            .count();
        (finished >= 3).then_some(())
    });

    assert_eq!(get(&address, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(get(&address, "/readyz"), (200, "ready\n".to_string()));
    let (status, metrics) = get(&address, "/metrics");
    assert_eq!(status, 200);
    for line in [
        "ecowatch_up 1",
        "ecowatch_outbox_depth 0",
        "ecowatch_dead_letters 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line}:\n{metrics}");
    }
    assert!(metrics.contains("# TYPE ecowatch_ticks_total counter"));
    let (status, body) = get(&address, "/no/such/thing");
    assert_eq!((status, body.as_str()), (404, "not found\n"));

    for replica in &replicas {
        replica.signal("-TERM");
    }
    for replica in &mut replicas {
        let status = replica.wait(Duration::from_secs(60));
        assert!(status.success(), "{status:?}:\n{}", replica.log());
        assert!(replica.log().contains("serve: stopped"));
    }

    let ticks = db.ticks(&schedule);
    assert!(ticks.len() >= 3, "{ticks:?}");
    assert!(
        ticks.iter().all(|t| t.status == "finished"),
        "drained, nothing left running: {ticks:?}"
    );
    // Each tick started exactly once across the three replicas, and ran its job once.
    let mut started: Vec<String> = replicas
        .iter()
        .flat_map(|r| started_ticks(&r.log()))
        .collect();
    let total = started.len();
    started.sort();
    started.dedup();
    assert_eq!(started.len(), total, "a tick started twice");
    assert_eq!(total, ticks.len());
    assert_eq!(db.scans(&tenant), ticks.len() as i64, "one scan per tick");
}

#[test]
fn a_tick_whose_replica_is_killed_is_finished_once_by_another() {
    let Some((app, owner)) = common::postgres_urls("serve replicas") else {
        return;
    };
    let world = World::postgres(&app, &owner);
    let (prefix, tenant) = (common::unique("k"), common::unique("serve-"));
    world.watch_repo(&tenant);
    // One tick, a few seconds from now, so all replicas are up when it comes due.
    let at = chrono::Utc::now() + chrono::Duration::seconds(8);
    let cron = at.format("%S %M %H %d %m *").to_string();
    let config = world.config("ecowatch.toml", &config_text(&prefix, &tenant, &cron, 2));
    let delay = [(ecowatch::serve::jobs::ENV_TEST_JOB_DELAY_MS, "4000")];
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| world.serve(&config, &format!("replica{i}.log"), &delay))
        .collect();
    for replica in &replicas {
        replica.address();
    }
    let schedule = format!("{prefix}-rescan");
    let holder = wait_for(Duration::from_secs(60), || {
        replicas
            .iter()
            .position(|r| !started_ticks(&r.log()).is_empty())
    });
    let tick = started_ticks(&replicas[holder].log())[0].clone();
    replicas[holder].signal("-KILL");
    replicas[holder].wait(Duration::from_secs(10));

    let db = Db::open(&app);
    let ticks = wait_for(Duration::from_secs(60), || {
        let ticks = db.ticks(&schedule);
        (ticks.iter().any(|t| t.status == "finished")).then_some(ticks)
    });
    assert_eq!(ticks.len(), 1, "{ticks:?}");
    let finisher = replicas
        .iter()
        .position(|r| r.log().contains(&format!("serve: tick {tick}: finished")))
        .expect("another replica finished the same tick");
    assert_ne!(finisher, holder);
    assert!(!replicas[holder].log().contains("finished"));
    assert_eq!(
        db.scans(&tenant),
        1,
        "the killed replica's run left nothing"
    );

    for (i, replica) in replicas.iter_mut().enumerate() {
        if i != holder {
            replica.signal("-TERM");
            assert!(replica.wait(Duration::from_secs(60)).success());
        }
    }
    assert_eq!(db.scans(&tenant), 1, "nothing doubled");
}

#[test]
fn sigterm_lets_the_running_job_finish_and_a_second_serve_on_sqlite_is_refused() {
    let world = World::sqlite();
    let config = world.config(
        "ecowatch.toml",
        "[schedule]\nrescan = \"* * * * * *\"\ncrawl = \"off\"\nrelay = \"off\"\n\
         digest = \"off\"\njitter-secs = 0\nlease-secs = 30\n\n[serve]\nlisten = \"127.0.0.1:0\"\n\
         grace-secs = 30\n",
    );
    let delay = [(ecowatch::serve::jobs::ENV_TEST_JOB_DELAY_MS, "2000")];
    let mut first = world.serve(&config, "first.log", &delay);
    let address = first.address();
    assert_eq!(get(&address, "/readyz").0, 200);

    let second = world
        .command()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("in use by another ecowatch process") && message.contains("PostgreSQL"),
        "{message}"
    );

    let tick = wait_for(Duration::from_secs(60), || {
        started_ticks(&first.log()).into_iter().next()
    });
    first.signal("-TERM");
    let status = first.wait(Duration::from_secs(60));
    let log = first.log();
    assert!(status.success(), "{status:?}:\n{log}");
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(
        log.contains(&format!("serve: tick {tick}: finished")),
        "the running job finished before exit:\n{log}"
    );
    assert_eq!(
        started_ticks(&log).len(),
        1,
        "nothing claimed after SIGTERM:\n{log}"
    );
}

#[test]
fn a_job_outliving_the_grace_period_gives_its_lease_back() {
    let world = World::sqlite();
    let config = world.config(
        "ecowatch.toml",
        "[schedule]\nrescan = \"* * * * * *\"\ncrawl = \"off\"\nrelay = \"off\"\n\
         digest = \"off\"\njitter-secs = 0\n\n[serve]\nlisten = \"127.0.0.1:0\"\ngrace-secs = 0\n",
    );
    let delay = [(ecowatch::serve::jobs::ENV_TEST_JOB_DELAY_MS, "600000")];
    let mut serve = world.serve(&config, "serve.log", &delay);
    let tick = wait_for(Duration::from_secs(60), || {
        started_ticks(&serve.log()).into_iter().next()
    });
    serve.signal("-INT");
    let status = serve.wait(Duration::from_secs(30));
    let log = serve.log();
    assert!(status.success(), "{status:?}:\n{log}");
    assert!(
        log.contains(&format!("serve: tick {tick}: released unfinished")),
        "{log}"
    );
}

#[test]
fn a_bad_schedule_names_the_key_and_exits_2() {
    let world = World::sqlite();
    let config = world.config("bad.toml", "[schedule]\ncrawl = \"every six hours\"\n");
    let out = world
        .command()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("[schedule] crawl") && message.contains("0 */6 * * *"),
        "{message}"
    );
}
