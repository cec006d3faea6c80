//! Placement: which hosts can give a guest N devices of a kind, and why one
//! host can or cannot. Both read the hosts' latest snapshots only.

use std::collections::HashSet;

use crate::backend::Row;
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::placement::counts;
use crate::query::{DeviceSelector, DeviceVerdict, Explanation, HostMatch};
use crate::time::format_rfc3339;

/// The sentence of an [`Explanation`]: why the host qualifies, or the
/// first reason it does not.
fn why(
    devices: &[DeviceVerdict],
    host_reason: Option<&str>,
    sel: &DeviceSelector,
    count: i64,
) -> (bool, String) {
    let usable: Vec<&DeviceVerdict> = devices
        .iter()
        .filter(|d| d.passes && d.in_vm != Some(true) && d.claimed_by.is_none())
        .collect();
    let n = i64::try_from(usable.len()).unwrap_or(i64::MAX);
    let qualifies = n >= count && host_reason.is_none();
    let text = if let Some(r) = host_reason {
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
        let first_bad = devices
            .iter()
            .find(|d| !d.passes || d.in_vm == Some(true) || d.claimed_by.is_some());
        let detail = match first_bad {
            Some(d) if d.in_vm == Some(true) => format!("; {} is used by a VM", d.device),
            Some(d) if d.passes && d.claimed_by.is_some() => format!(
                "; {} is claimed by {}",
                d.device,
                d.claimed_by.as_deref().unwrap_or_default()
            ),
            Some(d) => format!(
                "; {} fails: {}",
                d.device,
                d.reason.as_deref().unwrap_or("a function fails the check")
            ),
            None => String::new(),
        };
        format!("only {n} of {count} wanted devices pass{detail}")
    };
    (qualifies, text)
}

/// One qualifying host from a row with the columns `host`, `taken_at`,
/// `vms_known`, `passable` and `devices` (comma-joined, any order).
fn host_match(r: &Row<'_>) -> Result<HostMatch, FleetError> {
    let mut devices: Vec<String> = r
        .opt_text("devices")?
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    devices.sort();
    Ok(HostMatch {
        host: r.text("host")?,
        snapshot_time: format_rfc3339(r.int("taken_at")?),
        vms_known: r.flag("vms_known")?,
        passable: r.int("passable")?,
        devices,
    })
}

impl Fleet {
    /// Hosts whose latest snapshot has at least `count` devices matching
    /// `sel` that pass the check, no recorded VM uses and no live claim
    /// holds; most devices first, then by name (byte order, the same on
    /// both backends).
    ///
    /// A vendor or vendor:device selector is answered from the per-host
    /// counts kept at ingest ([`crate::placement::counts`]), reading only
    /// the hosts that qualify; hosts with a live claim, and other
    /// selectors, from the `placement` rows. Both give the same answer
    /// (tested on random fleets).
    pub fn hosts(
        &mut self,
        sel: &DeviceSelector,
        count: i64,
    ) -> Result<Vec<HostMatch>, FleetError> {
        let count = count.max(1);
        let now = if self.version >= 4 {
            Some(crate::claims::db_now(self.db.as_mut())?)
        } else {
            None
        };
        let key = counts::key(sel).filter(|_| self.version >= 6);
        let mut hosts = match (key, now) {
            (Some(key), Some(now)) => self.hosts_counted(key, sel, count, now)?,
            _ => self.hosts_from_rows(sel, count, now, false)?,
        };
        hosts.sort_by(|a, b| {
            b.passable
                .cmp(&a.passable)
                .then_with(|| a.host.cmp(&b.host))
        });
        Ok(hosts)
    }

    /// [`Fleet::hosts`] from `placement_counts` for the hosts no live claim
    /// touches at `now`, and from the rows for the others.
    fn hosts_counted(
        &mut self,
        (vendor, device): (i64, i64),
        sel: &DeviceSelector,
        count: i64,
        now: i64,
    ) -> Result<Vec<HostMatch>, FleetError> {
        let claimed: HashSet<i64> = self
            .db
            .query(
                "SELECT DISTINCT host_id AS host_id FROM claim_devices WHERE expires_at > ?",
                &[now.into()],
            )?
            .iter()
            .map(|r| r.int("host_id"))
            .collect::<Result<_, _>>()?;
        let rows = self.db.query(
            "SELECT pc.host_id AS host_id, pc.host_name AS host, pc.taken_at AS taken_at,
                    pc.vms_known AS vms_known, pc.n AS passable, pc.devices AS devices
             FROM placement_counts pc
             WHERE pc.vendor = ? AND pc.device = ? AND pc.n >= ?",
            &[vendor.into(), device.into(), count.into()],
        )?;
        let mut hosts = Vec::new();
        for r in rows.iter() {
            if !claimed.contains(&r.int("host_id")?) {
                hosts.push(host_match(&r)?);
            }
        }
        if !claimed.is_empty() {
            hosts.extend(self.hosts_from_rows(sel, count, Some(now), true)?);
        }
        Ok(hosts)
    }

