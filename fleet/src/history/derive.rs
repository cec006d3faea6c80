//! The events between two consecutive snapshots of a host, derived at
//! ingest (`record_ingest`) in the snapshot's own transaction.
//!
//! The rule for order: events are derived only when a snapshot becomes
//! its host's latest (newest by time, of equal times the one ingested
//! last), between it and the snapshot that was latest before it. An older
//! snapshot ingested late is stored, but adds no events and rewrites
//! none: the log stays append-only, and each host's events are in time
//! order, because every snapshot that adds events is newer than all
//! before it.

use crate::backend::{Backend, Value};
use crate::diff::{identity, same_identity, Matcher};
use crate::error::FleetError;
use crate::record::FunctionRow;

/// One event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// `DDDD:BB:DD.F` (in the snapshot that shows the event).
    pub address: String,
    /// illumos devfs path, when recorded.
    pub devfs_path: Option<String>,
    /// The event's name ([`crate::history::KINDS`]).
    pub kind: &'static str,
    /// What it adds: the identity, `/dev/pptN`, the VM, the driver.
    pub detail: Option<String>,
}

fn event(f: &FunctionRow, kind: &'static str, detail: Option<String>) -> NewEvent {
    NewEvent {
        address: f.address.clone(),
        devfs_path: f.devfs_path.clone(),
        kind,
        detail,
    }
}

/// A state of a function that turns on and off: (on, off) event names,
/// whether `f` is in it (`None`: not recorded), and the detail when on.
type Toggle = (
    &'static str,
    &'static str,
    fn(&FunctionRow) -> Option<bool>,
    fn(&FunctionRow) -> Option<String>,
);

const TOGGLES: [Toggle; 3] = [
    ("reserved", "unreserved", |f| f.reserved, |_| None),
    (
        "bound-to-ppt",
        "left-ppt",
        |f| Some(f.driver.as_deref() == Some(pci_illumos::binding::PPT)),
        |f| f.ppt_dev.clone(),
    ),
    ("used-by-vm", "vm-left", |f| f.in_vm, |f| f.vm.clone()),
];

/// The events of one function from `before` (`None`: not there) to `now`.
fn transitions(before: Option<&FunctionRow>, now: &FunctionRow, out: &mut Vec<NewEvent>) {
    match before {
        None => out.push(event(now, "discovered", Some(identity(now)))),
        Some(b) if !same_identity(b, now) => out.push(event(
            now,
            "identity-changed",
            Some(format!("{} -> {}", identity(b), identity(now))),
        )),
        Some(_) => {}
    }
    for (on, off, state, detail) in TOGGLES {
        let was = before.and_then(state).unwrap_or(false);
        match state(now) {
            Some(true) if !was => out.push(event(now, on, detail(now))),
            Some(false) if was => {
                let why = (on == "bound-to-ppt").then(|| now.driver.clone().unwrap_or("-".into()));
                out.push(event(now, off, why));
            }
            _ => {}
        }
    }
    if let Some(b) = before {
        if let (Some(was), Some(is)) = (&b.ppt_dev, &now.ppt_dev) {
            if was != is && now.driver.as_deref() == Some(pci_illumos::binding::PPT) {
                out.push(event(now, "renumbered", Some(format!("{was} -> {is}"))));
            }
        }
    }
}

/// The events from `before` (`None`: the host's first snapshot) to `now`:
/// per function of `now`, then `missing` for each of `before` not in it.
pub fn events_between(before: Option<&[FunctionRow]>, now: &[FunctionRow]) -> Vec<NewEvent> {
    let before = before.unwrap_or(&[]);
    let (old, new) = (Matcher::new(before), Matcher::new(now));
    let mut out = Vec::new();
    for f in now {
        transitions(old.find(f), f, &mut out);
    }
    for f in before.iter().filter(|f| new.find(f).is_none()) {
        out.push(event(f, "missing", None));
    }
    out
}

/// Events per multi-row `INSERT` (7 values each).
const CHUNK: usize = 100;

/// Stores `events` of host `host_id`, shown by snapshot `snapshot` at `at`.
pub(crate) fn insert(
    db: &mut dyn Backend,
    host_id: i64,
    snapshot: i64,
    at: i64,
    events: &[NewEvent],
) -> Result<(), FleetError> {
    for chunk in events.chunks(CHUNK) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        for e in chunk {
            values.extend([
                host_id.into(),
                at.into(),
                e.address.as_str().into(),
                e.devfs_path.clone().into(),
                e.kind.into(),
                e.detail.clone().into(),
                snapshot.into(),
            ]);
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        db.execute(
            &format!(
                "INSERT INTO device_events \
                 (host_id, at, address, devfs_path, kind, detail, snapshot_id) VALUES {rows}"
            ),
            &values,
        )?;
    }
    Ok(())
}

