//! `/metrics` in the Prometheus text format. Counters this replica keeps (ticks it ran, operator
//! alerts it sent, conditions it last saw) plus gauges read from the store at scrape time
//! (sources' last success, deliveries by status), which every replica reports alike.

use super::jobs::JobContext;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// The replica's own counters and last-seen conditions.
#[derive(Debug, Default)]
pub struct Metrics {
    ticks: Mutex<BTreeMap<(String, String), u64>>,
    alerts_sent: Mutex<BTreeMap<String, u64>>,
    /// Conditions the last operator check found (`1`) or found cleared (`0`).
    conditions: Mutex<BTreeMap<String, u8>>,
}

impl Metrics {
    /// Counts a tick this replica ended with `status` (finished, failed, lost, released).
    pub fn tick(&self, schedule: &str, status: &str) {
        if let Ok(mut ticks) = self.ticks.lock() {
            *ticks
                .entry((schedule.to_string(), status.to_string()))
                .or_default() += 1;
        }
    }

    pub fn alert_sent(&self, condition: &str) {
        if let Ok(mut sent) = self.alerts_sent.lock() {
            *sent.entry(condition.to_string()).or_default() += 1;
        }
    }

    /// Replaces the conditions the operator check saw; ones not seen any more read 0.
    pub fn set_conditions(&self, active: &[String]) {
        if let Ok(mut conditions) = self.conditions.lock() {
            for value in conditions.values_mut() {
                *value = 0;
            }
            for condition in active {
                conditions.insert(condition.clone(), 1);
            }
        }
    }

