//! `fleet ingest`: files and directories of snapshots (or one on standard
//! input) into the database, one file at a time (memory is bounded by the
//! largest file, never by the number of files), each snapshot whole or
//! absent, several to a transaction. What is read, and what is skipped,
//! is decided by the walk (`fleet/src/walk.rs`): links skipped unless
//! followed, FIFOs refused.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::derive::{derive, FileFacts};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::query::store::Stored;
use crate::record::SnapshotRecord;
use crate::time::format_rfc3339;
use crate::walk::{is_stdin, read_snapshot, Found, Walk};

pub use crate::walk::MAX_SNAPSHOT_BYTES;

mod batch;

use batch::Batch;

/// How far ahead of this host's clock a snapshot's time may be, by
/// default: clocks of a fleet differ by seconds, rarely minutes.
pub const DEFAULT_MAX_FUTURE_SKEW: i64 = 300;

/// What happened to one file.
#[derive(Debug)]
pub enum FileOutcome {
    /// Stored as a new snapshot of `host`.
    Stored {
        /// The host name.
        host: String,
        /// The snapshot's id.
        id: i64,
        /// A snapshot of the host with the same time and other content,
        /// stored before: this one now counts as the later.
        same_time_as: Option<i64>,
    },
    /// The same bytes were stored before; nothing changed.
    Unchanged,
    /// Refused; nothing of it was stored.
    Refused(FleetError),
    /// Not read (a symbolic link not followed, a loop): why.
    Skipped(String),
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
    /// Entries not read.
    pub skipped: usize,
}

/// How an ingest reads and judges its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOptions {
    /// Follow symbolic links met inside a directory (only to places inside
    /// it, each directory once).
    pub follow: bool,
    /// Seconds a snapshot's time may be ahead of `now`; later is refused.
    pub max_future_skew: i64,
    /// The time to judge against (Unix seconds), normally the clock's.
    pub now: i64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            follow: false,
            max_future_skew: DEFAULT_MAX_FUTURE_SKEW,
            now: crate::time::now(),
        }
    }
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

/// A file read and derived: all the work that needs no database, done
/// ahead of the writes on another thread by [`ingest_paths`].
enum Prepared {
    /// The file could not be read (or is too large, or not a file).
    Unreadable(FleetError),
    /// The database already holds these bytes (snapshots are never
    /// removed, so this stays true): nothing was derived.
    Known,
    /// Its sha256 and its record, or why it is refused.
    Read {
        sha: String,
        record: Result<SnapshotRecord, String>,
    },
    /// Not read.
    Skipped(String),
}

/// The name a file is stored and shown under (`(stdin)` for `-`).
fn shown(path: &Path) -> PathBuf {
    if is_stdin(path) {
        PathBuf::from("(stdin)")
    } else {
        path.to_path_buf()
    }
}

/// Reads `path` and, unless `known` (a connection of the reading thread)
/// already holds its bytes, derives it. A failed lookup only costs the
/// derivation: storing finds stored bytes again.
fn prepare(path: &Path, nofollow: bool, known: Option<&mut Fleet>) -> Prepared {
    let (bytes, mtime) = match read_snapshot(path, nofollow) {
        Ok(x) => x,
        Err(e) => return Prepared::Unreadable(e),
    };
    let sha = sha256_hex(&bytes);
    if known.is_some_and(|k| k.has_snapshot(&sha).unwrap_or(false)) {
        return Prepared::Known;
    }
    let name = shown(path);
    let record = derive(&bytes, &FileFacts { path: &name, mtime });
    Prepared::Read { sha, record }
}

/// Why a snapshot dated after `opts.now + opts.max_future_skew` is
/// refused: stored, it would be its host's latest until that time.
fn future(rec: &SnapshotRecord, opts: &IngestOptions) -> Option<String> {
    let ahead = rec.taken_at.saturating_sub(opts.now);
    (ahead > opts.max_future_skew).then(|| {
        format!(
            "taken at {}, {ahead} s in the future by this host's clock (more than the {} s \
             allowed): refusing it, as it would stay the host's latest snapshot until then",
            format_rfc3339(rec.taken_at),
            opts.max_future_skew
        )
    })
}

/// Stores what [`prepare`] made of `path`: bytes stored before are
/// `Unchanged` (whatever this version thinks of them), a bad file is
/// `Refused`, database errors are `Err`. [`Fleet::store`] itself finds
/// bytes stored meanwhile (by this run or another), so only a refused
/// file needs the lookup here.
fn store(
    fleet: &mut Fleet,
    path: &Path,
    prepared: Prepared,
    opts: &IngestOptions,
) -> Result<FileOutcome, FleetError> {
    store_keeping(fleet, path, prepared, opts).map(|(o, _)| o)
}

