//! The `inventory` job: walk a repository, hand each manifest and lockfile to the extractors
//! that want it, and collect dependencies and diagnostics in a deterministic order.

use crate::dependency::Dependency;
use crate::diag::Diagnostic;
use crate::extract::{self, ManifestFile};
use crate::repo::{DEFAULT_MAX_FILE_BYTES, Repo};
use crate::walk::{self, ListedFile, WalkOptions};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How to take the inventory.
#[derive(Clone, Debug)]
pub struct InventoryOptions {
    pub walk: WalkOptions,
    pub max_file_bytes: u64,
}

impl Default for InventoryOptions {
    fn default() -> InventoryOptions {
        InventoryOptions {
            walk: WalkOptions::default(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// Every dependency and runtime pin a repository declares or locks.
#[derive(Debug)]
pub struct Inventory {
    /// The path as the user gave it.
    pub target: PathBuf,
    /// Sorted by file, line, ecosystem, name, version.
    pub dependencies: Vec<Dependency>,
    /// Sorted by path and line.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why no inventory could be taken at all (problems with single files are diagnostics).
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot open `{path}`: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
}

/// Takes the inventory of the repository at `target`.
pub fn run(target: &Path, options: &InventoryOptions) -> Result<Inventory, InventoryError> {
    let repo = open_repo(target, options.max_file_bytes)?;
    let (files, walk_problems) = walk::list_files(repo.root(), &options.walk);
    let mut inv = from_files(target, &repo, &files, options.walk.threads);
    inv.diagnostics.extend(walk_problems);
    sort_diagnostics(&mut inv.diagnostics);
    Ok(inv)
}

/// Opens `target` for reading, or says why it cannot be.
pub fn open_repo(target: &Path, max_file_bytes: u64) -> Result<Repo, InventoryError> {
    Repo::open(target, max_file_bytes).map_err(|source| InventoryError::Open {
        path: target.display().to_string(),
        source,
    })
}

/// The inventory of already-listed `files` of `repo`: each file some extractor wants is read and
/// extracted, in parallel. Lets `scan` walk the repository once for both passes.
pub fn from_files(target: &Path, repo: &Repo, files: &[ListedFile], threads: usize) -> Inventory {
    let manifests: Vec<&ListedFile> = files
        .iter()
        .filter(|f| extract::for_path(&f.rel).next().is_some())
        .collect();
    let found = Mutex::new((Vec::new(), Vec::new()));
    walk::for_each_parallel(&manifests, threads, |file| {
        let (deps, diags) = extract_file(repo, file, extract::for_path(&file.rel));
        let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
        found.0.extend(deps);
        found.1.extend(diags);
    });
    let (mut dependencies, mut diagnostics) = found.into_inner().unwrap_or_else(|p| p.into_inner());
    dependencies.sort_by(|a, b| {
        (&a.source, a.ecosystem, &a.name, &a.version)
            .cmp(&(&b.source, b.ecosystem, &b.name, &b.version))
            .then_with(|| a.cmp(b))
    });
    dedupe_locked(&mut dependencies);
    sort_diagnostics(&mut diagnostics);
    Inventory {
        target: target.to_path_buf(),
        dependencies,
        diagnostics,
    }
}

/// Diagnostics in path, line, code order, without repeats.
fn sort_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (&a.path, a.line, &a.code)
            .cmp(&(&b.path, b.line, &b.code))
            .then_with(|| a.cmp(b))
    });
    diagnostics.dedup();
}

/// Reads one file and runs every extractor that wants it.
fn extract_file<'a>(
    repo: &Repo,
    file: &ListedFile,
    extractors: impl Iterator<Item = &'a dyn extract::Extractor>,
) -> (Vec<Dependency>, Vec<Diagnostic>) {
    let rel = file.rel.as_str();
    let text = match repo.read_walked_text(rel, file.is_symlink) {
        Ok(text) => text,
        Err(err) => {
            let d = Diagnostic::warning(err.code(), format!("skipped: {err}")).at(rel);
            return (Vec::new(), vec![d]);
        }
    };
    let file = ManifestFile {
        path: rel,
        text: &text,
        repo,
    };
    let mut deps = Vec::new();
    let mut diags = Vec::new();
    for extractor in extractors {
        match extractor.extract(&file) {
            Ok(found) => {
                deps.extend(found.dependencies);
                diags.extend(found.diagnostics);
            }
            Err(err) => {
                let mut d = Diagnostic::warning(
                    "parse-error",
                    format!("{} could not read this file: {err}", extractor.id()),
                )
                .at(rel);
                d.line = err.line();
                diags.push(d);
            }
        }
    }
    (deps, diags)
}

/// A lockfile lists each (name, version) once, even when several paths of the tree install it.
fn dedupe_locked(deps: &mut Vec<Dependency>) {
    let mut seen = HashSet::new();
    deps.retain(|d| match (&d.version, &d.requirement) {
        (Some(version), None) => seen.insert((
            d.source.path.clone(),
            d.ecosystem,
            d.name.clone(),
            version.clone(),
        )),
        _ => true,
    });
}
