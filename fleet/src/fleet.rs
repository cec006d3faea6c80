//! [`Fleet`]: a fleet database on either backend, with the operations the
//! `pptctl fleet` subcommands need. Every operation is SQL over indexes;
//! nothing loads the fleet into memory.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::backend::{Backend, Value};
use crate::error::FleetError;
use crate::query::{
    DeviceSelector, DeviceSummary, DeviceVerdict, Explanation, HistoryEntry, HostMatch,
    LatestSnapshot,
};
use crate::record::{FunctionRow, SnapshotRecord};
use crate::schema;
use crate::time::format_rfc3339;

/// Function rows per multi-row `INSERT` (20 values each, far below both
/// databases' parameter limits).
const INSERT_CHUNK: usize = 50;

/// The function columns, in [`function_values`] order.
const FUNCTION_COLUMNS: &str = "snapshot_id, address, device_key, vendor, device, class, \
    subsystem_vendor, subsystem, bridge, parent, driver, ppt_dev, reserved, next_boot_ppt, devfs_path, \
    verdict, fail_reason, in_vm, vendor_name, device_name";
const FUNCTION_COLUMN_COUNT: usize = 20;

/// What storing one snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new snapshot with this id.
    New(i64),
    /// The database already holds a snapshot with these bytes.
    Duplicate,
}

/// What opens a second connection to a database ([`Fleet::reopener`]);
/// it can be sent to another thread, a connection cannot.
#[derive(Debug, Clone)]
pub struct Reopener {
    spec: String,
    version: i64,
}

impl Reopener {
    /// Opens the connection.
    pub fn open(&self) -> Result<Fleet, FleetError> {
        Fleet::open_at_version(&self.spec, self.version)
    }
}

/// A fleet database.
pub struct Fleet {
    db: Box<dyn Backend>,
    version: i64,
    /// What it was opened from, to open a second connection.
    spec: String,
}

/// The database backends this build has (the `fleet` crate's cargo
/// features), in the order `--db` tries them.
pub fn backends() -> &'static [&'static str] {
    &[
        #[cfg(feature = "sqlite")]
        "sqlite",
        #[cfg(feature = "postgres")]
        "postgres",
    ]
}

/// Whether `spec` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// The URL with any password replaced, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A PostgreSQL database, in a build with the `postgres` feature.
#[cfg(feature = "postgres")]
fn open_postgres(spec: &str) -> Result<Box<dyn Backend>, FleetError> {
    Ok(Box::new(crate::pg::PgBackend::connect(spec)?))
}

/// A build without the `postgres` feature cannot open PostgreSQL.
#[cfg(not(feature = "postgres"))]
fn open_postgres(spec: &str) -> Result<Box<dyn Backend>, FleetError> {
    Err(FleetError::NotBuilt {
        db: redact(spec),
        backend: "PostgreSQL",
        feature: "postgres",
    })
}

/// A SQLite file, in a build with the `sqlite` feature.
#[cfg(feature = "sqlite")]
fn open_sqlite(spec: &str) -> Result<Box<dyn Backend>, FleetError> {
    Ok(Box::new(crate::sqlite::SqliteBackend::open(
        std::path::Path::new(spec),
    )?))
}

