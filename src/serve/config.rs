//! `[schedule]` and `[serve]` in ecowatch.toml: what runs when, and how the service listens.
//!
//! ```toml
//! [schedule]
//! crawl = "0 */6 * * *"        # 5-field cron (a leading seconds field is accepted too); "off"
//! rescan = "30 * * * *"
//! relay = "*/5 * * * *"
//! digest = "0 9 * * MON"
//! timezone = "Europe/Berlin"   # IANA name the expressions are read in
//! max-backfill = 1             # missed ticks run after downtime, besides the latest one
//! jitter-secs = 30             # random delay before a tick's job starts
//! lease-secs = 300             # how long a replica's claim on a tick lasts without a heartbeat
//! id-prefix = ""               # prefixes schedule ids (several installations on one database)
//!
//! [serve]
//! listen = "127.0.0.1:8080"
//! grace-secs = 30
//! operator-email = "ops@example.com"
//! tenants = ["acme"]           # whose repositories and outbox this service works on; default all
//! feeds = "/etc/ecowatch/feeds" # the crawl's watch.toml lives here; default: the bundled list
//! ```

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Job {
    Crawl,
    Rescan,
    Relay,
    Digest,
}

impl Job {
    pub const ALL: [Job; 4] = [Job::Crawl, Job::Rescan, Job::Relay, Job::Digest];

    /// The key in `[schedule]`, and the schedule's id (after the prefix).
    pub fn key(self) -> &'static str {
        match self {
            Job::Crawl => "crawl",
            Job::Rescan => "rescan",
            Job::Relay => "relay",
            Job::Digest => "digest",
        }
    }

    fn default_cron(self) -> &'static str {
        match self {
            Job::Crawl => "0 */6 * * *",
            Job::Rescan => "30 * * * *",
            Job::Relay => "*/5 * * * *",
            Job::Digest => "0 9 * * MON",
        }
    }
}

/// One enabled schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub job: Job,
    /// The row id in `schedules` (`id-prefix` + job key).
    pub id: String,
    /// As written, stored with the schedule.
    pub expression: String,
    pub cron: Cron,
}

impl Schedule {
    /// The gap between the next two ticks after `now`: the schedule's interval for the
    /// "has not succeeded for twice its interval" check.
    pub fn interval_after(&self, now: DateTime<Utc>, tz: Tz) -> Option<chrono::Duration> {
        let start = now.with_timezone(&tz);
        let first = self.cron.find_next_occurrence(&start, false).ok()?;
        let second = self.cron.find_next_occurrence(&first, false).ok()?;
        Some(second.with_timezone(&Utc) - first.with_timezone(&Utc))
    }
}

/// `[schedule]` and `[serve]`, validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub schedules: Vec<Schedule>,
    pub timezone: Tz,
    pub max_backfill: u32,
    pub jitter: Duration,
    pub lease: Duration,
    pub listen: SocketAddr,
    pub grace: Duration,
    pub operator_email: Option<String>,
    /// `None`: every tenant in the database.
    pub tenants: Option<Vec<String>>,
    /// The directory whose `watch.toml` lists the GitHub projects and vendor pages the crawl
    /// follows (what `ecowatch crawl --feeds DIR` reads); `None`: the bundled list.
    pub feeds: Option<PathBuf>,
}

/// A key with a value ecowatch cannot use; the message shows an example of a good one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("[{table}] {key}: {message} (for example: {key} = {example})")]
pub struct ConfigError {
    pub table: &'static str,
    pub key: String,
    pub message: String,
    pub example: &'static str,
}

const SCHEDULE_KEYS: &[(&str, &str)] = &[
    ("crawl", "\"0 */6 * * *\""),
    ("rescan", "\"30 * * * *\""),
    ("relay", "\"*/5 * * * *\""),
    ("digest", "\"0 9 * * MON\""),
    ("timezone", "\"Europe/Berlin\""),
    ("max-backfill", "1"),
    ("jitter-secs", "30"),
    ("lease-secs", "300"),
    ("id-prefix", "\"staging-\""),
];

const SERVE_KEYS: &[(&str, &str)] = &[
    ("listen", "\"127.0.0.1:8080\""),
    ("grace-secs", "30"),
    ("operator-email", "\"ops@example.com\""),
    ("tenants", "[\"acme\"]"),
    ("feeds", "\"/etc/ecowatch/feeds\""),
];

/// A 5-field expression is what users write; croner also takes a leading seconds field.
pub fn parse_cron(expression: &str) -> Result<Cron, String> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expression)
        .map_err(|e| e.to_string())
}

