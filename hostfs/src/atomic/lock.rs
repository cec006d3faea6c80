//! [`DirLock`]: the advisory lock pptctl writers of one directory take
//! turns on.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::{io_err, AtomicError, LOCK_NAME};

/// An exclusive advisory lock on `DIR/.pptctl.lock`, held until dropped.
/// The holder writes `pid N: COMMAND` into the file, so that a writer that
/// has to wait can say for whom ([`LockHolder`]); the file is removed
/// when the lock is released.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    dir: PathBuf,
}

impl DirLock {
    /// Waits for and takes the lock of `dir`.
    pub fn acquire(dir: &Path) -> Result<Self, AtomicError> {
        Self::acquire_until(dir, &|| false)
    }

    /// Like [`DirLock::acquire`], but gives up with
    /// [`AtomicError::Interrupted`] when a signal interrupts the wait and
    /// `stop` then returns true (the caller's handler must be installed
    /// without `SA_RESTART` for the wait to be interrupted).
    pub fn acquire_until(dir: &Path, stop: &dyn Fn() -> bool) -> Result<Self, AtomicError> {
        Self::acquire_watched(dir, stop, &|_| {})
    }

    /// Like [`DirLock::acquire_until`], and tells `waiting` who holds the
    /// lock before it waits for it (never when the lock is free), so the
    /// caller can say so; the library prints nothing.
    pub fn acquire_watched(
        dir: &Path,
        stop: &dyn Fn() -> bool,
        waiting: &dyn Fn(&LockHolder),
    ) -> Result<Self, AtomicError> {
        loop {
            if stop() {
                return Err(AtomicError::Interrupted);
            }
            if let Some(lock) = Self::try_once(dir, stop, waiting)? {
                stamp(&lock.file);
                return Ok(lock);
            }
        }
    }

    /// One attempt: the lock of the file now at `DIR/.pptctl.lock`, or
    /// `None` when that file was removed (by the holder we waited for)
    /// before we got its lock.
    fn try_once(
        dir: &Path,
        stop: &dyn Fn() -> bool,
        waiting: &dyn Fn(&LockHolder),
    ) -> Result<Option<Self>, AtomicError> {
        let path = dir.join(LOCK_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            // Never through a link planted at the name, never waiting on a
            // FIFO there; only a regular file is locked.
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&path)
            .and_then(|f| crate::open::expect_kind(f, crate::FileKind::Regular))
            .map_err(io_err(format!("opening lock file {}", path.display())))?;
        // SAFETY: `libc::flock` is a plain C struct of integers; all-zero is a
        // valid value, and the fields that matter are set below.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = libc::F_WRLCK as _;
        fl.l_whence = libc::SEEK_SET as _;
        fl.l_start = 0;
        fl.l_len = 0; // the whole file
                      // SAFETY: valid descriptor and struct, as below; F_SETLK never waits.
        let free = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &fl) } == 0;
        if !free {
            // Held by another process (EAGAIN/EACCES): say for whom before
            // waiting; any other error is F_SETLKW's to report.
            let held = io::Error::last_os_error().raw_os_error();
            if held == Some(libc::EAGAIN) || held == Some(libc::EACCES) {
                waiting(&LockHolder::of(&file, dir, &fl));
            }
            wait_for_lock(&file, &path, &fl, stop)?;
        }
        // The holder before us removes the file before unlocking it; then
        // we hold the lock of a file nobody else will find. Only the file
        // at the path counts.
        let held = file
            .metadata()
            .map_err(io_err(format!("examining lock file {}", path.display())))?;
        match fs::symlink_metadata(&path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => Ok(Some(DirLock {
                file,
                dir: dir.to_path_buf(),
            })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("examining lock file {}", path.display()))(e)),
        }
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Waits in `F_SETLKW` for the lock `fl` on `file` (at `path`); a signal
/// that interrupts the wait ends it when `stop` says so.
fn wait_for_lock(
    file: &File,
    path: &Path,
    fl: &libc::flock,
    stop: &dyn Fn() -> bool,
) -> Result<(), AtomicError> {
    loop {
        // SAFETY: the descriptor is open for the life of `file` and `fl`
        // is a valid, initialised `struct flock` that outlives the call.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLKW, fl) };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(AtomicError::Io {
                action: format!("locking {}", path.display()),
                source: e,
            });
        }
        if stop() {
            return Err(AtomicError::Interrupted);
        }
    }
}

