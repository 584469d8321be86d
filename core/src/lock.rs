//! One writer per run directory: an advisory lock on the file `lock` in the run directory.
//!
//! Every command that writes a run (`les run`, `resume`, `init`, `ask`, `tell`, `bench`) holds
//! the lock for as long as it writes; a second process gets [`LockError::InUse`] with the
//! holder's process id and changes nothing. The lock is the operating system's (`flock` on
//! Unix, `LockFileEx` on Windows), so it is released the moment its holder dies, however it
//! dies: a lock left by a dead process is never in the way, it is taken over by the next
//! opener. The file itself stays; it holds the pid of the last holder, for the message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// File name of the lock in a run directory.
pub const LOCK_FILE: &str = "lock";

/// Why a run directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds the lock.
    #[error(
        "run {dir} is in use by {holder}; wait for it to finish, or stop it (a lock left by a process that died is taken over automatically)"
    )]
    InUse {
        /// The run directory.
        dir: PathBuf,
        /// "process N", or "another process" while the holder is still writing its pid.
        holder: String,
    },
    /// The lock file could not be created or locked.
    #[error("{path}: cannot lock the run directory: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// A held run-directory lock; released on drop (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    dir: PathBuf,
}

impl RunLock {
    /// Locks `dir` (which must exist) for writing.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io { path: path.clone(), source };
        // A link would make the lock (and its pid) a file outside the run directory.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(io(std::io::Error::other(
                "is not a regular file (a link or a directory); remove it so that les can create its own lock",
            )));
        }
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("process {pid}"),
                    Err(_) => "another process".to_owned(),
                };
                return Err(LockError::InUse { dir: dir.to_owned(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self { _file: file, dir: dir.to_owned() })
    }

    /// The locked run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(tmp.path()).unwrap();
        // flock locks belong to the open file description, so a second open in the same
        // process conflicts just as another process would.
        let err = RunLock::acquire(tmp.path()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&format!("in use by process {}", std::process::id())), "{message}");
        drop(first);
        RunLock::acquire(tmp.path()).unwrap();
    }
}
