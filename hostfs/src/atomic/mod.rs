//! Atomic, locked file writes with backups.
//!
//! Every file `pptctl` changes (`ppt_aliases`, `ppt_matches`, `menu.lst`,
//! `loader.conf.local`) is written the same way, because a half-written boot
//! configuration can leave a host that does not boot:
//!
//! 1. An advisory lock on `DIR/.pptctl.lock` makes `pptctl` writers take
//!    turns. It is a POSIX record lock (`fcntl(F_SETLKW)`) rather than
//!    `flock(2)`: it exists on every Unix including older illumos, and it is
//!    released by the kernel when the holder dies, even by `SIGKILL`. The
//!    holder removes the file before it lets go, so none is left on the
//!    boot media; a waiter that then gets the lock of the removed file sees
//!    that its inode is no longer the one at the path and starts again.
//! 2. The new bytes go to a temporary file in the same directory (same file
//!    system, so `rename` is atomic), created under a random name with
//!    `O_CREAT | O_EXCL | O_NOFOLLOW` so nothing planted there is opened,
//!    which gets the original file's mode and
//!    owner, is `fsync`ed, then renamed over the target; the directory is
//!    `fsync`ed so the rename itself survives a power cut.
//! 3. The previous version is kept in the tree's one backup directory
//!    ([`BACKUP_DIR`] at the top of the tree unless the caller chooses
//!    another, [`Tree::with_backup_dir`]), under the file's path relative to
//!    the tree, itself written the same way, so a crash never leaves a
//!    half-written backup either. [`Tree::remove_backups`] removes them.
//! 4. Writes stay inside a tree (the `--root` or `--boot-media` directory): a
//!    target that is a symbolic link is followed only when its destination is
//!    inside the tree, and then the destination is replaced (the link stays).
//!
//! Readers therefore always see the old or the new file, never a mix. Stale
//! temporary files from a killed writer are removed by the next writer while
//! it holds the lock. A caller that must stop on request (a signal) passes a
//! `stop` test to [`DirLock::acquire_until`]: waiting for the lock ends with
//! [`AtomicError::Interrupted`] when it says so; a write once begun is
//! always finished, so no temporary file is abandoned.
//!
//! Files pptctl creates outside any tree (reports, manual pages) go through
//! [`NewFile`]: the same temporary file, `fsync` and rename, without lock or
//! backup, and the target is never opened (a link there is replaced).

mod backup;
mod create;
mod lock;
mod temp;
mod tree;
mod write;

#[cfg(test)]
mod create_tests;
#[cfg(test)]
mod tests;

use std::io;

pub use create::{write_file, CreateError, NewFile};
pub use lock::{lock_dirs, lock_dirs_until, lock_dirs_watched, DirLock, LockHolder};
pub use tree::Tree;
pub use write::{read_optional, MAX_EDITED_FILE};

/// Name of the lock file created in each directory `pptctl` writes to.
pub const LOCK_NAME: &str = ".pptctl.lock";

/// The default backup directory, relative to the top of the tree.
pub const BACKUP_DIR: &str = ".pptctl-backup";

/// Mode of files that did not exist before.
pub(crate) const NEW_FILE_MODE: u32 = 0o644;

/// How many symbolic links are followed before giving up (like `ELOOP`).
pub(crate) const MAX_LINKS: usize = 40;

/// Why a safe write could not be done. Messages do not name the file: the
/// caller knows the host path the user should see and adds it.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    /// A system call failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done, e.g. `renaming the temporary file into place`.
        action: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The path, or a symbolic link on the way, leads outside the tree.
    #[error("refusing to write through a symbolic link that leaves the tree pptctl writes in (--root or --boot-media): {detail}")]
    Escapes {
        /// The tree writes must stay in.
        tree: String,
        /// Which link and where it points.
        detail: String,
    },
    /// The target exists and is not a regular file (for the backup
    /// directory: not a directory).
    #[error("{found}, not a regular file")]
    NotRegular {
        /// What is there instead.
        found: crate::FileKind,
    },
    /// The file is larger than [`MAX_EDITED_FILE`]: not one of the small
    /// hand-written files pptctl edits, and never read whole.
    #[error(
        "{size} bytes, more than the {limit} bytes pptctl edits; check what was written there"
    )]
    TooLarge {
        /// Its size (at least; reading stopped past the limit).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The caller's `stop` test asked to stop while waiting for a lock.
    #[error("interrupted while waiting for the lock")]
    Interrupted,
    /// The original owner could not be given to the new file.
    #[error("cannot keep the original owner {uid}:{gid}: {source}")]
    Owner {
        /// Original user id.
        uid: u32,
        /// Original group id.
        gid: u32,
        /// Why `fchown` failed.
        source: io::Error,
    },
}

pub(crate) fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> AtomicError {
    let action = action.into();
    move |source| AtomicError::Io { action, source }
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The file already held exactly these bytes; nothing was touched.
    Unchanged,
    /// The file did not exist and was created.
    Created,
    /// The file was replaced; the old version is in the backup directory.
    Replaced,
    /// The file was removed; the old version is in the backup directory.
    Removed,
}
