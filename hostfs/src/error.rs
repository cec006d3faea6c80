//! [`ReadError`]: why a file could not be read, naming the host path (and
//! the link being followed, where resolution went through one).

use std::io;

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

    pub(crate) fn with_link(path: String, link: Option<String>, source: io::Error) -> Self {
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
