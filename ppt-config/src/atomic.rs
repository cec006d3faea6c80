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
//!    system, so `rename` is atomic), which gets the original file's mode and
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

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Name of the lock file created in each directory `pptctl` writes to.
pub const LOCK_NAME: &str = ".pptctl.lock";

/// The default backup directory, relative to the top of the tree.
pub const BACKUP_DIR: &str = ".pptctl-backup";

/// Infix of temporary files (`.NAME.pptctl-tmp-PID-N`).
const TMP_INFIX: &str = ".pptctl-tmp-";

/// Mode of files that did not exist before.
const NEW_FILE_MODE: u32 = 0o644;

/// How many symbolic links are followed before giving up (like `ELOOP`).
const MAX_LINKS: usize = 40;

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
    /// The target exists and is not a regular file.
    #[error("not a regular file")]
    NotRegular,
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

fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> AtomicError {
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

/// A directory tree that writes must stay inside.
#[derive(Debug, Clone)]
pub struct Tree {
    root: PathBuf,
    /// Relative to `root`.
    backups: PathBuf,
}

impl Tree {
    /// A tree rooted at `root`, which must exist, keeping backups in
    /// [`BACKUP_DIR`].
    pub fn new(root: &Path) -> Result<Self, AtomicError> {
        let root = fs::canonicalize(root).map_err(io_err("resolving the tree root"))?;
        Ok(Tree {
            root,
            backups: PathBuf::from(BACKUP_DIR),
        })
    }

    /// The same tree keeping backups in `dir`, relative to the top of the
    /// tree (for example `var/pptctl/backup`).
    pub fn with_backup_dir(mut self, dir: &Path) -> Self {
        self.backups = dir
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        self
    }

    /// The backup directory (absolute; it may not exist).
    pub fn backup_dir(&self) -> PathBuf {
        self.root.join(&self.backups)
    }

    /// Where the previous version of the resolved file `real` is kept: its
    /// path relative to the tree, under the backup directory.
    pub fn backup_path(&self, real: &Path) -> PathBuf {
        let rel = real.strip_prefix(&self.root).unwrap_or(real);
        let rel: PathBuf = rel
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        self.backup_dir().join(rel)
    }

    /// Removes the backup directory and everything in it; false when there
    /// was none. A backup directory that is a symbolic link is refused.
    pub fn remove_backups(&self) -> Result<bool, AtomicError> {
        let dir = self.backup_dir();
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("examining the backup directory")(e)),
            Ok(m) if !m.file_type().is_dir() => Err(AtomicError::NotRegular),
            Ok(_) => {
                fs::remove_dir_all(&dir).map_err(io_err("removing the backup directory"))?;
                if let Some(parent) = dir.parent() {
                    sync_dir(parent)?;
                }
                Ok(true)
            }
        }
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a write to `path` really goes: symbolic links (in the
    /// directories and in the last component) are followed as long as they
    /// stay inside the tree. Missing directories and a missing last component
    /// are allowed (they will be created). `path` is relative to the tree,
    /// or absolute and starting with [`Tree::root`].
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, AtomicError> {
        let relative = if path.is_absolute() {
            path.strip_prefix(&self.root)
                .map_err(|_| self.escape(format!("{} is outside", path.display())))?
        } else {
            path
        };
        let mut pending: Vec<OsString> = Vec::new();
        push_components(&mut pending, relative, true)?;
        pending.reverse();
        let mut current = self.root.clone();
        let mut links = 0usize;
        let mut last_link: Option<String> = None;
        while let Some(part) = pending.pop() {
            if part == ".." {
                if current == self.root {
                    return Err(self.escape(match &last_link {
                        Some(l) => format!("{l} leads above the top of the tree"),
                        None => "`..` above the top of the tree".to_string(),
                    }));
                }
                current.pop();
                continue;
            }
            let next = current.join(&part);
            match fs::symlink_metadata(&next) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(self
                            .escape(format!("too many symbolic links at {}", self.shown(&next))));
                    }
                    let target = fs::read_link(&next)
                        .map_err(io_err(format!("reading link {}", self.shown(&next))))?;
                    last_link = Some(format!("{} -> {}", self.shown(&next), target.display()));
                    if target.is_absolute() {
                        // An absolute link means a host path; it may only be
                        // followed when it already lies inside the tree.
                        if !target.starts_with(&self.root) {
                            return Err(self.escape(format!(
                                "{} -> {}",
                                self.shown(&next),
                                target.display()
                            )));
                        }
                        let rest = target.strip_prefix(&self.root).unwrap_or(&target);
                        let mut more = Vec::new();
                        push_components(&mut more, rest, false)?;
                        for m in more.into_iter().rev() {
                            pending.push(m);
                        }
                        current = self.root.clone();
                    } else {
                        let mut more = Vec::new();
                        push_components(&mut more, &target, false)?;
                        for m in more.into_iter().rev() {
                            pending.push(m);
                        }
                    }
                }
                _ => current = next,
            }
        }
        if !current.starts_with(&self.root) || current == self.root {
            return Err(self.escape(format!("{} is not a file inside", path.display())));
        }
        Ok(current)
    }

    /// A path inside the tree as the host knows it (`/etc/ppt_aliases`),
    /// so messages never show the `--root` prefix.
    fn shown(&self, p: &Path) -> String {
        match p.strip_prefix(&self.root) {
            Ok(rel) => format!("/{}", rel.display()),
            Err(_) => p.display().to_string(),
        }
    }

    fn escape(&self, detail: String) -> AtomicError {
        AtomicError::Escapes {
            tree: self.root.display().to_string(),
            detail,
        }
    }

    /// Writes `contents` to `path` (inside the tree) safely, holding the
    /// directory's lock for the whole operation.
    pub fn write(&self, path: &Path, contents: &[u8]) -> Result<WriteOutcome, AtomicError> {
        let real = self.resolve(path)?;
        let dir = parent_of(&real)?;
        self.create_dirs(dir)?;
        let _lock = DirLock::acquire(dir)?;
        self.write_locked(&real, contents)
    }

    /// Creates the missing directories of `dir`, which must be inside the tree.
    pub fn create_dirs(&self, dir: &Path) -> Result<(), AtomicError> {
        if !dir.starts_with(&self.root) {
            return Err(self.escape(format!("{} is outside", dir.display())));
        }
        fs::create_dir_all(dir).map_err(io_err(format!("creating directory {}", dir.display())))
    }
}

