//! `snapshot:FILE`: the versioned JSON host snapshot `pptctl snapshot`
//! writes (README.md; schema in docs/snapshot.md).
//!
//! The document is the serde form of [`Host`] with a `format` key first:
//! `{"format": "pptctl-snapshot/1", "source": ..., "functions": [...],
//! "nexus": [...], "ppt_links": [...], "facts": {...}}`. Raw config space is
//! one lower-case hex string per function ([`crate::hexbytes`]). Warnings
//! are not saved; a reader gets the host exactly as the writer read it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{read_bounded, shown, sort_functions, Source, SourceError};
use crate::host::Host;

/// The `format` value of this version of the snapshot.
pub const SNAPSHOT_FORMAT: &str = "pptctl-snapshot/1";

/// Largest snapshot we read: a host with thousands of functions with 4 KiB
/// config space each is a few tens of MiB.
const SNAPSHOT_LIMIT: u64 = 256 * 1024 * 1024;

/// The snapshot document: a format tag, where it was read from, the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// The source the writer read (`sysfs:/sys`, `devinfo:...`), for people.
    #[serde(default)]
    pub source: Option<String>,
    /// The host.
    #[serde(flatten)]
    pub host: Host,
}

impl Snapshot {
    /// Wraps a host for writing.
    pub fn new(host: Host, source: Option<String>) -> Self {
        Snapshot {
            format: SNAPSHOT_FORMAT.to_string(),
            source,
            host,
        }
    }

    /// The JSON text (pretty, stable key order, trailing newline).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}

/// The `snapshot:` source.
#[derive(Debug, Clone)]
pub struct SnapshotSource {
    /// The snapshot file.
    pub path: PathBuf,
}

impl SnapshotSource {
    /// A snapshot in `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SnapshotSource { path: path.into() }
    }
}

impl Source for SnapshotSource {
    fn load(&self) -> Result<Host, SourceError> {
        let bytes = read_bounded(&self.path, SNAPSHOT_LIMIT)?;
        parse_snapshot(&bytes, &shown(&self.path))
    }
}

/// Only the format tag, read first so a wrong document gets a clear message.
#[derive(Deserialize)]
struct FormatOnly {
    format: Option<serde_json::Value>,
}

/// Parses snapshot JSON; `name` is used in messages.
pub fn parse_snapshot(bytes: &[u8], name: &str) -> Result<Host, SourceError> {
    let err = |message: String| SourceError::Snapshot {
        file: name.to_string(),
        message,
    };
    let tag: FormatOnly = serde_json::from_slice(bytes).map_err(|e| {
        err(format!(
            "not a pptctl snapshot (invalid JSON: {})",
            crate::text::escape(&e.to_string())
        ))
    })?;
    match tag.format {
        Some(serde_json::Value::String(f)) if f == SNAPSHOT_FORMAT => {}
        Some(other) => {
            return Err(err(format!(
                "unsupported snapshot format {other}; this pptctl reads \"{SNAPSHOT_FORMAT}\""
            )))
        }
        None => {
            return Err(err(format!(
                "not a pptctl snapshot: no \"format\" key (expected \"{SNAPSHOT_FORMAT}\")"
            )))
        }
    }
    let snap: Snapshot = serde_json::from_slice(bytes).map_err(|e| err(e.to_string()))?;
    let mut host = snap.host;
    sort_functions(&mut host.functions);
    Ok(host)
}

/// Reads a snapshot file.
pub fn load_snapshot_file(path: &Path) -> Result<Host, SourceError> {
    SnapshotSource::new(path).load()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Address, Function};

    fn host() -> Host {
        let mut h = Host::default();
        let cfg = vec![0x86, 0x80, 0x57, 0x0d];
        let ids = crate::sources::identity_from_config(&cfg);
        let mut f = Function::new(Address::new(0, 0, 1, 0).unwrap(), ids, cfg);
        f.bar_sizes[0] = Some(4096);
        f.driver = Some("virtio-pci".into());
        h.functions.push(f);
        h
    }

    #[test]
    fn round_trip() {
        let h = host();
        let json = Snapshot::new(h.clone(), Some("sysfs:/sys".into()))
            .to_json()
            .unwrap();
        assert!(json.starts_with("{\n  \"format\": \"pptctl-snapshot/1\""));
        assert!(json.contains("\"config\": \"8680570d\""), "{json}");
        let back = parse_snapshot(json.as_bytes(), "s.json").unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn rejects_other_formats() {
        let e = parse_snapshot(br#"{"format":"pptctl-snapshot/2"}"#, "s").unwrap_err();
        assert!(e.to_string().contains("unsupported snapshot format"), "{e}");
        let e = parse_snapshot(br#"{"functions":[]}"#, "s").unwrap_err();
        assert!(e.to_string().contains("no \"format\""), "{e}");
        let e = parse_snapshot(b"\x00\x01garbage", "s").unwrap_err();
        assert!(e.to_string().starts_with("s: not a pptctl snapshot"), "{e}");
        let e = parse_snapshot(
            br#"{"format":"pptctl-snapshot/1","functions":[{"address":"zz"}]}"#,
            "s",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
