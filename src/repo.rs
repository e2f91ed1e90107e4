//! Reading files of a scanned repository as hostile input: a size cap checked before reading,
//! symlinks resolved and refused when they leave the root, FIFOs and devices refused (they
//! would hang a read), and text decoded from UTF-8 (BOM stripped) or BOM-marked UTF-16.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Default cap on the size of one manifest or lockfile; the largest real lockfiles are tens of MB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file of the repository could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("file is {size} bytes, over the {limit}-byte limit for one file")]
    TooLarge { size: u64, limit: u64 },
    #[error("symlink points outside the scanned directory (to `{target}`)")]
    SymlinkOutside { target: String },
    #[error("path cannot be resolved (broken symlink or symlink loop): {0}")]
    Unresolvable(io::Error),
    #[error("path leaves the scanned directory")]
    OutsideRoot,
    #[error("not a regular file")]
    NotRegularFile,
    #[error("binary content (a NUL byte at offset {offset})")]
    Binary { offset: usize },
    #[error("not valid UTF-8 (first bad byte at offset {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("not valid UTF-16 despite its byte-order mark")]
    InvalidUtf16,
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
}

impl ReadError {
    /// The stable diagnostic code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::TooLarge { .. } => "file-too-large",
            ReadError::SymlinkOutside { .. } | ReadError::OutsideRoot => "symlink-outside-root",
            ReadError::Unresolvable(_) => "unresolvable-path",
            ReadError::NotRegularFile => "not-a-regular-file",
            ReadError::Binary { .. } => "binary-file",
            ReadError::InvalidUtf8 { .. } | ReadError::InvalidUtf16 => "invalid-encoding",
            ReadError::Io(_) => "unreadable-file",
        }
    }
}

/// A scanned repository: its canonical root and the limits for reading its files.
#[derive(Clone, Debug)]
pub struct Repo {
    root: PathBuf,
    max_file_bytes: u64,
}

