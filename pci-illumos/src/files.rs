//! The configuration files that decide binding and candidacy, read once.
//!
//! Every prediction (`binding::predict` through [`crate::binding::KernelFiles`],
//! libppt's `ppt_matches` through [`crate::matches::PptMatches`], the next
//! boot from the boot media) reads from one captured [`ConfigFiles`] set,
//! never from the filesystem directly. A host snapshot records the set, so
//! replaying it answers exactly as the original host did.
//!
//! All reads go through [`read_file`], the one place that touches the
//! filesystem for these files.

use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::root::HostRoot;

/// The largest configuration file read (the real `driver_aliases` is a few
/// tens of kilobytes; the kernel loads these whole at boot).
pub const MAX_CONFIG_FILE: u64 = 16 << 20;

/// `/etc/release`: its first line names the distribution (SmartOS or not).
pub const RELEASE: &str = "/etc/release";

/// The files under `--root` that decide binding and candidacy, in the
/// order they are captured: the `/etc` copies, then the boot-module copies
/// under `/system/boot`, then `/etc/release`.
pub const ROOT_FILES: [&str; 11] = [
    "/etc/ppt_matches",
    "/etc/ppt_aliases",
    "/etc/driver_aliases",
    "/etc/name_to_major",
    "/etc/path_to_inst",
    "/system/boot/etc/ppt_matches",
    "/system/boot/etc/ppt_aliases",
    "/system/boot/etc/driver_aliases",
    "/system/boot/etc/name_to_major",
    "/system/boot/etc/path_to_inst",
    RELEASE,
];

/// What reading one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// The file's bytes.
    Present(Vec<u8>),
    /// The file does not exist.
    Absent,
    /// The file exists but could not be read.
    Unreadable {
        /// The kind of the I/O error.
        kind: ErrorKind,
        /// The I/O error as the system worded it.
        message: String,
    },
    /// The file is larger than [`MAX_CONFIG_FILE`]; not read.
    TooLarge {
        /// Its size in bytes.
        size: u64,
    },
}

impl FileState {
    /// The bytes, when the file was read.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            FileState::Present(b) => Some(b),
            _ => None,
        }
    }

    /// The I/O error of an unreadable file, rebuilt with its kind and text.
    pub fn io_error(&self) -> Option<std::io::Error> {
        match self {
            FileState::Unreadable { kind, message } => {
                Some(std::io::Error::new(*kind, message.clone()))
            }
            _ => None,
        }
    }
}

/// Reads `path` whole, at most [`MAX_CONFIG_FILE`] bytes: the one function
/// through which the configuration files are read.
pub fn read_file(path: &Path) -> FileState {
    let unreadable = |e: std::io::Error| FileState::Unreadable {
        kind: e.kind(),
        message: e.to_string(),
    };
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return FileState::Absent,
        Err(e) => return unreadable(e),
    };
    let size = match f.metadata() {
        Ok(m) => m.len(),
        Err(e) => return unreadable(e),
    };
    if size > MAX_CONFIG_FILE {
        return FileState::TooLarge { size };
    }
    let mut bytes = Vec::new();
    // `take` also bounds a file that grows while read.
    if let Err(e) = f.take(MAX_CONFIG_FILE + 1).read_to_end(&mut bytes) {
        return unreadable(e);
    }
    if bytes.len() as u64 > MAX_CONFIG_FILE {
        return FileState::TooLarge {
            size: bytes.len() as u64,
        };
    }
    FileState::Present(bytes)
}

/// Where a captured file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The host's root (`--root`); the path is the host path (`/etc/...`).
    Root,
    /// The boot media (`--boot-media`); the path is the path on the boot
    /// volume (`/boot/grub/menu.lst`, `/overlay/etc/ppt_aliases`).
    BootMedia,
}

impl Origin {
    /// `root` or `boot-media`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Root => "root",
            Origin::BootMedia => "boot-media",
        }
    }
}

/// One captured file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFile {
    /// Where it came from.
    pub origin: Origin,
    /// Its path within the origin (absolute, `/`-separated).
    pub path: String,
    /// What reading it gave.
    pub state: FileState,
}

/// The captured configuration of a host: every file that decides binding
/// and candidacy, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFiles {
    files: Vec<CapturedFile>,
}

const ABSENT: FileState = FileState::Absent;

impl ConfigFiles {
    /// Reads [`ROOT_FILES`] under `root`.
    pub fn capture_root(root: &HostRoot) -> ConfigFiles {
        let mut set = ConfigFiles::default();
        for p in ROOT_FILES {
            set.capture(Origin::Root, p, &root.path(p));
        }
        set
    }

    /// Reads `local` and records it as `path` of `origin` (replacing an
    /// earlier capture of the same file).
    pub fn capture(&mut self, origin: Origin, path: &str, local: &Path) {
        self.insert(CapturedFile {
            origin,
            path: path.to_string(),
            state: read_file(local),
        });
    }

    /// Records a file (from a snapshot, or read elsewhere).
    pub fn insert(&mut self, file: CapturedFile) {
        match self
            .files
            .iter_mut()
            .find(|f| f.origin == file.origin && f.path == file.path)
        {
            Some(old) => *old = file,
            None => self.files.push(file),
        }
    }

    /// Every captured file, in capture order.
    pub fn files(&self) -> &[CapturedFile] {
        &self.files
    }

    /// Whether `path` of `origin` was captured.
    pub fn has(&self, origin: Origin, path: &str) -> bool {
        self.files
            .iter()
            .any(|f| f.origin == origin && f.path == path)
    }

    /// What reading `path` of `origin` gave; a file never captured counts
    /// as absent.
    pub fn state(&self, origin: Origin, path: &str) -> &FileState {
        self.files
            .iter()
            .find(|f| f.origin == origin && f.path == path)
            .map_or(&ABSENT, |f| &f.state)
    }

    /// A root file's state (`/etc/...`, `/system/boot/...`).
    pub fn root(&self, host_path: &str) -> &FileState {
        self.state(Origin::Root, host_path)
    }

    /// Whether the root's `/etc/release` names SmartOS on its first line
    /// (SmartOS's `/etc` is a ramdisk rebuilt at every boot).
    pub fn is_smartos(&self) -> bool {
        self.root(RELEASE).bytes().is_some_and(|b| {
            let head = &b[..b.len().min(4096)];
            String::from_utf8_lossy(head)
                .lines()
                .next()
                .is_some_and(|l| l.contains("SmartOS"))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn captures_states() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc/ppt_aliases")).unwrap();
        std::fs::write(t.path().join("etc/ppt_matches"), b"pci10de\n").unwrap();
        std::fs::write(
            t.path().join("etc/release"),
            "                       SmartOS 20180830T001556Z x86_64\n",
        )
        .unwrap();
        let set = ConfigFiles::capture_root(&HostRoot::new(t.path()));
        assert_eq!(set.files().len(), ROOT_FILES.len());
        assert_eq!(
            set.root("/etc/ppt_matches").bytes(),
            Some(&b"pci10de\n"[..])
        );
        assert_eq!(set.root("/etc/driver_aliases"), &FileState::Absent);
        assert!(matches!(
            set.root("/etc/ppt_aliases"),
            FileState::Unreadable { .. }
        ));
        assert_eq!(set.root("/nowhere"), &FileState::Absent);
        assert!(set.is_smartos());
    }
}
