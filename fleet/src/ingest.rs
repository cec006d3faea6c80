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
use crate::record::SnapshotRecord;

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
    let file = hostfs::open_regular(path).map_err(io)?;
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

/// A file read and derived: all the work that needs no database, done
/// ahead of the writes on another thread by [`ingest_paths`].
enum Prepared {
    /// The file could not be read (or is too large).
    Unreadable(FleetError),
    /// The database already holds these bytes (snapshots are never
    /// removed, so this stays true): nothing was derived.
    Known,
    /// Its sha256 and its record, or why it is refused.
    Read {
        sha: String,
        record: Result<SnapshotRecord, String>,
    },
}

/// Reads `path` and, unless `known` (a connection of the reading thread)
/// already holds its bytes, derives it. A failed lookup only costs the
/// derivation: storing finds stored bytes again.
fn prepare(path: &Path, known: Option<&mut Fleet>) -> Prepared {
    let (bytes, mtime) = match read_bounded(path) {
        Ok(x) => x,
        Err(e) => return Prepared::Unreadable(e),
    };
    let sha = sha256_hex(&bytes);
    if known.is_some_and(|k| k.has_snapshot(&sha).unwrap_or(false)) {
        return Prepared::Known;
    }
    let record = derive(&bytes, &FileFacts { path, mtime });
    Prepared::Read { sha, record }
}

/// Stores what [`prepare`] made of `path`: bytes stored before are
/// `Unchanged` (whatever this version thinks of them), a bad file is
/// `Refused`, database errors are `Err`. [`Fleet::store`] itself finds
/// bytes stored meanwhile (by this run or another), so only a refused
/// file needs the lookup here.
fn store(fleet: &mut Fleet, path: &Path, prepared: Prepared) -> Result<FileOutcome, FleetError> {
    let (sha, record) = match prepared {
        Prepared::Unreadable(e) => return Ok(FileOutcome::Refused(e)),
        Prepared::Known => return Ok(FileOutcome::Unchanged),
        Prepared::Read { sha, record } => (sha, record),
    };
    let rec = match record {
        Ok(r) => r,
        Err(_) if fleet.has_snapshot(&sha)? => return Ok(FileOutcome::Unchanged),
        Err(message) => {
            return Ok(FileOutcome::Refused(FleetError::BadSnapshot {
                file: path.to_path_buf(),
                message,
            }))
        }
    };
    let name = path.display().to_string();
    Ok(match fleet.store(&rec, &sha, &name)? {
        Stored::New(id) => FileOutcome::Stored { host: rec.host, id },
        Stored::Duplicate => FileOutcome::Unchanged,
    })
}

/// Ingests one snapshot file. Database errors (the database is gone, the
/// disk is full) are `Err`; a bad file is `Ok(Refused)`.
pub fn ingest_file(fleet: &mut Fleet, path: &Path) -> Result<FileOutcome, FleetError> {
    let prepared = prepare(path, Some(fleet));
    store(fleet, path, prepared)
}

/// Files prepared ahead of the database writes: enough to keep both
/// threads busy, few enough that memory stays bounded by a few records.
const AHEAD: usize = 4;

/// One file (or a directory that could not be listed) in walk order.
type Walked = Result<(PathBuf, Prepared), FleetError>;

/// Ingests every file named, and every `*.json` file under every directory
/// named (recursively, in name order), calling `report` after each file.
/// Stops only on a database error or a directory that cannot be listed.
///
/// Reading, hashing and deriving (parsing the document, judging every
/// function) run on a second thread, at most four files ahead, while
/// this thread writes: the two halves cost about the same, so a fleet is
/// stored in little more than the time of the slower one. Files are
/// stored in walk order, one transaction each, as [`ingest_file`] does.
pub fn ingest_paths(
    fleet: &mut Fleet,
    paths: &[PathBuf],
    report: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<IngestSummary, FleetError> {
    let mut sum = IngestSummary::default();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Walked>(AHEAD);
        // The reading thread's own connection answers "stored before?"
        // so files already stored are not derived (a re-ingest of a
        // whole fleet is then mostly hashing).
        let reopener = fleet.reopener();
        scope.spawn(move || {
            let mut known = reopener.open().ok();
            for p in paths {
                // A send fails only when the writer stopped: stop too.
                if walk(p, true, &tx, &mut known).is_err() {
                    return;
                }
            }
        });
        // Returning (on an error) drops `rx`, which ends the walk.
        for walked in rx {
            let (path, prepared) = walked?;
            let outcome = store(fleet, &path, prepared)?;
            match outcome {
                FileOutcome::Stored { .. } => sum.stored += 1,
                FileOutcome::Unchanged => sum.unchanged += 1,
                FileOutcome::Refused(_) => sum.refused += 1,
            }
            report(&path, &outcome);
        }
        Ok::<(), FleetError>(())
    })?;
    if sum.stored > 0 {
        fleet.analyze()?;
    }
    Ok(sum)
}

/// The writer has gone; nothing more is wanted.
struct Stop;

/// Prepares `path` (a file, or every `*.json` below a directory) and sends
/// each in order; a directory that cannot be listed is sent as the error
/// that ends the ingest.
fn walk(
    path: &Path,
    named: bool,
    tx: &std::sync::mpsc::SyncSender<Walked>,
    known: &mut Option<Fleet>,
) -> Result<(), Stop> {
    let send = |w: Walked| tx.send(w).map_err(|_| Stop);
    if path.is_dir() {
        let io = |source| FleetError::Io {
            path: path.to_path_buf(),
            source,
        };
        // One directory's names at a time (not the files' contents).
        let listed: Result<Vec<PathBuf>, _> = fs::read_dir(path).map_err(io).and_then(|d| {
            d.map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(io)
        });
        let mut entries = match listed {
            Ok(e) => e,
            Err(e) => {
                send(Err(e))?;
                return Err(Stop);
            }
        };
        entries.sort();
        for e in entries {
            walk(&e, false, tx, known)?;
        }
        return Ok(());
    }
    if !named && path.extension().is_none_or(|x| x != "json") {
        return Ok(());
    }
    send(Ok((path.to_path_buf(), prepare(path, known.as_mut()))))
}
