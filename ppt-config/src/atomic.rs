//! Atomic, locked file writes with backups.
//!
//! Kept for the transition: the one atomic writer lives in
//! [`hostfs::atomic`]; new code names it there.

pub use hostfs::atomic::*;