/// [`store`], giving back the record it stored, so the thread that made
/// it can free it.
fn store_keeping(
    fleet: &mut Fleet,
    path: &Path,
    prepared: Prepared,
    opts: &IngestOptions,
) -> Result<(FileOutcome, Option<SnapshotRecord>), FleetError> {
    let refuse = |message| {
        FileOutcome::Refused(FleetError::BadSnapshot {
            file: shown(path),
            message,
        })
    };
    let (sha, record) = match prepared {
        Prepared::Unreadable(e) => return Ok((FileOutcome::Refused(e), None)),
        Prepared::Known => return Ok((FileOutcome::Unchanged, None)),
        Prepared::Skipped(why) => return Ok((FileOutcome::Skipped(why), None)),
        Prepared::Read { sha, record } => (sha, record),
    };
    let rec = match record {
        Ok(r) => r,
        Err(_) if fleet.has_snapshot(&sha)? => return Ok((FileOutcome::Unchanged, None)),
        Err(message) => return Ok((refuse(message), None)),
    };
    if let Some(message) = future(&rec, opts) {
        return Ok((refuse(message), Some(rec)));
    }
    let name = shown(path).display().to_string();
    let outcome = match fleet.store(&rec, &sha, &name)? {
        Stored::New { id, same_time_as } => FileOutcome::Stored {
            host: rec.host.clone(),
            id,
            same_time_as,
        },
        Stored::Duplicate => FileOutcome::Unchanged,
    };
    Ok((outcome, Some(rec)))
}

/// Ingests one snapshot file (`-`: standard input). Database errors (the
/// database is gone, the disk is full) are `Err`; a bad file is
/// `Ok(Refused)`.
pub fn ingest_file(
    fleet: &mut Fleet,
    path: &Path,
    opts: &IngestOptions,
) -> Result<FileOutcome, FleetError> {
    let prepared = prepare(path, false, Some(fleet));
    store(fleet, path, prepared, opts)
}

/// Files prepared ahead of the database writes: enough to keep both
/// threads busy, few enough that memory stays bounded by a few records.
const AHEAD: usize = 4;

/// One file (or a directory that could not be listed) in walk order.
type Walked = Result<(PathBuf, Prepared), FleetError>;

/// Ingests every file named (`-`: one snapshot on standard input), and
/// every `*.json` file under every directory named (recursively, in name
/// order, symbolic links as [`IngestOptions::follow`] says), calling
/// `report` for each, in walk order, once its batch is committed (so a
/// file is reported stored only when it is). Stops only on a database error
/// ([`FleetError::Stopped`], which says how many snapshots were stored
/// before it) or a directory that cannot be listed.
///
/// Reading, hashing and deriving (parsing the document, judging every
/// function) run on a second thread, at most four files ahead, while
/// this thread writes: the two halves cost about the same, so a fleet is
/// stored in little more than the time of the slower one. Files are
/// stored in walk order, each whole or not at all as [`ingest_file`]
/// stores one, several to a transaction (batches: docs/fleet.md, "Ingest").
pub fn ingest_paths(
    fleet: &mut Fleet,
    paths: &[PathBuf],
    opts: &IngestOptions,
    report: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<IngestSummary, FleetError> {
    let stopped = |sum: &IngestSummary, e: FleetError| match e {
        e @ (FleetError::Io { .. } | FleetError::Stopped { .. }) => e,
        e => FleetError::Stopped {
            stored: sum.stored,
            source: Box::new(e),
        },
    };
    let sum = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Walked>(AHEAD);
        let (spent, spent_rx) = std::sync::mpsc::channel::<SnapshotRecord>();
        // The reading thread's own connection answers "stored before?"
        // so files already stored are not derived (a re-ingest of a
        // whole fleet is then mostly hashing).
        let reopener = fleet.reopener();
        let follow = opts.follow;
        scope.spawn(move || {
            let mut known = reopener.open().ok();
            let mut walk = Walk::new(follow);
            let mut visit = |found: Found| {
                let walked = match found {
                    Found::File { path, nofollow } => {
                        let p = prepare(&path, nofollow, known.as_mut());
                        Ok((path, p))
                    }
                    Found::Skipped(path, why) => Ok((path, Prepared::Skipped(why))),
                    Found::Failed(e) => Err(e),
                };
                // Free what the writer is done with (at most AHEAD + 1).
                spent_rx.try_iter().for_each(drop);
                // A send fails only when the writer stopped: stop too.
                tx.send(walked).is_ok()
            };
            for p in paths {
                if !walk.named(p, &mut visit) {
                    return;
                }
            }
        });
        // Returning (on an error) drops `rx`, which ends the walk.
        let mut batch = Batch::new(report);
        let failure = loop {
            let walked = match batch.next(fleet, &rx) {
                Ok(Some(w)) => w,
                Ok(None) => break None,
                Err(e) => break Some(e),
            };
            let (path, prepared) = match walked {
                Ok(x) => x,
                Err(e) => break Some(e),
            };
            if let Err(e) = batch.store(fleet, path, prepared, opts, &spent) {
                break Some(e);
            }
        };
        // What the open batch stored is kept also when a later file
        // failed (that file's own writes were rolled back).
        let committed = batch.commit(fleet);
        let sum = batch.sum;
        match failure.or(committed.err()) {
            Some(e) => Err(stopped(&sum, e)),
            None => Ok(sum),
        }
    })?;
    if sum.stored > 0 {
        fleet.analyze().map_err(|e| stopped(&sum, e))?;
    }
    Ok(sum)
}