    /// The whole exposition. Fails only when the store cannot be read.
    pub async fn render(&self, ctx: &JobContext) -> Result<String, String> {
        let mut out = String::new();
        gauge(&mut out, "ecowatch_up", "1 while this replica runs.");
        let _ = writeln!(out, "ecowatch_up 1");

        let sources = ctx
            .store
            .list_sources()
            .await
            .map_err(|e| format!("cannot read sources: {e}"))?;
        gauge(
            &mut out,
            "ecowatch_source_last_success_timestamp_seconds",
            "When each source's last crawl succeeded (Unix time).",
        );
        for source in &sources {
            if let Some(at) = source.last_success_at {
                let _ = writeln!(
                    out,
                    "ecowatch_source_last_success_timestamp_seconds{{source=\"{}\"}} {}",
                    label(&source.id),
                    at.timestamp()
                );
            }
        }

        gauge(
            &mut out,
            "ecowatch_source_last_error_timestamp_seconds",
            "When each source's last crawl error happened (Unix time).",
        );
        for source in &sources {
            if let Some(at) = source.last_error_at {
                let _ = writeln!(
                    out,
                    "ecowatch_source_last_error_timestamp_seconds{{source=\"{}\"}} {}",
                    label(&source.id),
                    at.timestamp()
                );
            }
        }
        let notices = ctx
            .store
            .count_notices_by_source()
            .await
            .map_err(|e| format!("cannot count notices: {e}"))?;
        gauge(
            &mut out,
            "ecowatch_notices",
            "Notices in the store by the source that crawled them (\"\" for imports).",
        );
        for (source, n) in &notices {
            let _ = writeln!(out, "ecowatch_notices{{source=\"{}\"}} {n}", label(source));
        }
        let budgets = ctx
            .store
            .list_request_budgets()
            .await
            .map_err(|e| format!("cannot read request budgets: {e}"))?;
        gauge(
            &mut out,
            "ecowatch_request_budget_remaining",
            "Requests left in the current rate-limit window, lowest over credentials, by bucket.",
        );
        let mut lowest: BTreeMap<String, i64> = BTreeMap::new();
        for (bucket, remaining) in budgets {
            let entry = lowest.entry(bucket).or_insert(remaining);
            *entry = (*entry).min(remaining);
        }
        for (bucket, remaining) in &lowest {
            let _ = writeln!(
                out,
                "ecowatch_request_budget_remaining{{bucket=\"{}\"}} {remaining}",
                label(bucket)
            );
        }

        let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
        for tenant in ctx.tenants().await.map_err(|e| e.to_string())? {
            let counts = ctx
                .store
                .delivery_counts(tenant.id)
                .await
                .map_err(|e| format!("cannot count deliveries: {e}"))?;
            for (status, n) in counts {
                *by_status.entry(status).or_default() += n;
            }
        }
        gauge(
            &mut out,
            "ecowatch_deliveries",
            "Deliveries in the outbox by status.",
        );
        for status in ["pending", "sent", "dead"] {
            by_status.entry(status.to_string()).or_default();
        }
        for (status, n) in &by_status {
            let _ = writeln!(
                out,
                "ecowatch_deliveries{{status=\"{}\"}} {n}",
                label(status)
            );
        }
        gauge(
            &mut out,
            "ecowatch_outbox_depth",
            "Deliveries waiting to be sent (pending).",
        );
        let _ = writeln!(
            out,
            "ecowatch_outbox_depth {}",
            by_status.get("pending").copied().unwrap_or(0)
        );
        gauge(
            &mut out,
            "ecowatch_dead_letters",
            "Deliveries that failed for good (redrive with `ecowatch deliveries redrive`).",
        );
        let _ = writeln!(
            out,
            "ecowatch_dead_letters {}",
            by_status.get("dead").copied().unwrap_or(0)
        );

        let _ = writeln!(
            out,
            "# HELP ecowatch_ticks_total Schedule ticks this replica ended, by outcome.\n\
             # TYPE ecowatch_ticks_total counter"
        );
        if let Ok(ticks) = self.ticks.lock() {
            for ((schedule, status), n) in ticks.iter() {
                let _ = writeln!(
                    out,
                    "ecowatch_ticks_total{{schedule=\"{}\",status=\"{}\"}} {n}",
                    label(schedule),
                    label(status)
                );
            }
        }
        gauge(
            &mut out,
            "ecowatch_operator_condition",
            "1 while a condition the operator is alerted about holds (stale source, dead letters).",
        );
        if let Ok(conditions) = self.conditions.lock() {
            for (condition, value) in conditions.iter() {
                let _ = writeln!(
                    out,
                    "ecowatch_operator_condition{{condition=\"{}\"}} {value}",
                    label(condition)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ecowatch_operator_alerts_total Operator alert emails this replica sent.\n\
             # TYPE ecowatch_operator_alerts_total counter"
        );
        if let Ok(sent) = self.alerts_sent.lock() {
            for (condition, n) in sent.iter() {
                let _ = writeln!(
                    out,
                    "ecowatch_operator_alerts_total{{condition=\"{}\"}} {n}",
                    label(condition)
                );
            }
        }
        Ok(out)
    }
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd\re"), "a\\\"b\\\\c\\nde");
    }

    #[tokio::test]
    async fn renders_every_family_on_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_sqlite(&dir.path().join("m.db"), false)
            .await
            .unwrap();
        store
            .record_request_budget(
                "cred-a",
                "core",
                &crate::store::RequestBudget {
                    limit: Some(5000),
                    remaining: Some(4321),
                    reset_at: None,
                },
            )
            .await
            .unwrap();
        let ctx = JobContext::new(store, None, None);
        let metrics = Metrics::default();
        metrics.tick("rescan", "finished");
        metrics.set_conditions(&["dead-letters".into()]);
        let text = metrics.render(&ctx).await.unwrap();
        for line in [
            "ecowatch_up 1",
            "ecowatch_deliveries{status=\"dead\"} 0",
            "ecowatch_outbox_depth 0",
            "ecowatch_dead_letters 0",
            "ecowatch_ticks_total{schedule=\"rescan\",status=\"finished\"} 1",
            "ecowatch_operator_condition{condition=\"dead-letters\"} 1",
            "ecowatch_request_budget_remaining{bucket=\"core\"} 4321",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
