//! Replacing and removing a file of a tree under its directory's lock.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::temp::{create_temp, remove_stale_temps, sync_dir};
use super::tree::{parent_of, Tree};
use super::{io_err, AtomicError, WriteOutcome, NEW_FILE_MODE};
use crate::FileKind;

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
    let file = match crate::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(match crate::NotRegular::of(&e) {
                Some(n) => AtomicError::NotRegular { found: n.found },
                None => reading(e),
            })
        }
    };
    // By size first: a huge file costs nothing.
    let size = file.metadata().map_or(0, |m| m.len());
    if size > MAX_EDITED_FILE {
        return Err(AtomicError::TooLarge {
            size,
            limit: MAX_EDITED_FILE,
        });
    }
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

pub(super) fn write_locked(
    tree: &Tree,
    real: &Path,
    contents: &[u8],
) -> Result<WriteOutcome, AtomicError> {
    let dir = parent_of(real)?;
    remove_stale_temps(real);
    let old_meta = match fs::symlink_metadata(real) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err("examining the file")(e)),
    };
    if let Some(m) = &old_meta {
        if !m.file_type().is_file() {
            return Err(AtomicError::NotRegular {
                found: FileKind::of(m.file_type()),
            });
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
    sync_dir(dir).map_err(io_err("syncing the directory"))?;
    Ok(if old.is_some() {
        WriteOutcome::Replaced
    } else {
        WriteOutcome::Created
    })
}

pub(super) fn remove_locked(tree: &Tree, real: &Path) -> Result<WriteOutcome, AtomicError> {
    let dir = parent_of(real)?;
    remove_stale_temps(real);
    let meta = match fs::symlink_metadata(real) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(WriteOutcome::Unchanged),
        Err(e) => return Err(io_err("examining the file")(e)),
    };
    if !meta.file_type().is_file() {
        return Err(AtomicError::NotRegular {
            found: FileKind::of(meta.file_type()),
        });
    }
    let old = read_optional(real)?.unwrap_or_default();
    tree.save_backup(
        real,
        &old,
        meta.mode() & 0o7777,
        Some((meta.uid(), meta.gid())),
    )?;
    fs::remove_file(real).map_err(io_err("removing the file"))?;
    sync_dir(dir).map_err(io_err("syncing the directory"))?;
    Ok(WriteOutcome::Removed)
}

/// Temp file, same mode and owner, write, fsync, rename over `target`.
pub(super) fn replace_with(
    target: &Path,
    dir: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), AtomicError> {
    let (mut f, tmp) = create_temp(target, 0o600).map_err(io_err(format!(
        "creating a temporary file in {}",
        dir.display()
    )))?;
    let result = (|| {
        give_owner_and_mode(&f, mode, owner)?;
        f.write_all(contents)
            .map_err(io_err("writing the temporary file"))?;
        f.sync_all().map_err(io_err("syncing the temporary file"))?;
        fs::rename(&tmp, target).map_err(io_err("renaming the temporary file into place"))
    })();
    drop(f);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Gives the temporary file the original owner, then the mode.
fn give_owner_and_mode(
    f: &fs::File,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), AtomicError> {
    if let Some((uid, gid)) = owner {
        let meta = f
            .metadata()
            .map_err(io_err("examining the temporary file"))?;
        if meta.uid() != uid || meta.gid() != gid {
            std::os::unix::fs::fchown(f, Some(uid), Some(gid))
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
    Ok(())
}
