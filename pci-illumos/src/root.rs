//! The alternate root (`--root DIR`): every illumos file is read or written
//! under it, while messages name the host's own path (`/etc/ppt_matches`).

use std::path::{Path, PathBuf};

/// A filesystem root under which host paths are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoot {
    dir: PathBuf,
}

impl HostRoot {
    /// A root at `dir` (`/` for the running host).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        HostRoot { dir: dir.into() }
    }

    /// The directory this root stands for.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the host path `host_path` (absolute, e.g. `/etc/ppt_matches`)
    /// lives on this machine.
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.dir.join(host_path.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_under_root() {
        let r = HostRoot::new("/tmp/x");
        assert_eq!(
            r.path("/etc/ppt_matches"),
            PathBuf::from("/tmp/x/etc/ppt_matches")
        );
        assert_eq!(
            HostRoot::new("/").path("/dev/ppt0"),
            PathBuf::from("/dev/ppt0")
        );
    }
}
