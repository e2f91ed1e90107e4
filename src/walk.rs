//! The repository walk: gitignore-aware, parallel, hidden files included (`.github`,
//! `.nvmrc`), vendored trees skipped, and symlinks never followed (a symlinked file is reported
//! to the visitor, which resolves it through [`Repo`](crate::repo::Repo) and its root check).

use crate::diag::Diagnostic;
use ignore::{WalkBuilder, WalkState};
use std::path::Path;
use std::sync::Mutex;

/// Directories skipped by default: installed or vendored code, not the repository's own.
pub const DEFAULT_SKIP_DIRS: &[&str] = &["node_modules", "vendor", ".venv", ".git"];

/// How to walk.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Worker threads; 0 lets the walker choose.
    pub threads: usize,
    /// Directory names never descended into.
    pub skip_dirs: Vec<String>,
    /// Honour `.gitignore`, `.ignore` and git's exclude files.
    pub respect_gitignore: bool,
}

impl Default for WalkOptions {
    fn default() -> WalkOptions {
        WalkOptions {
            threads: 0,
            skip_dirs: DEFAULT_SKIP_DIRS.iter().map(|s| s.to_string()).collect(),
            respect_gitignore: true,
        }
    }
}

/// One file the walk met.
pub struct WalkedFile<'a> {
    /// Relative to the root, forward slashes.
    pub rel: &'a str,
    /// The last path component.
    pub file_name: &'a str,
    /// True when the entry itself is a symlink (not followed by the walk).
    pub is_symlink: bool,
}

/// Walks `root` in parallel, calling `visit` for every file (and file symlink). Returns the
/// problems the walk itself met (unreadable directories, loops), each as a diagnostic.
pub fn walk<F>(root: &Path, options: &WalkOptions, visit: F) -> Vec<Diagnostic>
where
    F: Fn(&WalkedFile<'_>) + Sync,
{
    let skip_dirs = options.skip_dirs.clone();
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .follow_links(false)
        .git_ignore(options.respect_gitignore)
        .git_global(false)
        .git_exclude(options.respect_gitignore)
        .ignore(options.respect_gitignore)
        .parents(false)
        .require_git(false)
        .threads(options.threads)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir
                && entry.depth() > 0
                && skip_dirs
                    .iter()
                    .any(|s| entry.file_name().to_str() == Some(s.as_str())))
        });
    let problems = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let d = Diagnostic::warning("walk-error", err.to_string());
                    problems.lock().unwrap_or_else(|p| p.into_inner()).push(d);
                    return WalkState::Continue;
                }
            };
            let Some(file_type) = entry.file_type() else {
                return WalkState::Continue;
            };
            if file_type.is_dir() {
                return WalkState::Continue;
            }
            let Ok(rel) = entry.path().strip_prefix(root) else {
                return WalkState::Continue;
            };
            let Some(rel) = rel.to_str() else {
                let d = Diagnostic::warning(
                    "non-utf8-path",
                    format!("skipped a path that is not UTF-8: {}", rel.display()),
                );
                problems.lock().unwrap_or_else(|p| p.into_inner()).push(d);
                return WalkState::Continue;
            };
            let rel = if std::path::MAIN_SEPARATOR == '/' {
                std::borrow::Cow::Borrowed(rel)
            } else {
                std::borrow::Cow::Owned(rel.replace(std::path::MAIN_SEPARATOR, "/"))
            };
            let file_name = rel.rsplit('/').next().unwrap_or(&rel);
            visit(&WalkedFile {
                rel: &rel,
                file_name,
                is_symlink: file_type.is_symlink(),
            });
            WalkState::Continue
        })
    });
    problems.into_inner().unwrap_or_else(|p| p.into_inner())
}
