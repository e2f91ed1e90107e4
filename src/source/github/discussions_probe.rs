//! Which projects' discussions changed since the last run, asked for many projects at once.
//!
//! A full discussions query costs a GraphQL point per project even when nothing changed. One
//! query with an aliased `repository` field per project (`r0: repository(...)`), each asking for
//! only the newest-updated discussion's `updatedAt`, costs one point for up to [`BATCH`]
//! projects (GitHub charges a hundredth of a point per requested connection, rounded up to one).
//! Only projects whose newest discussion is past the stored watermark, or that have a resume
//! cursor, never finished a run, or no usable probe answer, are then read page by page.

use super::client::{GitHubClient, GitHubError};
use super::discussions::state_id;
use super::watchlist::WatchedProject;
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// Projects per probe query: 50 connections of one node each, far under GitHub's node limit,
/// and half a point before rounding.
pub const BATCH: usize = 50;

#[derive(Deserialize)]
struct ProbeRepository {
    discussions: ProbeConnection,
}

#[derive(Deserialize)]
struct ProbeConnection {
    #[serde(default)]
    nodes: Vec<Option<ProbeNode>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProbeNode {
    updated_at: DateTime<Utc>,
}

/// For each of `projects` (in order), whether its discussions must be read this run.
/// Fails only with an error that stops the source; any other failure of the probe means
/// "read them", so the per-project crawl meets and reports it.
pub async fn needs_crawl(
    client: &GitHubClient,
    store: &Store,
    projects: &[WatchedProject],
) -> Result<Vec<bool>, GitHubError> {
    let mut needed = vec![true; projects.len()];
    // (index into `projects`, its watermark) for projects a probe can settle.
    let mut probed = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        let state = store.get_source(&state_id(project)).await?;
        // A finished run without any discussion leaves no watermark but can be probed too.
        if let Some(state) = state
            && state.cursor.is_none()
            && (state.watermark.is_some() || state.last_success_at.is_some())
        {
            probed.push((i, state.watermark));
        }
    }
    if probed.is_empty() {
        return Ok(needed);
    }
    let batch: Vec<&WatchedProject> = probed.iter().map(|&(i, _)| &projects[i]).collect();
    let (query, variables) = probe_query(&batch);
    let data = match client.graphql_partial(&query, variables).await {
        Ok((data, _errors)) => data,
        Err(err) if err.stops_the_source() => return Err(err),
        Err(_) => return Ok(needed),
    };
    let newest = newest_updates(&data, batch.len());
    for (slot, &(i, watermark)) in probed.iter().enumerate() {
        needed[i] = match &newest[slot] {
            // Equal to the watermark is what the last run read already.
            Some(Some(newest)) => watermark.is_none_or(|w| *newest > w),
            Some(None) => false,
            None => true,
        };
    }
    Ok(needed)
}

/// The aliased query and its variables; names travel as variables, never inside the text.
fn probe_query(projects: &[&WatchedProject]) -> (String, Value) {
    let mut params = String::new();
    let mut fields = String::new();
    let mut variables = Map::new();
    for (i, project) in projects.iter().enumerate() {
        let _ = write!(
            params,
            "{}$o{i}: String!, $n{i}: String!",
            if i == 0 { "" } else { ", " }
        );
        let _ = write!(
            fields,
            "  r{i}: repository(owner: $o{i}, name: $n{i}) {{\n    discussions(first: 1, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{ nodes {{ updatedAt }} }}\n  }}\n"
        );
        variables.insert(format!("o{i}"), Value::String(project.owner.clone()));
        variables.insert(format!("n{i}"), Value::String(project.repo.clone()));
    }
    let query =
        format!("query({params}) {{\n  rateLimit {{ cost limit remaining resetAt }}\n{fields}}}");
    (query, Value::Object(variables))
}

/// Per alias `r{i}`: `None` when the answer holds no usable repository (unknown, forbidden,
/// malformed), `Some(None)` for a repository without discussions, else its newest `updatedAt`.
fn newest_updates(data: &Value, count: usize) -> Vec<Option<Option<DateTime<Utc>>>> {
    (0..count)
        .map(|i| {
            let field = data.get(format!("r{i}"))?;
            let repository: ProbeRepository = serde_json::from_value(field.clone()).ok()?;
            Some(
                repository
                    .discussions
                    .nodes
                    .into_iter()
                    .flatten()
                    .map(|n| n.updated_at)
                    .max(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn project(owner: &str, repo: &str) -> WatchedProject {
        WatchedProject {
            owner: owner.into(),
            repo: repo.into(),
            packages: Vec::new(),
            changelog: None,
        }
    }

    #[test]
    fn the_query_aliases_each_project_and_passes_names_as_variables() {
        let a = project("supabase", "supabase");
        let b = project("evil\"){}", "x");
        let (query, variables) = probe_query(&[&a, &b]);
        assert!(query.starts_with("query($o0: String!, $n0: String!, $o1: String!, $n1: String!)"));
        assert!(query.contains("r1: repository(owner: $o1, name: $n1)"));
        assert!(query.contains("orderBy: {field: UPDATED_AT, direction: DESC}"));
        assert!(query.contains("rateLimit { cost"));
        assert!(!query.contains("evil"));
        assert_eq!(variables["o1"], "evil\"){}");
        assert_eq!(variables["n0"], "supabase");
    }

    #[test]
    fn answers_are_read_per_alias_and_bad_ones_mean_unknown() {
        let data = json!({
            "r0": {"discussions": {"nodes": [{"updatedAt": "2025-06-03T10:00:00Z"}]}},
            "r1": {"discussions": {"nodes": []}},
            "r2": null,
            "r3": {"discussions": {"nodes": [{"updatedAt": "yesterday"}]}},
        });
        let newest = newest_updates(&data, 5);
        assert_eq!(
            newest[0],
            Some(Some("2025-06-03T10:00:00Z".parse().unwrap()))
        );
        assert_eq!(newest[1], Some(None));
        assert_eq!(newest[2], None);
        assert_eq!(newest[3], None);
        assert_eq!(newest[4], None, "a missing alias");
        assert!(newest_updates(&Value::Null, 1)[0].is_none());
    }
}
