//! What `fleet ingest` reads: the files and directories named, walked
//! without following symbolic links (unless asked, and then only to places
//! inside the directory named, each directory once by device and inode),
//! and each file opened non-blocking and read only when it is a regular
//! file, so a FIFO or a device never stalls the ingest.
//!
//! The non-blocking regular-file open is local to the fleet until the
//! workspace has one shared primitive for it.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::error::FleetError;

/// Largest snapshot file ingested: a few thousand functions with 4 KiB
/// config space each; keeps one ingest well under 64 MiB of memory.
pub const MAX_SNAPSHOT_BYTES: u64 = 24 * 1024 * 1024;

/// The name `-` stands for standard input.
pub(crate) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens `path` for reading through hostfs's one non-blocking open (a
/// FIFO without a writer would block `open` itself), without following a
/// final symbolic link when `nofollow`; refuses anything but a regular file.
fn open_regular(path: &Path, nofollow: bool) -> Result<(File, fs::Metadata), FleetError> {
    let io = |source| FleetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let opened = if nofollow {
        hostfs::open_regular_nofollow(path)
    } else {
        hostfs::open_regular(path)
    };
    let file = match opened {
        Ok(f) => f,
        Err(e) if nofollow && e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(FleetError::BadSnapshot {
                file: path.to_path_buf(),
                message: "a symbolic link, not followed".to_string(),
            })
        }
        Err(e) => {
            return Err(match hostfs::NotRegular::of(&e) {
                Some(not) => FleetError::BadSnapshot {
                    file: path.to_path_buf(),
                    message: format!("{}, not a regular file; refusing to read it", not.found),
                },
                None => io(e),
            })
        }
    };
    let meta = file.metadata().map_err(io)?;
    Ok((file, meta))
}

/// Reads at most [`MAX_SNAPSHOT_BYTES`] from `r`, refusing more.
fn read_limited(r: impl Read, path: &Path, capacity: u64) -> Result<Vec<u8>, FleetError> {
    let mut buf =
        Vec::with_capacity(usize::try_from(capacity.min(MAX_SNAPSHOT_BYTES)).unwrap_or(0));
    r.take(MAX_SNAPSHOT_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|source| FleetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(FleetError::BadSnapshot {
            file: path.to_path_buf(),
            message: format!("larger than {MAX_SNAPSHOT_BYTES} bytes; refusing to read it"),
        });
    }
    Ok(buf)
}

