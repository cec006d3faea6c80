//! Several snapshots to one transaction. Every snapshot rewrites pages
//! spread over the whole database (the placement tables and indexes are
//! keyed by IDs, not by host), and a transaction writes each page it
//! touched once, so batching cuts the bytes written (by half at 10,000
//! snapshots: BENCHMARKS.md). Each snapshot is still whole or absent (a
//! savepoint each: `Fleet::write`). What happened to each file is counted
//! and reported when its batch commits, so "stored" is said only of what
//! is stored; a killed ingest loses at most the open batch, which a re-run
//! stores again.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::{shown, store_keeping, FileOutcome, IngestOptions, IngestSummary, Prepared, Walked};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::record::SnapshotRecord;

/// Files in one transaction at most.
const BATCH_FILES: usize = 64;

/// How long one transaction may stay open while files keep coming.
const BATCH_TIME: Duration = Duration::from_millis(250);

/// How long an open transaction waits for the next file before it is
/// committed: the write lock is not held while the reader is slow (a
/// snapshot arriving on a pipe, a large file being judged).
const BATCH_IDLE: Duration = Duration::from_millis(20);

/// The open batch, and what the committed ones did.
pub(super) struct Batch<'r> {
    /// When the open transaction began, if one is open.
    opened: Option<Instant>,
    /// What happened to each file of the open transaction, in walk order.
    held: Vec<(PathBuf, FileOutcome)>,
    /// The files of committed batches, counted.
    pub(super) sum: IngestSummary,
    /// Told of each file once its batch commits.
    report: &'r mut dyn FnMut(&Path, &FileOutcome),
}

impl<'r> Batch<'r> {
    /// No batch open yet; `report` is told of each file as it commits.
    pub(super) fn new(report: &'r mut dyn FnMut(&Path, &FileOutcome)) -> Self {
        Batch {
            opened: None,
            held: Vec::new(),
            sum: IngestSummary::default(),
            report,
        }
    }

    /// The next file from the reader, committing the open transaction
    /// first when it is full, old, or the reader keeps this thread waiting.
    pub(super) fn next(
        &mut self,
        fleet: &mut Fleet,
        rx: &Receiver<Walked>,
    ) -> Result<Option<Walked>, FleetError> {
        let old = self.opened.is_some_and(|t| t.elapsed() >= BATCH_TIME);
        if old || self.held.len() >= BATCH_FILES {
            self.commit(fleet)?;
        }
        if self.opened.is_some() {
            match rx.recv_timeout(BATCH_IDLE) {
                Ok(w) => return Ok(Some(w)),
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => self.commit(fleet)?,
            }
        }
        Ok(rx.recv().ok())
    }

    /// Stores one file in the open transaction (opening one first). The
    /// record goes back to the reading thread through `spent`, to be freed
    /// where it was allocated: a snapshot is a million small allocations at
    /// 10,000 functions, and freeing another thread's memory costs the
    /// allocator's locks (a tenth of the writer's time).
    pub(super) fn store(
        &mut self,
        fleet: &mut Fleet,
        path: PathBuf,
        prepared: Prepared,
        opts: &IngestOptions,
        spent: &Sender<SnapshotRecord>,
    ) -> Result<(), FleetError> {
        if self.opened.is_none() {
            fleet.begin_batch()?;
            self.opened = Some(Instant::now());
        }
        let (outcome, rec) = store_keeping(fleet, &path, prepared, opts)?;
        if let Some(rec) = rec {
            // Freed here only when the reader has finished.
            let _ = spent.send(rec);
        }
        self.held.push((path, outcome));
        Ok(())
    }

    /// Commits the open transaction, if any, then counts and reports its
    /// files; when the commit fails, the files it would have stored are
    /// neither (the others are: unchanged, refused and skipped files are
    /// so whatever the commit did).
    pub(super) fn commit(&mut self, fleet: &mut Fleet) -> Result<(), FleetError> {
        self.opened = None;
        let result = fleet.commit_batch();
        for (path, o) in std::mem::take(&mut self.held) {
            match o {
                FileOutcome::Stored { .. } if result.is_err() => continue,
                FileOutcome::Stored { .. } => self.sum.stored += 1,
                FileOutcome::Unchanged => self.sum.unchanged += 1,
                FileOutcome::Refused(_) => self.sum.refused += 1,
                FileOutcome::Skipped(_) => self.sum.skipped += 1,
            }
            (self.report)(&shown(&path), &o);
        }
        result
    }
}
