//! The alternate root (`--root DIR`) under which host files are read.
//!
//! Kept for the transition: the confined file system moved to the `hostfs`
//! crate (pci-core holds PCI facts only); new code names [`hostfs::HostRoot`]
//! and [`hostfs::ReadError`] directly.

pub use hostfs::{HostRoot, ReadError, MAX_SYMLINKS, PERMISSION_HINT};