impl Repo {
    /// Opens `root`, which must be an existing directory.
    pub fn open(root: &Path, max_file_bytes: u64) -> io::Result<Repo> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("`{}` is not a directory", root.display()),
            ));
        }
        Ok(Repo {
            root,
            max_file_bytes,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    /// Reads `rel` (relative to the root, forward slashes) as text, enforcing every limit.
    pub fn read_text(&self, rel: &str) -> Result<String, ReadError> {
        let bytes = self.read_bytes(rel)?;
        decode_text(bytes)
    }

    /// Reads a file the walk listed. The walk never descends through a symlinked directory, so
    /// only a file that is itself a symlink needs resolving; any other file is opened directly,
    /// saving the `readlink` of every path component that a full resolution costs.
    pub fn read_walked_text(&self, rel: &str, is_symlink: bool) -> Result<String, ReadError> {
        if is_symlink {
            return self.read_text(rel);
        }
        let path = self.root.join(rel);
        let meta = fs::symlink_metadata(&path)?;
        if meta.file_type().is_symlink() {
            // Replaced by a link since the walk: take the careful path.
            return self.read_text(rel);
        }
        decode_text(self.read_checked(&path, &meta)?)
    }

    /// Reads `rel` as bytes: resolves symlinks and refuses targets outside the root, refuses
    /// anything but regular files, and checks the size before reading a byte.
    pub fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, ReadError> {
        let joined = self.root.join(rel);
        let real = fs::canonicalize(&joined).map_err(ReadError::Unresolvable)?;
        if !real.starts_with(&self.root) {
            return Err(ReadError::SymlinkOutside {
                target: real.display().to_string(),
            });
        }
        let meta = fs::metadata(&real)?;
        self.read_checked(&real, &meta)
    }

    /// Reads a resolved regular file, checking its type and size first.
    fn read_checked(&self, real: &Path, meta: &fs::Metadata) -> Result<Vec<u8>, ReadError> {
        if !meta.is_file() {
            return Err(ReadError::NotRegularFile);
        }
        if meta.len() > self.max_file_bytes {
            return Err(ReadError::TooLarge {
                size: meta.len(),
                limit: self.max_file_bytes,
            });
        }
        let file = fs::File::open(real)?;
        // The file may grow between stat and read: never read past the cap.
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(self.max_file_bytes + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > self.max_file_bytes {
            return Err(ReadError::TooLarge {
                size: bytes.len() as u64,
                limit: self.max_file_bytes,
            });
        }
        Ok(bytes)
    }

    /// Resolves `include` (as written inside the file `from`, relative to its directory) to a
    /// path relative to the root, or `None` when it would leave the root. Pure path arithmetic:
    /// symlinks are checked when the result is read.
    pub fn resolve_relative(&self, from: &str, include: &str) -> Option<String> {
        if Path::new(include).is_absolute() {
            return None;
        }
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let mut parts: Vec<String> = Vec::new();
        for comp in base.join(include).components() {
            match comp {
                Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::ParentDir => {
                    parts.pop()?;
                }
                Component::RootDir | Component::Prefix(_) => return None,
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(parts.join("/"))
    }
}

/// Decodes file bytes to text: UTF-8 (BOM stripped) or UTF-16 with a BOM; refuses binary
/// content (NUL bytes in UTF-8 text) and invalid encodings.
pub fn decode_text(bytes: Vec<u8>) -> Result<String, ReadError> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return decode_utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return decode_utf16(rest, u16::from_be_bytes);
    }
    let start = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    if let Some(offset) = memchr::memchr(0, &bytes[start..]) {
        return Err(ReadError::Binary {
            offset: offset + start,
        });
    }
    let mut bytes = bytes;
    bytes.drain(..start);
    String::from_utf8(bytes).map_err(|e| ReadError::InvalidUtf8 {
        offset: e.utf8_error().valid_up_to() + start,
    })
}

fn decode_utf16(rest: &[u8], to_unit: fn([u8; 2]) -> u16) -> Result<String, ReadError> {
    if !rest.len().is_multiple_of(2) {
        return Err(ReadError::InvalidUtf16);
    }
    let units = rest.chunks_exact(2).map(|c| to_unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| ReadError::InvalidUtf16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_with_and_without_bom() {
        assert_eq!(decode_text(b"abc".to_vec()).unwrap(), "abc");
        assert_eq!(decode_text(b"\xEF\xBB\xBFabc".to_vec()).unwrap(), "abc");
    }

    #[test]
    fn decodes_utf16_both_byte_orders() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("{}".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("{}".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode_text(le).unwrap(), "{}");
        assert_eq!(decode_text(be).unwrap(), "{}");
    }

    #[test]
    fn refuses_binary_and_invalid_utf8() {
        assert!(matches!(
            decode_text(b"ab\0c".to_vec()),
            Err(ReadError::Binary { offset: 2 })
        ));
        assert!(matches!(
            decode_text(b"ab\xFFc".to_vec()),
            Err(ReadError::InvalidUtf8 { offset: 2 })
        ));
        assert!(matches!(
            decode_text(vec![0xFF, 0xFE, 0x41]),
            Err(ReadError::InvalidUtf16)
        ));
    }

    #[test]
    fn resolve_relative_stays_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::open(dir.path(), 1024).unwrap();
        assert_eq!(
            repo.resolve_relative("a/requirements.txt", "base.txt")
                .as_deref(),
            Some("a/base.txt")
        );
        assert_eq!(
            repo.resolve_relative("a/requirements.txt", "../b/x.txt")
                .as_deref(),
            Some("b/x.txt")
        );
        assert_eq!(repo.resolve_relative("requirements.txt", "../x.txt"), None);
        assert_eq!(
            repo.resolve_relative("requirements.txt", "/etc/passwd"),
            None
        );
    }
}
