//! Versioned migrations, and what a database must be to be opened.
//! `schema_version` holds one row, the version the database is at; each
//! migration runs in its own transaction with the version bump, so a
//! killed upgrade leaves the previous version intact. A SQLite fleet file
//! also carries [`APPLICATION_ID`] and the version in its header
//! (`PRAGMA application_id`, `PRAGMA user_version`), so `file(1)` and
//! pptctl tell it from another application's database without reading
//! tables. Only [`Access::Create`] creates or migrates ([`create`]);
//! reads and writes of rows open an existing fleet database at
//! [`LATEST`] ([`check`]). Schema and queries: docs/fleet.md.

use crate::backend::{Access, Backend, Dialect};
use crate::error::FleetError;

/// The newest schema version this build writes.
pub const LATEST: i64 = 6;

/// SQLite `PRAGMA application_id` of a pptctl fleet database: the bytes
/// `PPTC` (0x50505443) at offset 68 of the file header.
pub const APPLICATION_ID: i64 = 0x5050_5443;

/// The tables every fleet database has had since version 1: a database
/// without the header id (PostgreSQL, or a SQLite file made before the id
/// was written) is a fleet database when it has all of them.
const FLEET_TABLES: [&str; 4] = ["schema_version", "hosts", "snapshots", "functions"];

/// Version 1: hosts, their snapshots, one row of facts per function.
fn v1(d: Dialect) -> String {
    let (id, int) = (d.id_column(), d.int());
    format!(
        "CREATE TABLE hosts (
            id {id},
            name TEXT NOT NULL UNIQUE,
            latest_snapshot {int}
        );
        CREATE TABLE snapshots (
            id {id},
            host_id {int} NOT NULL REFERENCES hosts(id),
            sha256 TEXT NOT NULL UNIQUE,
            format TEXT NOT NULL,
            taken_at {int} NOT NULL,
            time_source TEXT NOT NULL,
            source TEXT,
            os TEXT,
            file_name TEXT NOT NULL,
            vms_known {int} NOT NULL,
            host_verdict TEXT NOT NULL,
            host_reason TEXT,
            function_count {int} NOT NULL,
            ingested_at {int} NOT NULL
        );
        CREATE INDEX snapshots_host_time ON snapshots (host_id, taken_at);
        CREATE INDEX hosts_latest ON hosts (latest_snapshot);
        CREATE TABLE functions (
            snapshot_id {int} NOT NULL REFERENCES snapshots(id),
            address TEXT NOT NULL,
            device_key TEXT NOT NULL,
            vendor {int} NOT NULL,
            device {int} NOT NULL,
            class {int} NOT NULL,
            subsystem_vendor {int},
            subsystem {int},
            bridge {int} NOT NULL,
            parent TEXT,
            driver TEXT,
            ppt_dev TEXT,
            reserved {int},
            next_boot_ppt {int},
            devfs_path TEXT,
            verdict TEXT NOT NULL,
            fail_reason TEXT,
            in_vm {int},
            vendor_name TEXT,
            device_name TEXT,
            PRIMARY KEY (snapshot_id, address)
        );"
    )
}

/// Version 2: one row per PCI device (the unit a guest is given) with
/// whether all its functions pass, so placement reads one row per
/// candidate device instead of re-aggregating functions; and two indexes
/// for placement: one seeks a host's latest snapshot by IDs (the plan
/// SQLite picks, starting from the hosts), one finds the functions of a
/// vendor without touching the table (the index-only scan PostgreSQL picks). Existing snapshots
/// are backfilled from their function rows.
fn v2(d: Dialect) -> String {
    let int = d.int();
    format!(
        "CREATE TABLE device_units (
            snapshot_id {int} NOT NULL REFERENCES snapshots(id),
            device_key TEXT NOT NULL,
            function_count {int} NOT NULL,
            passable {int} NOT NULL,
            in_vm {int},
            first_reason TEXT,
            PRIMARY KEY (snapshot_id, device_key)
        );
        CREATE INDEX functions_ids ON functions (snapshot_id, vendor, device, class);
        CREATE INDEX functions_vendor ON functions (vendor, device, class, snapshot_id, device_key);
        {backfill};",
        backfill = units_insert("")
    )
}

