//! The schema migrations, embedded at build time.
//!
//! `sqlx::migrate!` would need sqlx's `macros` feature, which compiles both database drivers a
//! second time for the proc-macro host; listing the files here costs nothing and keeps the two
//! backends' numbering side by side, where a test checks that they agree.

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// One migration: version, description, SQLite text, PostgreSQL text.
struct Step {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const STEPS: &[Step] = &[
    Step {
        version: 1,
        description: "initial",
        sqlite: include_str!("../../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../../migrations/postgres/0001_initial.sql"),
    },
    Step {
        version: 2,
        description: "watch",
        sqlite: include_str!("../../migrations/sqlite/0002_watch.sql"),
        postgres: include_str!("../../migrations/postgres/0002_watch.sql"),
    },
    Step {
        version: 3,
        description: "relay",
        sqlite: include_str!("../../migrations/sqlite/0003_relay.sql"),
        postgres: include_str!("../../migrations/postgres/0003_relay.sql"),
    },
    Step {
        version: 4,
        description: "webhooks",
        sqlite: include_str!("../../migrations/sqlite/0004_webhooks.sql"),
        postgres: include_str!("../../migrations/postgres/0004_webhooks.sql"),
    },
    Step {
        version: 5,
        description: "operator_alerts",
        sqlite: include_str!("../../migrations/sqlite/0005_operator_alerts.sql"),
        postgres: include_str!("../../migrations/postgres/0005_operator_alerts.sql"),
    },
    Step {
        version: 6,
        description: "api_tokens",
        sqlite: include_str!("../../migrations/sqlite/0006_api_tokens.sql"),
        postgres: include_str!("../../migrations/postgres/0006_api_tokens.sql"),
    },
    Step {
        version: 7,
        description: "dashboard_issues",
        sqlite: include_str!("../../migrations/sqlite/0007_dashboard_issues.sql"),
        postgres: include_str!("../../migrations/postgres/0007_dashboard_issues.sql"),
    },
    Step {
        version: 8,
        description: "package_repos",
        sqlite: include_str!("../../migrations/sqlite/0008_package_repos.sql"),
        postgres: include_str!("../../migrations/postgres/0008_package_repos.sql"),
    },
    Step {
        version: 9,
        description: "crawl_parts",
        sqlite: include_str!("../../migrations/sqlite/0009_crawl_parts.sql"),
        postgres: include_str!("../../migrations/postgres/0009_crawl_parts.sql"),
    },
];

/// The highest version this build carries.
pub fn latest_version() -> i64 {
    STEPS.iter().map(|s| s.version).max().unwrap_or(0)
}

pub fn sqlite() -> Migrator {
    migrator(|s| s.sqlite)
}

pub fn postgres() -> Migrator {
    migrator(|s| s.postgres)
}

fn migrator(text: fn(&Step) -> &'static str) -> Migrator {
    Migrator::with_migrations(
        STEPS
            .iter()
            .map(|s| {
                Migration::new(
                    s.version,
                    s.description.into(),
                    MigrationType::Simple,
                    text(s).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// `NNNN_description.sql` files of one backend's directory, sorted.
    fn files(backend: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".sql"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_numbered_files_and_all_are_embedded() {
        let sqlite = files("sqlite");
        assert_eq!(sqlite, files("postgres"));
        let embedded: Vec<String> = STEPS
            .iter()
            .map(|s| format!("{:04}_{}.sql", s.version, s.description))
            .collect();
        assert_eq!(
            sqlite, embedded,
            "every migration file must be listed in STEPS"
        );
    }

    #[test]
    fn versions_increase_and_latest_is_the_last() {
        assert!(STEPS.windows(2).all(|w| w[0].version < w[1].version));
        assert_eq!(latest_version(), STEPS.last().map_or(0, |s| s.version));
        assert_eq!(sqlite().iter().count(), STEPS.len());
    }
}
