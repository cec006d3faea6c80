//! Storing one snapshot: the host (created on first sight), the snapshot,
//! its function and device rows, and which snapshot is the host's latest.
//!
//! The latest snapshot of a host is the one with the newest `taken_at`;
//! among snapshots with the same time, the one ingested last (the highest
//! id). An older snapshot arriving late changes neither.

use crate::backend::{Backend, Value};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::record::{FunctionRow, SnapshotRecord};
use crate::schema;

/// Function rows per multi-row `INSERT` (22 values each, far below both
/// databases' parameter limits).
const INSERT_CHUNK: usize = 50;

/// What storing one snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new snapshot.
    New {
        /// Its id.
        id: i64,
        /// Another snapshot of the host with the same time and other
        /// content: the newer ingest (this one) counts as the later.
        same_time_as: Option<i64>,
    },
    /// The database already holds a snapshot with these bytes.
    Duplicate,
}

/// The ORDER BY that puts a host's latest snapshot first (see the module).
pub(crate) const LATEST_FIRST: &str = "ORDER BY taken_at DESC, id DESC";

/// One function's row: each column named beside its value, so the
/// `INSERT`'s column list and values cannot fall out of step.
fn function_fields(snapshot: i64, f: &FunctionRow) -> [(&'static str, Value); 22] {
    let flag = |v: Option<bool>| Value::Int(v.map(i64::from));
    // A list of plain strings always encodes; a failure would store NULL,
    // read back as "not recorded", never as "no findings".
    let reasons = f
        .reasons
        .as_ref()
        .and_then(|r| serde_json::to_string(r).ok());
    [
        ("snapshot_id", snapshot.into()),
        ("address", f.address.as_str().into()),
        ("device_key", f.device_key.as_str().into()),
        ("vendor", i64::from(f.vendor).into()),
        ("device", i64::from(f.device).into()),
        ("class", i64::from(f.class).into()),
        (
            "subsystem_vendor",
            Value::Int(f.subsystem_vendor.map(i64::from)),
        ),
        ("subsystem", Value::Int(f.subsystem.map(i64::from))),
        ("revision", Value::Int(f.revision.map(i64::from))),
        ("bridge", i64::from(f.bridge).into()),
        ("parent", f.parent.clone().into()),
        ("driver", f.driver.clone().into()),
        ("ppt_dev", f.ppt_dev.clone().into()),
        ("reserved", flag(f.reserved)),
        ("next_boot_ppt", flag(f.next_boot_ppt)),
        ("devfs_path", f.devfs_path.clone().into()),
        ("verdict", f.verdict.as_str().into()),
        ("fail_reason", f.fail_reason.clone().into()),
        ("reasons", reasons.into()),
        ("in_vm", flag(f.in_vm)),
        ("vendor_name", f.vendor_name.clone().into()),
        ("device_name", f.device_name.clone().into()),
    ]
}

/// The first row's `id`, or an error naming what gave none.
fn id_of(db: &dyn Backend, rows: &crate::backend::Rows, what: &str) -> Result<i64, FleetError> {
    rows.first()
        .map(|r| r.int("id"))
        .transpose()?
        .ok_or_else(|| FleetError::db(db.name(), what))
}

/// The schema version that added `column` to `functions` (1: there from
/// the start).
fn column_since(column: &str) -> i64 {
    match column {
        "revision" => 5,
        "reasons" => 6,
        _ => 1,
    }
}

/// Inserts the function rows of snapshot `id`, [`INSERT_CHUNK`] per
/// statement; only the columns the database's schema `version` has.
fn insert_functions(
    db: &mut dyn Backend,
    id: i64,
    functions: &[FunctionRow],
    version: i64,
) -> Result<(), FleetError> {
    let mut values = Vec::new();
    for chunk in functions.chunks(INSERT_CHUNK) {
        values.clear();
        let mut columns = Vec::new();
        for f in chunk {
            let fields = function_fields(id, f)
                .into_iter()
                .filter(|(c, _)| version >= column_since(c));
            columns.clear();
            for (c, v) in fields {
                columns.push(c);
                values.push(v);
            }
        }
        let row = format!("({})", vec!["?"; columns.len()].join(", "));
        let rows = vec![row; chunk.len()].join(", ");
        db.execute(
            &format!(
                "INSERT INTO functions ({}) VALUES {rows}",
                columns.join(", ")
            ),
            &values,
        )?;
    }
    Ok(())
}

/// Inserts the snapshot row; returns its id.
fn insert_snapshot(
    db: &mut dyn Backend,
    host_id: i64,
    rec: &SnapshotRecord,
    sha256: &str,
    file_name: &str,
) -> Result<i64, FleetError> {
    let now = crate::time::now();
    let rows = db.query(
        "INSERT INTO snapshots (host_id, sha256, format, taken_at, time_source, source, \
         os, file_name, vms_known, host_verdict, host_reason, function_count, ingested_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        &[
            host_id.into(),
            sha256.into(),
            rec.format.as_str().into(),
            rec.taken_at.into(),
            rec.time_source.into(),
            rec.source.clone().into(),
            rec.os.clone().into(),
            file_name.into(),
            i64::from(rec.vms_known).into(),
            rec.host_verdict.as_str().into(),
            rec.host_reason.clone().into(),
            i64::try_from(rec.functions.len())
                .unwrap_or(i64::MAX)
                .into(),
            now.into(),
        ],
    )?;
    id_of(db, &rows, "INSERT … RETURNING gave no id")
}

