//! Helpers every integration test binary that needs the shared services would otherwise write
//! again. Each binary uses a subset, hence `dead_code` is allowed here.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The app-role and owner-role URLs of the test PostgreSQL that `./scripts/test` starts.
/// Without them the test is skipped loudly, except under `CI=true`, where a missing database
/// is a failure (a skipped test must never turn CI green).
pub fn postgres_urls(needed_by: &str) -> Option<(String, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        var("ECOWATCH_TEST_POSTGRES_URL"),
        var("ECOWATCH_TEST_POSTGRES_OWNER_URL"),
    ) {
        (Some(app), Some(owner)) => Some((app, owner)),
        _ if var("CI").as_deref() == Some("true") => panic!(
            "CI=true but ECOWATCH_TEST_POSTGRES_URL / ECOWATCH_TEST_POSTGRES_OWNER_URL are unset \
             (./scripts/test starts PostgreSQL)"
        ),
        _ => {
            eprintln!(
                "SKIPPED: {needed_by} need PostgreSQL (ECOWATCH_TEST_POSTGRES_URL unset; run \
                 ./scripts/test, or eval \"$(scripts/services/postgres.sh start)\")"
            );
            None
        }
    }
}

/// A name no other test (or earlier run) on the shared database uses; lowercase digits and
/// `x`, so it can also be an npm scope or a GitHub owner.
pub fn unique(label: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{label}{}x{}x{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
