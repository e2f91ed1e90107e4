//! Manifests and lockfiles to dependencies. One small extractor per format, registered in
//! [`EXTRACTORS`]; each is pure (bytes in, dependencies out) and never touches the network.
//!
//! Each file speaks for itself: a lockfile reports every package it locks with its version, a
//! manifest reports what it declares with the requirement as written. Entries that cannot be
//! resolved to a registry version (git, path, URL) are kept with a [`Skip`](crate::Skip) reason.

pub mod actions;
pub mod cargo;
pub mod go;
pub mod npm;
pub mod packagist;
pub mod pypi;
pub mod rubygems;
pub mod runtime;
pub mod util;

use crate::dependency::Dependency;
use crate::diag::Diagnostic;
use crate::repo::{ReadError, Repo};

/// One manifest or lockfile format.
pub trait Extractor: Sync {
    /// Stable, path-like id: `npm/package-lock`, `pypi/uv-lock`.
    fn id(&self) -> &'static str;
    /// Whether this extractor reads the file at `path` (relative, forward slashes) whose last
    /// component is `file_name`. A path test only: no I/O.
    fn wants(&self, path: &str, file_name: &str) -> bool;
    /// Extracts the dependencies of one file. An `Err` means the file as a whole could not be
    /// understood; problems with single entries go into [`Extracted::diagnostics`].
    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError>;
}

/// Every extractor, in a fixed order.
pub static EXTRACTORS: &[&[&dyn Extractor]] = &[
    npm::EXTRACTORS,
    pypi::EXTRACTORS,
    cargo::EXTRACTORS,
    go::EXTRACTORS,
    rubygems::EXTRACTORS,
    packagist::EXTRACTORS,
    actions::EXTRACTORS,
    runtime::EXTRACTORS,
];

/// All registered extractors, flattened.
pub fn all() -> impl Iterator<Item = &'static dyn Extractor> {
    EXTRACTORS.iter().flat_map(|group| group.iter().copied())
}

/// The extractors that want the file at `path`.
pub fn for_path<'p>(path: &'p str) -> impl Iterator<Item = &'static dyn Extractor> + 'p {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    all().filter(move |e| e.wants(path, file_name))
}

/// One file handed to an extractor.
pub struct ManifestFile<'a> {
    /// Relative to the scanned root, forward slashes.
    pub path: &'a str,
    /// The decoded text (BOM stripped).
    pub text: &'a str,
    /// The repository, for files that name other files (`-r base.txt`, a workspace root).
    pub repo: &'a Repo,
}

impl ManifestFile<'_> {
    /// Reads a file named inside this one, relative to this file's directory. Returns its
    /// root-relative path and text; refuses paths that leave the root.
    pub fn read_related(&self, include: &str) -> Result<(String, String), ReadError> {
        let rel = self
            .repo
            .resolve_relative(self.path, include)
            .ok_or(ReadError::OutsideRoot)?;
        let text = self.repo.read_text(&rel)?;
        Ok((rel, text))
    }

    /// A dependency located in this file at `line`.
    pub fn dep(&self, ecosystem: crate::Ecosystem, name: &str, line: u32) -> Dependency {
        Dependency::new(ecosystem, name, self.path, line)
    }

    /// A warning located in this file.
    pub fn warning(&self, code: &str, message: impl Into<String>, line: Option<u32>) -> Diagnostic {
        let d = Diagnostic::warning(code, message).at(self.path);
        match line {
            Some(l) => d.at_line(l),
            None => d,
        }
    }
}

/// What one extractor found in one file.
#[derive(Debug, Default)]
pub struct Extracted {
    pub dependencies: Vec<Dependency>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Extracted {
    pub fn from_dependencies(dependencies: Vec<Dependency>) -> Extracted {
        Extracted {
            dependencies,
            diagnostics: Vec::new(),
        }
    }
}

/// Why a whole file could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: u32,
        column: u32,
        message: String,
    },
    #[error("invalid YAML{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Yaml { line: Option<u32>, message: String },
    #[error("invalid TOML{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Toml { line: Option<u32>, message: String },
    #[error("line {line}: {message}")]
    Syntax { line: u32, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl ExtractError {
    /// The 1-based line the error points at, when known.
    pub fn line(&self) -> Option<u32> {
        match self {
            ExtractError::Json { line, .. } | ExtractError::Syntax { line, .. } => Some(*line),
            ExtractError::Yaml { line, .. } | ExtractError::Toml { line, .. } => *line,
            ExtractError::Invalid(_) => None,
        }
    }
}

/// Runs `extractor` on the file `rel` under the directory `root`, reading it the way the
/// inventory does. For tests, fuzz targets and tools that look at one file.
pub fn extract_at(
    extractor: &dyn Extractor,
    root: &std::path::Path,
    rel: &str,
) -> Result<Extracted, ExtractError> {
    let repo = Repo::open(root, crate::repo::DEFAULT_MAX_FILE_BYTES)
        .map_err(|e| ExtractError::Invalid(format!("cannot open `{}`: {e}", root.display())))?;
    let text = repo
        .read_text(rel)
        .map_err(|e| ExtractError::Invalid(format!("cannot read `{rel}`: {e}")))?;
    extractor.extract(&ManifestFile {
        path: rel,
        text: &text,
        repo: &repo,
    })
}