/// Reads one table's keys, refusing unknown ones (a typo must not silently mean "default").
struct Table<'a> {
    name: &'static str,
    known: &'static [(&'static str, &'static str)],
    values: BTreeMap<&'a str, &'a toml::Value>,
}

impl<'a> Table<'a> {
    fn new(
        name: &'static str,
        known: &'static [(&'static str, &'static str)],
        raw: Option<&'a toml::Value>,
    ) -> Result<Self, ConfigError> {
        let mut values = BTreeMap::new();
        match raw {
            None => {}
            Some(toml::Value::Table(table)) => {
                for (key, value) in table {
                    if !known.iter().any(|(k, _)| k == key) {
                        let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
                        return Err(ConfigError {
                            table: name,
                            key: key.clone(),
                            message: format!("unknown key (known: {})", names.join(", ")),
                            example: known.first().map_or("", |(_, e)| e),
                        });
                    }
                    values.insert(key.as_str(), value);
                }
            }
            Some(_) => {
                return Err(ConfigError {
                    table: name,
                    key: name.to_string(),
                    message: "must be a table".into(),
                    example: "{ ... }",
                });
            }
        }
        Ok(Table {
            name,
            known,
            values,
        })
    }

    fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            table: self.name,
            key: key.to_string(),
            message: message.into(),
            example: self
                .known
                .iter()
                .find(|(k, _)| *k == key)
                .map_or("", |(_, e)| e),
        }
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>, ConfigError> {
        match self.values.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.error(key, "must be a string")),
        }
    }

    fn number(&self, key: &str, max: i64) -> Result<Option<u64>, ConfigError> {
        match self.values.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if (0..=max).contains(n) => Ok(u64::try_from(*n).ok()),
            Some(_) => Err(self.error(key, format!("must be a whole number from 0 to {max}"))),
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.values.get(key) {
            None => Ok(None),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err(self.error(key, "must be a list of non-empty strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.error(key, "must be a list of strings")),
        }
    }
}

impl ServeConfig {
    /// Validates the raw `[schedule]` and `[serve]` tables (absent ones get the defaults).
    pub fn from_tables(
        schedule: Option<&toml::Value>,
        serve: Option<&toml::Value>,
    ) -> Result<ServeConfig, ConfigError> {
        let sched = Table::new("schedule", SCHEDULE_KEYS, schedule)?;
        let timezone_name = sched.string("timezone")?.unwrap_or("UTC");
        let timezone: Tz = timezone_name.parse().map_err(|_| {
            sched.error(
                "timezone",
                format!("`{timezone_name}` is not an IANA time zone name"),
            )
        })?;
        let prefix = sched.string("id-prefix")?.unwrap_or("");
        if prefix.len() > 100 || prefix.chars().any(char::is_control) {
            return Err(sched.error("id-prefix", "at most 100 printable characters"));
        }
        let mut schedules = Vec::new();
        for job in Job::ALL {
            let expression = sched
                .string(job.key())?
                .unwrap_or(job.default_cron())
                .trim();
            if expression.eq_ignore_ascii_case("off") {
                continue;
            }
            let cron = parse_cron(expression).map_err(|e| {
                sched.error(
                    job.key(),
                    format!("`{expression}` is not a cron expression: {e}"),
                )
            })?;
            schedules.push(Schedule {
                job,
                id: format!("{prefix}{}", job.key()),
                expression: expression.to_string(),
                cron,
            });
        }
        let max_backfill = sched.number("max-backfill", 100)?.unwrap_or(1);
        let jitter = sched.number("jitter-secs", 3600)?.unwrap_or(30);
        let lease = sched.number("lease-secs", 86_400)?.unwrap_or(300);
        if lease < 1 {
            return Err(sched.error("lease-secs", "must be at least 1"));
        }

        let serve = Table::new("serve", SERVE_KEYS, serve)?;
        let listen_text = serve.string("listen")?.unwrap_or("127.0.0.1:8080");
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            serve.error(
                "listen",
                format!("`{listen_text}` is not an IP address and port"),
            )
        })?;
        let grace = serve.number("grace-secs", 3600)?.unwrap_or(30);
        let operator_email = match serve.string("operator-email")? {
            Some(addr) if addr.parse::<lettre::Address>().is_ok() => Some(addr.to_string()),
            Some(addr) => {
                return Err(serve.error(
                    "operator-email",
                    format!("`{addr}` is not an email address"),
                ));
            }
            None => None,
        };
        let tenants = serve.strings("tenants")?;
        let feeds = match serve.string("feeds")? {
            Some(dir) if dir.trim().is_empty() || dir.chars().any(char::is_control) => {
                return Err(serve.error("feeds", "must be a directory path"));
            }
            Some(dir) => Some(PathBuf::from(dir)),
            None => None,
        };
        Ok(ServeConfig {
            schedules,
            timezone,
            max_backfill: u32::try_from(max_backfill).unwrap_or(u32::MAX),
            jitter: Duration::from_secs(jitter),
            lease: Duration::from_secs(lease),
            listen,
            grace: Duration::from_secs(grace),
            operator_email,
            tenants,
            feeds,
        })
    }

    /// The crawl schedule, when it is on.
    pub fn schedule(&self, job: Job) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.job == job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServeConfig, ConfigError> {
        let value: toml::Table = toml::from_str(text).unwrap();
        ServeConfig::from_tables(value.get("schedule"), value.get("serve"))
    }

    #[test]
    fn defaults_without_tables() {
        let c = ServeConfig::from_tables(None, None).unwrap();
        let ids: Vec<&str> = c.schedules.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["crawl", "rescan", "relay", "digest"]);
        assert_eq!(c.timezone, Tz::UTC);
        assert_eq!((c.max_backfill, c.lease.as_secs()), (1, 300));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.tenants, None);
    }

    #[test]
    fn five_and_six_field_forms_time_zones_off_and_prefix() {
        let c = parse(
            "[schedule]\ncrawl = \"0 */6 * * *\"\nrescan = \"*/2 * * * * *\"\nrelay = \"off\"\n\
             digest = \"0 9 * * MON\"\ntimezone = \"Europe/Berlin\"\nid-prefix = \"t1-\"\n\
             [serve]\nlisten = \"127.0.0.1:0\"\noperator-email = \"ops@example.com\"\n\
             tenants = [\"acme\"]\n",
        )
        .unwrap();
        let ids: Vec<&str> = c.schedules.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["t1-crawl", "t1-rescan", "t1-digest"]);
        assert_eq!(c.timezone, chrono_tz::Europe::Berlin);
        let now = Utc::now();
        let crawl = c.schedule(Job::Crawl).unwrap();
        assert_eq!(
            crawl.interval_after(now, Tz::UTC),
            Some(chrono::Duration::hours(6))
        );
        let rescan = c.schedule(Job::Rescan).unwrap();
        assert_eq!(
            rescan.interval_after(now, Tz::UTC),
            Some(chrono::Duration::seconds(2))
        );
        assert_eq!(c.tenants, Some(vec!["acme".to_string()]));
        assert_eq!(c.feeds, None);
        let c = parse("[serve]\nfeeds = \"/srv/feeds\"\n").unwrap();
        assert_eq!(c.feeds, Some(PathBuf::from("/srv/feeds")));
    }

    #[test]
    fn the_documented_example_file_is_valid() {
        let text = include_str!("../../deploy/ecowatch.toml.example");
        let file = crate::config::Config::parse(text, std::path::Path::new("example")).unwrap();
        let c = ServeConfig::from_tables(file.reserved.get("schedule"), file.reserved.get("serve"))
            .unwrap();
        assert_eq!(c.schedules.len(), 4);
        // Every key the parser knows is mentioned in the example.
        for (key, _) in SCHEDULE_KEYS.iter().chain(SERVE_KEYS) {
            assert!(text.contains(&format!("{key} = ")), "{key} undocumented");
        }
    }

    #[test]
    fn errors_name_the_key_and_show_an_example() {
        let e = parse("[schedule]\ncrawl = \"every six hours\"\n").unwrap_err();
        assert_eq!(e.key, "crawl");
        assert!(e.to_string().contains("crawl = \"0 */6 * * *\""), "{e}");
        let e = parse("[schedule]\ntimezone = \"Mars/Olympus\"\n").unwrap_err();
        assert!(e.to_string().contains("[schedule] timezone"), "{e}");
        let e = parse("[schedule]\nlease-secs = -1\n").unwrap_err();
        assert_eq!(e.key, "lease-secs");
        let e = parse("[schedule]\ncrawl-every = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown key"), "{e}");
        let e = parse("[serve]\nlisten = \"localhost\"\n").unwrap_err();
        assert_eq!(e.key, "listen");
        let e = parse("[serve]\noperator-email = \"not an address\"\n").unwrap_err();
        assert_eq!(e.key, "operator-email");
        let e = parse("[serve]\ntenants = \"acme\"\n").unwrap_err();
        assert_eq!(e.key, "tenants");
        let e = parse("[serve]\nfeeds = \"\"\n").unwrap_err();
        assert_eq!(e.key, "feeds");
    }
}