/// Version 3: `placement`, the hosts' usable devices by IDs, kept for
/// each host's latest snapshot in the ingest's transaction, so placement
/// reads the selected vendor's rows from one index instead of visiting
/// every host's functions; and `functions_vendor` goes: it served only the
/// placement plan and cost a random B-tree insert per function.
fn v3(d: Dialect) -> String {
    let int = d.int();
    format!(
        "CREATE TABLE placement (
            host_id {int} NOT NULL REFERENCES hosts(id),
            vendor {int} NOT NULL,
            device {int} NOT NULL,
            class {int} NOT NULL,
            device_key TEXT NOT NULL,
            PRIMARY KEY (vendor, device, class, host_id, device_key)
        );
        CREATE INDEX placement_host ON placement (host_id);
        DROP INDEX functions_vendor;
        {backfill};",
        backfill = placement_insert("")
    )
}

/// The `placement` rows of the hosts' latest snapshots (all hosts, or
/// those matched by `filter`, e.g. `AND h.id = ?`): one row per distinct
/// IDs of a function in a device that passes (see [`units_insert`]), no
/// recorded VM uses, on a host that does not fail. The rule "a device can
/// be given to a guest" lives here only.
pub(crate) fn placement_select(filter: &str) -> String {
    format!(
        "SELECT DISTINCT h.id, f.vendor, f.device, f.class, f.device_key
         FROM hosts h
         JOIN snapshots s ON s.id = h.latest_snapshot
         JOIN functions f ON f.snapshot_id = h.latest_snapshot
         JOIN device_units u ON u.snapshot_id = f.snapshot_id AND u.device_key = f.device_key
         WHERE s.host_verdict <> 'fail' AND u.passable = 1 AND (u.in_vm IS NULL OR u.in_vm = 0){filter}"
    )
}

/// Fills `placement` from [`placement_select`].
pub(crate) fn placement_insert(filter: &str) -> String {
    format!(
        "INSERT INTO placement (host_id, vendor, device, class, device_key) {}",
        placement_select(filter)
    )
}

/// Fills `device_units` from `functions` (all snapshots, or those matched
/// by `filter`, e.g. `WHERE snapshot_id = ?`). The rule "a device passes
/// when none of its functions fails" lives here only.
pub(crate) fn units_insert(filter: &str) -> String {
    format!(
        "INSERT INTO device_units (snapshot_id, device_key, function_count, passable, in_vm, first_reason)
         SELECT snapshot_id, device_key, COUNT(*),
                CASE WHEN SUM(CASE WHEN verdict = 'fail' THEN 1 ELSE 0 END) = 0 THEN 1 ELSE 0 END,
                MAX(in_vm),
                MIN(CASE WHEN verdict = 'fail' THEN address || ' ' || fail_reason END)
         FROM functions {filter}
         GROUP BY snapshot_id, device_key"
    )
}

// ---- Claims and topology (schema 4) -------------------------------------
// Owned by `crate::claims` and `crate::placement`; see docs/fleet.md.

/// Version 4: claims and device topology.
///
/// * `claims`: one row per claim ever made (kept after release or expiry,
///   so `--as-of` can ask which claims were live at a time): the holder,
///   the host, the snapshot id it was made against (the host's generation,
///   [`crate::claims`]), the devices (`DDDD:BB:DD`, comma-joined), and
///   its times (database clock, Unix seconds).
/// * `claim_devices`: the devices of live claims, one row each. Its
///   primary key (host, device) is the final guard against two claims on
///   one device, on both backends; rows of expired claims are deleted by
///   the next claim on that host before it inserts its own.
/// * `device_topology`: per stored device, the PCIe root it sits below
///   (DRA's `pcieRoot`), its NUMA node when the snapshot records one, and
///   the VM that uses it when the snapshot names one; filled at ingest.
fn v4(d: Dialect) -> String {
    let (id, int) = (d.id_column(), d.int());
    format!(
        "CREATE TABLE claims (
            id {id},
            holder TEXT NOT NULL,
            host_id {int} NOT NULL REFERENCES hosts(id),
            snapshot_id {int} NOT NULL REFERENCES snapshots(id),
            selector TEXT NOT NULL,
            devices TEXT NOT NULL,
            created_at {int} NOT NULL,
            expires_at {int},
            released_at {int}
        );
        CREATE INDEX claims_holder ON claims (holder, released_at);
        CREATE TABLE claim_devices (
            host_id {int} NOT NULL REFERENCES hosts(id),
            device_key TEXT NOT NULL,
            claim_id {int} NOT NULL REFERENCES claims(id),
            expires_at {int} NOT NULL,
            PRIMARY KEY (host_id, device_key)
        );
        CREATE INDEX claim_devices_claim ON claim_devices (claim_id);
        CREATE TABLE device_topology (
            snapshot_id {int} NOT NULL REFERENCES snapshots(id),
            device_key TEXT NOT NULL,
            pcie_root TEXT NOT NULL,
            numa_node {int},
            vm TEXT,
            PRIMARY KEY (snapshot_id, device_key)
        );"
    )
}
// ---- end of schema 4 ------------------------------------------------------

