//! Which hosts have at least N free devices matching a selector: the one
//! answer behind `fleet hosts` and the candidates of `fleet claim`. A
//! device is free when it is usable (a `placement` row:
//! [`crate::schema::placement_select`]) and no live claim holds it.
//!
//! A vendor, vendor:device or any selector is answered from the per-host
//! counts kept at ingest ([`super::counts`]), reading only the hosts that
//! qualify, less the devices live claims hold; other selectors from the
//! `placement` rows. Both give the same answer (`fleet/tests/placement_counts.rs`).

use std::collections::{HashMap, HashSet};

use crate::backend::{Backend, Row, Value};
use crate::error::FleetError;
use crate::placement::counts;
use crate::query::DeviceSelector;

/// What is asked.
pub(crate) struct Ask<'a> {
    /// Devices wanted.
    pub sel: &'a DeviceSelector,
    /// How many (at least 1).
    pub count: i64,
    /// The database time that decides which claims are live; `None` on a
    /// database without claims (before schema 4).
    pub now: Option<i64>,
    /// Only this host.
    pub host: Option<&'a str>,
    /// Whether the database keeps `placement_counts` (schema 6).
    pub counts_kept: bool,
}

/// A host with enough free devices.
pub(crate) struct FreeHost {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// When its latest snapshot was taken (Unix seconds).
    pub taken_at: i64,
    /// Whether that snapshot records VM use.
    pub vms_known: bool,
    /// Free matching devices.
    pub free: i64,
    /// Their addresses (`DDDD:BB:DD`), sorted.
    pub devices: Vec<String>,
}

/// The hosts with at least `ask.count` free matching devices, most first,
/// then by name in byte order (the same on both backends).
pub(crate) fn free_hosts(db: &mut dyn Backend, ask: &Ask<'_>) -> Result<Vec<FreeHost>, FleetError> {
    let key = counts::key(ask.sel).filter(|_| ask.counts_kept);
    let mut hosts = match (key, ask.now) {
        (Some(key), Some(now)) => from_counts(db, key, ask, now)?,
        _ => from_rows(db, ask)?,
    };
    hosts.sort_by(|a, b| b.free.cmp(&a.free).then_with(|| a.name.cmp(&b.name)));
    Ok(hosts)
}

/// A row with the columns `host_id`, `host`, `taken_at`, `vms_known`,
/// `free` and `devices` (comma-joined, any order).
fn free_host(r: &Row<'_>) -> Result<FreeHost, FleetError> {
    let mut devices: Vec<String> = r
        .opt_text("devices")?
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    devices.sort();
    Ok(FreeHost {
        id: r.int("host_id")?,
        name: r.text("host")?,
        taken_at: r.int("taken_at")?,
        vms_known: r.flag("vms_known")?,
        free: r.int("free")?,
        devices,
    })
}

/// From `placement_counts`, less the devices live claims hold at `now`:
/// those matching the selector are read per host (one row per claimed
/// device, however many hosts and devices the fleet has) and taken off
/// each host's count and list.
fn from_counts(
    db: &mut dyn Backend,
    (vendor, device): (i64, i64),
    ask: &Ask<'_>,
    now: i64,
) -> Result<Vec<FreeHost>, FleetError> {
    let claimed = claimed_matching(db, ask.sel, now)?;
    let mut params: Vec<Value> = vec![vendor.into(), device.into(), ask.count.into()];
    let only = ask.host.map_or("", |h| {
        params.push(h.into());
        " AND pc.host_name = ?"
    });
    let rows = db.query(
        &format!(
            "SELECT pc.host_id AS host_id, pc.host_name AS host, pc.taken_at AS taken_at,
                    pc.vms_known AS vms_known, pc.n AS free, pc.devices AS devices
             FROM placement_counts pc
             WHERE pc.vendor = ? AND pc.device = ? AND pc.n >= ?{only}"
        ),
        &params,
    )?;
    let mut hosts = Vec::new();
    for r in rows.iter() {
        let mut h = free_host(&r)?;
        if let Some(taken) = claimed.get(&h.id) {
            h.devices.retain(|d| !taken.contains(d));
            h.free = i64::try_from(h.devices.len()).unwrap_or(i64::MAX);
        }
        if h.free >= ask.count {
            hosts.push(h);
        }
    }
    Ok(hosts)
}

/// Per host, the devices that live claims hold at `now` and that have a
/// usable function matching `sel` (a `placement` row). Read from the
/// claims outwards, so its cost follows the claimed devices, not the
/// fleet's matching devices.
fn claimed_matching(
    db: &mut dyn Backend,
    sel: &DeviceSelector,
    now: i64,
) -> Result<HashMap<i64, HashSet<String>>, FleetError> {
    let (cond, mut params) = sel.sql_on("p");
    params.insert(0, now.into());
    let rows = db.query(
        &format!(
            "SELECT c.host_id AS host_id, c.device_key AS device_key
             FROM claim_devices c
             WHERE c.expires_at > ? AND EXISTS (
                 SELECT 1 FROM placement p
                 WHERE p.host_id = c.host_id AND p.device_key = c.device_key{cond})"
        ),
        &params,
    )?;
    let mut out: HashMap<i64, HashSet<String>> = HashMap::new();
    for r in rows.iter() {
        out.entry(r.int("host_id")?)
            .or_default()
            .insert(r.text("device_key")?);
    }
    Ok(out)
}

/// From the `placement` rows (unsorted).
fn from_rows(db: &mut dyn Backend, ask: &Ask<'_>) -> Result<Vec<FreeHost>, FleetError> {
    // `placement` holds only usable devices of latest snapshots, keyed by
    // IDs first.
    let (mut cond, mut params) = ask.sel.sql_on("p");
    if let Some(h) = ask.host {
        cond.push_str(" AND h.name = ?");
        params.push(h.into());
    }
    if let Some(now) = ask.now {
        cond.push_str(&format!(" AND {}", super::unclaimed("p")));
        params.push(now.into());
    }
    params.push(ask.count.into());
    let sql = format!(
        "SELECT h.id AS host_id, h.name AS host, s.taken_at AS taken_at, s.vms_known AS vms_known,
                COUNT(DISTINCT p.device_key) AS free, {keys} AS devices
         FROM placement p
         JOIN hosts h ON h.id = p.host_id
         JOIN snapshots s ON s.id = h.latest_snapshot
         WHERE 1 = 1{cond}
         GROUP BY h.id, h.name, s.taken_at, s.vms_known
         HAVING COUNT(DISTINCT p.device_key) >= ?",
        keys = db.dialect().concat_distinct("p.device_key")
    );
    db.query(&sql, &params)?
        .iter()
        .map(|r| free_host(&r))
        .collect()
}