/// Points the host at its latest snapshot and refreshes its placement rows
/// when that changed; returns the latest.
fn update_latest(
    db: &mut dyn Backend,
    host_id: i64,
    previous: Option<i64>,
    version: i64,
) -> Result<Option<i64>, FleetError> {
    let latest = db
        .query(
            &format!("SELECT id FROM snapshots WHERE host_id = ? {LATEST_FIRST} LIMIT 1"),
            &[host_id.into()],
        )?
        .first()
        .map(|r| r.int("id"))
        .transpose()?;
    if latest == previous {
        return Ok(latest);
    }
    db.execute(
        "UPDATE hosts SET latest_snapshot = ? WHERE id = ?",
        &[latest.into(), host_id.into()],
    )?;
    if version >= 3 {
        db.execute("DELETE FROM placement WHERE host_id = ?", &[host_id.into()])?;
        db.execute(
            &schema::placement_insert(" AND h.id = ?"),
            &[host_id.into()],
        )?;
    }
    if version >= 6 {
        db.execute(
            "DELETE FROM placement_counts WHERE host_id = ?",
            &[host_id.into()],
        )?;
        db.execute(
            &crate::placement::counts::insert(db.dialect(), true),
            &[host_id.into(), host_id.into(), host_id.into()],
        )?;
    }
    Ok(latest)
}

/// The snapshot of `host_id` other than `id` taken at the same time, if any.
fn same_time(
    db: &mut dyn Backend,
    host_id: i64,
    id: i64,
    taken_at: i64,
) -> Result<Option<i64>, FleetError> {
    db.query(
        "SELECT MAX(id) AS id FROM snapshots WHERE host_id = ? AND taken_at = ? AND id <> ?",
        &[host_id.into(), taken_at.into(), id.into()],
    )?
    .first()
    .map(|r| r.opt_int("id"))
    .transpose()
    .map(Option::flatten)
}

impl Fleet {
    /// Whether a snapshot with this content hash is stored.
    pub fn has_snapshot(&mut self, sha256: &str) -> Result<bool, FleetError> {
        let rows = self.db.query(
            "SELECT 1 AS one FROM snapshots WHERE sha256 = ?",
            &[sha256.into()],
        )?;
        Ok(!rows.is_empty())
    }

    /// Stores one snapshot in one transaction: the host (created on first
    /// sight), the snapshot, its functions and devices, and the host's
    /// latest snapshot. Storing the same bytes again changes nothing.
    pub fn store(
        &mut self,
        rec: &SnapshotRecord,
        sha256: &str,
        file_name: &str,
    ) -> Result<Stored, FleetError> {
        let version = self.version;
        let result = self.write(|db| {
            if !db
                .query(
                    "SELECT 1 AS one FROM snapshots WHERE sha256 = ?",
                    &[sha256.into()],
                )?
                .is_empty()
            {
                return Ok(Stored::Duplicate);
            }
            db.execute(
                "INSERT INTO hosts (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                &[rec.host.as_str().into()],
            )?;
            let lock = db.dialect().for_update();
            let host = db.query(
                &format!("SELECT id, latest_snapshot FROM hosts WHERE name = ?{lock}"),
                &[rec.host.as_str().into()],
            )?;
            let host_id = id_of(db, &host, "host row vanished")?;
            let previous = host
                .first()
                .map(|r| r.opt_int("latest_snapshot"))
                .transpose()?
                .flatten();
            let id = insert_snapshot(db, host_id, rec, sha256, file_name)?;
            insert_functions(db, id, &rec.functions, version)?;
            if version >= 2 {
                db.execute(&schema::units_insert("WHERE snapshot_id = ?"), &[id.into()])?;
            }
            if version >= 4 {
                crate::placement::topology::store(db, id, rec)?;
            }
            let latest = update_latest(db, host_id, previous, version)?;
            if version >= 5 && latest == Some(id) {
                // The device history: events only when a snapshot becomes
                // the latest (crate::history::derive states the rule).
                let at = (id, rec.taken_at);
                crate::history::derive::record_ingest(db, host_id, at, previous, &rec.functions)?;
            }
            let same_time_as = same_time(db, host_id, id, rec.taken_at)?;
            Ok(Stored::New { id, same_time_as })
        });
        match result {
            // Another process stored the same bytes between our check and insert.
            Err(FleetError::Unique { .. }) if self.has_snapshot(sha256)? => Ok(Stored::Duplicate),
            other => other,
        }
    }
}
