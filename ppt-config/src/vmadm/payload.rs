//! A vmadm create or update payload read on its own: vmadm's own rules per
//! entry (smartos-live `src/vm/node_modules/VM.js`), then the guest-slot
//! rules across entries ([`super::guest`]).

use pci_illumos::devfs::DevfsPath;
use serde_json::{Map, Value};

use super::guest::{self, GuestContext, OtherSlot};
use super::slots::{parse_pci_slot, PciSlot};
use super::Problem;
use crate::viability::rules;

/// The array properties that hold device objects.
const DEVICE_KEYS: [&str; 3] = ["pci_devices", "add_pci_devices", "update_pci_devices"];

/// The array properties that hold disks, whose optional `pci_slot` takes a
/// guest slot too (the brand's `add_disk`).
const DISK_KEYS: [&str; 3] = ["disks", "add_disks", "update_disks"];

/// Sub-properties vmadm knows for a `pci_devices` entry.
const KNOWN_FIELDS: [&str; 3] = ["path", "pci_slot", "model"];

/// One device entry that passed the per-entry checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadDevice {
    /// Where it is, e.g. `pci_devices.0`.
    pub location: String,
    /// The `path` value (`/devices/...`).
    pub path: String,
    /// The devfs path zoneadmd resolves it to, when it can.
    pub devfs: Option<DevfsPath>,
    /// The parsed slot, when valid.
    pub slot: Option<PciSlot>,
}

/// The devfs path zoneadmd resolves a `path` to, or why it cannot.
/// zoneadmd `resolve_device_match` (illumos-joyent
/// `usr/src/cmd/zoneadmd/zoneadmd.c`) hands the path to libppt
/// `ppt_devpath_to_dev`, whose `fs_to_phys_path` strips `/devices` and only
/// a `:ppt` minor (illumos-gate `usr/src/lib/libppt/common/libppt.c`);
/// the normalisation itself is [`DevfsPath`]'s.
pub fn devfs_path(path: &str) -> Result<DevfsPath, String> {
    let parsed = DevfsPath::parse_detailed(path).map_err(|e| e.to_string())?;
    match parsed.minor.as_deref() {
        None | Some("ppt") => Ok(parsed.path),
        Some(m) => Err(format!(
            "the minor `:{m}` is kept by libppt, which strips only `:ppt`, so zoneadmd \
             cannot resolve it; write {}",
            parsed.path.devices_path()
        )),
    }
}

/// Validates a vmadm create or update payload on its own (no host): vmadm's
/// own rules, then the guest-slot rules of bhyve and its brand (reserved and
/// duplicate slots, buses other than 0, function 0).
/// Returns the problems and the device entries that could be read.
pub fn validate_payload(payload: &Value) -> (Vec<Problem>, Vec<PayloadDevice>) {
    let mut problems = Vec::new();
    let mut devices = Vec::new();
    let Some(obj) = payload.as_object() else {
        problems.push(Problem::vmadm(
            String::new(),
            "the payload is not a JSON object".into(),
        ));
        return (problems, devices);
    };
    if obj.contains_key("pci_devices") && obj.contains_key("add_pci_devices") {
        problems.push(Problem::vmadm(
            "add_pci_devices".into(),
            "Cannot specify both \"pci_devices\" and \"add_pci_devices\"".into(),
        ));
    }
    for key in DEVICE_KEYS {
        let Some(v) = obj.get(key) else { continue };
        let Some(arr) = v.as_array() else {
            problems.push(Problem::vmadm(
                key.into(),
                format!("Invalid value(s) for: {key} (must be an array of objects)"),
            ));
            continue;
        };
        for (i, item) in arr.iter().enumerate() {
            let loc = format!("{key}.{i}");
            check_entry(&loc, item, &mut problems, &mut devices);
        }
    }
    check_removals(obj, &mut problems);
    if !names_devices(obj) && problems.is_empty() {
        problems.push(Problem::beyond(
            &rules::VM_PAYLOAD_INVALID,
            String::new(),
            "the payload names no PCI devices: give pci_devices (vmadm create), \
             add_pci_devices or update_pci_devices (vmadm update) with at least one entry"
                .into(),
        ));
    }
    guest::cross_checks(&devices, &guest_context(obj), &mut problems);
    (problems, devices)
}

/// Whether the payload names at least one device to add, change or remove.
fn names_devices(obj: &Map<String, Value>) -> bool {
    DEVICE_KEYS
        .iter()
        .chain(["remove_pci_devices"].iter())
        .any(|k| {
            obj.get(*k)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        })
}

