//! The alternate root (`--root DIR`): every illumos file is read or written
//! under it, while messages name the host's own path (`/etc/ppt_matches`).
//! The type and its confined reads live in [`pci_core::root`].

pub use pci_core::root::{HostRoot, ReadError, MAX_SYMLINKS, PERMISSION_HINT};
