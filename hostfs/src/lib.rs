//! The ground floor of pptctl's file access: every file it reads from a
//! host or a user, and every file it writes.
//!
//! It owns three things. [`HostRoot`]: host paths resolved inside an
//! alternate root as a chroot would (`--root`, boot media, sysfs trees),
//! so no link leads out. [`open_regular`] (and [`HostRoot::open`]): reads
//! that never block, opened `O_NONBLOCK | O_NOCTTY` and refused unless
//! they are regular files, so a FIFO or a device is named instead of
//! waited on. [`atomic`]: the one writer, a temporary created `O_EXCL |
//! O_NOFOLLOW` under a random name, `fsync`ed and renamed over its target,
//! for edited configuration ([`atomic::Tree`], locked, with backups) and
//! for files pptctl creates ([`atomic::NewFile`]).
//!
//! It never knows what a file means (no PCI, no illumos formats), never
//! prints and never exits: errors are typed and name the path the user
//! knows.

pub mod atomic;
mod error;
mod kind;
mod open;
mod read;
mod root;
mod sys;

pub use error::{ReadError, MAX_SYMLINKS, PERMISSION_HINT};
pub use kind::{FileKind, NotRegular};
pub use open::{open_device, open_regular, open_regular_nofollow, read_regular};
pub use read::read_limited;
pub use root::HostRoot;