/// Splits `path` into its normal components; `.` is dropped. A leading `/`
/// is accepted only for the caller's own (already tree-relative) path.
fn push_components(out: &mut Vec<OsString>, path: &Path, top: bool) -> Result<(), AtomicError> {
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n.to_os_string()),
            Component::ParentDir => out.push(OsString::from("..")),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                if !top {
                    return Err(AtomicError::Escapes {
                        tree: String::new(),
                        detail: format!("unexpected absolute component in {}", path.display()),
                    });
                }
            }
        }
    }
    Ok(())
}

fn parent_of(path: &Path) -> Result<&Path, AtomicError> {
    path.parent().ok_or_else(|| AtomicError::Io {
        action: "finding the directory".into(),
        source: io::Error::from(io::ErrorKind::InvalidInput),
    })
}

/// An exclusive advisory lock on `DIR/.pptctl.lock`, held until dropped.
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
        loop {
            if stop() {
                return Err(AtomicError::Interrupted);
            }
            if let Some(lock) = Self::try_once(dir, stop)? {
                return Ok(lock);
            }
        }
    }

    /// One attempt: the lock of the file now at `DIR/.pptctl.lock`, or
    /// `None` when that file was removed (by the holder we waited for)
    /// before we got its lock.
    fn try_once(dir: &Path, stop: &dyn Fn() -> bool) -> Result<Option<Self>, AtomicError> {
        let path = dir.join(LOCK_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(format!("opening lock file {}", path.display())))?;
        // SAFETY: `libc::flock` is a plain C struct of integers; all-zero is a
        // valid value, and the fields that matter are set below.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = libc::F_WRLCK as _;
        fl.l_whence = libc::SEEK_SET as _;
        fl.l_start = 0;
        fl.l_len = 0; // the whole file
        loop {
            // SAFETY: the descriptor is open for the life of `file` and `fl`
            // is a valid, initialised `struct flock` that outlives the call.
            let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLKW, &fl) };
            if rc == 0 {
                break;
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
    let mut dirs: Vec<&Path> = dirs.into_iter().collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .map(|d| DirLock::acquire_until(d, stop))
        .collect()
}