/// Version 5: the device history and the revision ID.
///
/// * `functions.revision`: the revision ID (config space 0x08), part of a
///   function's identity for `fleet verify` and the history (`NULL` in rows
///   stored before version 5: unknown, never compared).
/// * `device_events`: the append-only event log per device
///   ([`crate::history`]): one row per event, derived at ingest when a
///   snapshot becomes its host's newest, or written by a claim or release.
///   `snapshot_id` is the snapshot that showed it (`NULL` for claim
///   events), `claim_id` the claim (`NULL` otherwise); `at` is the
///   snapshot's time or the claim's database time.
fn v5(d: Dialect) -> String {
    let (id, int) = (d.id_column(), d.int());
    format!(
        "ALTER TABLE functions ADD COLUMN revision {int};
        CREATE TABLE device_events (
            id {id},
            host_id {int} NOT NULL REFERENCES hosts(id),
            at {int} NOT NULL,
            address TEXT NOT NULL,
            devfs_path TEXT,
            kind TEXT NOT NULL,
            detail TEXT,
            snapshot_id {int} REFERENCES snapshots(id),
            claim_id {int} REFERENCES claims(id)
        );
        CREATE INDEX device_events_host ON device_events (host_id, at, id);"
    )
}

/// Version 6: every warn and fail finding of each function, and per-host
/// device counts for placement.
///
/// * `functions.reasons`: a JSON array of the function's warn and fail
///   findings in the check's order, each `{"severity": "warn"|"fail",
///   "code": RULE, "message": TEXT}` (`[]`: none). `NULL` in rows stored
///   before version 6, which keep only `fail_reason`, the first failing one.
/// * `placement_counts`: per host the number of usable devices for each
///   vendor and vendor:device ([`crate::placement::counts`]), kept beside
///   `placement` so placement over a large fleet reads only the hosts that
///   qualify; backfilled from `placement`.
fn v6(d: Dialect) -> String {
    format!(
        "ALTER TABLE functions ADD COLUMN reasons TEXT;\n{};\n{}",
        crate::placement::counts::ddl(d),
        crate::placement::counts::insert(d, false)
    )
}

/// The DDL of migration `to` (1-based).
fn migration(d: Dialect, to: i64) -> Option<String> {
    match to {
        1 => Some(v1(d)),
        2 => Some(v2(d)),
        3 => Some(v3(d)),
        4 => Some(v4(d)),
        5 => Some(v5(d)),
        6 => Some(v6(d)),
        _ => None,
    }
}

/// What a database holds, found without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Nothing: no tables (a new SQLite file, an empty PostgreSQL database).
    Empty,
    /// A pptctl fleet database at this schema version.
    Fleet {
        /// Its schema version.
        version: i64,
    },
    /// Something else, described for the message.
    Foreign(String),
}

/// The names of the tables in the database (the current schema on
/// PostgreSQL), sorted.
fn table_names(db: &mut dyn Backend) -> Result<Vec<String>, FleetError> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name"
        }
    };
    db.query(sql, &[])?.iter().map(|r| r.text("name")).collect()
}

/// SQLite's header application id (0 on PostgreSQL, which has none).
fn application_id(db: &mut dyn Backend) -> Result<i64, FleetError> {
    match db.dialect() {
        Dialect::Sqlite => Ok(db
            .query("PRAGMA application_id", &[])?
            .first()
            .map(|r| r.int("application_id"))
            .transpose()?
            .unwrap_or(0)),
        Dialect::Postgres => Ok(0),
    }
}

