//! Placement: which hosts can give a guest N devices of a kind, and why one
//! host can or cannot. Both read the hosts' latest snapshots only.

use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::placement::free::{free_hosts, Ask};
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

impl Fleet {
    /// Hosts whose latest snapshot has at least `count` devices matching
    /// `sel` that pass the check, no recorded VM uses and no live claim
    /// holds; most devices first, then by name (byte order, the same on
    /// both backends). The answer is `placement::free`'s, the one
    /// `fleet claim` picks from.
    pub fn hosts(
        &mut self,
        sel: &DeviceSelector,
        count: i64,
    ) -> Result<Vec<HostMatch>, FleetError> {
        let now = if self.version >= 4 {
            Some(crate::claims::db_now(self.db.as_mut())?)
        } else {
            None
        };
        let ask = Ask {
            sel,
            count: count.max(1),
            now,
            host: None,
            counts_kept: self.version >= 6,
        };
        Ok(free_hosts(self.db.as_mut(), &ask)?
            .into_iter()
            .map(|h| HostMatch {
                host: h.name,
                snapshot_time: format_rfc3339(h.taken_at),
                vms_known: h.vms_known,
                passable: h.free,
                devices: h.devices,
            })
            .collect())
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