/// `remove_pci_devices`: an array of `/devices` paths.
fn check_removals(obj: &Map<String, Value>, problems: &mut Vec<Problem>) {
    let Some(v) = obj.get("remove_pci_devices") else {
        return;
    };
    let Some(arr) = v.as_array() else {
        problems.push(Problem::vmadm(
            "remove_pci_devices".into(),
            "Invalid value(s) for: remove_pci_devices (must be an array of paths)".into(),
        ));
        return;
    };
    for (i, p) in arr.iter().enumerate() {
        if !p.as_str().is_some_and(|s| s.starts_with("/devices")) {
            problems.push(Problem::vmadm(
                format!("remove_pci_devices.{i}"),
                format!(
                    "Invalid value(s) for: remove_pci_devices.{i} \
                     (must be a path starting with /devices)"
                ),
            ));
        }
    }
}

/// What the rest of the payload says about guest slots: the disks' own
/// `pci_slot`s, `bhyve_extra_opts`, and whether it creates the VM.
fn guest_context(obj: &Map<String, Value>) -> GuestContext {
    let mut others = Vec::new();
    for key in DISK_KEYS {
        let Some(arr) = obj.get(key).and_then(Value::as_array) else {
            continue;
        };
        for (i, disk) in arr.iter().enumerate() {
            // A malformed disk slot is vmadm's to reject, not a guest slot.
            let slot = disk
                .get("pci_slot")
                .and_then(Value::as_str)
                .and_then(|s| parse_pci_slot(s).ok());
            if let Some(slot) = slot {
                others.push(OtherSlot {
                    location: format!("{key}.{i}"),
                    slot,
                });
            }
        }
    }
    GuestContext {
        others,
        extra_opts: obj.get("bhyve_extra_opts").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        creates: obj.contains_key("pci_devices"),
    }
}

/// The `path` of an entry: a string starting with `/devices`, as vmadm
/// requires.
fn entry_path(
    o: &Map<String, Value>,
    path_loc: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match o.get("path") {
        None => {
            problems.push(Problem::vmadm(
                path_loc.to_string(),
                format!("Missing required properties: {path_loc}"),
            ));
            None
        }
        Some(Value::String(s)) if s.starts_with("/devices") => Some(s.clone()),
        Some(v) => {
            problems.push(Problem::vmadm(
                path_loc.to_string(),
                format!("Invalid value(s) for: {path_loc} ({v} does not start with /devices)"),
            ));
            None
        }
    }
}

/// The `pci_slot` of an entry, parsed as vmadm does.
fn entry_slot(o: &Map<String, Value>, loc: &str, problems: &mut Vec<Problem>) -> Option<PciSlot> {
    let slot_loc = format!("{loc}.pci_slot");
    match o.get("pci_slot") {
        None => {
            problems.push(Problem::vmadm(
                slot_loc.clone(),
                format!("Missing required properties: {slot_loc}"),
            ));
            None
        }
        Some(Value::String(s)) => match parse_pci_slot(s) {
            Ok(slot) => Some(slot),
            Err(e) => {
                problems.push(Problem::vmadm(slot_loc, format!("{e} ({})", e.reason)));
                None
            }
        },
        Some(v) => {
            problems.push(Problem::vmadm(
                slot_loc.clone(),
                format!("Invalid value(s) for: {slot_loc} ({v} is not a string)"),
            ));
            None
        }
    }
}

/// `model` (only `passthru`) and the properties vmadm drops.
fn entry_fields(o: &Map<String, Value>, loc: &str, problems: &mut Vec<Problem>) {
    if let Some(m) = o.get("model") {
        if m.as_str() != Some("passthru") {
            let l = format!("{loc}.model");
            problems.push(Problem::vmadm(
                l.clone(),
                format!("Invalid value(s) for: {l} (model must be \"passthru\")"),
            ));
        }
    }
    for k in o.keys() {
        if !KNOWN_FIELDS.contains(&k.as_str()) {
            problems.push(Problem::beyond(
                &rules::VM_PAYLOAD_DROPPED,
                format!("{loc}.{k}"),
                "unknown property; vmadm drops it from the payload".into(),
            ));
        }
    }
}

fn check_entry(loc: &str, item: &Value, problems: &mut Vec<Problem>, out: &mut Vec<PayloadDevice>) {
    let Some(o) = item.as_object() else {
        problems.push(Problem::vmadm(
            loc.to_string(),
            format!("Invalid value(s) for: {loc} (must be an object)"),
        ));
        return;
    };
    let path_loc = format!("{loc}.path");
    let path = entry_path(o, &path_loc, problems);
    let slot = entry_slot(o, loc, problems);
    entry_fields(o, loc, problems);
    if let Some(path) = path {
        let devfs = match devfs_path(&path) {
            Ok(p) => Some(p),
            Err(why) => {
                problems.push(Problem::beyond(
                    &rules::VM_DEVICE_MISSING,
                    path_loc,
                    format!("{path}: {why}; the VM will not start"),
                ));
                None
            }
        };
        out.push(PayloadDevice {
            location: loc.to_string(),
            path,
            devfs,
            slot,
        });
    }
}
