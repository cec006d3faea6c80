//! Resolving a host path inside the root: `openat2` where the kernel has
//! it, the component walk everywhere (and for every error, so the message
//! can name the link).

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::HostRoot;
use crate::error::{ReadError, MAX_SYMLINKS};
use crate::sys::{fstatat_nofollow, openat, readlinkat, DIR_FLAGS};

impl HostRoot {
    /// A descriptor for `host_path` opened with `flags`, resolved inside
    /// the root. `openat2` first on Linux; the walk where it is missing,
    /// and for every error so the message can name the link.
    pub(super) fn open_fd(
        &self,
        host_path: &str,
        flags: libc::c_int,
    ) -> Result<OwnedFd, ReadError> {
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
    pub(super) fn fast(
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

    /// [`HostRoot::open_fd`] by the component walk alone.
    pub(super) fn open_fd_walk(
        &self,
        host_path: &str,
        flags: libc::c_int,
    ) -> Result<OwnedFd, ReadError> {
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
    pub(super) fn walk(&self, host_path: &str, follow_last: bool) -> Result<Walked, ReadError> {
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
pub(super) fn link_of(fd: &OwnedFd, host_path: &str) -> Result<PathBuf, ReadError> {
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

/// Where a walk ended: the directories from the root down, and the last
/// component (absent when the path names a directory reached by `..` or
/// is the root itself).
pub(super) struct Walked {
    pub(super) stack: Vec<(OwnedFd, Vec<u8>)>,
    pub(super) name: Option<CString>,
    pub(super) link: Option<String>,
}

impl Walked {
    pub(super) fn top(&self) -> RawFd {
        self.stack.last().map_or(-1, |(fd, _)| fd.as_raw_fd())
    }

    pub(super) fn local(&self, dir: &Path) -> PathBuf {
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
