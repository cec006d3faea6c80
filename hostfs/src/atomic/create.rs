//! The one writer for every file pptctl creates outside a tree (an HTML
//! report, the manual pages): [`NewFile`] writes a temporary file created
//! under a random name with `O_CREAT | O_EXCL | O_NOFOLLOW` beside the
//! target, `fsync`s it, renames it over the target and `fsync`s the
//! directory. The target is never opened: a link planted there is
//! replaced, not followed; a FIFO or device there is refused before
//! anything is written, so a planted FIFO cannot block the write.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::temp::{create_temp, sync_dir};
use crate::kind::FileKind;

/// Mode of a file pptctl creates (less the umask).
const CREATED_MODE: u32 = 0o644;

/// Why a file could not be created. Every message names the target.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The target is a directory (or ends in `/`): a file name is wanted.
    #[error("{path}: is a directory; pptctl wants a file name here")]
    IsDirectory {
        /// The target as given.
        path: String,
    },
    /// The target exists and is neither a regular file nor a link.
    #[error("{path}: {found}, not a regular file; pptctl replaces only regular files")]
    NotRegular {
        /// The target as given.
        path: String,
        /// What is there.
        found: FileKind,
    },
    /// A system call failed.
    #[error("cannot write {path}: {action}: {source}")]
    Io {
        /// The target as given.
        path: String,
        /// What was being done.
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

/// A file being created: write to it, then [`NewFile::commit`]. Dropped
/// without a commit, its temporary file is removed and the target is left
/// as it was.
#[derive(Debug)]
pub struct NewFile {
    out: Option<BufWriter<File>>,
    tmp: PathBuf,
    target: PathBuf,
    dir: PathBuf,
}

impl NewFile {
    /// Checks the target and creates the temporary file beside it. A
    /// regular file there keeps its permission bits.
    pub fn create(target: impl AsRef<Path>) -> Result<NewFile, CreateError> {
        let target = target.as_ref();
        let shown = target.display().to_string();
        let is_dir = || CreateError::IsDirectory {
            path: shown.clone(),
        };
        if target.as_os_str().as_bytes().ends_with(b"/") || target.file_name().is_none() {
            return Err(is_dir());
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mode = match fs::symlink_metadata(target) {
            Ok(m) => match FileKind::of(m.file_type()) {
                FileKind::Regular => m.mode() & 0o777,
                FileKind::Symlink => CREATED_MODE,
                FileKind::Directory => return Err(is_dir()),
                found => return Err(CreateError::NotRegular { path: shown, found }),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => CREATED_MODE,
            Err(e) => return Err(io_error(&shown, "examining the target", e)),
        };
        let (f, tmp) = create_temp(target, CREATED_MODE)
            .map_err(|e| io_error(&shown, "creating a temporary file beside it", e))?;
        if mode != CREATED_MODE {
            // Best effort: a file system without Unix modes keeps its own.
            let _ = f.set_permissions(fs::Permissions::from_mode(mode));
        }
        Ok(NewFile {
            out: Some(BufWriter::new(f)),
            tmp,
            target: target.to_path_buf(),
            dir,
        })
    }

    /// Flushes, `fsync`s, renames the file over the target and `fsync`s
    /// the directory.
    pub fn commit(mut self) -> Result<(), CreateError> {
        let shown = self.target.display().to_string();
        let out = self
            .out
            .take()
            .ok_or_else(|| io_error(&shown, "writing", io::Error::from(io::ErrorKind::Other)))?;
        let f = out
            .into_inner()
            .map_err(|e| io_error(&shown, "writing", e.into_error()))?;
        f.sync_all()
            .map_err(|e| io_error(&shown, "syncing the temporary file", e))?;
        drop(f);
        fs::rename(&self.tmp, &self.target).map_err(|e| {
            let e = match e.raw_os_error() {
                Some(libc::EISDIR) => CreateError::IsDirectory {
                    path: shown.clone(),
                },
                _ => io_error(&shown, "renaming the temporary file into place", e),
            };
            let _ = fs::remove_file(&self.tmp);
            e
        })?;
        self.tmp = PathBuf::new();
        sync_dir(&self.dir).map_err(|e| io_error(&shown, "syncing the directory", e))
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            Some(o) => o.write(buf),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.out = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn io_error(path: &str, action: &'static str, source: io::Error) -> CreateError {
    CreateError::Io {
        path: path.to_string(),
        action,
        source,
    }
}

/// Creates (or replaces) `target` holding `bytes`, through [`NewFile`].
pub fn write_file(target: impl AsRef<Path>, bytes: &[u8]) -> Result<(), CreateError> {
    let mut f = NewFile::create(target.as_ref())?;
    f.write_all(bytes).map_err(|e| {
        io_error(
            &target.as_ref().display().to_string(),
            "writing the temporary file",
            e,
        )
    })?;
    f.commit()
}
