//! Loading a host, one home for the session and the fleet alike.
//!
//! * the `--from` grammar ([`SourceSpec`]) and the loader of live trees,
//!   sysfs trees, lspci dumps, devinfo snapshots and format 1 snapshots
//!   ([`load_host`], in `source`);
//! * which snapshot format a document is ([`snapshot_format`]: the one
//!   place that decides it and refuses an unknown format).
//!
//! A version 2 snapshot is replayed as a session (its host and captured
//! configuration, nothing read from this machine): `Session::replay`,
//! which reads it through here. `Session::open` loads through here; so
//! does the fleet when it stores a snapshot file.

use pci_core::sources::SNAPSHOT_FORMAT;

mod source;

pub use source::{join_cfgspace, load_host, LoadError, LoadOptions, SourceSpec};

use crate::snapshot::{format_of, SnapshotError, FORMAT_V2};

/// Which snapshot format a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotFormat {
    /// Format 1 (`pptctl-snapshot/1`), or a document with no `format`:
    /// pci-core's snapshot reader takes it and says what is wrong.
    V1,
    /// Version 2 ([`FORMAT_V2`]): a host with its captured configuration
    /// and VMs.
    V2,
}

/// The format of the snapshot document `bytes` (`shown` names it in the
/// message); an error for a `format` this pptctl does not read.
pub fn snapshot_format(bytes: &[u8], shown: &str) -> Result<SnapshotFormat, SnapshotError> {
    match format_of(bytes).as_deref() {
        Some(FORMAT_V2) => Ok(SnapshotFormat::V2),
        Some(f) if f != SNAPSHOT_FORMAT => Err(SnapshotError::Invalid {
            file: shown.to_string(),
            message: format!(
                "unsupported snapshot format {f:?}; this pptctl reads {SNAPSHOT_FORMAT:?} and {FORMAT_V2:?}"
            ),
        }),
        _ => Ok(SnapshotFormat::V1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_answer_to_which_snapshot_format() {
        let v2 = format!(r#"{{"format":"{FORMAT_V2}"}}"#);
        assert_eq!(
            snapshot_format(v2.as_bytes(), "a").ok(),
            Some(SnapshotFormat::V2)
        );
        let v1 = format!(r#"{{"format":"{SNAPSHOT_FORMAT}","functions":[]}}"#);
        assert_eq!(
            snapshot_format(v1.as_bytes(), "a").ok(),
            Some(SnapshotFormat::V1)
        );
        // No format, or not JSON at all: format 1's reader says what is wrong.
        assert_eq!(snapshot_format(b"{}", "a").ok(), Some(SnapshotFormat::V1));
        assert_eq!(
            snapshot_format(b"not json", "a").ok(),
            Some(SnapshotFormat::V1)
        );
        let e = snapshot_format(br#"{"format":"pptctl-snapshot/9"}"#, "h.json").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "h.json: unsupported snapshot format \"pptctl-snapshot/9\"; this pptctl reads {SNAPSHOT_FORMAT:?} and {FORMAT_V2:?}"
            )
        );
    }
}