/// Reads a file that may be absent. The caller should hold the lock when it
/// means to write the file based on what it read.
/// Files larger than [`MAX_EDITED_FILE`] are refused without being read
/// whole.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, AtomicError> {
    use std::io::Read;
    let reading = |e: io::Error| AtomicError::Io {
        action: "reading".into(),
        source: e,
    };
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(reading(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_EDITED_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(reading)?;
    if bytes.len() as u64 > MAX_EDITED_FILE {
        let size = fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(AtomicError::TooLarge {
            size,
            limit: MAX_EDITED_FILE,
        });
    }
    Ok(Some(bytes))
}

/// The largest file pptctl reads to edit (`ppt_aliases`, `ppt_matches`,
/// `menu.lst`, `loader.conf.local` are a few KiB).
pub const MAX_EDITED_FILE: u64 = 16 << 20;

impl Tree {
    /// Saves `old` (the current bytes of `real`, with its mode and owner)
    /// as the backup of `real`, atomically, inside the tree.
    fn save_backup(
        &self,
        real: &Path,
        old: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> Result<(), AtomicError> {
        let bak = self.resolve(&self.backup_path(real))?;
        let bak_dir = parent_of(&bak)?;
        self.create_dirs(bak_dir)?;
        remove_stale_temps(&bak);
        replace_with(&bak, bak_dir, old, mode, owner)?;
        sync_dir(bak_dir)
    }

    /// Writes `contents` to the resolved path `real`; the caller holds the
    /// lock of its directory (see [`DirLock`]) and has checked it is inside
    /// the tree.
    pub fn write_locked(&self, real: &Path, contents: &[u8]) -> Result<WriteOutcome, AtomicError> {
        write_locked(self, real, contents)
    }

    /// Removes the resolved file `real` after saving it in the backup
    /// directory; the caller holds the directory's lock.
    pub fn remove_locked(&self, real: &Path) -> Result<WriteOutcome, AtomicError> {
        remove_locked(self, real)
    }
}

fn write_locked(tree: &Tree, real: &Path, contents: &[u8]) -> Result<WriteOutcome, AtomicError> {
    let dir = parent_of(real)?;
    remove_stale_temps(real);
    let old_meta = match fs::symlink_metadata(real) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err("examining the file")(e)),
    };
    if let Some(m) = &old_meta {
        if !m.file_type().is_file() {
            return Err(AtomicError::NotRegular);
        }
    }
    let old = read_optional(real)?;
    if old.as_deref() == Some(contents) {
        return Ok(WriteOutcome::Unchanged);
    }
    let (mode, owner) = match &old_meta {
        Some(m) => (m.mode() & 0o7777, Some((m.uid(), m.gid()))),
        None => (NEW_FILE_MODE, None),
    };
    if let Some(old_bytes) = &old {
        tree.save_backup(real, old_bytes, mode, owner)?;
    }
    replace_with(real, dir, contents, mode, owner)?;
    sync_dir(dir)?;
    Ok(if old.is_some() {
        WriteOutcome::Replaced
    } else {
        WriteOutcome::Created
    })
}

