//! Portable sources of PCI functions: Linux sysfs trees, `lspci -x…` dumps
//! and the JSON host snapshot, all behind one [`Source`] trait that returns
//! the shared [`Host`] model.
//!
//! Sources never print. Problems that stop a source are a [`SourceError`]
//! naming the file (and line); problems with one function or one file are
//! [`crate::Diagnostic`]s in [`Host::warnings`] and the source goes on.

use std::io;
use std::path::{Path, PathBuf};

use crate::function::{Function, Identity};
use crate::host::Host;

pub mod dump;
pub mod filter;
pub mod hostfacts;
pub mod snapshot;
pub mod sysfs;

pub use dump::DumpSource;
pub use snapshot::{SnapshotSource, SNAPSHOT_FORMAT};
pub use sysfs::{SysfsDetail, SysfsSource};

/// Something that can read a whole host.
pub trait Source {
    /// Reads every PCI function the source knows, sorted as `lspci` sorts
    /// them (domain, bus, device, function).
    fn load(&self) -> Result<Host, SourceError>;
}

/// Why a source could not produce a host at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file or directory could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as the user gave it (or `-` for stdin).
        path: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A read refused by permissions, or a link loop: the message names
    /// the file and says what to do.
    #[error(transparent)]
    Read(#[from] crate::root::ReadError),
    /// A line of a dump that looks like hex but is not.
    #[error("{file}:{line}: {message}")]
    Malformed {
        /// The dump file (`-` for stdin).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// The input is not what the source reads (binary data, no functions).
    #[error("{file}: {message}")]
    NotRecognised {
        /// The file or directory.
        file: String,
        /// What was expected and what was found.
        message: String,
    },
    /// A snapshot that is not valid JSON or not the expected schema.
    #[error("{file}: {message}")]
    Snapshot {
        /// The snapshot file.
        file: String,
        /// What is wrong, with the JSON line and column where known.
        message: String,
    },
}

impl SourceError {
    /// An I/O error on `path`.
    /// A permission error becomes [`SourceError::Read`], whose message says
    /// to run as root or read an offline source.
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        let path = path.as_ref().display().to_string();
        if source.kind() == io::ErrorKind::PermissionDenied {
            return SourceError::Read(crate::root::ReadError::from_io(path, source));
        }
        SourceError::Io { path, source }
    }
}

/// Reads at most `limit` bytes of a file; more is an error, so a huge or
/// endless file (a device node, `/dev/zero`) cannot exhaust memory.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, SourceError> {
    use std::io::Read;
    let file = hostfs::open_regular(path).map_err(|e| SourceError::io(path, e))?;
    // Refuse by size first, so a huge file costs no memory at all (`take`
    // still bounds special files whose size says nothing).
    let size = file.metadata().map_or(0, |m| m.len());
    if size > limit {
        return Err(SourceError::NotRecognised {
            file: path.display().to_string(),
            message: format!("{size} bytes, larger than {limit}; refusing to read it"),
        });
    }
    let mut buf = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| SourceError::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(SourceError::NotRecognised {
            file: path.display().to_string(),
            message: format!("larger than {limit} bytes; refusing to read it"),
        });
    }
    Ok(buf)
}

/// Identity registers from raw config bytes, read the way libpci reads them
/// from a dump: each register that lies wholly inside the bytes present is
/// taken, a register past the end reads as all ones (`0xff…`), as a failed
/// config read does on real hardware.
pub fn identity_from_config(config: &[u8]) -> Identity {
    let byte = |pos: usize| config.get(pos).copied().unwrap_or(0xff);
    let word = |pos: usize| -> u16 {
        match (config.get(pos), config.get(pos + 1)) {
            (Some(&lo), Some(&hi)) => u16::from_le_bytes([lo, hi]),
            _ => 0xffff,
        }
    };
    let header_type = config.get(0x0e).copied();
    // Subsystem IDs live at 0x2c for type 0 and 0x40 for CardBus (type 2);
    // bridges (type 1) keep them in the SSVID capability.
    let (subsystem_vendor, subsystem) = match header_type.map(|h| h & 0x7f) {
        Some(0) if config.len() >= 0x30 => (Some(word(0x2c)), Some(word(0x2e))),
        Some(2) if config.len() >= 0x44 => (Some(word(0x40)), Some(word(0x42))),
        Some(1) => crate::config::ConfigSpace::new(config)
            .ssvid()
            .map_or((None, None), |s| {
                (Some(s.subsystem_vendor), Some(s.subsystem))
            }),
        _ => (None, None),
    };
    Identity {
        vendor: word(0),
        device: word(2),
        subsystem_vendor,
        subsystem,
        class: (u32::from(word(0x0a)) << 8) | u32::from(byte(0x09)),
        revision: byte(0x08),
        header_type,
    }
}

/// Sorts functions by (domain, bus, device, function), as `lspci` does for
/// every access method. The sort is stable: duplicates keep input order
/// (glibc's `qsort` merge sort does the same for lspci).
pub fn sort_functions(functions: &mut [Function]) {
    functions.sort_by_key(|f| f.address);
}

/// A path for messages: as given.
pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// The default sysfs root on Linux.
pub fn default_sysfs_root() -> PathBuf {
    PathBuf::from("/sys")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_full_header() {
        let mut c = vec![0u8; 64];
        c[0..4].copy_from_slice(&[0x86, 0x80, 0x57, 0x0d]);
        c[8] = 0x05;
        c[9] = 0x01;
        c[0x0a] = 0x00;
        c[0x0b] = 0x06;
        c[0x0e] = 0x80;
        c[0x2c..0x30].copy_from_slice(&[0xf4, 0x1a, 0x01, 0x11]);
        let id = identity_from_config(&c);
        assert_eq!(id.vendor, 0x8086);
        assert_eq!(id.device, 0x0d57);
        assert_eq!(id.class, 0x060001);
        assert_eq!(id.revision, 5);
        assert_eq!(id.header_type, Some(0x80));
        assert_eq!(id.subsystem_vendor, Some(0x1af4));
        assert_eq!(id.subsystem, Some(0x1101));
    }

    #[test]
    fn identity_short_reads_as_ones() {
        let id = identity_from_config(&[0x86, 0x80, 0x57]);
        assert_eq!(id.vendor, 0x8086);
        assert_eq!(id.device, 0xffff);
        assert_eq!(id.class, 0xffffff);
        assert_eq!(id.revision, 0xff);
        assert_eq!(id.header_type, None);
        assert_eq!(id.subsystem_vendor, None);
    }
}