    /// [`Fleet::hosts`] from the `placement` rows (unsorted): every host,
    /// or with `only_claimed` the hosts a live claim touches at `now`.
    /// Devices of live claims are taken (schema 4; `now` is `None` before).
    fn hosts_from_rows(
        &mut self,
        sel: &DeviceSelector,
        count: i64,
        now: Option<i64>,
        only_claimed: bool,
    ) -> Result<Vec<HostMatch>, FleetError> {
        // `placement` holds only usable devices of latest snapshots
        // (schema::placement_select), keyed by IDs first.
        let (cond, mut params) = sel.sql_on("p");
        let keys = self.db.dialect().concat_distinct("p.device_key");
        let mut claimed = String::new();
        if let Some(now) = now {
            params.push(now.into());
            claimed = format!(" AND {}", crate::placement::unclaimed("p"));
            if only_claimed {
                params.push(now.into());
                claimed.push_str(
                    " AND p.host_id IN (SELECT c2.host_id FROM claim_devices c2 WHERE c2.expires_at > ?)",
                );
            }
        }
        let sql = format!(
            "SELECT h.name AS host, s.taken_at AS taken_at, s.vms_known AS vms_known,
                    COUNT(DISTINCT p.device_key) AS passable, {keys} AS devices
             FROM placement p
             JOIN hosts h ON h.id = p.host_id
             JOIN snapshots s ON s.id = h.latest_snapshot
             WHERE 1 = 1{cond}{claimed}
             GROUP BY h.name, s.taken_at, s.vms_known
             HAVING COUNT(DISTINCT p.device_key) >= ?"
        );
        params.push(count.into());
        self.db
            .query(&sql, &params)?
            .iter()
            .map(|r| host_match(&r))
            .collect()
    }

    /// Every device of `host`'s latest snapshot with a function matching
    /// `sel`, with whether it passes.
    fn device_verdicts(
        &mut self,
        host: &str,
        sel: &DeviceSelector,
    ) -> Result<Vec<DeviceVerdict>, FleetError> {
        let (cond, sel_params) = sel.sql();
        // A device a live claim holds is taken, as `hosts` counts it
        // (placement::unclaimed); the database's clock decides "live".
        let sql = format!(
            "SELECT u.device_key AS device_key, MIN(f.vendor) AS vendor, MIN(f.device) AS device,
                    u.passable AS passable, u.in_vm AS in_vm, u.first_reason AS first_reason,
                    {holder} AS claimed_by
             FROM hosts h
             JOIN functions f ON f.snapshot_id = h.latest_snapshot{cond}
             JOIN device_units u ON u.snapshot_id = f.snapshot_id AND u.device_key = f.device_key
             WHERE h.name = ?
             GROUP BY h.id, u.device_key, u.passable, u.in_vm, u.first_reason
             ORDER BY u.device_key",
            holder = crate::placement::claim_holder("h.id", "u.device_key")
        );
        let mut params = vec![crate::claims::db_now(self.db.as_mut())?.into()];
        params.extend(sel_params);
        params.push(host.into());
        self.db
            .query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(DeviceVerdict {
                    device: r.text("device_key")?,
                    ids: format!("{:04x}:{:04x}", r.int("vendor")?, r.int("device")?),
                    passes: r.int("passable")? == 1,
                    in_vm: r.opt_flag("in_vm")?,
                    reason: r.opt_text("first_reason")?,
                    claimed_by: r.opt_text("claimed_by")?,
                })
            })
            .collect()
    }

    /// Why `host` can or cannot give `count` devices matching `sel`.
    pub fn explain(
        &mut self,
        host: &str,
        sel: &DeviceSelector,
        count: i64,
    ) -> Result<Explanation, FleetError> {
        let head = self.db.query(
            "SELECT s.taken_at AS taken_at, s.vms_known AS vms_known, s.host_reason AS host_reason
             FROM hosts h JOIN snapshots s ON s.id = h.latest_snapshot
             WHERE h.name = ?",
            &[host.into()],
        )?;
        let Some(head) = head.first() else {
            return Err(FleetError::NoHost(host.to_string()));
        };
        let devices = self.device_verdicts(host, sel)?;
        let count = count.max(1);
        let host_reason = head.opt_text("host_reason")?;
        let (qualifies, why) = why(&devices, host_reason.as_deref(), sel, count);
        Ok(Explanation {
            host: host.to_string(),
            snapshot_time: format_rfc3339(head.int("taken_at")?),
            vms_known: head.flag("vms_known")?,
            qualifies,
            count,
            devices,
            why,
        })
    }
}