/// The version in `schema_version` (0 when the table is empty).
fn stored_version(db: &mut dyn Backend) -> Result<i64, FleetError> {
    Ok(db
        .query("SELECT MAX(version) AS version FROM schema_version", &[])?
        .first()
        .map(|r| r.opt_int("version"))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// What the database holds, by reading only: the header id (SQLite), the
/// table names and the schema version.
pub fn identify(db: &mut dyn Backend) -> Result<Identity, FleetError> {
    let tables = table_names(db)?;
    let app = application_id(db)?;
    let listed = || {
        let shown: Vec<&str> = tables.iter().take(6).map(String::as_str).collect();
        let more = tables.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!(
            "{} table{} ({}{more})",
            tables.len(),
            if tables.len() == 1 { "" } else { "s" },
            shown.join(", ")
        )
    };
    if app != 0 && app != APPLICATION_ID {
        return Ok(Identity::Foreign(format!(
            "application_id {app:#010x} (another application's), {}",
            listed()
        )));
    }
    if tables.is_empty() {
        return Ok(Identity::Empty);
    }
    // A creation killed after its first statement (the version table, on
    // a backend that commits it alone) and before its first migration
    // left nothing else: still an empty database.
    if tables.len() == 1 && tables[0] == "schema_version" && stored_version(db)? == 0 {
        return Ok(Identity::Empty);
    }
    let ours = app == APPLICATION_ID || FLEET_TABLES.iter().all(|t| tables.iter().any(|n| n == t));
    if !ours {
        return Ok(Identity::Foreign(listed()));
    }
    Ok(Identity::Fleet {
        version: stored_version(db)?,
    })
}

/// Checks that the database is a fleet database this build reads, for
/// [`Access::Read`] and [`Access::Write`] (which change no schema):
/// returns its version, [`LATEST`].
pub fn check(db: &mut dyn Backend, access: Access) -> Result<i64, FleetError> {
    debug_assert!(access != Access::Create);
    let name = db.name().to_string();
    match identify(db)? {
        Identity::Empty => Err(FleetError::NoDatabase { db: name }),
        Identity::Foreign(found) => Err(FleetError::NotFleet { db: name, found }),
        Identity::Fleet { version } if version > LATEST => Err(FleetError::TooNew {
            db: name,
            found: version,
            known: LATEST,
        }),
        Identity::Fleet { version } if version < LATEST => Err(FleetError::TooOld {
            db: name,
            found: version,
            latest: LATEST,
        }),
        Identity::Fleet { version } => Ok(version),
    }
}

/// [`Access::Create`]: creates the schema in an empty database or upgrades
/// a fleet database to `target`; refuses another application's database
/// and one newer than this build. Returns the version reached.
pub fn create(db: &mut dyn Backend, target: i64) -> Result<i64, FleetError> {
    let name = db.name().to_string();
    match identify(db)? {
        Identity::Foreign(found) => return Err(FleetError::NotFleet { db: name, found }),
        Identity::Fleet { version } if version > LATEST => {
            return Err(FleetError::TooNew {
                db: name,
                found: version,
                known: LATEST,
            })
        }
        Identity::Empty | Identity::Fleet { .. } => {}
    }
    let int = db.dialect().int();
    db.batch(&format!(
        "CREATE TABLE IF NOT EXISTS schema_version (version {int} NOT NULL)"
    ))?;
    let version = migrate_to(db, target)?;
    stamp(db, version)?;
    Ok(version)
}

/// Writes the SQLite header's id and version when they differ (a new file,
/// a migration, or a file made before the id was written).
fn stamp(db: &mut dyn Backend, version: i64) -> Result<(), FleetError> {
    if db.dialect() != Dialect::Sqlite {
        return Ok(());
    }
    let user = db
        .query("PRAGMA user_version", &[])?
        .first()
        .map(|r| r.int("user_version"))
        .transpose()?
        .unwrap_or(0);
    if application_id(db)? != APPLICATION_ID || user != version {
        db.batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version}"
        ))?;
    }
    Ok(())
}

/// Upgrades the database to `target`, one migration per transaction.
fn migrate_to(db: &mut dyn Backend, target: i64) -> Result<i64, FleetError> {
    let mut now = stored_version(db)?;
    while now < target {
        let d = db.dialect();
        db.batch(d.begin_write())?;
        let step = (|| {
            if d == Dialect::Postgres {
                // Two processes opening a new database at once: one migrates,
                // the other waits and then sees the new version.
                db.batch("LOCK TABLE schema_version IN EXCLUSIVE MODE")?;
            }
            let cur = stored_version(db)?;
            if cur > now {
                return Ok(cur);
            }
            let Some(ddl) = migration(d, cur + 1) else {
                return Ok(cur);
            };
            db.batch(&ddl)?;
            db.execute("DELETE FROM schema_version", &[])?;
            db.execute(
                "INSERT INTO schema_version (version) VALUES (?)",
                &[(cur + 1).into()],
            )?;
            Ok(cur + 1)
        })();
        match step {
            Ok(v) => {
                db.batch("COMMIT")?;
                if v == now {
                    break;
                }
                now = v;
            }
            Err(e) => {
                let _ = db.batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    Ok(now)
}
