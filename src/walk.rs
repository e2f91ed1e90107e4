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

/// A file found by [`list_files`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListedFile {
    /// Relative to the root, forward slashes.
    pub rel: String,
    pub is_symlink: bool,
}

impl ListedFile {
    /// The last path component.
    pub fn file_name(&self) -> &str {
        self.rel.rsplit('/').next().unwrap_or(&self.rel)
    }
}

/// Walks `root` once and returns every file (sorted, so later passes are deterministic) and the
/// walk's own problems. `scan` lists once and makes two passes over the list: manifests first
/// (the gates need the inventory before any code file is read), then code.
pub fn list_files(root: &Path, options: &WalkOptions) -> (Vec<ListedFile>, Vec<Diagnostic>) {
    let files = Mutex::new(Vec::new());
    let problems = walk(root, options, |file| {
        let listed = ListedFile {
            rel: file.rel.to_string(),
            is_symlink: file.is_symlink,
        };
        files.lock().unwrap_or_else(|p| p.into_inner()).push(listed);
    });
    let mut files = files.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort_unstable();
    (files, problems)
}

/// Runs `visit` on every item from `threads` worker threads (0 = one per core). Items are
/// handed out one at a time, so a few large files do not leave the other workers idle.
pub fn for_each_parallel<T: Sync>(items: &[T], threads: usize, visit: impl Fn(&T) + Sync) {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            visit(item);
        }
    };
    if threads <= 1 {
        work();
        return;
    }
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(work);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn for_each_parallel_visits_every_item_once() {
        let items: Vec<usize> = (0..1000).collect();
        for threads in [0, 1, 3] {
            let sum = AtomicUsize::new(0);
            let count = AtomicUsize::new(0);
            for_each_parallel(&items, threads, |i| {
                sum.fetch_add(*i, Ordering::Relaxed);
                count.fetch_add(1, Ordering::Relaxed);
            });
            assert_eq!(count.into_inner(), 1000);
            assert_eq!(sum.into_inner(), 999 * 1000 / 2);
        }
        for_each_parallel(&Vec::<u8>::new(), 4, |_| panic!("no items, no calls"));
    }

    #[test]
    fn list_files_is_sorted_and_relative() {
        let dir = tempfile::tempdir().expect("tempdir");
        for rel in ["b/x.txt", "a.txt", "node_modules/skip.js", "c/d/e.txt"] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, "x").expect("write");
        }
        let (files, problems) = list_files(dir.path(), &WalkOptions::default());
        assert!(problems.is_empty());
        let rels: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a.txt", "b/x.txt", "c/d/e.txt"]);
        assert_eq!(files[2].file_name(), "e.txt");
    }
}