/// A build without the `sqlite` feature cannot open a SQLite file.
#[cfg(not(feature = "sqlite"))]
fn open_sqlite(spec: &str) -> Result<Box<dyn Backend>, FleetError> {
    Err(FleetError::NotBuilt {
        db: spec.to_string(),
        backend: "SQLite",
        feature: "sqlite",
    })
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

fn opt_b(v: Option<bool>) -> Value {
    Value::Int(v.map(i64::from))
}

fn function_values(snapshot: i64, f: &FunctionRow, out: &mut Vec<Value>) {
    out.extend([
        snapshot.into(),
        f.address.as_str().into(),
        f.device_key.as_str().into(),
        i64::from(f.vendor).into(),
        i64::from(f.device).into(),
        i64::from(f.class).into(),
        Value::Int(f.subsystem_vendor.map(i64::from)),
        Value::Int(f.subsystem.map(i64::from)),
        b(f.bridge).into(),
        f.parent.clone().into(),
        f.driver.clone().into(),
        f.ppt_dev.clone().into(),
        opt_b(f.reserved),
        opt_b(f.next_boot_ppt),
        f.devfs_path.clone().into(),
        f.verdict.as_str().into(),
        f.fail_reason.clone().into(),
        opt_b(f.in_vm),
        f.vendor_name.clone().into(),
        f.device_name.clone().into(),
    ]);
}

fn int_at(row: &[Value], i: usize) -> i64 {
    row.get(i).and_then(Value::int).unwrap_or(0)
}

fn opt_int_at(row: &[Value], i: usize) -> Option<i64> {
    row.get(i).and_then(Value::int)
}

fn text_at(row: &[Value], i: usize) -> Option<String> {
    row.get(i).and_then(Value::text).map(str::to_string)
}

impl Fleet {
    /// Opens `spec` (a SQLite file path, created if absent, or a
    /// `postgres://` URL) and upgrades it to the newest schema.
    pub fn open(spec: &str) -> Result<Fleet, FleetError> {
        Fleet::open_at_version(spec, schema::LATEST)
    }

    /// Opens `spec` and upgrades it only up to `version` (tests make
    /// old databases with this).
    pub fn open_at_version(spec: &str, version: i64) -> Result<Fleet, FleetError> {
        let mut db = if is_postgres(spec) {
            open_postgres(spec)?
        } else {
            open_sqlite(spec)?
        };
        let version = schema::migrate_to(db.as_mut(), version)?;
        Ok(Fleet {
            db,
            version,
            spec: spec.to_string(),
        })
    }

    /// How to open another connection to the same database, on another
    /// thread (an in-memory SQLite database gets a new, empty one).
    pub fn reopener(&self) -> Reopener {
        Reopener {
            spec: self.spec.clone(),
            version: self.version,
        }
    }

    /// The schema version the database is at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The database as named for messages.
    pub fn name(&self) -> &str {
        self.db.name()
    }

    /// The connection, for the claim and placement modules.
    pub(crate) fn backend(&mut self) -> &mut dyn Backend {
        self.db.as_mut()
    }

    /// Runs `f` in one write transaction: commit on `Ok`, roll back on `Err`.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Backend) -> Result<T, FleetError>,
    ) -> Result<T, FleetError> {
        let begin = self.db.dialect().begin_write();
        self.db.batch(begin)?;
        match f(self.db.as_mut()) {
            Ok(v) => {
                self.db.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.db.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Refreshes the query planner's statistics (after an ingest).
    pub fn analyze(&mut self) -> Result<(), FleetError> {
        let sql = self.db.dialect().analyze();
        self.db.batch(sql)
    }

    /// Whether a snapshot with this content hash is stored.
    pub fn has_snapshot(&mut self, sha256: &str) -> Result<bool, FleetError> {
        let rows = self
            .db
            .query("SELECT 1 FROM snapshots WHERE sha256 = ?", &[sha256.into()])?;
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
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let result = self.write(|db| {
            if !db
                .query("SELECT 1 FROM snapshots WHERE sha256 = ?", &[sha256.into()])?
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
            let host_id = host
                .first()
                .and_then(|r| r.first())
                .and_then(Value::int)
                .ok_or_else(|| FleetError::db(db.name(), "host row vanished"))?;
            let previous = host.first().and_then(|r| opt_int_at(r, 1));
            let id = db
                .query(
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
                        b(rec.vms_known).into(),
                        rec.host_verdict.as_str().into(),
                        rec.host_reason.clone().into(),
                        i64::try_from(rec.functions.len()).unwrap_or(i64::MAX).into(),
                        now.into(),
                    ],
                )?
                .first()
                .and_then(|r| r.first())
                .and_then(Value::int)
                .ok_or_else(|| FleetError::db(db.name(), "INSERT … RETURNING gave no id"))?;
            let mut values = Vec::with_capacity(INSERT_CHUNK * FUNCTION_COLUMN_COUNT);
            for chunk in rec.functions.chunks(INSERT_CHUNK) {
                values.clear();
                for f in chunk {
                    function_values(id, f, &mut values);
                }
                let row = format!("({})", vec!["?"; FUNCTION_COLUMN_COUNT].join(", "));
                let rows = vec![row; chunk.len()].join(", ");
                db.execute(
                    &format!("INSERT INTO functions ({FUNCTION_COLUMNS}) VALUES {rows}"),
                    &values,
                )?;
            }
            if version >= 2 {
                db.execute(&schema::units_insert("WHERE snapshot_id = ?"), &[id.into()])?;
            }
            if version >= 4 {
                crate::placement::topology::store(db, id, rec)?;
            }
            let latest = db
                .query(
                    "SELECT id FROM snapshots WHERE host_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1",
                    &[host_id.into()],
                )?
                .first()
                .and_then(|r| r.first())
                .and_then(Value::int);
            // An older snapshot arriving late changes neither the latest
            // snapshot nor what placement reads.
            if latest != previous {
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
            }
            Ok(Stored::New(id))
        });
        match result {
            // Another process stored the same bytes between our check and insert.
            Err(FleetError::Unique { .. }) if self.has_snapshot(sha256)? => Ok(Stored::Duplicate),
            other => other,
        }
    }

    /// Hosts whose latest snapshot has at least `count` devices matching
    /// `sel` that pass the check and no recorded VM uses; most devices
    /// first, then by name.
    pub fn hosts(
        &mut self,
        sel: &DeviceSelector,
        count: i64,
    ) -> Result<Vec<HostMatch>, FleetError> {
        // `placement` holds only usable devices of latest snapshots
        // (schema::placement_select), keyed by IDs first.
        let (cond, mut params) = sel.sql_on("p");
        // Devices of live claims are taken (schema 4).
        let claimed = if self.version >= 4 {
            params.push(crate::claims::db_now(self.db.as_mut())?.into());
            format!(" AND {}", crate::placement::unclaimed("p"))
        } else {
            String::new()
        };
        let keys = self.db.dialect().concat_distinct("p.device_key");
        let sql = format!(
            "SELECT h.name, s.taken_at, s.vms_known, COUNT(DISTINCT p.device_key), {keys}
             FROM placement p
             JOIN hosts h ON h.id = p.host_id
             JOIN snapshots s ON s.id = h.latest_snapshot
             WHERE 1 = 1{cond}{claimed}
             GROUP BY h.name, s.taken_at, s.vms_known
             HAVING COUNT(DISTINCT p.device_key) >= ?
             ORDER BY COUNT(DISTINCT p.device_key) DESC, h.name"
        );
        params.push(count.max(1).into());
        let rows = self.db.query(&sql, &params)?;
        Ok(rows
            .iter()
            .map(|r| {
                let mut devices: Vec<String> = text_at(r, 4)
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                devices.sort();
                HostMatch {
                    host: text_at(r, 0).unwrap_or_default(),
                    snapshot_time: format_rfc3339(int_at(r, 1)),
                    vms_known: int_at(r, 2) != 0,
                    passable: int_at(r, 3),
                    devices,
                }
            })
            .collect())
    }

    /// Why `host` can or cannot give `count` devices matching `sel`.
    pub fn explain(
        &mut self,
        host: &str,
        sel: &DeviceSelector,
        count: i64,
    ) -> Result<Explanation, FleetError> {
        let head = self.db.query(
            "SELECT s.taken_at, s.vms_known, s.host_reason FROM hosts h JOIN snapshots s ON s.id = h.latest_snapshot \
             WHERE h.name = ?",
            &[host.into()],
        )?;
        let Some(head) = head.first() else {
            return Err(FleetError::NoHost(host.to_string()));
        };
        let (cond, mut params) = sel.sql();
        let sql = format!(
            "SELECT u.device_key, MIN(f.vendor), MIN(f.device), u.passable, u.in_vm, u.first_reason
             FROM hosts h
             JOIN functions f ON f.snapshot_id = h.latest_snapshot{cond}
             JOIN device_units u ON u.snapshot_id = f.snapshot_id AND u.device_key = f.device_key
             WHERE h.name = ?
             GROUP BY u.device_key, u.passable, u.in_vm, u.first_reason
             ORDER BY u.device_key"
        );
        params.push(host.into());
        let devices: Vec<DeviceVerdict> = self
            .db
            .query(&sql, &params)?
            .iter()
            .map(|r| DeviceVerdict {
                device: text_at(r, 0).unwrap_or_default(),
                ids: format!("{:04x}:{:04x}", int_at(r, 1), int_at(r, 2)),
                passes: int_at(r, 3) == 1,
                in_vm: opt_int_at(r, 4).map(|v| v != 0),
                reason: text_at(r, 5),
            })
            .collect();
        let count = count.max(1);
        let usable: Vec<&DeviceVerdict> = devices
            .iter()
            .filter(|d| d.passes && d.in_vm != Some(true))
            .collect();
        let n = i64::try_from(usable.len()).unwrap_or(i64::MAX);
        let host_reason = text_at(head, 2);
        let qualifies = n >= count && host_reason.is_none();
        let why = if let Some(r) = host_reason {
            format!("the host fails the check, so no device can be passed: {r}")
        } else if qualifies {
            format!(
                "{n} matching device{} pass{}: {}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "es" } else { "" },
                usable
                    .iter()
                    .map(|d| d.device.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else if devices.is_empty() {
            format!("no device matches {}", sel.text())
        } else {
            let first_bad = devices.iter().find(|d| !d.passes || d.in_vm == Some(true));
            let detail = match first_bad {
                Some(d) if d.in_vm == Some(true) => format!("; {} is used by a VM", d.device),
                Some(d) => format!(
                    "; {} fails: {}",
                    d.device,
                    d.reason.as_deref().unwrap_or("a function fails the check")
                ),
                None => String::new(),
            };
            format!("only {n} of {count} wanted devices pass{detail}")
        };
        Ok(Explanation {
            host: host.to_string(),
            snapshot_time: format_rfc3339(int_at(head, 0)),
            vms_known: int_at(head, 1) != 0,
            qualifies,
            count,
            devices,
            why,
        })
    }

    /// Every vendor:device in the hosts' latest snapshots.
    pub fn devices(&mut self) -> Result<Vec<DeviceSummary>, FleetError> {
        let rows = self.db.query(
            "SELECT f.vendor, f.device, MAX(f.vendor_name), MAX(f.device_name),
                    COUNT(DISTINCT h.id), COUNT(*),
                    CAST(SUM(CASE WHEN u.passable = 1 THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN f.reserved = 1 THEN 1 ELSE 0 END) AS BIGINT),
                    COUNT(f.reserved),
                    CAST(SUM(CASE WHEN f.driver = 'ppt' THEN 1 ELSE 0 END) AS BIGINT)
             FROM hosts h
             JOIN functions f ON f.snapshot_id = h.latest_snapshot
             JOIN device_units u ON u.snapshot_id = f.snapshot_id AND u.device_key = f.device_key
             GROUP BY f.vendor, f.device
             ORDER BY f.vendor, f.device",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| DeviceSummary {
                ids: format!("{:04x}:{:04x}", int_at(r, 0), int_at(r, 1)),
                vendor_name: text_at(r, 2),
                device_name: text_at(r, 3),
                hosts: int_at(r, 4),
                functions: int_at(r, 5),
                passable: int_at(r, 6),
                reserved: int_at(r, 7),
                reserved_known: int_at(r, 8),
                ppt_now: int_at(r, 9),
            })
            .collect())
    }

    /// Every host's latest snapshot, by host name.
    pub fn latest_snapshots(&mut self) -> Result<Vec<LatestSnapshot>, FleetError> {
        let rows = self.db.query(
            "SELECT h.name, s.id, s.taken_at, s.host_verdict, s.host_reason
             FROM hosts h JOIN snapshots s ON s.id = h.latest_snapshot ORDER BY h.name",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| LatestSnapshot {
                host: text_at(r, 0).unwrap_or_default(),
                id: int_at(r, 1),
                time: format_rfc3339(int_at(r, 2)),
                host_verdict: text_at(r, 3).unwrap_or_default(),
                host_reason: text_at(r, 4),
            })
            .collect())
    }

    /// A host's snapshots, oldest first.
    pub fn history(&mut self, host: &str) -> Result<Vec<HistoryEntry>, FleetError> {
        let rows = self.db.query(
            "SELECT s.id, s.taken_at, s.time_source, s.sha256, s.file_name, s.function_count
             FROM hosts h JOIN snapshots s ON s.host_id = h.id
             WHERE h.name = ? ORDER BY s.taken_at, s.id",
            &[host.into()],
        )?;
        if rows.is_empty() {
            return Err(FleetError::NoHost(host.to_string()));
        }
        Ok(rows
            .iter()
            .map(|r| HistoryEntry {
                id: int_at(r, 0),
                time: format_rfc3339(int_at(r, 1)),
                time_source: text_at(r, 2).unwrap_or_default(),
                sha256: text_at(r, 3).unwrap_or_default(),
                file: text_at(r, 4).unwrap_or_default(),
                functions: int_at(r, 5),
            })
            .collect())
    }

    /// The function rows of one stored snapshot, in address order.
    pub fn snapshot_functions(&mut self, snapshot: i64) -> Result<Vec<FunctionRow>, FleetError> {
        let rows = self.db.query(
            &format!(
                "SELECT {FUNCTION_COLUMNS} FROM functions WHERE snapshot_id = ? ORDER BY address"
            ),
            &[snapshot.into()],
        )?;
        let u16_at = |r: &[Value], i: usize| u16::try_from(int_at(r, i)).unwrap_or(0);
        let bool_at = |r: &[Value], i: usize| opt_int_at(r, i).map(|v| v != 0);
        Ok(rows
            .iter()
            .map(|r| FunctionRow {
                address: text_at(r, 1).unwrap_or_default(),
                device_key: text_at(r, 2).unwrap_or_default(),
                vendor: u16_at(r, 3),
                device: u16_at(r, 4),
                class: u32::try_from(int_at(r, 5)).unwrap_or(0),
                subsystem_vendor: opt_int_at(r, 6).and_then(|v| u16::try_from(v).ok()),
                subsystem: opt_int_at(r, 7).and_then(|v| u16::try_from(v).ok()),
                bridge: int_at(r, 8) != 0,
                parent: text_at(r, 9),
                driver: text_at(r, 10),
                ppt_dev: text_at(r, 11),
                reserved: bool_at(r, 12),
                next_boot_ppt: bool_at(r, 13),
                devfs_path: text_at(r, 14),
                verdict: text_at(r, 15).unwrap_or_default(),
                fail_reason: text_at(r, 16),
                in_vm: bool_at(r, 17),
                vendor_name: text_at(r, 18),
                device_name: text_at(r, 19),
                numa_node: None,
                vm: None,
            })
            .collect())
    }

    /// Checks the invariants every committed ingest keeps; returns what
    /// breaks them (empty: consistent). Each snapshot has exactly its
    /// `function_count` function rows and (schema 2) one device row per
    /// device; each host's latest snapshot is its newest.
    pub fn verify(&mut self) -> Result<Vec<String>, FleetError> {
        let mut problems = Vec::new();
        for r in self.db.query(
            "SELECT s.id, s.function_count, (SELECT COUNT(*) FROM functions f WHERE f.snapshot_id = s.id)
             FROM snapshots s",
            &[],
        )? {
            if int_at(&r, 1) != int_at(&r, 2) {
                problems.push(format!(
                    "snapshot {} has {} of its {} functions",
                    int_at(&r, 0),
                    int_at(&r, 2),
                    int_at(&r, 1)
                ));
            }
        }
        if self.version >= 2 {
            for r in self.db.query(
                "SELECT s.id,
                        (SELECT COUNT(DISTINCT f.device_key) FROM functions f WHERE f.snapshot_id = s.id),
                        (SELECT COUNT(*) FROM device_units u WHERE u.snapshot_id = s.id)
                 FROM snapshots s",
                &[],
            )? {
                if int_at(&r, 1) != int_at(&r, 2) {
                    problems.push(format!(
                        "snapshot {} has {} device rows for {} devices",
                        int_at(&r, 0),
                        int_at(&r, 2),
                        int_at(&r, 1)
                    ));
                }
            }
        }
        if self.version >= 3 {
            let want = format!("SELECT COUNT(*) FROM ({}) x", schema::placement_select(""));
            let want = self
                .db
                .query(&want, &[])?
                .first()
                .map_or(0, |r| int_at(r, 0));
            let have = self
                .db
                .query("SELECT COUNT(*) FROM placement", &[])?
                .first()
                .map_or(0, |r| int_at(r, 0));
            if want != have {
                problems.push(format!(
                    "placement has {have} rows, the latest snapshots give {want}"
                ));
            }
        }
        for r in self.db.query(
            "SELECT h.name, h.latest_snapshot,
                    (SELECT s.id FROM snapshots s WHERE s.host_id = h.id ORDER BY s.taken_at DESC, s.id DESC LIMIT 1)
             FROM hosts h",
            &[],
        )? {
            if opt_int_at(&r, 1) != opt_int_at(&r, 2) {
                problems.push(format!(
                    "host {} points at snapshot {:?}, its newest is {:?}",
                    text_at(&r, 0).unwrap_or_default(),
                    opt_int_at(&r, 1),
                    opt_int_at(&r, 2)
                ));
            }
        }
        Ok(problems)
    }

    /// Row counts per table, for tests and `fleet stats`-like checks.
    pub fn table_counts(&mut self) -> Result<Vec<(String, i64)>, FleetError> {
        let mut out = Vec::new();
        let mut tables = vec!["hosts", "snapshots", "functions"];
        if self.version >= 2 {
            tables.push("device_units");
        }
        if self.version >= 3 {
            tables.push("placement");
        }
        for t in tables {
            let n = self.db.query(&format!("SELECT COUNT(*) FROM {t}"), &[])?;
            out.push((t.to_string(), n.first().map_or(0, |r| int_at(r, 0))));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("host=/tmp dbname=x"), "host=/tmp dbname=x");
    }
}
