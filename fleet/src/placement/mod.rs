//! Placement that explains itself: which hosts can give N free devices
//! (under a topology constraint), and for every host left out the reason,
//! as the fleet stands now or stood at a past time (`--as-of`).
//!
//! Reason codes (docs/fleet.md, "Why not"): `no-match` (no device matches
//! the selector), `not-passable` (the host or the devices fail the check;
//! the failing rule is named), `in-use` (VMs use them; the VM named),
//! `claimed` (claims hold them; the holder named), `stale` (the snapshot is
//! older than `--max-age`, or dated after the time asked: clock skew),
//! `constraint` (enough free devices, but not where `--same`/`--spread`
//! wants them).

pub(crate) mod counts;
pub(crate) mod free;
pub mod pick;
pub(crate) mod rows;
pub mod topology;

use std::collections::HashMap;

use serde::Serialize;

use crate::claims::{db_now, ClaimError, MAX_SKEW};
use crate::fleet::Fleet;
use crate::placement::pick::{pick, Constraint};
use crate::placement::rows::{DevRow, HostRow};
use crate::query::DeviceSelector;
use crate::time::format_rfc3339;

/// The condition on `claim_devices c` that it is a live claim on device
/// `device` of host `host` (SQL expressions); one `?` parameter, the
/// database time. The rule "a claimed device is taken" lives here only.
fn live_claim(host: &str, device: &str) -> String {
    format!("c.host_id = {host} AND c.device_key = {device} AND c.expires_at > ?")
}

/// `NOT EXISTS` a live claim on the device of `t` (a table with `host_id`
/// and `device_key`); one `?` parameter, the database time.
pub(crate) fn unclaimed(t: &str) -> String {
    unclaimed_at(&format!("{t}.host_id"), &format!("{t}.device_key"))
}

/// `NOT EXISTS` a live claim on device `device` of host `host` (SQL
/// expressions, `?` allowed; the database time is the last parameter).
pub(crate) fn unclaimed_at(host: &str, device: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM claim_devices c WHERE {})",
        live_claim(host, device)
    )
}

/// The holder of a live claim on device `device` of host `host`, or NULL
/// (a scalar SQL expression; the database time is its one parameter).
pub(crate) fn claim_holder(host: &str, device: &str) -> String {
    format!(
        "(SELECT MIN(k.holder) FROM claim_devices c JOIN claims k ON k.id = c.claim_id WHERE {})",
        live_claim(host, device)
    )
}

/// What placement is asked.
#[derive(Debug, Clone)]
pub struct PlaceQuery<'a> {
    /// Devices wanted.
    pub selector: &'a DeviceSelector,
    /// How many.
    pub count: i64,
    /// Where they must sit.
    pub constraint: Constraint,
    /// Snapshots older than this many seconds are `stale`.
    pub max_age: Option<i64>,
    /// Judge the fleet as it stood at this time (Unix seconds).
    pub as_of: Option<i64>,
}

/// One device as DRA's standard attributes name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAttrs {
    /// Function 0 of the device, `DDDD:BB:DD.0` (all its functions go).
    #[serde(rename = "pciBusID")]
    pub pci_bus_id: String,
    /// The root complex above it (`null`: not recorded).
    #[serde(rename = "pcieRoot")]
    pub pcie_root: Option<String>,
    /// Its NUMA node (`null`: unknown).
    #[serde(rename = "numaNode")]
    pub numa_node: Option<i64>,
}

/// A host that can give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacedHost {
    /// Host name.
    pub host: String,
    /// Its generation (latest snapshot id; `fleet claim --generation`).
    pub generation: i64,
    /// When the snapshot judged was taken.
    pub snapshot_time: String,
    /// Free matching devices.
    pub free: i64,
    /// The devices a claim would take now, under the constraint.
    pub pick: Vec<DeviceAttrs>,
    /// Every free matching device.
    pub devices: Vec<DeviceAttrs>,
    /// Whether VM use is recorded.
    pub vms_known: bool,
}

/// A host left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// Host name.
    pub host: String,
    /// `no-match`, `not-passable`, `in-use`, `claimed`, `stale` or `constraint`.
    pub reason: &'static str,
    /// The rule, VM, holder, age or layout behind it.
    pub detail: String,
    /// When the snapshot judged was taken.
    pub snapshot_time: String,
}

/// The answer: hosts that qualify (most free first, then by name) and
/// hosts left out (by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceAnswer {
    /// The time the fleet was judged at (database clock, or `--as-of`).
    pub at: String,
    /// Qualifying hosts.
    pub hosts: Vec<PlacedHost>,
    /// The others.
    pub left_out: Vec<LeftOut>,
}

