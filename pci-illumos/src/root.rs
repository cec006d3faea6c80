//! The alternate root (`--root DIR`): every illumos file is read or written
//! under it, while messages name the host's own path (`/etc/ppt_matches`).
//!
//! Kept for the transition: the type and its confined reads live in the
//! `hostfs` crate; new code names [`hostfs::HostRoot`] directly.

pub use hostfs::{HostRoot, ReadError, MAX_SYMLINKS, PERMISSION_HINT};
