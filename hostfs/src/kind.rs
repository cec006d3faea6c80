//! What kind of file a path holds, in words for a message.

use std::fmt;
use std::fs::FileType;
use std::io;
use std::os::unix::fs::FileTypeExt;

/// The kind of a file system object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link (seen without following it).
    Symlink,
    /// A FIFO (named pipe): opening it for reading waits for a writer.
    Fifo,
    /// A character device (`/dev/zero`, a terminal).
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A Unix-domain socket.
    Socket,
    /// Anything else (an illumos door, an event port).
    Other,
}

impl FileKind {
    /// The kind of `t`.
    pub fn of(t: FileType) -> Self {
        if t.is_file() {
            FileKind::Regular
        } else if t.is_dir() {
            FileKind::Directory
        } else if t.is_symlink() {
            FileKind::Symlink
        } else if t.is_fifo() {
            FileKind::Fifo
        } else if t.is_char_device() {
            FileKind::CharDevice
        } else if t.is_block_device() {
            FileKind::BlockDevice
        } else if t.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Regular => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Symlink => "a symbolic link",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "a special file",
        })
    }
}

/// The error inside an [`io::Error`] (kind `InvalidInput`) for a file that
/// is not what the reader expects: `a FIFO (named pipe), not a regular
/// file`. Callers' messages then read `cannot read PATH: a FIFO …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{found}, not a regular file")]
pub struct NotRegular {
    /// What was found instead.
    pub found: FileKind,
}

impl NotRegular {
    /// The [`io::Error`] carrying this refusal.
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, self)
    }

    /// The refusal inside `e`, when `e` is one.
    pub fn of(e: &io::Error) -> Option<NotRegular> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<NotRegular>())
            .copied()
    }
}
