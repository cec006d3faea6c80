//! A session replaying a version 2 snapshot: its host and its captured
//! configuration, nothing read from this machine. The format is decided
//! and the host read by [`crate::host_load`]; this makes the session.

use std::path::Path;

use super::{Replay, Session, SessionError, SessionOptions};
use crate::host_load::{join_cfgspace, snapshot_format, SnapshotFormat};
use crate::snapshot::{read_bounded, SnapshotError, SnapshotV2};

impl Session {
    /// The snapshot file `file` replayed when it is version 2; `None` for
    /// format 1 (or not a snapshot), which
    /// [`crate::host_load::load_host`] reads and judges.
    pub fn replay_file(
        opts: &SessionOptions,
        file: &Path,
    ) -> Result<Option<Session>, SessionError> {
        let bytes = read_bounded(file)?;
        let shown = file.display().to_string();
        match snapshot_format(&bytes, &shown)? {
            SnapshotFormat::V1 => Ok(None),
            SnapshotFormat::V2 => {
                let snap = SnapshotV2::parse(&bytes, &shown)?;
                Session::replay(opts, snap, &shown).map(Some)
            }
        }
    }

    /// A session replaying a parsed version 2 snapshot (`shown` names it
    /// in messages): its host and captured configuration. Nothing is read
    /// from this machine except `opts.cfgspace`, when given (`--root` and
    /// `--boot-media` are ignored).
    pub fn replay(
        opts: &SessionOptions,
        snap: SnapshotV2,
        shown: &str,
    ) -> Result<Session, SessionError> {
        let invalid = |message: String| SnapshotError::Invalid {
            file: shown.to_string(),
            message,
        };
        let mut host = snap.to_host().map_err(invalid)?;
        let captured = snap.to_captured().map_err(invalid)?;
        // --cfgspace joins raw config space by address, as for any source.
        join_cfgspace(&mut host, opts.cfgspace.as_deref())?;
        Ok(Session::from_parts(opts, host, captured).replaying(Replay {
            host: snap.host,
            vms: snap.vms,
        }))
    }
}
