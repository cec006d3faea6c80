//! A session written as a version 2 snapshot, and a snapshot's
//! configuration read back as a session's. This lives with the session so
//! that the document format (`crate::snapshot`) knows nothing of sessions.

use std::path::Path;

use pci_illumos::files::{ConfigFiles, FileState};
use pci_illumos::root::HostRoot;

use super::{Captured, MediaRef, Session};
use crate::boot_media::BootStyle;
use crate::snapshot::convert;
use crate::snapshot::{
    captured_dir, captured_file, dir_v2, file_v2, now_rfc3339, BootMediaV2, HostInfo, SnapshotV2,
    VmsV2, FORMAT_V2,
};
use crate::zones::Zones;

/// The host name (`/etc/nodename`, else `/etc/hostname`: the first
/// non-empty first line), and what was skipped on the way: a file that
/// exists but cannot be read (a FIFO, a directory, too large) is named,
/// never silently passed over.
fn host_name(root: &Path) -> (Option<String>, Vec<String>) {
    let mut skipped = Vec::new();
    for p in ["/etc/nodename", "/etc/hostname"] {
        match pci_illumos::files::read_file(&HostRoot::new(root), p) {
            FileState::Present(b) => {
                let name = String::from_utf8_lossy(&b)
                    .lines()
                    .next()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty());
                if name.is_some() {
                    return (name, skipped);
                }
            }
            FileState::Absent => {}
            FileState::TooLarge { size } => skipped.push(format!(
                "{p}: {size} bytes, too large for a host name file; the snapshot does not take the host name from it"
            )),
            FileState::Unreadable { message, .. } => skipped.push(format!(
                "{p}: {message}; the snapshot does not take the host name from it"
            )),
        }
    }
    (None, skipped)
}

impl Session {
    /// What [`Session::snapshot`] passes over and a user should hear of:
    /// a host-name file under the root that exists but cannot be read.
    /// Empty for a replayed snapshot, which carries its own name.
    pub fn snapshot_warnings(&self) -> Vec<String> {
        if self.replayed().is_some() {
            return Vec::new();
        }
        host_name(self.options().root.as_path()).1
    }
}

impl SnapshotV2 {
    /// The snapshot of a session: its host, its captured configuration and
    /// the zones under its root. A session replaying a snapshot gives
    /// back that snapshot's configuration and zones.
    pub fn of(session: &Session) -> SnapshotV2 {
        let host = session.host();
        let captured = session.captured();
        let replayed = session.replayed();
        let (name, vms) = match replayed {
            Some(r) => (r.host.name.clone(), r.vms.clone()),
            None => {
                let root = session.options().root.as_path();
                let vms = match crate::zones::read(root) {
                    Zones::Known(zones) => VmsV2 {
                        state: "known".into(),
                        reason: None,
                        zones,
                    },
                    Zones::Unknown(reason) => VmsV2 {
                        state: "unknown".into(),
                        reason: Some(reason),
                        zones: Vec::new(),
                    },
                };
                (host_name(root).0, vms)
            }
        };
        SnapshotV2 {
            format: FORMAT_V2.to_string(),
            host: HostInfo {
                name,
                time: now_rfc3339(),
                os: host.facts.os.clone(),
                smartos: captured.files.is_smartos(),
            },
            source: Some(session.options().source_label()),
            functions: host.functions.iter().map(convert::function_v2).collect(),
            nexus: host.nexus.iter().map(convert::node_v2).collect(),
            ppt_links: host.ppt_links.iter().map(convert::link_v2).collect(),
            facts: convert::facts_v2(&host.facts),
            config_files: captured.files.files().iter().map(file_v2).collect(),
            module_dirs: captured.files.dirs().iter().map(dir_v2).collect(),
            boot_media: captured.media.as_ref().map(|m| BootMediaV2 {
                dir: m.shown.clone(),
                style: m.style.to_string(),
            }),
            boot_media_searched: captured.media_searched.clone(),
            boot_archive_notes: captured.archive_notes.clone(),
            vms,
        }
    }

    /// The configuration the snapshot records.
    pub(crate) fn to_captured(&self) -> Result<Captured, String> {
        let mut files = ConfigFiles::default();
        for f in &self.config_files {
            files.insert(captured_file(f)?);
        }
        for d in &self.module_dirs {
            files.insert_dir(captured_dir(d)?);
        }
        let media = match &self.boot_media {
            None => None,
            Some(m) => Some(MediaRef {
                shown: m.dir.clone(),
                style: m.style.parse::<BootStyle>()?,
            }),
        };
        Ok(Captured {
            files,
            media,
            media_searched: self.boot_media_searched.clone(),
            archive_notes: self.boot_archive_notes.clone(),
        })
    }
}
