//! Writing a plan: the directory locks, the check that nothing changed
//! since planning, and the write order that keeps the boot media bootable.

use std::path::PathBuf;

use super::{Action, FileChange, Plan, ReserveError, Step};
use crate::atomic::{self, AtomicError, Tree, WriteOutcome};
use crate::boot_media::Layout;

impl Plan {
    /// Writes the changes: locks every directory involved, checks each file
    /// still holds what was planned from, then writes the data files before
    /// the boot configuration when reserving (a module line never names a
    /// missing file) and after it when unreserving. Returns each changed
    /// file's display path and outcome.
    pub fn apply(&self) -> Result<Vec<(String, WriteOutcome)>, ReserveError> {
        self.apply_until(&|_| false)
    }

    fn tree(&self) -> Result<Tree, ReserveError> {
        Tree::new(self.layout.tree_root())
            .map(|t| t.with_backup_dir(self.layout.backup_dir()))
            .map_err(|source| ReserveError::Io {
                file: self.layout.tree_root().display().to_string(),
                source,
            })
    }

    /// The changed files with their real paths, their directories created
    /// where a file is written.
    fn todo(&self, tree: &Tree) -> Result<Vec<(&FileChange, PathBuf)>, ReserveError> {
        let mut todo = Vec::new();
        for c in self.changes.iter().filter(|c| c.changes()) {
            let io = |source| ReserveError::Io {
                file: c.file.display.clone(),
                source,
            };
            let real = tree.resolve(&c.file.relative).map_err(io)?;
            if let Some(dir) = real.parent() {
                if c.new.is_some() {
                    tree.create_dirs(dir).map_err(io)?;
                }
            }
            todo.push((c, real));
        }
        Ok(todo)
    }

    /// The changed files from the `from`-th on, in write order.
    fn not_done(&self, from: usize) -> Vec<String> {
        let mut files: Vec<&FileChange> = self.changes.iter().filter(|c| c.changes()).collect();
        files.sort_by_key(|c| self.write_rank(c));
        files[from.min(files.len())..]
            .iter()
            .map(|c| c.file.display.clone())
            .collect()
    }

    /// [`Plan::apply`], asking `stop` at each [`Step`] whether to stop
    /// there (a signal arrived). Stopping leaves every file either as it
    /// was or fully written, in the order that keeps the media bootable:
    /// on reserve the reservation files before the boot configuration that
    /// loads them, on unreserve the boot configuration first (a module line
    /// never names a missing file). The error then lists what was and was
    /// not written; running the same plan again completes it.
    pub fn apply_until(
        &self,
        stop: &dyn Fn(Step<'_>) -> bool,
    ) -> Result<Vec<(String, WriteOutcome)>, ReserveError> {
        let tree = self.tree()?;
        let mut todo = self.todo(&tree)?;
        let dirs: Vec<&std::path::Path> = todo
            .iter()
            .filter_map(|(_, r)| r.parent())
            .filter(|d| d.is_dir())
            .collect();
        let interrupted = |done, from| ReserveError::Interrupted {
            done,
            not_done: self.not_done(from),
        };
        if stop(Step::Lock) {
            return Err(interrupted(Vec::new(), 0));
        }
        let waiting = |h: &atomic::LockHolder| {
            let _ = stop(Step::LockHeld(h));
        };
        let _locks = match atomic::lock_dirs_watched(dirs, &|| stop(Step::LockWait), &waiting) {
            Err(AtomicError::Interrupted) => return Err(interrupted(Vec::new(), 0)),
            r => r.map_err(|source| ReserveError::Io {
                file: self.layout.tree_root().display().to_string(),
                source,
            })?,
        };
        for (c, real) in &todo {
            let now = atomic::read_optional(real).map_err(|source| ReserveError::Io {
                file: c.file.display.clone(),
                source,
            })?;
            if now.as_deref() != c.old.as_deref().map(str::as_bytes) {
                return Err(ReserveError::Changed(c.file.display.clone()));
            }
        }
        todo.sort_by_key(|(c, _)| self.write_rank(c));
        let mut done = Vec::new();
        for (i, (c, real)) in todo.iter().enumerate() {
            if stop(Step::Write(&c.file.display)) {
                return Err(interrupted(done, i));
            }
            let outcome = match &c.new {
                Some(t) => tree.write_locked(real, t.as_bytes()),
                None => tree.remove_locked(real),
            }
            .map_err(|source| ReserveError::Io {
                file: c.file.display.clone(),
                source,
            })?;
            done.push((c.file.display.clone(), outcome));
        }
        Ok(done)
    }

    /// The place of a file in the write order (lower first): the boot
    /// configuration last on reserve and first on unreserve, so that at
    /// every instant each module line names a file that exists. The sort
    /// is stable, so the other files keep the plan's order.
    fn write_rank(&self, c: &FileChange) -> bool {
        let is_config = self
            .layout
            .boot_config()
            .is_some_and(|b| b.relative == c.file.relative);
        match self.action {
            Action::Reserve => is_config,
            Action::Unreserve => !is_config,
        }
    }

    /// Removes the backups of the previous versions of the files in this
    /// plan's tree ([`Layout::backup_dir`]); false when there were none.
    pub fn remove_backups(layout: &Layout) -> Result<bool, ReserveError> {
        let root_err = |source| ReserveError::Io {
            file: layout
                .tree_root()
                .join(layout.backup_dir())
                .display()
                .to_string(),
            source,
        };
        Tree::new(layout.tree_root())
            .map_err(root_err)?
            .with_backup_dir(layout.backup_dir())
            .remove_backups()
            .map_err(root_err)
    }
}
