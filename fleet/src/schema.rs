//! Versioned migrations. `schema_version` holds one row, the version the
//! database is at; each migration runs in its own transaction with the
//! version bump, so a killed upgrade leaves the previous version intact.
//! Schema and queries: docs/fleet.md.

use crate::backend::{Backend, Dialect};
use crate::error::FleetError;

/// The newest schema version this build writes.
pub const LATEST: i64 = 4;

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

/// The DDL of migration `to` (1-based).
fn migration(d: Dialect, to: i64) -> Option<String> {
    match to {
        1 => Some(v1(d)),
        2 => Some(v2(d)),
        3 => Some(v3(d)),
        4 => Some(v4(d)),
        _ => None,
    }
}

/// The database's schema version (0: empty).
pub fn version(db: &mut dyn Backend) -> Result<i64, FleetError> {
    let int = db.dialect().int();
    db.batch(&format!(
        "CREATE TABLE IF NOT EXISTS schema_version (version {int} NOT NULL)"
    ))?;
    let rows = db.query("SELECT MAX(version) FROM schema_version", &[])?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.int())
        .unwrap_or(0))
}

/// Upgrades the database to `target`, one migration per transaction;
/// refuses a database newer than this build.
pub fn migrate_to(db: &mut dyn Backend, target: i64) -> Result<i64, FleetError> {
    let found = version(db)?;
    if found > LATEST {
        return Err(FleetError::TooNew {
            db: db.name().to_string(),
            found,
            known: LATEST,
        });
    }
    let mut now = found;
    while now < target {
        let d = db.dialect();
        db.batch(d.begin_write())?;
        let step = (|| {
            if d == Dialect::Postgres {
                // Two processes opening a new database at once: one migrates,
                // the other waits and then sees the new version.
                db.batch("LOCK TABLE schema_version IN EXCLUSIVE MODE")?;
            }
            let cur = db
                .query("SELECT MAX(version) FROM schema_version", &[])?
                .first()
                .and_then(|r| r.first())
                .and_then(|v| v.int())
                .unwrap_or(0);
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