/// At ingest, in the snapshot's transaction: when snapshot `id` (taken at
/// `at`, functions `now`) became the host's latest, replacing `previous`,
/// stores the events between them (see the module for the rule).
pub(crate) fn record_ingest(
    db: &mut dyn Backend,
    host_id: i64,
    (id, at): (i64, i64),
    previous: Option<i64>,
    now: &[FunctionRow],
) -> Result<(), FleetError> {
    let before = match previous {
        Some(p) => Some(crate::query::inventory::functions_of(db, p)?),
        None => None,
    };
    let events = events_between(before.as_deref(), now);
    insert(db, host_id, id, at, &events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(driver: &str, ppt: Option<&str>) -> FunctionRow {
        FunctionRow {
            address: "0000:01:00.0".into(),
            device_key: "0000:01:00".into(),
            vendor: 0x10de,
            device: 0x0a65,
            class: 0x03_0000,
            subsystem_vendor: Some(0x1462),
            subsystem: Some(0x2291),
            revision: Some(0xa2),
            bridge: false,
            parent: Some("0000:00:01.0".into()),
            driver: Some(driver.into()),
            ppt_dev: ppt.map(str::to_string),
            reserved: Some(true),
            next_boot_ppt: Some(true),
            devfs_path: Some("/pci@0,0/pci8086,151@1/display@0".into()),
            verdict: "ok".into(),
            fail_reason: None,
            reasons: None,
            in_vm: None,
            vendor_name: None,
            device_name: None,
            numa_node: None,
            vm: None,
        }
    }

    fn kinds(e: &[NewEvent]) -> Vec<&str> {
        e.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn first_snapshot_discovers_with_its_states() {
        let e = events_between(None, &[gpu("ppt", Some("/dev/ppt0"))]);
        assert_eq!(kinds(&e), ["discovered", "reserved", "bound-to-ppt"]);
        assert_eq!(
            e[0].detail.as_deref(),
            Some("10de:0a65 sub 1462:2291 rev a2")
        );
        assert_eq!(e[2].detail.as_deref(), Some("/dev/ppt0"));
    }

    #[test]
    fn unchanged_is_silent_and_unknown_states_add_nothing() {
        let a = gpu("ppt", Some("/dev/ppt0"));
        assert!(
            events_between(Some(std::slice::from_ref(&a)), std::slice::from_ref(&a)).is_empty()
        );
        let unknown = FunctionRow {
            reserved: None,
            ..a.clone()
        };
        assert!(events_between(Some(&[a]), &[unknown]).is_empty());
    }

    #[test]
    fn renumbered_identity_left_and_missing() {
        let a = gpu("ppt", Some("/dev/ppt0"));
        let b = gpu("ppt", Some("/dev/ppt1"));
        let e = events_between(Some(std::slice::from_ref(&a)), &[b]);
        assert_eq!(kinds(&e), ["renumbered"]);
        assert_eq!(e[0].detail.as_deref(), Some("/dev/ppt0 -> /dev/ppt1"));
        let swapped = FunctionRow {
            revision: Some(0xa3),
            ..gpu("nvidia", None)
        };
        let e = events_between(Some(std::slice::from_ref(&a)), &[swapped]);
        assert_eq!(kinds(&e), ["identity-changed", "left-ppt"]);
        assert_eq!(e[1].detail.as_deref(), Some("nvidia"));
        // Followed by path: a new bus number is the same device.
        let moved = FunctionRow {
            address: "0000:02:00.0".into(),
            ..a.clone()
        };
        assert!(events_between(Some(std::slice::from_ref(&a)), &[moved]).is_empty());
        assert_eq!(kinds(&events_between(Some(&[a]), &[])), ["missing"]);
    }

    #[test]
    fn a_vm_starts_and_stops_using_it() {
        let free = FunctionRow {
            in_vm: Some(false),
            ..gpu("ppt", Some("/dev/ppt0"))
        };
        let used = FunctionRow {
            in_vm: Some(true),
            vm: Some("5b0c6f8e-7d8a-4a53-9d1c-3f2e1a0b9c11".into()),
            ..free.clone()
        };
        let e = events_between(
            Some(std::slice::from_ref(&free)),
            std::slice::from_ref(&used),
        );
        assert_eq!(kinds(&e), ["used-by-vm"]);
        assert_eq!(e[0].detail.as_deref(), used.vm.as_deref());
        let e = events_between(Some(std::slice::from_ref(&used)), &[free]);
        assert_eq!(kinds(&e), ["vm-left"]);
    }
}
