//! `ecowatch feeds lint`: every problem in a feeds directory, as `path:line:column: message`.
//! Beyond what loading checks (schema, keys, ids, regexes, ranges, dates, URLs), lint wants at
//! least one `ruleid` and one `ok` annotation per rule and refuses files it cannot place.

use super::Rule;
use super::fixtures::{annotations, fixture_paths};
use super::load::{
    LoadProblem, is_rule_file, list_files, load_feed_files, read_feeds_dir, rules_root,
};
use std::collections::BTreeSet;
use std::path::Path;

/// The loaded rules and every problem found, sorted by path and position.
pub struct LintReport {
    pub rules: Vec<Rule>,
    pub problems: Vec<LoadProblem>,
}

/// Lints the feeds directory `dir` (`dir/rules` when it exists).
pub fn lint_dir(dir: &Path) -> std::io::Result<LintReport> {
    let files = read_feeds_dir(dir)?;
    let (rules, mut problems) = load_feed_files(&files);
    let root = rules_root(dir);
    for rule in &rules {
        let (paths, repos) = fixture_paths(&root, &rule.id);
        let mut ruleid = 0;
        let mut ok = 0;
        let mut texts = Vec::new();
        for p in paths {
            texts.push(p);
        }
        for repo in repos {
            let mut inner = Vec::new();
            list_files(&repo, &repo, &mut inner)?;
            texts.extend(inner.into_iter().map(|rel| repo.join(rel)));
        }
        for path in texts {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(text) = crate::repo::decode_text(bytes) else {
                continue;
            };
            if let Some(e) = annotations(&text).remove(&rule.id) {
                ruleid += e.ruleid.len();
                ok += e.ok.len();
            }
        }
        for (count, what) in [(ruleid, "ruleid"), (ok, "ok")] {
            if count == 0 {
                problems.push(LoadProblem {
                    path: rule.source.clone(),
                    line: 1,
                    column: 1,
                    message: format!(
                        "rule `{}` has no `{what}: {}` fixture annotation (add a fixture beside it)",
                        rule.id, rule.id
                    ),
                });
            }
        }
    }
    problems.extend(misplaced_files(
        &root,
        &files_stems(&files.iter().map(|f| f.rel.as_str()).collect::<Vec<_>>()),
    )?);
    problems.sort();
    problems.dedup();
    Ok(LintReport { rules, problems })
}

/// `ns/name` for every rule file path.
fn files_stems(rels: &[&str]) -> BTreeSet<String> {
    rels.iter()
        .filter_map(|r| r.strip_suffix(".toml"))
        .map(str::to_string)
        .collect()
}

/// Files that are neither a rule nor a fixture of one: a fixture whose rule was renamed would
/// otherwise stop being tested without anyone noticing.
fn misplaced_files(root: &Path, rules: &BTreeSet<String>) -> std::io::Result<Vec<LoadProblem>> {
    let mut all = Vec::new();
    if root.is_dir() {
        list_files(root, root, &mut all)?;
    }
    let mut problems = Vec::new();
    for rel in all {
        if is_rule_file(&rel) && rel.matches('/').count() == 1 {
            continue;
        }
        let parts: Vec<&str> = rel.split('/').collect();
        let belongs = parts.len() >= 2 && {
            let ns = parts[0];
            let first = parts[1];
            rules.iter().any(|id| {
                id.split_once('/')
                    .is_some_and(|(rns, name)| rns == ns && first.starts_with(&format!("{name}.")))
            })
        };
        let is_doc = parts.len() == 1 && (rel.ends_with(".md") || rel.starts_with('.'));
        if !belongs && !is_doc {
            problems.push(LoadProblem {
                path: root.join(&rel).display().to_string(),
                line: 1,
                column: 1,
                message: "not a rule (`<namespace>/<name>.toml`) nor a fixture of one (`<namespace>/<name>.<ext>` or `<namespace>/<name>.fixtures/`)".to_string(),
            });
        }
    }
    Ok(problems)
}
