//! The previous version of each file pptctl changes, kept in the tree's
//! backup directory.

use std::fs;
use std::io;
use std::path::Path;

use super::temp::{remove_stale_temps, sync_dir};
use super::tree::{parent_of, Tree};
use super::write::replace_with;
use super::{io_err, AtomicError};

impl Tree {
    /// Removes the backup directory and everything in it; false when there
    /// was none. A backup directory that is a symbolic link is refused.
    pub fn remove_backups(&self) -> Result<bool, AtomicError> {
        let dir = self.backup_dir();
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("examining the backup directory")(e)),
            Ok(m) if !m.file_type().is_dir() => Err(AtomicError::NotRegular {
                found: crate::FileKind::of(m.file_type()),
            }),
            Ok(_) => {
                fs::remove_dir_all(&dir).map_err(io_err("removing the backup directory"))?;
                if let Some(parent) = dir.parent() {
                    sync_dir(parent).map_err(io_err("syncing the directory"))?;
                }
                Ok(true)
            }
        }
    }

    /// Saves `old` (the current bytes of `real`, with its mode and owner)
    /// as the backup of `real`, atomically, inside the tree.
    pub(super) fn save_backup(
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
        sync_dir(bak_dir).map_err(io_err("syncing the directory"))
    }
}
