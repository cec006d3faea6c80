//! What the fleet holds: devices across the latest snapshots, each host's
//! latest snapshot, a host's history and one snapshot's function rows.

use crate::backend::{Backend, Row};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::query::{DeviceSummary, HistoryEntry, LatestSnapshot};
use crate::record::{Finding, FunctionRow};
use crate::time::format_rfc3339;

/// A 16-bit ID column (0 when out of range, which a stored ID never is).
fn u16_of(r: &Row<'_>, column: &str) -> Result<u16, FleetError> {
    Ok(u16::try_from(r.int(column)?).unwrap_or(0))
}

/// A nullable 16-bit ID column.
fn opt_u16_of(r: &Row<'_>, column: &str) -> Result<Option<u16>, FleetError> {
    Ok(r.opt_int(column)?.and_then(|v| u16::try_from(v).ok()))
}

/// The `reasons` column: `None` when it is `NULL` (a row stored before
/// schema 6) or absent (a database before schema 6, being upgraded).
fn stored_reasons(r: &Row<'_>) -> Result<Option<Vec<Finding>>, FleetError> {
    if !r.has("reasons") {
        return Ok(None);
    }
    r.opt_text("reasons")?
        .map(|text| {
            serde_json::from_str(&text).map_err(|_| FleetError::Column {
                column: "reasons".to_string(),
                problem: "is not a JSON list of findings",
            })
        })
        .transpose()
}

/// A function row read by column name (the columns of `functions`).
fn function_row(r: &Row<'_>) -> Result<FunctionRow, FleetError> {
    Ok(FunctionRow {
        address: r.text("address")?,
        device_key: r.text("device_key")?,
        vendor: u16_of(r, "vendor")?,
        device: u16_of(r, "device")?,
        class: u32::try_from(r.int("class")?).unwrap_or(0),
        subsystem_vendor: opt_u16_of(r, "subsystem_vendor")?,
        subsystem: opt_u16_of(r, "subsystem")?,
        revision: r.opt_int("revision")?.and_then(|v| u8::try_from(v).ok()),
        bridge: r.flag("bridge")?,
        parent: r.opt_text("parent")?,
        driver: r.opt_text("driver")?,
        ppt_dev: r.opt_text("ppt_dev")?,
        reserved: r.opt_flag("reserved")?,
        next_boot_ppt: r.opt_flag("next_boot_ppt")?,
        devfs_path: r.opt_text("devfs_path")?,
        verdict: r.text("verdict")?,
        fail_reason: r.opt_text("fail_reason")?,
        reasons: stored_reasons(r)?,
        in_vm: r.opt_flag("in_vm")?,
        vendor_name: r.opt_text("vendor_name")?,
        device_name: r.opt_text("device_name")?,
        // Kept per device in `device_topology`, not per function row.
        numa_node: None,
        vm: None,
    })
}

/// The function rows of one stored snapshot, in address order, on a
/// connection (inside a transaction).
pub(crate) fn functions_of(
    db: &mut dyn Backend,
    snapshot: i64,
) -> Result<Vec<FunctionRow>, FleetError> {
    db.query(
        "SELECT * FROM functions WHERE snapshot_id = ? ORDER BY address",
        &[snapshot.into()],
    )?
    .iter()
    .map(|r| function_row(&r))
    .collect()
}

impl Fleet {
    /// Every vendor:device in the hosts' latest snapshots. A function
    /// counts as passable when its device passes and its host does not
    /// fail the check (no IOMMU: nothing of it can be passed).
    pub fn devices(&mut self) -> Result<Vec<DeviceSummary>, FleetError> {
        let rows = self.db.query(
            "SELECT f.vendor AS vendor, f.device AS device,
                    MAX(f.vendor_name) AS vendor_name, MAX(f.device_name) AS device_name,
                    COUNT(DISTINCT h.id) AS hosts, COUNT(*) AS functions,
                    CAST(SUM(CASE WHEN u.passable = 1 AND s.host_verdict <> 'fail' THEN 1 ELSE 0 END)
                         AS BIGINT) AS passable,
                    CAST(SUM(CASE WHEN f.reserved = 1 THEN 1 ELSE 0 END) AS BIGINT) AS reserved,
                    COUNT(f.reserved) AS reserved_known,
                    CAST(SUM(CASE WHEN f.driver = 'ppt' THEN 1 ELSE 0 END) AS BIGINT) AS ppt_now
             FROM hosts h
             JOIN snapshots s ON s.id = h.latest_snapshot
             JOIN functions f ON f.snapshot_id = h.latest_snapshot
             JOIN device_units u ON u.snapshot_id = f.snapshot_id AND u.device_key = f.device_key
             GROUP BY f.vendor, f.device
             ORDER BY f.vendor, f.device",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DeviceSummary {
                    ids: format!("{:04x}:{:04x}", r.int("vendor")?, r.int("device")?),
                    vendor_name: r.opt_text("vendor_name")?,
                    device_name: r.opt_text("device_name")?,
                    hosts: r.int("hosts")?,
                    functions: r.int("functions")?,
                    passable: r.int("passable")?,
                    reserved: r.int("reserved")?,
                    reserved_known: r.int("reserved_known")?,
                    ppt_now: r.int("ppt_now")?,
                })
            })
            .collect()
    }

    /// Every host's latest snapshot, by host name.
    pub fn latest_snapshots(&mut self) -> Result<Vec<LatestSnapshot>, FleetError> {
        let rows = self.db.query(
            "SELECT h.name AS host, s.id AS id, s.taken_at AS taken_at,
                    s.host_verdict AS host_verdict, s.host_reason AS host_reason
             FROM hosts h JOIN snapshots s ON s.id = h.latest_snapshot ORDER BY h.name",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(LatestSnapshot {
                    host: r.text("host")?,
                    id: r.int("id")?,
                    time: format_rfc3339(r.int("taken_at")?),
                    host_verdict: r.text("host_verdict")?,
                    host_reason: r.opt_text("host_reason")?,
                })
            })
            .collect()
    }

    /// A host's snapshots, oldest first: by time, then ingest order, the
    /// order that decides the latest (the last entry, marked `latest`).
    pub fn history(&mut self, host: &str) -> Result<Vec<HistoryEntry>, FleetError> {
        let rows = self.db.query(
            "SELECT s.id AS id, s.taken_at AS taken_at, s.time_source AS time_source,
                    s.sha256 AS sha256, s.file_name AS file_name,
                    s.function_count AS function_count, h.latest_snapshot AS latest
             FROM hosts h JOIN snapshots s ON s.host_id = h.id
             WHERE h.name = ? ORDER BY s.taken_at, s.id",
            &[host.into()],
        )?;
        if rows.is_empty() {
            return Err(FleetError::NoHost(host.to_string()));
        }
        let mut out: Vec<HistoryEntry> = Vec::new();
        for r in rows.iter() {
            let taken_at = r.int("taken_at")?;
            let id = r.int("id")?;
            let same_time_as = out.last().filter(|p| p.taken_at == taken_at).map(|p| p.id);
            out.push(HistoryEntry {
                id,
                time: format_rfc3339(taken_at),
                taken_at,
                time_source: r.text("time_source")?,
                sha256: r.text("sha256")?,
                file: r.text("file_name")?,
                functions: r.int("function_count")?,
                latest: r.opt_int("latest")? == Some(id),
                same_time_as,
            });
        }
        Ok(out)
    }

    /// The function rows of one stored snapshot, in address order.
    pub fn snapshot_functions(&mut self, snapshot: i64) -> Result<Vec<FunctionRow>, FleetError> {
        functions_of(self.db.as_mut(), snapshot)
    }
}
