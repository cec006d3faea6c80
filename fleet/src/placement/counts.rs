//! Per-host counts of usable devices, kept at ingest, so "which hosts can
//! give N devices of this vendor (and device ID)" reads only the hosts that
//! qualify instead of every matching device of every host.
//!
//! `placement_counts` holds, for each host's latest snapshot, one row per
//! key the common selectors ask: `(vendor, device)`, `(vendor, ANY)` and
//! `(ANY, ANY)` ([`ANY`] is -1, outside the 16-bit ID range), with the
//! number of distinct usable devices (`n`), the host's name, snapshot time
//! and whether VM use is known (copied so the answer is one index range),
//! and the devices, comma-joined. It is derived from `placement` only
//! (the rule "a device can be given to a guest" stays in
//! [`crate::schema::placement_select`]) and rebuilt for a host wherever its
//! `placement` rows are. Claims are not in it: the devices live claims
//! hold are taken off when it is read ([`super::free`]). Selectors with a
//! class, or a device ID without a vendor, read the rows.

use crate::backend::Dialect;
use crate::query::DeviceSelector;

/// The key value that stands for "any vendor" or "any device".
pub(crate) const ANY: i64 = -1;

/// The table and its host index (schema 6). The answer is one range scan
/// of the primary key that never visits rows stored elsewhere: on SQLite
/// the table is its own primary-key B-tree (`WITHOUT ROWID`); on
/// PostgreSQL the key's index carries the other columns (`INCLUDE`), so
/// the scan is index-only once ingest's `VACUUM` has marked the pages
/// visible (without it, the rows of one vendor sit on as many heap pages
/// as hosts: 59 ms instead of 4 ms at 100,000 hosts).
pub(crate) fn ddl(d: Dialect) -> String {
    let int = d.int();
    let (include, without_rowid) = match d {
        Dialect::Sqlite => ("", " WITHOUT ROWID"),
        Dialect::Postgres => (" INCLUDE (host_id, taken_at, vms_known, devices)", ""),
    };
    format!(
        "CREATE TABLE placement_counts (
            vendor {int} NOT NULL,
            device {int} NOT NULL,
            n {int} NOT NULL,
            host_name TEXT NOT NULL,
            host_id {int} NOT NULL REFERENCES hosts(id),
            taken_at {int} NOT NULL,
            vms_known {int} NOT NULL,
            devices TEXT NOT NULL,
            PRIMARY KEY (vendor, device, n, host_name){include}
        ){without_rowid};
        CREATE INDEX placement_counts_host ON placement_counts (host_id);"
    )
}

/// The `placement_counts` rows `placement` gives: for every host, or with
/// `one_host` for the host given as the statement's three `?` parameters
/// (the same id each time). Columns in table order.
pub(crate) fn select(d: Dialect, one_host: bool) -> String {
    let only = if one_host { " WHERE host_id = ?" } else { "" };
    format!(
        "SELECT k.vendor AS vendor, k.device AS device, COUNT(DISTINCT k.device_key) AS n,
                h.name AS host_name, h.id AS host_id, s.taken_at AS taken_at,
                s.vms_known AS vms_known, {devices} AS devices
         FROM (SELECT host_id, vendor, device, device_key FROM placement{only}
               UNION SELECT host_id, vendor, {ANY}, device_key FROM placement{only}
               UNION SELECT host_id, {ANY}, {ANY}, device_key FROM placement{only}) k
         JOIN hosts h ON h.id = k.host_id
         JOIN snapshots s ON s.id = h.latest_snapshot
         GROUP BY k.vendor, k.device, h.name, h.id, s.taken_at, s.vms_known",
        devices = d.concat_distinct("k.device_key")
    )
}

/// Fills `placement_counts` from [`select`].
pub(crate) fn insert(d: Dialect, one_host: bool) -> String {
    format!(
        "INSERT INTO placement_counts (vendor, device, n, host_name, host_id, taken_at, vms_known, devices)
         {}",
        select(d, one_host)
    )
}

/// The `(vendor, device)` key of `sel` in `placement_counts`, when the
/// table can answer it: no class or programming interface, and no device
/// ID without a vendor.
pub(crate) fn key(sel: &DeviceSelector) -> Option<(i64, i64)> {
    let f = sel.filter();
    if f.class.is_some() || f.prog_if.is_some() {
        return None;
    }
    match (f.vendor, f.device) {
        (Some(v), Some(d)) => Some((i64::from(v), i64::from(d))),
        (Some(v), None) => Some((i64::from(v), ANY)),
        (None, None) => Some((ANY, ANY)),
        (None, Some(_)) => None,
    }
}