impl Fleet {
    /// Judges every host (latest snapshot, or as of `q.as_of`) for `q`.
    pub fn place(&mut self, q: &PlaceQuery<'_>) -> Result<PlaceAnswer, ClaimError> {
        // A database opened without migrating (read-only) may predate the
        // claim and topology tables.
        let version = self.version();
        if version < 4 {
            let name = self.name().to_string();
            return Err(ClaimError::Fleet(crate::error::FleetError::db(
                &name,
                format!("schema version {version} has no claims or topology; `pptctl fleet ingest` upgrades it"),
            )));
        }
        let db = self.backend();
        let now = db_now(db)?;
        let at = q.as_of.unwrap_or(now);
        let hosts = rows::hosts(db, q.as_of)?;
        let mut devices = rows::devices(db, q.selector, q.as_of)?;
        let claimed = rows::claimed(db, at, q.as_of.is_some())?;
        let mut answer = PlaceAnswer {
            at: format_rfc3339(at),
            hosts: Vec::new(),
            left_out: Vec::new(),
        };
        for h in &hosts {
            let devs = devices.remove(&h.id).unwrap_or_default();
            match judge(h, &devs, &claimed, q, at) {
                Ok(p) => answer.hosts.push(p),
                Err((reason, detail)) => answer.left_out.push(LeftOut {
                    host: h.name.clone(),
                    reason,
                    detail,
                    snapshot_time: format_rfc3339(h.taken_at),
                }),
            }
        }
        answer
            .hosts
            .sort_by(|a, b| b.free.cmp(&a.free).then_with(|| a.host.cmp(&b.host)));
        Ok(answer)
    }
}

fn attrs(c: &pick::Candidate) -> DeviceAttrs {
    DeviceAttrs {
        pci_bus_id: format!("{}.0", c.device),
        pcie_root: c.pcie_root.clone(),
        numa_node: c.numa_node,
    }
}

/// How long ago, in words (`3d 4h`, `12m`).
fn age(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// One host: qualifies, or the reason code and detail.
fn judge(
    h: &HostRow,
    devs: &[DevRow],
    claimed: &HashMap<(i64, String), String>,
    q: &PlaceQuery<'_>,
    at: i64,
) -> Result<PlacedHost, (&'static str, String)> {
    if h.taken_at > at + MAX_SKEW {
        let when = format_rfc3339(h.taken_at);
        return Err((
            "stale",
            format!(
                "snapshot dated {when}, after {}: clock skew on the host",
                format_rfc3339(at)
            ),
        ));
    }
    if let Some(max) = q.max_age.filter(|m| at - h.taken_at > *m) {
        return Err((
            "stale",
            format!(
                "snapshot is {} old, more than --max-age {}",
                age(at - h.taken_at),
                age(max)
            ),
        ));
    }
    if let Some(r) = &h.host_reason {
        return Err(("not-passable", format!("the host fails the check: {r}")));
    }
    if devs.is_empty() {
        return Err((
            "no-match",
            format!("no device matches {}", q.selector.text()),
        ));
    }
    let holder = |d: &DevRow| claimed.get(&(h.id, d.cand.device.clone()));
    let free: Vec<&DevRow> = devs
        .iter()
        .filter(|d| d.passable && !d.in_vm && holder(d).is_none())
        .collect();
    let count = usize::try_from(q.count.max(1)).unwrap_or(1);
    if free.len() < count {
        return Err(shortfall(devs, free.len(), count, holder));
    }
    let cands: Vec<pick::Candidate> = free.iter().map(|d| d.cand.clone()).collect();
    let chosen = pick(&cands, count, q.constraint).map_err(|why| ("constraint", why))?;
    Ok(PlacedHost {
        host: h.name.clone(),
        generation: h.snapshot,
        snapshot_time: format_rfc3339(h.taken_at),
        free: i64::try_from(free.len()).unwrap_or(i64::MAX),
        pick: chosen.iter().map(|&i| attrs(&cands[i])).collect(),
        devices: cands.iter().map(attrs).collect(),
        vms_known: h.vms_known,
    })
}

/// Why a host with matching devices has fewer than `count` free: the
/// reason most of its unfree devices share (ties: not-passable, in-use,
/// claimed), with each such device named.
fn shortfall<'a>(
    devs: &'a [DevRow],
    free: usize,
    count: usize,
    holder: impl Fn(&DevRow) -> Option<&'a String>,
) -> (&'static str, String) {
    let mut by: [(&'static str, Vec<String>); 3] = [
        ("not-passable", Vec::new()),
        ("in-use", Vec::new()),
        ("claimed", Vec::new()),
    ];
    for d in devs {
        let k = &d.cand.device;
        if !d.passable {
            let rule = d
                .first_reason
                .as_deref()
                .unwrap_or("a function fails the check");
            by[0].1.push(format!("{k} fails: {rule}"));
        } else if d.in_vm {
            by[1].1.push(format!(
                "{k} used by VM {}",
                d.vm.as_deref().unwrap_or("(unnamed)")
            ));
        } else if let Some(who) = holder(d) {
            by[2].1.push(format!("{k} claimed by {who}"));
        }
    }
    let best = by
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, v))| (v.len(), usize::MAX - i))
        .map_or(0, |(i, _)| i);
    let (code, list) = &by[best];
    (code, format!("{free} of {count} free; {}", list.join("; ")))
}
