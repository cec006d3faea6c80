//! The configuration files that decide binding and candidacy, read once.
//!
//! Every prediction (`binding::predict` through [`crate::binding::KernelFiles`],
//! libppt's `ppt_matches` through [`crate::matches::PptMatches`], the next
//! boot from the boot media) reads from one captured [`ConfigFiles`] set,
//! never from the filesystem directly. A host snapshot records the set, so
//! replaying it answers exactly as the original host did.
//!
//! All reads go through [`read_file`] and [`list_dir`], the one place
//! that touches the filesystem for these files and for the driver module
//! directories (recorded for the record; which drivers are active comes
//! from `name_to_major` and the boot options, `binding::KernelFiles`).

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read};

use crate::root::{HostRoot, ReadError};

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

/// The driver module directories krtld searches on x86, in its order: the
/// default module path (`MOD_DEFPATH`, illumos-gate
/// `usr/src/uts/common/sys/modctl.h`) after the platform directory the
/// kernel booted from (`/platform/i86pc/kernel /kernel /usr/kernel`), each
/// with its `drv` and `drv/amd64` directories. Their listings are captured
/// and recorded in snapshots; they do not decide which drivers are active
/// (the kernel binds by `name_to_major`, `binding::KernelFiles::driver_active`).
pub const DRIVER_DIRS: [&str; 6] = [
    "/platform/i86pc/kernel/drv/amd64",
    "/platform/i86pc/kernel/drv",
    "/kernel/drv/amd64",
    "/kernel/drv",
    "/usr/kernel/drv/amd64",
    "/usr/kernel/drv",
];

/// The most entries read from one module directory (a real `/kernel/drv`
/// holds a few hundred).
pub const MAX_DIR_ENTRIES: usize = 1 << 16;

/// What listing one directory gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirState {
    /// The names of the regular files and symbolic links in it (UTF-8
    /// names only; module names are ASCII), sorted.
    Listed(BTreeSet<String>),
    /// The directory does not exist.
    Absent,
    /// The directory exists but could not be listed (or holds more than
    /// [`MAX_DIR_ENTRIES`] entries).
    Unreadable {
        /// The kind of the I/O error.
        kind: ErrorKind,
        /// The error as the system worded it.
        message: String,
    },
}

/// Lists the regular files and symbolic links in the directory
/// `host_path` under `root` (resolved inside the root, [`HostRoot::read_dir`]):
/// the one function through which the module directories are read.
pub fn list_dir(root: &HostRoot, host_path: &str) -> DirState {
    let entries = match root.read_dir(host_path) {
        Ok(e) => e,
        Err(e) if e.is_not_found() => return DirState::Absent,
        Err(e) => {
            return DirState::Unreadable {
                kind: e.kind(),
                message: e.reason(),
            }
        }
    };
    if entries.len() > MAX_DIR_ENTRIES {
        return DirState::Unreadable {
            kind: ErrorKind::Other,
            message: format!("more than {MAX_DIR_ENTRIES} entries"),
        };
    }
    let mut names = BTreeSet::new();
    for entry in entries {
        let Some(name) = entry.to_str() else { continue };
        let path = format!("{}/{name}", host_path.trim_end_matches('/'));
        let is_file = root
            .symlink_metadata(&path)
            .is_ok_and(|m| m.file_type().is_file() || m.file_type().is_symlink());
        if is_file {
            names.insert(name.to_string());
        }
    }
    DirState::Listed(names)
}

/// One captured directory listing (a root directory, by host path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedDir {
    /// Its host path (absolute, `/`-separated).
    pub path: String,
    /// What listing it gave.
    pub state: DirState,
}

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

    /// The error of an unreadable file as a [`ReadError`] naming `shown`.
    pub fn read_error(&self, shown: &str) -> Option<ReadError> {
        self.io_error().map(|source| ReadError::Io {
            path: shown.to_string(),
            link: None,
            source,
        })
    }

    /// The I/O error of an unreadable file, rebuilt with its kind and text.
    pub(crate) fn io_error(&self) -> Option<std::io::Error> {
        match self {
            FileState::Unreadable { kind, message } => {
                Some(std::io::Error::new(*kind, message.clone()))
            }
            _ => None,
        }
    }
}

