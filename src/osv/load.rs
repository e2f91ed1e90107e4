//! Reading OSV records from what advisory databases publish: one file, a directory tree (the
//! GitHub, PyPA and RustSec repositories), or a zip in OSV.dev's per-ecosystem `all.zip` layout.
//!
//! Records are handed to a callback one at a time, so a dump of any size costs one record of
//! memory. A record that cannot be read is an `Err` for that record and the walk goes on; only
//! a PATH that cannot be read at all stops it.

use super::record::{OsvRecord, parse_osv_json, parse_osv_yaml};
use super::rustsec::parse_rustsec_markdown;
use super::{MAX_RECORD_BYTES, OsvError};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Deepest directory nesting followed (the advisory databases use four or five levels).
const MAX_DEPTH: usize = 32;

/// How a file's records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSource {
    Json,
    Yaml,
    RustSec,
    Zip,
}

impl RecordSource {
    /// The format of a file met while walking a tree, or `None` for files that hold no records
    /// (READMEs, workflow files, licences).
    pub fn in_tree(file_name: &str) -> Option<RecordSource> {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(RecordSource::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(RecordSource::Yaml)
        } else if lower.ends_with(".zip") {
            Some(RecordSource::Zip)
        } else if file_name.starts_with("RUSTSEC-")
            && (lower.ends_with(".md") || lower.ends_with(".toml"))
        {
            Some(RecordSource::RustSec)
        } else {
            None
        }
    }

    /// The format of a file named on the command line: by extension, JSON when unknown.
    pub fn named(file_name: &str) -> RecordSource {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".md") || lower.ends_with(".toml") {
            RecordSource::RustSec
        } else {
            RecordSource::in_tree(file_name).unwrap_or(RecordSource::Json)
        }
    }
}

/// Why nothing could be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{path}`")]
pub struct LoadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Calls `visit(origin, record)` for every record under `path`, in a stable order (directory
/// entries sorted by name, zip entries in archive order). `origin` names the file, and for zip
/// entries the entry (`all.zip!/GHSA-….json`). Hidden directories (`.git`) and symbolic links
/// are skipped.
pub fn for_each_record(
    path: &Path,
    visit: &mut dyn FnMut(&str, Result<OsvRecord, OsvError>),
) -> Result<(), LoadError> {
    let meta = std::fs::metadata(path).map_err(|source| LoadError {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        walk_dir(path, 0, visit).map_err(|source| LoadError {
            path: path.to_path_buf(),
            source,
        })
    } else {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let source = RecordSource::named(name.as_deref().unwrap_or(""));
        read_file(path, source, visit);
        Ok(())
    }
}

fn walk_dir(
    dir: &Path,
    depth: usize,
    visit: &mut dyn FnMut(&str, Result<OsvRecord, OsvError>),
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            if name.starts_with('.') {
                continue;
            }
            if depth >= MAX_DEPTH {
                visit(
                    &path.display().to_string(),
                    Err(OsvError::Unreadable(format!(
                        "directory nesting deeper than {MAX_DEPTH} levels is not followed"
                    ))),
                );
                continue;
            }
            // A subdirectory that cannot be listed is that subtree's problem, not the import's.
            if let Err(e) = walk_dir(&path, depth + 1, visit) {
                visit(
                    &path.display().to_string(),
                    Err(OsvError::Unreadable(e.to_string())),
                );
            }
        } else if kind.is_file()
            && let Some(source) = RecordSource::in_tree(&name)
        {
            read_file(&path, source, visit);
        }
    }
    Ok(())
}

fn read_file(
    path: &Path,
    source: RecordSource,
    visit: &mut dyn FnMut(&str, Result<OsvRecord, OsvError>),
) {
    let origin = path.display().to_string();
    if source == RecordSource::Zip {
        read_zip(path, &origin, visit);
        return;
    }
    let bytes = match File::open(path).and_then(read_capped) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return visit(&origin, Err(OsvError::TooLarge)),
        Err(e) => return visit(&origin, Err(OsvError::Unreadable(e.to_string()))),
    };
    visit(&origin, parse(source, &bytes));
}

fn parse(source: RecordSource, bytes: &[u8]) -> Result<OsvRecord, OsvError> {
    let text = || {
        std::str::from_utf8(bytes).map_err(|e| OsvError::Syntax {
            format: "UTF-8",
            message: e.to_string(),
        })
    };
    match source {
        RecordSource::Json | RecordSource::Zip => parse_osv_json(bytes),
        RecordSource::Yaml => parse_osv_yaml(text()?),
        RecordSource::RustSec => parse_rustsec_markdown(text()?),
    }
}

/// Reads at most [`MAX_RECORD_BYTES`]; `None` when there is more (a zip entry's declared size
/// is not trusted).
fn read_capped(reader: impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_RECORD_BYTES).then_some(bytes))
}

fn read_zip(path: &Path, origin: &str, visit: &mut dyn FnMut(&str, Result<OsvRecord, OsvError>)) {
    let archive = File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| zip::ZipArchive::new(f).map_err(|e| e.to_string()));
    let mut archive = match archive {
        Ok(a) => a,
        Err(message) => {
            return visit(
                origin,
                Err(OsvError::Syntax {
                    format: "zip",
                    message,
                }),
            );
        }
    };
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                visit(
                    &format!("{origin}!/#{index}"),
                    Err(OsvError::Unreadable(e.to_string())),
                );
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{index}"));
        let file_name = name.rsplit('/').next().unwrap_or(&name);
        let source = match RecordSource::in_tree(file_name) {
            Some(RecordSource::Zip) | None => continue,
            Some(source) => source,
        };
        let entry_origin = format!("{origin}!/{name}");
        match read_capped(&mut entry) {
            Ok(Some(bytes)) => visit(&entry_origin, parse(source, &bytes)),
            Ok(None) => visit(&entry_origin, Err(OsvError::TooLarge)),
            Err(e) => visit(&entry_origin, Err(OsvError::Unreadable(e.to_string()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_chosen_by_name() {
        assert_eq!(
            RecordSource::in_tree("GHSA-1.json"),
            Some(RecordSource::Json)
        );
        assert_eq!(
            RecordSource::in_tree("PYSEC-1.yaml"),
            Some(RecordSource::Yaml)
        );
        assert_eq!(RecordSource::in_tree("all.zip"), Some(RecordSource::Zip));
        assert_eq!(
            RecordSource::in_tree("RUSTSEC-2020-0071.md"),
            Some(RecordSource::RustSec)
        );
        assert_eq!(RecordSource::in_tree("README.md"), None);
        assert_eq!(RecordSource::in_tree("LICENSE"), None);
        assert_eq!(RecordSource::named("advisory.md"), RecordSource::RustSec);
        assert_eq!(RecordSource::named("record"), RecordSource::Json);
    }

    #[test]
    fn a_missing_path_is_fatal() {
        let mut seen = 0;
        let err = for_each_record(Path::new("/nonexistent/osv"), &mut |_, _| seen += 1);
        assert!(err.is_err());
        assert_eq!(seen, 0);
    }
}
