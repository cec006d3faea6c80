//! The alternate root (`--root DIR`): every host file is read under it as
//! the host itself would see it, while messages name the host's own path
//! (`/etc/ppt_matches`).
//!
//! A path is resolved the way the kernel resolves it for a process whose
//! root directory is `DIR` (chroot): an absolute symlink target starts again
//! at `DIR`, and `..` at `DIR` stays at `DIR`. So a link in a mounted image,
//! a USB key or a zone root never leads to the running host's files. On
//! Linux this is `openat2(2)` with `RESOLVE_IN_ROOT`; where the kernel lacks
//! it (or a seccomp filter refuses it) and on illumos, a component-by-
//! component walk with `openat(O_NOFOLLOW)` and `readlinkat` does the same,
//! following at most [`MAX_SYMLINKS`] links as Linux does (`ELOOP`
//! after 40, fs/namei.c `MAXSYMLINKS`). With root `/` paths are used as
//! they are.
//!
//! Errors are [`ReadError`]s: they name the host path, and the link being
//! followed when resolution failed. A read refused by permissions says how
//! to get the data another way.

mod resolve;

#[cfg(target_os = "linux")]
use resolve::link_of;

#[cfg(target_os = "linux")]
mod openat2;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::ReadError;
use crate::kind::FileKind;
use crate::open::{expect_kind, open_device, open_regular, READ_FLAGS};
use crate::read::read_limited;
use crate::sys::{list_dir, open_dir_path, readlinkat};

/// A filesystem root under which host paths are resolved.
#[derive(Debug, Clone)]
pub struct HostRoot {
    dir: PathBuf,
    /// The root directory held open ([`HostRoot::held`]), so many reads
    /// do not open it again each time.
    fd: Option<Arc<OwnedFd>>,
}

impl PartialEq for HostRoot {
    fn eq(&self, other: &Self) -> bool {
        self.dir == other.dir
    }
}

impl Eq for HostRoot {}

