//! [`Tree`]: the directory writes stay inside, and where a write to a path
//! really goes (links followed only while they stay inside).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::lock::DirLock;
use super::write::{remove_locked, write_locked};
use super::{io_err, AtomicError, WriteOutcome, BACKUP_DIR, MAX_LINKS};

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

pub(super) fn parent_of(path: &Path) -> Result<&Path, AtomicError> {
    path.parent().ok_or_else(|| AtomicError::Io {
        action: "finding the directory".into(),
        source: io::Error::from(io::ErrorKind::InvalidInput),
    })
}

impl Tree {
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