fn remove_locked(tree: &Tree, real: &Path) -> Result<WriteOutcome, AtomicError> {
    let dir = parent_of(real)?;
    remove_stale_temps(real);
    let meta = match fs::symlink_metadata(real) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(WriteOutcome::Unchanged),
        Err(e) => return Err(io_err("examining the file")(e)),
    };
    if !meta.file_type().is_file() {
        return Err(AtomicError::NotRegular);
    }
    let old = read_optional(real)?.unwrap_or_default();
    tree.save_backup(
        real,
        &old,
        meta.mode() & 0o7777,
        Some((meta.uid(), meta.gid())),
    )?;
    fs::remove_file(real).map_err(io_err("removing the file"))?;
    sync_dir(dir)?;
    Ok(WriteOutcome::Removed)
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(OsString::from).unwrap_or_default();
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(
        "{TMP_INFIX}{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    target.with_file_name(tmp)
}

/// Removes temporary files a killed writer left for `target` (a file or
/// its backup). Safe only under the directory lock of the file; failures
/// are ignored because a leftover temporary file is harmless.
fn remove_stale_temps(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let prefixes = [format!(".{name}{TMP_INFIX}")];
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let f = e.file_name();
        let f = f.to_string_lossy();
        if prefixes.iter().any(|p| f.starts_with(p.as_str())) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Temp file, same mode and owner, write, fsync, rename over `target`.
fn replace_with(
    target: &Path,
    dir: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), AtomicError> {
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err(format!(
                "creating a temporary file in {}",
                dir.display()
            )))?;
        if let Some((uid, gid)) = owner {
            let meta = f
                .metadata()
                .map_err(io_err("examining the temporary file"))?;
            if meta.uid() != uid || meta.gid() != gid {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))
                    .map_err(|source| AtomicError::Owner { uid, gid, source })?;
            }
        }
        // Set the mode after fchown: chown clears set-id bits. File systems
        // without Unix modes (pcfs, the FAT file system of a SmartOS USB key)
        // may refuse; there the mode cannot differ between files anyway.
        let current = f
            .metadata()
            .map_err(io_err("examining the temporary file"))?
            .mode()
            & 0o7777;
        if current != mode {
            if let Err(e) = f.set_permissions(fs::Permissions::from_mode(mode)) {
                if !matches!(
                    e.raw_os_error(),
                    Some(libc::EINVAL) | Some(libc::ENOTSUP) | Some(libc::ENOSYS)
                ) {
                    return Err(io_err("setting the mode of the temporary file")(e));
                }
            }
        }
        f.write_all(contents)
            .map_err(io_err("writing the temporary file"))?;
        f.sync_all().map_err(io_err("syncing the temporary file"))?;
        drop(f);
        fs::rename(&tmp, target).map_err(io_err("renaming the temporary file into place"))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn sync_dir(dir: &Path) -> Result<(), AtomicError> {
    let d = File::open(dir).map_err(io_err("opening the directory to sync it"))?;
    match d.sync_all() {
        Ok(()) => Ok(()),
        // Some file systems (and some platforms) refuse fsync on a directory;
        // the rename is still atomic, only its durability is weaker.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::EBADF)) => Ok(()),
        Err(e) => Err(io_err("syncing the directory")(e)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn creates_replaces_and_backs_up() {
        let t = tempfile::tempdir().unwrap();
        let tree = Tree::new(t.path()).unwrap();
        let p = tree.root().join("etc/ppt_aliases");
        assert_eq!(tree.write(&p, b"one\n").unwrap(), WriteOutcome::Created);
        assert_eq!(tree.write(&p, b"one\n").unwrap(), WriteOutcome::Unchanged);
        assert!(!tree.backup_path(&p).exists());
        assert_eq!(tree.write(&p, b"two\n").unwrap(), WriteOutcome::Replaced);
        assert_eq!(fs::read(&p).unwrap(), b"two\n");
        assert_eq!(
            tree.backup_path(&p),
            tree.root().join(".pptctl-backup/etc/ppt_aliases")
        );
        assert_eq!(fs::read(tree.backup_path(&p)).unwrap(), b"one\n");
        let real = tree.resolve(&p).unwrap();
        let dir = real.parent().unwrap();
        let lock = DirLock::acquire(dir).unwrap();
        assert!(dir.join(LOCK_NAME).exists());
        assert_eq!(tree.remove_locked(&real).unwrap(), WriteOutcome::Removed);
        drop(lock);
        assert!(!dir.join(LOCK_NAME).exists(), "the lock file stays");
        assert!(!p.exists());
        assert_eq!(fs::read(tree.backup_path(&p)).unwrap(), b"two\n");
        assert!(tree.remove_backups().unwrap());
        assert!(!tree.backup_dir().exists());
        assert!(!tree.remove_backups().unwrap());
        let names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(TMP_INFIX)), "{names:?}");
    }

    #[test]
    fn keeps_mode() {
        let t = tempfile::tempdir().unwrap();
        let tree = Tree::new(t.path()).unwrap();
        let p = tree.root().join("menu.lst");
        fs::write(&p, b"a").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        tree.write(&p, b"b").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
        assert_eq!(
            fs::metadata(tree.backup_path(&p)).unwrap().mode() & 0o7777,
            0o640
        );
    }

    #[test]
    fn follows_links_inside_and_refuses_links_outside() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let tree = Tree::new(t.path()).unwrap();
        let r = tree.root();
        fs::create_dir_all(r.join("real")).unwrap();
        fs::write(r.join("real/file"), b"x").unwrap();
        std::os::unix::fs::symlink("real/file", r.join("rel")).unwrap();
        std::os::unix::fs::symlink(r.join("real"), r.join("absdir")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("f"), r.join("out")).unwrap();
        std::os::unix::fs::symlink("../../../../../../../tmp", r.join("up")).unwrap();

        tree.write(&r.join("rel"), b"y").unwrap();
        assert!(fs::symlink_metadata(r.join("rel"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(r.join("real/file")).unwrap(), b"y");
        tree.write(&r.join("absdir/file"), b"z").unwrap();
        assert_eq!(fs::read(r.join("real/file")).unwrap(), b"z");

        for bad in ["out", "up/x", "../x"] {
            let e = tree.write(&r.join(bad), b"no").unwrap_err();
            assert!(matches!(e, AtomicError::Escapes { .. }), "{bad}: {e}");
        }
        assert!(!outside.path().join("f").exists());
    }

    #[test]
    fn refuses_directories() {
        let t = tempfile::tempdir().unwrap();
        let tree = Tree::new(t.path()).unwrap();
        fs::create_dir(tree.root().join("d")).unwrap();
        let e = tree.write(&tree.root().join("d"), b"x").unwrap_err();
        assert!(matches!(e, AtomicError::NotRegular));
    }

    #[test]
    fn stale_temps_are_removed() {
        let t = tempfile::tempdir().unwrap();
        let tree = Tree::new(t.path()).unwrap();
        let p = tree.root().join("f");
        let stale = tree.root().join(".f.pptctl-tmp-1-0");
        fs::write(&stale, b"partial").unwrap();
        tree.write(&p, b"ok").unwrap();
        assert!(!stale.exists());
    }

    #[test]
    fn backup_dir_can_be_chosen_and_stays_inside() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let tree = Tree::new(t.path())
            .unwrap()
            .with_backup_dir(Path::new("var/pptctl/backup"));
        let p = tree.root().join("etc/ppt_aliases");
        tree.write(&p, b"a").unwrap();
        tree.write(&p, b"b").unwrap();
        assert_eq!(
            fs::read(tree.root().join("var/pptctl/backup/etc/ppt_aliases")).unwrap(),
            b"a"
        );
        // A backup directory that is a link out of the tree is refused.
        let tree = Tree::new(t.path()).unwrap();
        std::os::unix::fs::symlink(outside.path(), tree.backup_dir()).unwrap();
        let e = tree.write(&p, b"c").unwrap_err();
        assert!(matches!(e, AtomicError::Escapes { .. }), "{e}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn stop_gives_up_before_locking() {
        let t = tempfile::tempdir().unwrap();
        let e = DirLock::acquire_until(t.path(), &|| true).unwrap_err();
        assert!(matches!(e, AtomicError::Interrupted));
        let e = lock_dirs_until([t.path()], &|| true).unwrap_err();
        assert!(matches!(e, AtomicError::Interrupted));
    }
}