/// The bytes of a snapshot file (or of standard input for `-`) and the
/// file's modification time.
pub(crate) fn read_snapshot(
    path: &Path,
    nofollow: bool,
) -> Result<(Vec<u8>, Option<i64>), FleetError> {
    if is_stdin(path) {
        return Ok((read_limited(std::io::stdin().lock(), path, 0)?, None));
    }
    let (file, meta) = open_regular(path, nofollow)?;
    if meta.len() > MAX_SNAPSHOT_BYTES {
        return Err(FleetError::BadSnapshot {
            file: path.to_path_buf(),
            message: format!(
                "{} bytes, larger than {MAX_SNAPSHOT_BYTES}; refusing to read it",
                meta.len()
            ),
        });
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    Ok((read_limited(file, path, meta.len())?, mtime))
}

/// One thing the walk found, in walk order.
pub(crate) enum Found {
    /// A file to read (`nofollow`: a final link in its path is refused).
    File {
        /// The path.
        path: PathBuf,
        /// Open with `O_NOFOLLOW`.
        nofollow: bool,
    },
    /// Not read, and why.
    Skipped(PathBuf, String),
    /// A directory that could not be listed: the ingest stops.
    Failed(FleetError),
}

/// The walk's state: whether links are followed, the directory named
/// (canonical) that followed links must stay in, and the directories seen.
pub(crate) struct Walk {
    follow: bool,
    inside: PathBuf,
    seen: HashSet<(u64, u64)>,
}

impl Walk {
    /// A walk that follows links inside each named directory when `follow`.
    pub(crate) fn new(follow: bool) -> Self {
        Walk {
            follow,
            inside: PathBuf::new(),
            seen: HashSet::new(),
        }
    }

    /// Walks one path named on the command line (followed if a link: it
    /// was named), calling `visit` for each file in name order; `visit`
    /// returns `false` to stop.
    pub(crate) fn named(&mut self, path: &Path, visit: &mut dyn FnMut(Found) -> bool) -> bool {
        if is_stdin(path) {
            return visit(Found::File {
                path: path.to_path_buf(),
                nofollow: false,
            });
        }
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                self.inside = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                self.seen.insert((m.dev(), m.ino()));
                self.directory(path, visit)
            }
            _ => visit(Found::File {
                path: path.to_path_buf(),
                nofollow: false,
            }),
        }
    }

    /// Every entry of `dir`, in name order.
    fn directory(&mut self, dir: &Path, visit: &mut dyn FnMut(Found) -> bool) -> bool {
        let io = |source| FleetError::Io {
            path: dir.to_path_buf(),
            source,
        };
        // One directory's names at a time (not the files' contents).
        let listed: Result<Vec<PathBuf>, _> = fs::read_dir(dir).map_err(io).and_then(|d| {
            d.map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(io)
        });
        let mut entries = match listed {
            Ok(e) => e,
            Err(e) => {
                visit(Found::Failed(e));
                return false;
            }
        };
        entries.sort();
        entries.iter().all(|e| self.entry(e, visit))
    }

    /// One entry found in a directory.
    fn entry(&mut self, path: &Path, visit: &mut dyn FnMut(Found) -> bool) -> bool {
        let json = path.extension().is_some_and(|x| x == "json");
        let Ok(lmeta) = fs::symlink_metadata(path) else {
            return true;
        };
        if lmeta.file_type().is_symlink() {
            return self.link(path, json, visit);
        }
        if lmeta.is_dir() {
            return self.subdirectory(path, &lmeta, visit);
        }
        if !json {
            return true;
        }
        visit(Found::File {
            path: path.to_path_buf(),
            nofollow: true,
        })
    }

    /// A directory met in the walk, walked once.
    fn subdirectory(
        &mut self,
        path: &Path,
        meta: &fs::Metadata,
        visit: &mut dyn FnMut(Found) -> bool,
    ) -> bool {
        if !self.seen.insert((meta.dev(), meta.ino())) {
            return visit(Found::Skipped(
                path.to_path_buf(),
                "a directory already walked (a loop through links); not walked again".to_string(),
            ));
        }
        self.directory(path, visit)
    }

    /// A symbolic link met in the walk: reported and skipped, or with
    /// `follow` followed when it leads inside the directory named.
    fn link(&mut self, path: &Path, json: bool, visit: &mut dyn FnMut(Found) -> bool) -> bool {
        let target = fs::metadata(path);
        let to_dir = target.as_ref().is_ok_and(fs::Metadata::is_dir);
        if !json && !to_dir {
            return true;
        }
        if !self.follow {
            return visit(Found::Skipped(
                path.to_path_buf(),
                "a symbolic link, not followed (--follow follows links inside the directory)"
                    .to_string(),
            ));
        }
        let real = match fs::canonicalize(path) {
            Ok(r) => r,
            Err(e) => {
                return visit(Found::Skipped(
                    path.to_path_buf(),
                    format!("a symbolic link that does not resolve: {e}"),
                ))
            }
        };
        if !real.starts_with(&self.inside) {
            return visit(Found::Skipped(
                path.to_path_buf(),
                format!(
                    "a symbolic link leading outside {} (to {}), not followed",
                    self.inside.display(),
                    real.display()
                ),
            ));
        }
        match target {
            Ok(m) if m.is_dir() => self.subdirectory(path, &m, visit),
            _ => visit(Found::File {
                path: path.to_path_buf(),
                nofollow: false,
            }),
        }
    }
}