/// Who holds a directory's lock another writer is about to wait for, as
/// far as can be told: for messages only, never trusted for safety (the
/// lock itself is the kernel's record lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// The locked directory.
    pub dir: PathBuf,
    /// The holder's process id as the kernel reports it (`F_GETLK`), when
    /// it does.
    pub pid: Option<i32>,
    /// What the holder wrote in the lock file (`pid N: COMMAND`, see
    /// [`DirLock`]), unchecked and possibly written by anyone: the caller
    /// escapes it before showing it.
    pub says: Option<String>,
}

/// The most of the lock file read for [`LockHolder::says`].
const STAMP_MAX: usize = 512;

impl LockHolder {
    /// The holder of the lock `fl` describes on `file`.
    fn of(file: &File, dir: &Path, fl: &libc::flock) -> LockHolder {
        let mut query = *fl;
        // SAFETY: valid descriptor; `query` is an initialised `struct
        // flock` F_GETLK fills in.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut query) };
        let pid = (rc == 0 && query.l_type != libc::F_UNLCK as _ && query.l_pid > 0)
            .then_some(query.l_pid);
        let mut buf = vec![0u8; STAMP_MAX];
        let says = file.read_at(&mut buf, 0).ok().and_then(|n| {
            let text = String::from_utf8_lossy(&buf[..n]);
            let line = text.lines().next().unwrap_or("").trim().to_string();
            (!line.is_empty()).then_some(line)
        });
        LockHolder {
            dir: dir.to_path_buf(),
            pid,
            says,
        }
    }
}

/// Writes `pid N: COMMAND` into the lock file just taken, so a writer that
/// waits can say for whom. Best effort: a failure only leaves that unsaid.
fn stamp(file: &File) {
    let command: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut text = format!("pid {}: {}", std::process::id(), command.join(" "));
    if text.len() > STAMP_MAX - 1 {
        let mut end = STAMP_MAX - 1;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text.push('\n');
    if file.set_len(0).is_ok() {
        let _ = file.write_all_at(text.as_bytes(), 0);
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Remove the file while still holding the lock (a waiter that gets
        // the lock of the removed file notices and starts again), so no lock
        // file stays behind on the boot media. A failure leaves a harmless
        // empty file.
        let _ = fs::remove_file(self.dir.join(LOCK_NAME));
        // Closing the descriptor releases the lock; unlock explicitly anyway
        // so the release does not depend on drop order of `file`.
        // SAFETY: as in `acquire`.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = libc::F_UNLCK as _;
        fl.l_whence = libc::SEEK_SET as _;
        // SAFETY: valid descriptor and struct, as in `acquire`.
        let _ = unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_SETLK, &fl) };
    }
}

/// Takes the locks of several directories in a fixed (sorted) order, so two
/// writers that need the same directories cannot deadlock.
pub fn lock_dirs<'a>(
    dirs: impl IntoIterator<Item = &'a Path>,
) -> Result<Vec<DirLock>, AtomicError> {
    lock_dirs_until(dirs, &|| false)
}

/// [`lock_dirs`] that gives up as [`DirLock::acquire_until`] does; the locks
/// already taken are released.
pub fn lock_dirs_until<'a>(
    dirs: impl IntoIterator<Item = &'a Path>,
    stop: &dyn Fn() -> bool,
) -> Result<Vec<DirLock>, AtomicError> {
    lock_dirs_watched(dirs, stop, &|_| {})
}

/// [`lock_dirs_until`] that tells `waiting` who holds each lock it is
/// about to wait for ([`DirLock::acquire_watched`]).
pub fn lock_dirs_watched<'a>(
    dirs: impl IntoIterator<Item = &'a Path>,
    stop: &dyn Fn() -> bool,
    waiting: &dyn Fn(&LockHolder),
) -> Result<Vec<DirLock>, AtomicError> {
    let mut dirs: Vec<&Path> = dirs.into_iter().collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .map(|d| DirLock::acquire_watched(d, stop, waiting))
        .collect()
}
