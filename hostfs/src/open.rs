//! Opening a file to read it without ever blocking: `O_NONBLOCK |
//! O_NOCTTY`, then `fstat`; only a regular file is handed back. A FIFO
//! opened this way returns at once (a blocking open waits for a writer
//! forever), a terminal does not become the controlling one, and a device
//! or socket is named and refused before a byte is read. `O_NONBLOCK`
//! changes nothing for reading a regular file.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::ReadError;
use crate::kind::{FileKind, NotRegular};
use crate::read::read_limited;

/// Flags added to every read-only open of an input.
pub(crate) const READ_FLAGS: libc::c_int = libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;

/// Opens `path` for reading, refusing anything but a regular file (the
/// error holds a [`NotRegular`] naming what it is: `a FIFO (named pipe),
/// not a regular file`). Links are followed as the caller's path says.
pub fn open_regular(path: impl AsRef<Path>) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(READ_FLAGS)
        .open(path)?;
    expect_kind(f, FileKind::Regular)
}

/// [`open_regular`], except that a final symbolic link is not followed:
/// the open fails with `ELOOP` (a directory walk that must not leave its
/// tree, or must report links rather than read through them).
pub fn open_regular_nofollow(path: impl AsRef<Path>) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(READ_FLAGS | libc::O_NOFOLLOW)
        .open(path)?;
    expect_kind(f, FileKind::Regular)
}

/// Opens the character device `path` (a `/dev/ppt` node, a nexus's
/// `:reg`) for `ioctl`s, without blocking; anything else is refused.
pub fn open_device(path: impl AsRef<Path>) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(READ_FLAGS)
        .open(path)?;
    expect_kind(f, FileKind::CharDevice)
}

/// `f` when `fstat` says it is of kind `want`, the refusal otherwise.
pub(crate) fn expect_kind(f: File, want: FileKind) -> io::Result<File> {
    let found = FileKind::of(f.metadata()?.file_type());
    if found == want {
        Ok(f)
    } else if want == FileKind::Regular {
        Err(NotRegular { found }.into_io())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{found}, not {want}"),
        ))
    }
}

/// Reads the whole regular file `path`, at most `limit` bytes (more is
/// [`ReadError::TooLarge`]); errors name `path` as given.
pub fn read_regular(path: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>, ReadError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let f = open_regular(path).map_err(|e| ReadError::from_io(shown.clone(), e))?;
    read_limited(f, &shown, limit)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A FIFO, a device and a directory are named, never read (a FIFO
    /// opened for reading without `O_NONBLOCK` would wait for a writer).
    #[test]
    fn only_regular_files_are_opened() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; the result is checked.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
        let cases = [
            (fifo.as_path(), FileKind::Fifo),
            (Path::new("/dev/null"), FileKind::CharDevice),
            (t.path(), FileKind::Directory),
        ];
        for (p, kind) in cases {
            let e = open_regular(p).unwrap_err();
            assert_eq!(NotRegular::of(&e), Some(NotRegular { found: kind }));
            let e = read_regular(p, 10).unwrap_err();
            assert!(e.to_string().contains(&kind.to_string()), "{e}");
        }
        assert!(open_device("/dev/null").is_ok());
        assert!(open_device(&fifo).is_err());
        std::fs::write(t.path().join("f"), "x").unwrap();
        assert_eq!(read_regular(t.path().join("f"), 10).unwrap(), b"x");
    }
}