/// Reads `host_path` under `root` whole, at most [`MAX_CONFIG_FILE`]
/// bytes: the one function through which the configuration files are read.
/// The path resolves as the root sees it ([`HostRoot::open`]): a link never
/// leads out of the root, and a read refused by permissions says what to do.
pub fn read_file(root: &HostRoot, host_path: &str) -> FileState {
    let unreadable = |e: ReadError| FileState::Unreadable {
        kind: e.kind(),
        message: e.reason(),
    };
    let f = match root.open(host_path) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return FileState::Absent,
        Err(e) => return unreadable(e),
    };
    let io_unreadable = |e: std::io::Error| unreadable(ReadError::from_io(host_path, e));
    let size = match f.metadata() {
        Ok(m) => m.len(),
        Err(e) => return io_unreadable(e),
    };
    if size > MAX_CONFIG_FILE {
        return FileState::TooLarge { size };
    }
    let mut bytes = Vec::new();
    // `take` also bounds a file that grows while read.
    if let Err(e) = f.take(MAX_CONFIG_FILE + 1).read_to_end(&mut bytes) {
        return io_unreadable(e);
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
/// and candidacy, and the driver module directories, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFiles {
    files: Vec<CapturedFile>,
    dirs: Vec<CapturedDir>,
}

const ABSENT: FileState = FileState::Absent;

impl ConfigFiles {
    /// Reads [`ROOT_FILES`] and lists [`DRIVER_DIRS`] under `root`.
    pub fn capture_root(root: &HostRoot) -> ConfigFiles {
        let mut set = ConfigFiles::default();
        for p in ROOT_FILES {
            set.capture(Origin::Root, p, root);
        }
        for d in DRIVER_DIRS {
            set.insert_dir(CapturedDir {
                path: d.to_string(),
                state: list_dir(root, d),
            });
        }
        set
    }

    /// Records a directory listing (from a snapshot, or read elsewhere),
    /// replacing an earlier one of the same path.
    pub fn insert_dir(&mut self, dir: CapturedDir) {
        match self.dirs.iter_mut().find(|d| d.path == dir.path) {
            Some(old) => *old = dir,
            None => self.dirs.push(dir),
        }
    }

    /// Every captured directory listing, in capture order.
    pub fn dirs(&self) -> &[CapturedDir] {
        &self.dirs
    }

    /// The listing of the root directory `host_path`, when captured.
    pub fn dir(&self, host_path: &str) -> Option<&DirState> {
        self.dirs
            .iter()
            .find(|d| d.path == host_path)
            .map(|d| &d.state)
    }

    /// Reads `path` under `base` (the host root, or the boot media as its
    /// own root) and records it as `path` of `origin` (replacing an earlier
    /// capture of the same file).
    pub fn capture(&mut self, origin: Origin, path: &str, base: &HostRoot) {
        self.insert(CapturedFile {
            origin,
            path: path.to_string(),
            state: read_file(base, path),
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
        assert_eq!(set.dirs().len(), DRIVER_DIRS.len());
        assert_eq!(set.dir("/kernel/drv"), Some(&DirState::Absent));
    }

    #[test]
    fn lists_module_dirs() {
        let t = tempfile::tempdir().unwrap();
        let drv = t.path().join("kernel/drv/amd64");
        std::fs::create_dir_all(drv.join("subdir")).unwrap();
        std::fs::write(drv.join("ppt"), b"").unwrap();
        std::fs::write(t.path().join("kernel/drv/ppt.conf"), b"").unwrap();
        let set = ConfigFiles::capture_root(&HostRoot::new(t.path()));
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            set.dir("/kernel/drv/amd64"),
            Some(&DirState::Listed(names(&["ppt"])))
        );
        assert_eq!(
            set.dir("/kernel/drv"),
            Some(&DirState::Listed(names(&["ppt.conf"])))
        );
        assert_eq!(set.dir("/usr/kernel/drv"), Some(&DirState::Absent));
        assert_eq!(set.dir("/etc"), None);
    }
}
