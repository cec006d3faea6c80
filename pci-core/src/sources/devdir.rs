//! A sysfs device directory whose files are opened relative to it.
//!
//! On Linux the directory is opened once with `O_PATH` and each file with
//! `openat`, so the kernel walks the long, symlinked path
//! (`bus/pci/devices/X` → `devices/pci0000:00/.../X`) once per device
//! instead of once per file: for `show -n` that second walk (of `class`
//! after `config`) was the whole gap to the raw-read floor (BENCHMARKS.md).
//! Elsewhere, or when the directory cannot be opened, files are opened by
//! joined path, with the same results and errors.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// A device directory.
pub(crate) struct DeviceDir {
    path: PathBuf,
    #[cfg(target_os = "linux")]
    fd: Option<std::os::fd::OwnedFd>,
}

impl DeviceDir {
    /// Opens `path`; never fails (errors surface when a file is opened).
    pub(crate) fn open(path: &Path) -> DeviceDir {
        DeviceDir {
            path: path.to_path_buf(),
            #[cfg(target_os = "linux")]
            fd: linux::open_dir(path),
        }
    }

    /// Opens the file `name` (a plain file name) in the directory for reading.
    pub(crate) fn open_file(&self, name: &str) -> io::Result<File> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            return linux::open_at(fd, name);
        }
        File::open(self.path.join(name))
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    /// `open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)`; `None` on any error.
    pub(super) fn open_dir(path: &Path) -> Option<OwnedFd> {
        let c = CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        // SAFETY: a non-negative return is a new descriptor we now own.
        (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// `openat(dir, name, O_RDONLY | O_CLOEXEC)` as a `File`.
    pub(super) fn open_at(dir: &OwnedFd, name: &str) -> io::Result<File> {
        let c = CString::new(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: `dir` is an open descriptor and `c` a valid NUL-terminated
        // string, both alive for the call.
        let fd = unsafe {
            libc::openat(
                dir.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a non-negative return is a new descriptor we now own.
        Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn opens_files_relative_and_reports_missing() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("class"), "0x030000\n").unwrap();
        let d = DeviceDir::open(t.path());
        let mut s = String::new();
        d.open_file("class")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "0x030000\n");
        let e = d.open_file("config").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        // A directory that does not exist: files fail the same way.
        let gone = DeviceDir::open(&t.path().join("nope"));
        assert_eq!(
            gone.open_file("class").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
