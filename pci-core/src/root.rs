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

use std::ffi::{CString, OsStr, OsString};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most symbolic links followed while resolving one path (Linux
/// `MAXSYMLINKS`, fs/namei.c); one more is `ELOOP`.
pub const MAX_SYMLINKS: usize = 40;

/// What to tell a user whose read was refused by permissions.
pub const PERMISSION_HINT: &str =
    "run pptctl as root (pfexec or sudo), or read an offline source (--from snapshot:FILE)";

/// Why a file under a root could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Permissions refused the read.
    #[error("cannot read {path}: {source}; {PERMISSION_HINT}")]
    PermissionDenied {
        /// Host path of the file.
        path: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// More than [`MAX_SYMLINKS`] links were followed: a loop.
    #[error("cannot read {path}: too many levels of symbolic links (a loop) at the link {link}")]
    LinkLoop {
        /// Host path of the file.
        path: String,
        /// The link being followed when the limit was reached
        /// (`/etc/a -> b`).
        link: String,
    },
    /// The file is larger than the reader's limit.
    #[error("{path} is {size} bytes, more than the {limit} bytes pptctl reads")]
    TooLarge {
        /// Host path of the file.
        path: String,
        /// Its size (or how much was read before stopping).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Any other I/O error.
    #[error("cannot read {path}{}: {source}", via(.link))]
    Io {
        /// Host path of the file.
        path: String,
        /// The last link followed before the error (`/etc/a -> /tmp/x`),
        /// when resolution went through one.
        link: Option<String>,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

fn via(link: &Option<String>) -> String {
    match link {
        Some(l) => format!(" (through the link {l})"),
        None => String::new(),
    }
}

impl ReadError {
    /// The error for `source` while reading the host path `path`: a
    /// permission error becomes [`ReadError::PermissionDenied`].
    pub fn from_io(path: impl Into<String>, source: io::Error) -> Self {
        Self::with_link(path.into(), None, source)
    }

    fn with_link(path: String, link: Option<String>, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::PermissionDenied {
            ReadError::PermissionDenied { path, source }
        } else {
            ReadError::Io { path, link, source }
        }
    }

    /// The kind of I/O error (`NotFound`, `PermissionDenied`, …); a loop is
    /// `Other`, a size over the limit `InvalidData`.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            ReadError::PermissionDenied { .. } => io::ErrorKind::PermissionDenied,
            ReadError::LinkLoop { .. } => io::ErrorKind::Other,
            ReadError::TooLarge { .. } => io::ErrorKind::InvalidData,
            ReadError::Io { source, .. } => source.kind(),
        }
    }

    /// Whether the file (or a directory on its way) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind() == io::ErrorKind::NotFound
    }

    /// The reason alone, for messages that name the file already.
    pub fn reason(&self) -> String {
        match self {
            ReadError::PermissionDenied { source, .. } => format!("{source}; {PERMISSION_HINT}"),
            ReadError::LinkLoop { link, .. } => {
                format!("too many levels of symbolic links (a loop) at the link {link}")
            }
            ReadError::TooLarge { size, limit, .. } => {
                format!("{size} bytes, more than the {limit} bytes pptctl reads")
            }
            ReadError::Io { link, source, .. } => match link {
                Some(l) => format!("{source} (through the link {l})"),
                None => source.to_string(),
            },
        }
    }

    /// The host path named by the error.
    pub fn path(&self) -> &str {
        match self {
            ReadError::PermissionDenied { path, .. }
            | ReadError::LinkLoop { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::Io { path, .. } => path,
        }
    }
}

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

    /// Opens the file at `host_path` for reading, every link resolved
    /// inside the root.
    pub fn open(&self, host_path: &str) -> Result<File, ReadError> {
        if self.is_host() {
            return File::open(host_path).map_err(|e| ReadError::from_io(host_path, e));
        }
        self.open_fd(host_path, libc::O_RDONLY).map(File::from)
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
        if self.is_host() {
            return std::fs::metadata(host_path).map_err(|e| ReadError::from_io(host_path, e));
        }
        #[cfg(target_os = "linux")]
        if let Some(r) = self.fast(host_path, libc::O_PATH, false) {
            return r.and_then(|fd| {
                File::from(fd)
                    .metadata()
                    .map_err(|e| ReadError::from_io(host_path, e))
            });
        }
        let w = self.walk(host_path, true)?;
        std::fs::symlink_metadata(w.local(&self.dir))
            .map_err(|e| ReadError::with_link(host_path.to_string(), w.link.clone(), e))
    }

    /// The metadata of `host_path` itself (a link is not followed; links
    /// before it are, inside the root).
    pub fn symlink_metadata(&self, host_path: &str) -> Result<Metadata, ReadError> {
        if self.is_host() {
            return std::fs::symlink_metadata(host_path)
                .map_err(|e| ReadError::from_io(host_path, e));
        }
        #[cfg(target_os = "linux")]
        if let Some(r) = self.fast(host_path, libc::O_PATH | libc::O_NOFOLLOW, false) {
            return r.and_then(|fd| {
                File::from(fd)
                    .metadata()
                    .map_err(|e| ReadError::from_io(host_path, e))
            });
        }
        let w = self.walk(host_path, false)?;
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

    /// A descriptor for `host_path` opened with `flags`, resolved inside
    /// the root. `openat2` first on Linux; the walk where it is missing,
    /// and for every error so the message can name the link.
    fn open_fd(&self, host_path: &str, flags: libc::c_int) -> Result<OwnedFd, ReadError> {
        #[cfg(target_os = "linux")]
        if let Some(r) = self.fast(host_path, flags, false) {
            return r;
        }
        self.open_fd_walk(host_path, flags)
    }

    /// `openat2` where it works: its result, except for the errors whose
    /// message should name a link (a loop; "not found" unless `probe`) and
    /// rename races, which are left to the walk (`None`).
    #[cfg(target_os = "linux")]
    fn fast(
        &self,
        host_path: &str,
        flags: libc::c_int,
        probe: bool,
    ) -> Option<Result<OwnedFd, ReadError>> {
        match self.openat2(host_path, flags)? {
            Ok(fd) => Some(Ok(fd)),
            Err(e) => match e.raw_os_error() {
                Some(libc::ELOOP | libc::EAGAIN | libc::EXDEV) => None,
                Some(libc::ENOENT) if !probe => None,
                _ => Some(Err(ReadError::from_io(host_path, e))),
            },
        }
    }

    /// Opens `host_path` when it exists: `Ok(None)` when it (or a directory
    /// on its way) does not. For probes where absence is normal (optional
    /// files, sysfs attributes); on Linux the answer then costs one system
    /// call and the message does not name a link.
    pub fn try_open(&self, host_path: &str) -> Result<Option<File>, ReadError> {
        let r = if self.is_host() {
            File::open(host_path).map_err(|e| ReadError::from_io(host_path, e))
        } else {
            #[cfg(target_os = "linux")]
            let fast = self.fast(host_path, libc::O_RDONLY, true);
            #[cfg(not(target_os = "linux"))]
            let fast: Option<Result<OwnedFd, ReadError>> = None;
            match fast {
                Some(r) => r.map(File::from),
                None => self.open_fd_walk(host_path, libc::O_RDONLY).map(File::from),
            }
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

    /// [`HostRoot::open_fd`] by the component walk alone.
    fn open_fd_walk(&self, host_path: &str, flags: libc::c_int) -> Result<OwnedFd, ReadError> {
        let w = self.walk(host_path, true)?;
        let err = |e| ReadError::with_link(host_path.to_string(), w.link.clone(), e);
        let name = match &w.name {
            Some(n) => n.clone(),
            None => c".".to_owned(),
        };
        // O_NOFOLLOW: the walk found no link here; one swapped in since is
        // refused (ELOOP), never followed out of the root.
        openat(w.top(), &name, flags | libc::O_NOFOLLOW).map_err(err)
    }

    /// The component walk: resolves `host_path` under the root, following
    /// links inside it (the last one only when `follow_last`).
    fn walk(&self, host_path: &str, follow_last: bool) -> Result<Walked, ReadError> {
        let err =
            |link: &Option<String>, e| ReadError::with_link(host_path.to_string(), link.clone(), e);
        let root = self.root_fd().map_err(|e| err(&None, e))?;
        let mut stack: Vec<(OwnedFd, Vec<u8>)> = vec![(root, Vec::new())];
        let mut queue: Vec<Vec<u8>> = components(host_path.as_bytes());
        queue.reverse(); // popped from the end
        let mut links = 0usize;
        let mut link: Option<String> = None;
        while let Some(c) = queue.pop() {
            if c == b".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let top = stack.last().map_or(-1, |(fd, _)| fd.as_raw_fd());
            let name = CString::new(c.clone())
                .map_err(|_| err(&link, io::Error::from(io::ErrorKind::InvalidInput)))?;
            let st = fstatat_nofollow(top, &name).map_err(|e| err(&link, e))?;
            let is_last = queue.is_empty();
            let here = || host_of(&stack, &c);
            if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
                if is_last && !follow_last {
                    return Ok(Walked {
                        stack,
                        name: Some(name),
                        link,
                    });
                }
                links += 1;
                let target = readlinkat(top, &name).map_err(|e| err(&link, e))?;
                let shown = format!("{} -> {}", here(), String::from_utf8_lossy(&target));
                if links > MAX_SYMLINKS {
                    return Err(ReadError::LinkLoop {
                        path: host_path.to_string(),
                        link: shown,
                    });
                }
                link = Some(shown);
                if target.first() == Some(&b'/') {
                    stack.truncate(1);
                }
                let mut more = components(&target);
                more.reverse();
                queue.extend(more);
                continue;
            }
            if is_last {
                return Ok(Walked {
                    stack,
                    name: Some(name),
                    link,
                });
            }
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(err(&link, io::Error::from_raw_os_error(libc::ENOTDIR)));
            }
            let fd = openat(top, &name, DIR_FLAGS | libc::O_NOFOLLOW).map_err(|e| err(&link, e))?;
            stack.push((fd, c));
        }
        Ok(Walked {
            stack,
            name: None,
            link,
        })
    }
}

/// The target of the link open (`O_PATH | O_NOFOLLOW`) at `fd`; a file that
/// is not a link is `EINVAL`, as `readlink(2)` says.
#[cfg(target_os = "linux")]
fn link_of(fd: &OwnedFd, host_path: &str) -> Result<PathBuf, ReadError> {
    // An empty name reads the link the descriptor stands for (Linux 2.6.39).
    match readlinkat(fd.as_raw_fd(), &CString::default()) {
        Ok(t) => Ok(PathBuf::from(OsString::from_vec(t))),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(ReadError::from_io(
            host_path,
            io::Error::from_raw_os_error(libc::EINVAL),
        )),
        Err(e) => Err(ReadError::from_io(host_path, e)),
    }
}

/// Reads at most `limit` bytes of `f`, refusing a larger file.
fn read_limited(f: File, host_path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
    let size = f
        .metadata()
        .map_err(|e| ReadError::from_io(host_path, e))?
        .len();
    let too_large = |size| ReadError::TooLarge {
        path: host_path.to_string(),
        size,
        limit,
    };
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::from_io(host_path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Where a walk ended: the directories from the root down, and the last
/// component (absent when the path names a directory reached by `..` or
/// is the root itself).
struct Walked {
    stack: Vec<(OwnedFd, Vec<u8>)>,
    name: Option<CString>,
    link: Option<String>,
}

impl Walked {
    fn top(&self) -> RawFd {
        self.stack.last().map_or(-1, |(fd, _)| fd.as_raw_fd())
    }

    fn local(&self, dir: &Path) -> PathBuf {
        let mut p = dir.to_path_buf();
        for (_, n) in &self.stack[1..] {
            p.push(OsStr::from_bytes(n));
        }
        if let Some(n) = &self.name {
            p.push(OsStr::from_bytes(n.as_bytes()));
        }
        p
    }
}

/// The host path of `name` in the directory at the top of `stack`.
fn host_of(stack: &[(OwnedFd, Vec<u8>)], name: &[u8]) -> String {
    let mut s = String::new();
    for (_, n) in &stack[1..] {
        s.push('/');
        s.push_str(&String::from_utf8_lossy(n));
    }
    s.push('/');
    s.push_str(&String::from_utf8_lossy(name));
    s
}

/// The components of a path, without empty ones and `.`.
fn components(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

/// Flags for a directory held only to walk through: search permission is
/// all a path lookup needs, so no more is asked for (Linux `O_PATH`;
/// illumos `O_SEARCH`, usr/src/uts/common/sys/fcntl.h in illumos-gate).
#[cfg(target_os = "linux")]
const DIR_FLAGS: libc::c_int = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
#[cfg(any(target_os = "illumos", target_os = "solaris"))]
const DIR_FLAGS: libc::c_int = libc::O_SEARCH | libc::O_DIRECTORY | libc::O_CLOEXEC;
#[cfg(not(any(target_os = "linux", target_os = "illumos", target_os = "solaris")))]
const DIR_FLAGS: libc::c_int = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;

fn cstring(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn open_dir_path(dir: &Path) -> io::Result<OwnedFd> {
    let c = cstring(dir)?;
    // SAFETY: `c` is a valid C string; the result is checked.
    let fd = unsafe { libc::open(c.as_ptr(), DIR_FLAGS) };
    owned(fd)
}

fn openat(dirfd: RawFd, name: &CString, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid C string and `dirfd` a descriptor we hold.
    let fd = unsafe { libc::openat(dirfd, name.as_ptr(), flags | libc::O_CLOEXEC) };
    owned(fd)
}

fn owned(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        // SAFETY: a fresh descriptor from the kernel, owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

fn fstatat_nofollow(dirfd: RawFd, name: &CString) -> io::Result<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid C string, a descriptor we hold, and room for the result.
    let r = unsafe {
        libc::fstatat(
            dirfd,
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatat succeeded, so it filled `st`.
    Ok(unsafe { st.assume_init() })
}

fn readlinkat(dirfd: RawFd, name: &CString) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: the buffer is `buf.len()` bytes long; the result is checked.
        let n =
            unsafe { libc::readlinkat(dirfd, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n.unsigned_abs();
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        if buf.len() >= 1 << 16 {
            return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
        }
        buf.resize(buf.len() * 4, 0);
    }
}

/// The names in the directory open at `fd` (consumed).
fn list_dir(fd: OwnedFd) -> io::Result<Vec<OsString>> {
    use std::os::fd::IntoRawFd;
    let raw = fd.into_raw_fd();
    // SAFETY: `raw` is an open directory descriptor; fdopendir takes it
    // over (closed by closedir below), or we close it on failure.
    let dir = unsafe { libc::fdopendir(raw) };
    if dir.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so the descriptor is still ours.
        unsafe { libc::close(raw) };
        return Err(e);
    }
    let mut names = Vec::new();
    let result = loop {
        // readdir signals errors only through errno.
        set_errno(0);
        // SAFETY: `dir` is a valid DIR* until closedir.
        let ent = unsafe { libc::readdir(dir) };
        if ent.is_null() {
            let e = io::Error::last_os_error();
            break if e.raw_os_error() == Some(0) {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: readdir returned an entry whose d_name is NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) };
        let b = name.to_bytes();
        if b != b"." && b != b".." {
            names.push(OsStr::from_bytes(b).to_os_string());
        }
    };
    // SAFETY: `dir` came from fdopendir and is closed once.
    unsafe { libc::closedir(dir) };
    result.map(|()| names)
}

fn set_errno(v: libc::c_int) {
    // SAFETY: the thread's errno location is always valid.
    unsafe {
        #[cfg(target_os = "linux")]
        {
            *libc::__errno_location() = v;
        }
        #[cfg(any(target_os = "illumos", target_os = "solaris"))]
        {
            *libc::___errno() = v;
        }
        #[cfg(target_os = "macos")]
        {
            *libc::__error() = v;
        }
    }
}

#[cfg(target_os = "linux")]
mod openat2 {
    //! Linux `openat2(2)` with `RESOLVE_IN_ROOT` (Linux 5.6): the kernel
    //! resolves the path as if the root were the process root.
    use std::os::fd::{OwnedFd, RawFd};
    use std::sync::atomic::{AtomicU8, Ordering};

    /// `struct open_how` (include/uapi/linux/openat2.h).
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }

    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_IN_ROOT: u64 = 0x10;

    /// 0 unknown, 1 works, 2 unavailable (ENOSYS, or EPERM from seccomp).
    static STATE: AtomicU8 = AtomicU8::new(0);

    /// `None` when openat2 is unavailable; otherwise the result.
    pub(super) fn open_in(
        root: RawFd,
        host_path: &str,
        flags: libc::c_int,
    ) -> Option<std::io::Result<OwnedFd>> {
        if STATE.load(Ordering::Relaxed) == 2 {
            return None;
        }
        let rel = host_path.trim_start_matches('/');
        let rel = if rel.is_empty() { "." } else { rel };
        let Ok(c) = std::ffi::CString::new(rel) else {
            return Some(Err(std::io::ErrorKind::InvalidInput.into()));
        };
        let how = OpenHow {
            flags: u64::from((flags | libc::O_CLOEXEC).unsigned_abs()),
            mode: 0,
            resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        // SAFETY: the arguments match openat2(2): a directory descriptor we
        // hold, a C string, a pointer to `open_how` and its size.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root,
                c.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOSYS) | Some(libc::EPERM) | Some(libc::E2BIG)
            ) && STATE.load(Ordering::Relaxed) != 1
            {
                STATE.store(2, Ordering::Relaxed);
                return None;
            }
            return Some(Err(e));
        }
        STATE.store(1, Ordering::Relaxed);
        Some(super::owned(r as libc::c_int))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    thread_local! {
        /// Makes this thread's reads take the component walk, as where
        /// `openat2` is missing (illumos, old Linux, seccomp).
        pub(super) static FORCE_WALK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Every read method gives the same answer through `openat2` and
    /// through the walk alone, on every path of the escape fixture.
    #[test]
    fn every_method_agrees_with_the_walk() {
        let f = fixture();
        symlink(f.outside.join("x"), f.root.join("etc/abs_host")).unwrap();
        symlink("/tmp/x", f.root.join("etc/abs_root")).unwrap();
        symlink("../../../../tmp", f.root.join("etc/dir_rel")).unwrap();
        symlink(&f.outside, f.root.join("etc/dir_host")).unwrap();
        symlink("b", f.root.join("etc/a")).unwrap();
        symlink("a", f.root.join("etc/b")).unwrap();
        let r = HostRoot::held(&f.root).unwrap();
        let paths = [
            "/",
            "/etc",
            "/tmp/x",
            "/etc/abs_host",
            "/etc/abs_root",
            "/etc/dir_rel",
            "/etc/dir_rel/x",
            "/etc/dir_host",
            "/etc/dir_host/x",
            "/etc/a",
            "/nothing",
            "/tmp/x/deeper",
            "/../../tmp/x",
        ];
        let all = |p: &str| {
            let kind = |m: Result<Metadata, ReadError>| {
                m.map(|m| (m.is_dir(), m.is_file(), m.file_type().is_symlink(), m.len()))
                    .map_err(|e| e.to_string())
            };
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                r.read(p, 100).map_err(|e| e.to_string()),
                r.try_read(p, 100).map_err(|e| e.to_string()),
                r.read_link(p).map_err(|e| e.to_string()),
                r.try_read_link(p).map_err(|e| e.to_string()),
                r.read_dir(p).map_err(|e| e.to_string()),
                kind(r.metadata(p)),
                kind(r.symlink_metadata(p)),
                r.canonical(p).map_err(|e| e.to_string()),
            )
        };
        // Only the walk names the link an error went through (openat2 does
        // not say); the answers must be the same otherwise.
        let without_link = |mut s: String| {
            while let Some(i) = s.find(" (through the link ") {
                let end = s[i..].find(')').map_or(s.len(), |j| i + j + 1);
                s.replace_range(i..end, "");
            }
            s
        };
        for p in paths {
            let fast = all(p);
            FORCE_WALK.with(|w| w.set(true));
            let walked = all(p);
            FORCE_WALK.with(|w| w.set(false));
            assert_eq!(without_link(fast.clone()), without_link(walked), "{p}");
            assert!(!fast.contains("HOST"), "{p}: {fast}");
        }
    }

    #[test]
    fn joins_under_root() {
        let r = HostRoot::new("/tmp/x");
        assert_eq!(
            r.path("/etc/ppt_matches"),
            PathBuf::from("/tmp/x/etc/ppt_matches")
        );
        assert_eq!(
            HostRoot::new("/").path("/dev/ppt0"),
            PathBuf::from("/dev/ppt0")
        );
        assert!(HostRoot::new("/").is_host());
        assert!(!HostRoot::new("/tmp/x").is_host());
    }

    /// A root and, beside it, a "host" directory whose file must never be
    /// read through the root.
    struct Fixture {
        _t: tempfile::TempDir,
        root: PathBuf,
        outside: PathBuf,
    }

    fn fixture() -> Fixture {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let outside = t.path().join("host");
        for d in ["etc", "tmp", "data/sub", "devices"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("tmp/x"), b"root").unwrap();
        std::fs::write(root.join("data/sub/f"), b"root").unwrap();
        std::fs::write(outside.join("x"), b"HOST").unwrap();
        Fixture {
            _t: t,
            root,
            outside,
        }
    }

    /// Opens through openat2 (where present) and through the walk; both
    /// must agree.
    fn read_both(r: &HostRoot, p: &str) -> Result<Vec<u8>, String> {
        let a = r.read(p, 1 << 20).map_err(|e| e.to_string());
        let b = r
            .open_fd_walk(p, libc::O_RDONLY)
            .map_err(|e| e.to_string())
            .and_then(|fd| read_limited(File::from(fd), p, 1 << 20).map_err(|e| e.to_string()));
        assert_eq!(a, b, "openat2 and the walk disagree on {p}");
        let c = HostRoot::held(r.dir())
            .unwrap()
            .read(p, 1 << 20)
            .map_err(|e| e.to_string());
        assert_eq!(a, c, "a held root disagrees on {p}");
        a
    }

    #[test]
    fn absolute_link_stays_in_root() {
        let f = fixture();
        let out = f.outside.join("x");
        symlink(&out, f.root.join("etc/abs_host")).unwrap();
        symlink("/tmp/x", f.root.join("etc/abs_root")).unwrap();
        let r = HostRoot::new(&f.root);
        // A link to the host's own path of the outside file: read as
        // ROOT/<that path>, which does not exist.
        let e = read_both(&r, "/etc/abs_host").unwrap_err();
        assert!(e.contains("/etc/abs_host"), "{e}");
        assert!(
            e.contains(&out.display().to_string()),
            "names the link: {e}"
        );
        assert_eq!(read_both(&r, "/etc/abs_root").unwrap(), b"root");
    }

    #[test]
    fn relative_dotdot_chain_clamps_at_root() {
        let f = fixture();
        symlink("../../../../../../../../tmp/x", f.root.join("etc/rel")).unwrap();
        symlink("../host/x", f.root.join("etc/up")).unwrap();
        let r = HostRoot::new(&f.root);
        assert_eq!(read_both(&r, "/etc/rel").unwrap(), b"root");
        assert!(read_both(&r, "/etc/up").is_err());
        // `..` in the host path itself.
        assert_eq!(read_both(&r, "/../../etc/../tmp/x").unwrap(), b"root");
        assert!(read_both(&r, "/../host/x").is_err());
    }

    #[test]
    fn link_in_intermediate_directory() {
        let f = fixture();
        symlink(&f.outside, f.root.join("etc/dir_abs")).unwrap();
        symlink("../../..", f.root.join("data/sub/up")).unwrap();
        symlink("/data", f.root.join("etc/d")).unwrap();
        let r = HostRoot::new(&f.root);
        assert!(read_both(&r, "/etc/dir_abs/x").is_err());
        assert_eq!(read_both(&r, "/data/sub/up/tmp/x").unwrap(), b"root");
        assert_eq!(read_both(&r, "/etc/d/sub/f").unwrap(), b"root");
        assert!(read_both(&r, "/data/sub/up/host/x").is_err());
        // The other read methods resolve the same way.
        let names = r.read_dir("/etc/d/sub").unwrap();
        assert!(names.iter().any(|n| n == "f"), "{names:?}");
        assert!(r.read_dir("/etc/dir_abs").is_err());
        assert!(r.is_file("/etc/d/sub/f"));
        assert!(!r.exists("/etc/dir_abs/x"));
        assert_eq!(
            r.resolve("/data/sub/up/tmp/x").unwrap(),
            f.root.join("tmp/x")
        );
    }

    #[test]
    fn loop_names_the_link() {
        let f = fixture();
        symlink("b", f.root.join("etc/a")).unwrap();
        symlink("a", f.root.join("etc/b")).unwrap();
        let r = HostRoot::new(&f.root);
        let e = read_both(&r, "/etc/a").unwrap_err();
        assert!(e.contains("/etc/a") && e.contains("symbolic links"), "{e}");
        assert!(
            e.contains("/etc/b -> a") || e.contains("/etc/a -> b"),
            "{e}"
        );
        assert!(matches!(
            r.metadata("/etc/a"),
            Err(ReadError::LinkLoop { .. })
        ));
    }

    #[test]
    fn forty_links_resolve_forty_one_do_not() {
        let f = fixture();
        std::fs::write(f.root.join("etc/l0"), b"end").unwrap();
        for i in 1..=MAX_SYMLINKS + 1 {
            symlink(format!("l{}", i - 1), f.root.join(format!("etc/l{i}"))).unwrap();
        }
        let r = HostRoot::new(&f.root);
        assert_eq!(
            read_both(&r, &format!("/etc/l{MAX_SYMLINKS}")).unwrap(),
            b"end"
        );
        let e = read_both(&r, &format!("/etc/l{}", MAX_SYMLINKS + 1)).unwrap_err();
        assert!(e.contains("symbolic links"), "{e}");
    }

    #[test]
    fn read_link_and_symlink_metadata_do_not_follow_the_last() {
        let f = fixture();
        symlink("/devices/x", f.root.join("etc/ppt0")).unwrap();
        symlink("/etc", f.root.join("data/e")).unwrap();
        let r = HostRoot::new(&f.root);
        assert_eq!(
            r.read_link("/data/e/ppt0").unwrap(),
            PathBuf::from("/devices/x")
        );
        assert!(r
            .symlink_metadata("/data/e/ppt0")
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!r.exists("/data/e/ppt0"));
    }

    #[test]
    fn size_limit() {
        let f = fixture();
        let r = HostRoot::new(&f.root);
        assert_eq!(r.read("/tmp/x", 4).unwrap(), b"root");
        let e = r.read("/tmp/x", 3).unwrap_err();
        assert!(
            matches!(
                e,
                ReadError::TooLarge {
                    size: 4,
                    limit: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(r.read_to_string("/tmp/x", 10).unwrap(), "root");
    }

    #[test]
    fn not_found_is_not_found() {
        let f = fixture();
        let r = HostRoot::new(&f.root);
        let e = r.open("/etc/nothing").unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(e.path(), "/etc/nothing");
        assert!(!r.exists("/etc/nothing"));
    }

    #[test]
    fn permission_error_says_what_to_do() {
        let e = ReadError::from_io(
            "/etc/ppt_matches",
            io::Error::from_raw_os_error(libc::EACCES),
        );
        let s = e.to_string();
        assert!(
            s.starts_with("cannot read /etc/ppt_matches: Permission denied"),
            "{s}"
        );
        assert!(
            s.contains("pfexec or sudo") && s.contains("--from snapshot:"),
            "{s}"
        );
    }
}
