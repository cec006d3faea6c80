//! The device history: an append-only event log per device of a host.
//!
//! Events come from two places, each in the transaction of what caused
//! it: ingest derives them from consecutive snapshots of a host
//! ([`mod@derive`], which states the rule for snapshots that arrive late),
//! and a claim or release writes `claimed` / `released` for every
//! function of the devices it takes or frees (`claim_event`). A device
//! is named by its host and devfs path (illumos) or PCI address; reading
//! takes a host, optionally one device, optionally a time (`--as-of`:
//! the log as it stood then). Nothing updates or deletes an event.

pub mod derive;

use serde::Serialize;

use crate::backend::{Backend, Value};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::time::format_rfc3339;

/// Every event name, in the order a device usually meets them.
pub const KINDS: [&str; 12] = [
    "discovered",
    "reserved",
    "unreserved",
    "bound-to-ppt",
    "left-ppt",
    "renumbered",
    "used-by-vm",
    "vm-left",
    "claimed",
    "released",
    "identity-changed",
    "missing",
];

/// A device of a host, as `--device` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRef {
    /// `DDDD:BB:DD.F`.
    Address(String),
    /// An illumos devfs path (`/pci@0,0/...`).
    Path(String),
}

/// Whether `s` is `n` hex digits.
fn hex(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl DeviceRef {
    /// Parses `HOST:DDDD:BB:DD.F`, `HOST:BB:DD.F` (domain 0) or
    /// `HOST:/devfs/path`; returns the host and the device.
    pub fn parse(text: &str) -> Result<(String, DeviceRef), FleetError> {
        let bad = |message: &str| FleetError::DeviceRef {
            text: text.to_string(),
            message: message.to_string(),
        };
        if let Some(i) = text.find(":/") {
            return Ok((text[..i].to_string(), DeviceRef::Path(text[i + 1..].into())));
        }
        let parts: Vec<&str> = text.rsplitn(4, ':').collect();
        let slot = |p: &[&str]| {
            p.len() >= 2
                && hex(p[1], 2)
                && p[0]
                    .split_once('.')
                    .is_some_and(|(d, f)| hex(d, 2) && hex(f, 1))
        };
        if !slot(&parts) {
            return Err(bad(
                "expected HOST:DDDD:BB:DD.F, HOST:BB:DD.F or HOST:/devfs/path",
            ));
        }
        let (domain, host) = match parts.as_slice() {
            [_, _, d, h] if hex(d, 4) => (d.to_string(), h.to_string()),
            [_, _, h, rest] => ("0000".to_string(), format!("{rest}:{h}")),
            [_, _, h] => ("0000".to_string(), h.to_string()),
            _ => return Err(bad("no host before the address")),
        };
        if host.is_empty() {
            return Err(bad("no host before the address"));
        }
        let address = format!("{domain}:{}:{}", parts[1], parts[0]).to_ascii_lowercase();
        Ok((host, DeviceRef::Address(address)))
    }
}

/// One event of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceEvent {
    /// When (RFC 3339): the snapshot's time, or the claim's database time.
    pub time: String,
    /// Host name.
    pub host: String,
    /// `DDDD:BB:DD.F`.
    pub address: String,
    /// illumos devfs path, when recorded.
    pub devfs_path: Option<String>,
    /// The event ([`KINDS`]).
    pub event: String,
    /// What it adds (identity, `/dev/pptN`, VM, driver, holder).
    pub detail: Option<String>,
    /// The snapshot that showed it.
    pub snapshot: Option<i64>,
    /// The claim that made it.
    pub claim: Option<i64>,
}

/// What to read of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// The host.
    pub host: String,
    /// One device of it (`None`: all).
    pub device: Option<DeviceRef>,
    /// Only events at or before this time, Unix seconds.
    pub as_of: Option<i64>,
}

impl Fleet {
    /// The events of a host (or one device of it) in the order they were
    /// recorded, which is time order (see [`mod@derive`]).
    pub fn device_events(&mut self, q: &EventQuery) -> Result<Vec<DeviceEvent>, FleetError> {
        let host_id = self
            .db
            .query(
                "SELECT id FROM hosts WHERE name = ?",
                &[q.host.as_str().into()],
            )?
            .first()
            .map(|r| r.int("id"))
            .transpose()?
            .ok_or_else(|| FleetError::NoHost(q.host.clone()))?;
        let mut sql = String::from(
            "SELECT at, address, devfs_path, kind, detail, snapshot_id, claim_id
             FROM device_events WHERE host_id = ?",
        );
        let mut params: Vec<Value> = vec![host_id.into()];
        match &q.device {
            Some(DeviceRef::Address(a)) => {
                sql.push_str(" AND address = ?");
                params.push(a.as_str().into());
            }
            Some(DeviceRef::Path(p)) => {
                sql.push_str(" AND devfs_path = ?");
                params.push(p.as_str().into());
            }
            None => {}
        }
        if let Some(t) = q.as_of {
            sql.push_str(" AND at <= ?");
            params.push(t.into());
        }
        sql.push_str(" ORDER BY at, id");
        self.db
            .query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(DeviceEvent {
                    time: format_rfc3339(r.int("at")?),
                    host: q.host.clone(),
                    address: r.text("address")?,
                    devfs_path: r.opt_text("devfs_path")?,
                    event: r.text("kind")?,
                    detail: r.opt_text("detail")?,
                    snapshot: r.opt_int("snapshot_id")?,
                    claim: r.opt_int("claim_id")?,
                })
            })
            .collect()
    }
}

/// The claims hook: records `kind` (`claimed` or `released`) at `at` for
/// every function of the devices claim `claim` holds (as its snapshot
/// shows them), with the holder as detail. Call it inside the claim's
/// transaction, while its `claim_devices` rows exist.
pub(crate) fn claim_event(
    db: &mut dyn Backend,
    claim: i64,
    kind: &'static str,
    at: i64,
) -> Result<(), FleetError> {
    db.execute(
        "INSERT INTO device_events
           (host_id, at, address, devfs_path, kind, detail, snapshot_id, claim_id)
         SELECT c.host_id, ?, f.address, f.devfs_path, ?, c.holder, NULL, c.id
         FROM claims c
         JOIN claim_devices d ON d.claim_id = c.id
         JOIN functions f ON f.snapshot_id = c.snapshot_id AND f.device_key = d.device_key
         WHERE c.id = ?
         ORDER BY f.address",
        &[at.into(), kind.into(), claim.into()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_references() {
        let a = |t: &str| DeviceRef::parse(t).unwrap();
        assert_eq!(
            a("cn7:0000:01:00.0"),
            ("cn7".into(), DeviceRef::Address("0000:01:00.0".into()))
        );
        assert_eq!(
            a("cn7:01:00.1"),
            ("cn7".into(), DeviceRef::Address("0000:01:00.1".into()))
        );
        assert_eq!(
            a("fe80::1:0001:0A:1f.7"),
            ("fe80::1".into(), DeviceRef::Address("0001:0a:1f.7".into()))
        );
        assert_eq!(
            a("cn7:/pci@0,0/pci8086,151@1/display@0"),
            (
                "cn7".into(),
                DeviceRef::Path("/pci@0,0/pci8086,151@1/display@0".into())
            )
        );
        for bad in ["cn7", "cn7:01:00", ":01:00.0", "cn7:zz:00.0", "01:00.0"] {
            assert!(DeviceRef::parse(bad).is_err(), "{bad}");
        }
    }
}
