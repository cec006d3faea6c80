//! `fleet ingest`: files and directories of snapshots into the database,
//! one file at a time (memory is bounded by the largest file, never by the
//! number of files), one transaction per snapshot.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::derive::{derive, FileFacts};
use crate::error::FleetError;
use crate::fleet::{Fleet, Stored};

/// Largest snapshot file ingested: a few thousand functions with 4 KiB
/// config space each; keeps one ingest well under 64 MiB of memory.
pub const MAX_SNAPSHOT_BYTES: u64 = 24 * 1024 * 1024;

/// What happened to one file.
#[derive(Debug)]
pub enum FileOutcome {
    /// Stored as a new snapshot of `host`.
    Stored {
        /// The host name.
        host: String,
        /// The snapshot's id.
        id: i64,
    },
    /// The same bytes were stored before; nothing changed.
    Unchanged,
    /// Refused; nothing of it was stored.
    Refused(FleetError),
}

/// Totals of one ingest run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// New snapshots stored.
    pub stored: usize,
    /// Files already stored.
    pub unchanged: usize,
    /// Files refused.
    pub refused: usize,
}

/// sha256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn read_bounded(path: &Path) -> Result<(Vec<u8>, Option<i64>), FleetError> {
    let io = |source| FleetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.len() > MAX_SNAPSHOT_BYTES {
        return Err(FleetError::BadSnapshot {
            file: path.to_path_buf(),
            message: format!(
                "{} bytes, larger than {MAX_SNAPSHOT_BYTES}; refusing to read it",
                meta.len()
            ),
        });
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_SNAPSHOT_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(FleetError::BadSnapshot {
            file: path.to_path_buf(),
            message: format!("larger than {MAX_SNAPSHOT_BYTES} bytes; refusing to read it"),
        });
    }
    Ok((buf, mtime))
}

/// Ingests one snapshot file. Database errors (the database is gone, the
/// disk is full) are `Err`; a bad file is `Ok(Refused)`.
pub fn ingest_file(fleet: &mut Fleet, path: &Path) -> Result<FileOutcome, FleetError> {
    let (bytes, mtime) = match read_bounded(path) {
        Ok(x) => x,
        Err(e) => return Ok(FileOutcome::Refused(e)),
    };
    let sha = sha256_hex(&bytes);
    if fleet.has_snapshot(&sha)? {
        return Ok(FileOutcome::Unchanged);
    }
    let rec = match derive(&bytes, &FileFacts { path, mtime }) {
        Ok(r) => r,
        Err(message) => {
            return Ok(FileOutcome::Refused(FleetError::BadSnapshot {
                file: path.to_path_buf(),
                message,
            }))
        }
    };
    drop(bytes);
    let name = path.display().to_string();
    Ok(match fleet.store(&rec, &sha, &name)? {
        Stored::New(id) => FileOutcome::Stored { host: rec.host, id },
        Stored::Duplicate => FileOutcome::Unchanged,
    })
}

/// Ingests every file named, and every `*.json` file under every directory
/// named (recursively, in name order), calling `report` after each file.
/// Stops only on a database error.
pub fn ingest_paths(
    fleet: &mut Fleet,
    paths: &[PathBuf],
    report: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<IngestSummary, FleetError> {
    let mut sum = IngestSummary::default();
    for p in paths {
        walk(fleet, p, true, report, &mut sum)?;
    }
    if sum.stored > 0 {
        fleet.analyze()?;
    }
    Ok(sum)
}

fn walk(
    fleet: &mut Fleet,
    path: &Path,
    named: bool,
    report: &mut dyn FnMut(&Path, &FileOutcome),
    sum: &mut IngestSummary,
) -> Result<(), FleetError> {
    if path.is_dir() {
        let io = |source| FleetError::Io {
            path: path.to_path_buf(),
            source,
        };
        // One directory's names at a time (not the files' contents).
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort();
        for e in entries {
            walk(fleet, &e, false, report, sum)?;
        }
        return Ok(());
    }
    if !named && path.extension().is_none_or(|x| x != "json") {
        return Ok(());
    }
    let outcome = ingest_file(fleet, path)?;
    match outcome {
        FileOutcome::Stored { .. } => sum.stored += 1,
        FileOutcome::Unchanged => sum.unchanged += 1,
        FileOutcome::Refused(_) => sum.refused += 1,
    }
    report(path, &outcome);
    Ok(())
}