impl HostRoot {
    /// A root at `dir` (`/` for the running host).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        HostRoot {
            dir: dir.into(),
            fd: None,
        }
    }

    /// A root at `dir` whose directory is opened once and held, for
    /// readers that open many files (a sysfs tree): each read is then a
    /// single `openat2` on Linux. The error names `dir`.
    pub fn held(dir: impl Into<PathBuf>) -> Result<Self, ReadError> {
        let dir = dir.into();
        let fd =
            open_dir_path(&dir).map_err(|e| ReadError::from_io(dir.display().to_string(), e))?;
        Ok(HostRoot {
            dir,
            fd: Some(Arc::new(fd)),
        })
    }

    /// The root directory as a descriptor: the held one, or a fresh one.
    fn root_fd(&self) -> io::Result<OwnedFd> {
        match &self.fd {
            Some(fd) => fd.try_clone(),
            None => open_dir_path(&self.dir),
        }
    }

    /// `openat2` in the root with a borrowed held descriptor where there is
    /// one (no dup), `None` where `openat2` is unavailable.
    #[cfg(target_os = "linux")]
    fn openat2(&self, host_path: &str, flags: libc::c_int) -> Option<io::Result<OwnedFd>> {
        #[cfg(test)]
        if tests::FORCE_WALK.with(std::cell::Cell::get) {
            return None;
        }
        match &self.fd {
            Some(fd) => openat2::open_in(fd.as_raw_fd(), host_path, flags),
            None => match open_dir_path(&self.dir) {
                Ok(fd) => openat2::open_in(fd.as_raw_fd(), host_path, flags),
                Err(e) => Some(Err(e)),
            },
        }
    }

    /// The directory this root stands for.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether this is the running host's own root (`/`): paths are used as
    /// they are.
    pub fn is_host(&self) -> bool {
        self.dir.as_os_str().as_bytes().iter().all(|&b| b == b'/')
            && !self.dir.as_os_str().is_empty()
    }

    /// Where the host path `host_path` (absolute, e.g. `/etc/ppt_matches`)
    /// lies under the root, joined without resolving links: for messages
    /// and for writers that check links themselves. Readers use
    /// [`HostRoot::open`] and the other read methods.
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.dir.join(host_path.trim_start_matches('/'))
    }

    /// Opens the regular file at `host_path` for reading, every link
    /// resolved inside the root, without blocking ([`crate::open_regular`]):
    /// a FIFO, device or socket there is refused with a [`ReadError`]
    /// naming it (`a FIFO (named pipe), not a regular file`).
    pub fn open(&self, host_path: &str) -> Result<File, ReadError> {
        let f = if self.is_host() {
            open_regular(host_path).map_err(|e| ReadError::from_io(host_path, e))?
        } else {
            File::from(self.open_fd(host_path, libc::O_RDONLY | READ_FLAGS)?)
        };
        expect_kind(f, FileKind::Regular).map_err(|e| ReadError::from_io(host_path, e))
    }

    /// Opens the character device at `host_path` (a `/dev/ppt` link, a
    /// nexus's `:reg` node) for `ioctl`s, resolved inside the root and
    /// without blocking; anything but a character device is refused.
    pub fn open_device(&self, host_path: &str) -> Result<File, ReadError> {
        let f = if self.is_host() {
            open_device(host_path).map_err(|e| ReadError::from_io(host_path, e))?
        } else {
            File::from(self.open_fd(host_path, libc::O_RDONLY | READ_FLAGS)?)
        };
        expect_kind(f, FileKind::CharDevice).map_err(|e| ReadError::from_io(host_path, e))
    }

    /// Reads the whole file at `host_path`; more than `limit` bytes is
    /// [`ReadError::TooLarge`] (checked against the size first, and while
    /// reading for a file that grows).
    pub fn read(&self, host_path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let f = self.open(host_path)?;
        read_limited(f, host_path, limit)
    }

    /// [`HostRoot::read`] as UTF-8 text; other bytes are an
    /// `InvalidData` error.
    pub fn read_to_string(&self, host_path: &str, limit: u64) -> Result<String, ReadError> {
        let bytes = self.read(host_path, limit)?;
        String::from_utf8(bytes).map_err(|e| {
            ReadError::from_io(host_path, io::Error::new(io::ErrorKind::InvalidData, e))
        })
    }

    /// The target of the symbolic link at `host_path` (the link itself is
    /// not followed; links before it are, inside the root).
    pub fn read_link(&self, host_path: &str) -> Result<PathBuf, ReadError> {
        if self.is_host() {
            return std::fs::read_link(host_path).map_err(|e| ReadError::from_io(host_path, e));
        }
        #[cfg(target_os = "linux")]
        if let Some(r) = self.fast(host_path, libc::O_PATH | libc::O_NOFOLLOW, false) {
            return link_of(&r?, host_path);
        }
        let w = self.walk(host_path, false)?;
        let Some(name) = &w.name else {
            return Err(ReadError::from_io(
                host_path,
                io::Error::from_raw_os_error(libc::EINVAL),
            ));
        };
        readlinkat(w.top(), name)
            .map(|t| PathBuf::from(OsString::from_vec(t)))
            .map_err(|e| ReadError::with_link(host_path.to_string(), w.link.clone(), e))
    }

    /// The entry names of the directory at `host_path` (without `.` and
    /// `..`), sorted bytewise so results do not depend on the filesystem.
    pub fn read_dir(&self, host_path: &str) -> Result<Vec<OsString>, ReadError> {
        let mut names = if self.is_host() {
            let rd = std::fs::read_dir(host_path).map_err(|e| ReadError::from_io(host_path, e))?;
            let mut names = Vec::new();
            for e in rd {
                names.push(e.map_err(|e| ReadError::from_io(host_path, e))?.file_name());
            }
            names
        } else {
            let fd = self.open_fd(host_path, libc::O_RDONLY | libc::O_DIRECTORY)?;
            list_dir(fd).map_err(|e| ReadError::from_io(host_path, e))?
        };
        names.sort();
        Ok(names)
    }

    /// The metadata of the file at `host_path`, links followed inside the
    /// root.
    pub fn metadata(&self, host_path: &str) -> Result<Metadata, ReadError> {
        self.stat(host_path, true)
    }

    /// The metadata of `host_path` itself (a link is not followed; links
    /// before it are, inside the root).
    pub fn symlink_metadata(&self, host_path: &str) -> Result<Metadata, ReadError> {
        self.stat(host_path, false)
    }

    /// The metadata of `host_path`, its last component followed when
    /// `follow` (earlier links always are, inside the root).
    fn stat(&self, host_path: &str, follow: bool) -> Result<Metadata, ReadError> {
        if self.is_host() {
            let r = if follow {
                std::fs::metadata(host_path)
            } else {
                std::fs::symlink_metadata(host_path)
            };
            return r.map_err(|e| ReadError::from_io(host_path, e));
        }
        #[cfg(target_os = "linux")]
        {
            let flags = if follow {
                libc::O_PATH
            } else {
                libc::O_PATH | libc::O_NOFOLLOW
            };
            if let Some(r) = self.fast(host_path, flags, false) {
                return r.and_then(|fd| {
                    File::from(fd)
                        .metadata()
                        .map_err(|e| ReadError::from_io(host_path, e))
                });
            }
        }
        let w = self.walk(host_path, follow)?;
        std::fs::symlink_metadata(w.local(&self.dir))
            .map_err(|e| ReadError::with_link(host_path.to_string(), w.link.clone(), e))
    }

    /// Whether `host_path` exists under the root (links followed inside
    /// it). Errors other than "not found" count as existing, as a read
    /// would then report them.
    pub fn exists(&self, host_path: &str) -> bool {
        match self.metadata(host_path) {
            Ok(_) => true,
            Err(e) => !e.is_not_found(),
        }
    }

    /// Whether `host_path` is a directory under the root.
    pub fn is_dir(&self, host_path: &str) -> bool {
        self.metadata(host_path).is_ok_and(|m| m.is_dir())
    }

    /// Whether `host_path` is a regular file under the root.
    pub fn is_file(&self, host_path: &str) -> bool {
        self.metadata(host_path).is_ok_and(|m| m.is_file())
    }

    /// The local path of `host_path` with every link resolved inside the
    /// root (the host path as the root sees it, joined to the root
    /// directory). For APIs that need a path; prefer the read methods,
    /// which hold descriptors and cannot be raced by a link swapped in
    /// meanwhile.
    pub fn resolve(&self, host_path: &str) -> Result<PathBuf, ReadError> {
        if self.is_host() {
            return Ok(PathBuf::from(host_path));
        }
        Ok(self.walk(host_path, true)?.local(&self.dir))
    }

    /// The host path `host_path` stands for once every link is resolved
    /// inside the root (`realpath(3C)` as the root sees it).
    pub fn canonical(&self, host_path: &str) -> Result<String, ReadError> {
        if self.is_host() {
            return std::fs::canonicalize(host_path)
                .map(|p| p.to_string_lossy().into_owned())
                .map_err(|e| ReadError::from_io(host_path, e));
        }
        // The walk stats every component, so a missing one fails as in
        // realpath.
        let w = self.walk(host_path, true)?;
        let mut s = String::new();
        for (_, n) in &w.stack[1..] {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(n));
        }
        if let Some(n) = &w.name {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(n.as_bytes()));
        }
        if s.is_empty() {
            s.push('/');
        }
        Ok(s)
    }

    /// Opens the regular file `host_path`, as [`HostRoot::open`], when it
    /// exists: `Ok(None)` when it (or a directory
    /// on its way) does not. For probes where absence is normal (optional
    /// files, sysfs attributes); on Linux the answer then costs one system
    /// call and the message does not name a link.
    pub fn try_open(&self, host_path: &str) -> Result<Option<File>, ReadError> {
        let flags = libc::O_RDONLY | READ_FLAGS;
        let r = if self.is_host() {
            open_regular(host_path).map_err(|e| ReadError::from_io(host_path, e))
        } else {
            #[cfg(target_os = "linux")]
            let fast = self.fast(host_path, flags, true);
            #[cfg(not(target_os = "linux"))]
            let fast: Option<Result<OwnedFd, ReadError>> = None;
            match fast {
                Some(r) => r.map(File::from),
                None => self.open_fd_walk(host_path, flags).map(File::from),
            }
            .and_then(|f| {
                expect_kind(f, FileKind::Regular).map_err(|e| ReadError::from_io(host_path, e))
            })
        };
        match r {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// [`HostRoot::read`] of a file that may be absent (`Ok(None)`), as
    /// [`HostRoot::try_open`].
    pub fn try_read(&self, host_path: &str, limit: u64) -> Result<Option<Vec<u8>>, ReadError> {
        match self.try_open(host_path)? {
            Some(f) => read_limited(f, host_path, limit).map(Some),
            None => Ok(None),
        }
    }

    /// [`HostRoot::read_link`] of a link that may be absent (`Ok(None)`),
    /// as [`HostRoot::try_open`].
    pub fn try_read_link(&self, host_path: &str) -> Result<Option<PathBuf>, ReadError> {
        #[cfg(target_os = "linux")]
        if !self.is_host() {
            if let Some(r) = self.fast(host_path, libc::O_PATH | libc::O_NOFOLLOW, true) {
                return match r {
                    Ok(fd) => link_of(&fd, host_path).map(Some),
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e),
                };
            }
        }
        match self.read_link(host_path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}
