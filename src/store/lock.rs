//! One process per SQLite file. SQLite (WAL) tolerates several processes, but ecowatch's
//! schedules and outbox assume one writer that owns the file; several replicas need PostgreSQL.
//! An advisory lock on `<db>.lock` says so before anything runs twice.

use super::StoreError;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Holds the exclusive lock until dropped (the OS releases it when the file closes, also on crash).
#[derive(Debug)]
pub struct ProcessLock {
    _file: File,
    path: PathBuf,
}

impl ProcessLock {
    /// Takes the lock for `db_path`, or fails at once if another process holds it.
    pub fn acquire(db_path: &Path) -> Result<Self, StoreError> {
        let path = lock_path(db_path);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Lock {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(ProcessLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Locked {
                path: db_path.to_path_buf(),
            }),
            Err(TryLockError::Error(source)) => Err(StoreError::Lock { path, source }),
        }
    }

    /// The lock file, `<db>.lock` next to the database.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("ecowatch.db");
        let first = ProcessLock::acquire(&db).expect("first lock");
        assert_eq!(first.path(), dir.path().join("ecowatch.db.lock"));
        let second = ProcessLock::acquire(&db);
        assert!(
            matches!(&second, Err(StoreError::Locked { path }) if path == &db),
            "{second:?}"
        );
        let message = second.map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("PostgreSQL"), "{message}");
        drop(first);
        ProcessLock::acquire(&db).expect("lock is free again after drop");
    }

    #[test]
    fn a_lock_in_a_missing_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("missing").join("ecowatch.db");
        assert!(matches!(
            ProcessLock::acquire(&db),
            Err(StoreError::Lock { .. })
        ));
    }
}
