//! The rows placement reads: each host's snapshot (latest, or as of a
//! time), its devices matching a selector with their verdicts and
//! topology, and the claims live at the time.

use std::collections::HashMap;

use crate::backend::{Backend, Row, Value};
use crate::error::FleetError;
use crate::placement::pick::Candidate;
use crate::query::DeviceSelector;

/// One host at the time asked.
#[derive(Debug, Clone)]
pub(crate) struct HostRow {
    pub id: i64,
    pub name: String,
    pub snapshot: i64,
    pub taken_at: i64,
    pub vms_known: bool,
    pub host_reason: Option<String>,
}

/// One matching device of a host's snapshot.
#[derive(Debug, Clone)]
pub(crate) struct DevRow {
    pub cand: Candidate,
    pub passable: bool,
    pub in_vm: bool,
    pub first_reason: Option<String>,
    pub vm: Option<String>,
}

/// The snapshot each host is judged by: its latest, or (`as_of`) its
/// newest taken at or before the time (a `?` parameter).
fn snapshot_expr(as_of: bool) -> &'static str {
    if as_of {
        "(SELECT s2.id FROM snapshots s2 WHERE s2.host_id = h.id AND s2.taken_at <= ? \
         ORDER BY s2.taken_at DESC, s2.id DESC LIMIT 1)"
    } else {
        "h.latest_snapshot"
    }
}

/// Every host that had a snapshot at the time, by name.
pub(crate) fn hosts(db: &mut dyn Backend, as_of: Option<i64>) -> Result<Vec<HostRow>, FleetError> {
    let sql = format!(
        "SELECT h.id AS id, h.name AS name, s.id AS snapshot, s.taken_at AS taken_at,
                s.vms_known AS vms_known, s.host_reason AS host_reason
         FROM hosts h JOIN snapshots s ON s.id = {}
         ORDER BY h.name",
        snapshot_expr(as_of.is_some())
    );
    let params: Vec<Value> = as_of.into_iter().map(Value::from).collect();
    db.query(&sql, &params)?
        .iter()
        .map(|r| {
            Ok(HostRow {
                id: r.int("id")?,
                name: r.text("name")?,
                snapshot: r.int("snapshot")?,
                taken_at: r.int("taken_at")?,
                vms_known: r.opt_int("vms_known")? == Some(1),
                host_reason: r.opt_text("host_reason")?,
            })
        })
        .collect()
}

/// The devices with a function matching `sel` in each host's snapshot at
/// the time, by host id, in address order.
pub(crate) fn devices(
    db: &mut dyn Backend,
    sel: &DeviceSelector,
    as_of: Option<i64>,
) -> Result<HashMap<i64, Vec<DevRow>>, FleetError> {
    let (cond, sp) = sel.sql();
    let sql = format!(
        "SELECT DISTINCT h.id AS host_id, u.device_key AS device, u.passable AS passable,
                u.in_vm AS in_vm, u.first_reason AS first_reason,
                t.pcie_root AS pcie_root, t.numa_node AS numa_node, t.vm AS vm
         FROM hosts h
         JOIN functions f ON f.snapshot_id = {snap}{cond}
         JOIN device_units u ON u.snapshot_id = f.snapshot_id AND u.device_key = f.device_key
         LEFT JOIN device_topology t ON t.snapshot_id = u.snapshot_id AND t.device_key = u.device_key
         ORDER BY h.id, u.device_key",
        snap = snapshot_expr(as_of.is_some())
    );
    let mut params: Vec<Value> = as_of.into_iter().map(Value::from).collect();
    params.extend(sp);
    let mut out: HashMap<i64, Vec<DevRow>> = HashMap::new();
    for r in db.query(&sql, &params)?.iter() {
        out.entry(r.int("host_id")?).or_default().push(DevRow {
            cand: candidate(r)?,
            passable: r.opt_int("passable")? == Some(1),
            in_vm: r.opt_int("in_vm")? == Some(1),
            first_reason: r.opt_text("first_reason")?,
            vm: r.opt_text("vm")?,
        });
    }
    Ok(out)
}

/// The holder of each claimed (host id, device) live at `at`: now from
/// `claim_devices`, in the past from the claims' history.
pub(crate) fn claimed(
    db: &mut dyn Backend,
    at: i64,
    past: bool,
) -> Result<HashMap<(i64, String), String>, FleetError> {
    let mut out = HashMap::new();
    if past {
        let rows = db.query(
            "SELECT host_id AS host_id, holder AS holder, devices AS devices FROM claims
             WHERE created_at <= ? AND (expires_at IS NULL OR expires_at > ?)
               AND (released_at IS NULL OR released_at > ?)",
            &[at.into(), at.into(), at.into()],
        )?;
        for r in rows.iter() {
            let holder = r.text("holder")?;
            let host = r.int("host_id")?;
            for d in r.text("devices")?.split(',').filter(|d| !d.is_empty()) {
                out.insert((host, d.to_string()), holder.clone());
            }
        }
    } else {
        let rows = db.query(
            "SELECT cd.host_id AS host_id, cd.device_key AS device, c.holder AS holder FROM claim_devices cd
             JOIN claims c ON c.id = cd.claim_id WHERE cd.expires_at > ?",
            &[at.into()],
        )?;
        for r in rows.iter() {
            out.insert((r.int("host_id")?, r.text("device")?), r.text("holder")?);
        }
    }
    Ok(out)
}

/// The usable matching devices of snapshot `g` of host `host` that no
/// live claim holds (`None`: `g` is not a snapshot of that host).
pub(crate) fn usable_at(
    db: &mut dyn Backend,
    sel: &DeviceSelector,
    host: i64,
    g: i64,
    now: i64,
) -> Result<Option<Vec<Candidate>>, FleetError> {
    let head = db.query(
        "SELECT host_verdict AS verdict FROM snapshots WHERE id = ? AND host_id = ?",
        &[g.into(), host.into()],
    )?;
    let verdict = match head.first() {
        Some(r) => r.opt_text("verdict")?.unwrap_or_default(),
        None => return Ok(None),
    };
    if verdict == "fail" {
        return Ok(Some(Vec::new()));
    }
    let (cond, sp) = sel.sql();
    let sql = format!(
        "SELECT DISTINCT u.device_key AS device, t.pcie_root AS pcie_root, t.numa_node AS numa_node
         FROM functions f
         JOIN device_units u ON u.snapshot_id = f.snapshot_id AND u.device_key = f.device_key
         LEFT JOIN device_topology t ON t.snapshot_id = u.snapshot_id AND t.device_key = u.device_key
         WHERE f.snapshot_id = ?{cond} AND u.passable = 1 AND (u.in_vm IS NULL OR u.in_vm = 0)
           AND {free}
         ORDER BY u.device_key",
        free = crate::placement::unclaimed_at("?", "u.device_key")
    );
    let mut params: Vec<Value> = vec![g.into()];
    params.extend(sp);
    params.push(host.into());
    params.push(now.into());
    let rows = db.query(&sql, &params)?;
    Ok(Some(rows.iter().map(candidate).collect::<Result<_, _>>()?))
}

/// A device's topology columns (`device`, `pcie_root`, `numa_node`).
fn candidate(r: Row<'_>) -> Result<Candidate, FleetError> {
    Ok(Candidate {
        device: r.text("device")?,
        pcie_root: r.opt_text("pcie_root")?,
        numa_node: r.opt_int("numa_node")?,
    })
}
