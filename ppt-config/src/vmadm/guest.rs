//! The guest-slot rules across a payload's entries, each from the source
//! that decides it (docs/guest-slots.md):
//!
//! * a slot the bhyve brand uses itself (`boot.c` `pci_slot_t`);
//! * two devices in one slot: bhyve's `pci_parse_slot` refuses ("pci slot
//!   B:D:F already occupied!"), and a disk's own `pci_slot` counts too;
//! * a device on bus 1-255 while bhyve builds its MPtable: `mptable_build`
//!   refuses ("MPtable is incompatible with multiple PCI hierarchies"),
//!   and the brand never passes `-Y`;
//! * a guest device without function 0: bhyve sets the multi-function bit
//!   in function 0's header only (`pci_emul.c` `pci_emul_hdrtype_fixup`),
//!   and guests scan a device's other functions only after finding
//!   function 0.
//!
//! vmadm checks none of these; a clash only shows when bhyve starts.

use std::collections::BTreeMap;

use pci_illumos::devfs::DevfsPath;

use super::payload::PayloadDevice;
use super::slots::{mptable, reserved_use, Mptable, PciSlot};
use super::Problem;
use crate::viability::rules;

/// A guest slot taken by something other than a `pci_devices` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherSlot {
    /// Where it is, e.g. `disks.1`.
    pub location: String,
    /// The slot.
    pub slot: PciSlot,
}

/// What the rest of a payload says about guest slots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestContext {
    /// Disks with their own `pci_slot`.
    pub others: Vec<OtherSlot>,
    /// `bhyve_extra_opts`, when the payload sets it.
    pub extra_opts: Option<String>,
    /// The payload creates the VM (`pci_devices`): without
    /// `bhyve_extra_opts` the VM has none. An update payload without it
    /// keeps the VM's own, which the payload does not show.
    pub creates: bool,
}

/// Why a device on `slot.bus` > 0 stops bhyve, or `None` when it does not.
fn bus_problem(slot: PciSlot, ctx: &GuestContext) -> Option<String> {
    if slot.bus == 0 {
        return None;
    }
    let refuses = format!(
        "pci_slot \"{slot}\" is on bus {}: bhyve builds an MPtable, which describes bus 0 \
         only, and then refuses to start (\"MPtable is incompatible with multiple PCI \
         hierarchies\"; bhyve mptbl.c mptable_build); the bhyve brand never passes -Y",
        slot.bus
    );
    let fix = "put the device on bus 0 (devices 1-2, 7-29), or add -Y to the VM's bhyve_extra_opts";
    match (mptable(ctx.extra_opts.as_deref()), &ctx.extra_opts) {
        (Mptable::Off, _) => None,
        (Mptable::Unknown(why), _) => Some(format!(
            "{refuses} unless bhyve_extra_opts turns the MPtable off, which cannot be told here ({why}); {fix}"
        )),
        (Mptable::Built, Some(opts)) => Some(format!(
            "{refuses}, and bhyve_extra_opts \"{opts}\" does not turn it off; {fix}"
        )),
        (Mptable::Built, None) if ctx.creates => Some(format!(
            "{refuses}, and the payload sets no bhyve_extra_opts; {fix}"
        )),
        (Mptable::Built, None) => Some(format!(
            "{refuses}; this update payload does not show the VM's bhyve_extra_opts, so unless \
             they already hold -Y (vmadm get shows them), {fix}"
        )),
    }
}

/// Paths given twice.
fn duplicate_paths(devices: &[PayloadDevice], problems: &mut Vec<Problem>) {
    let mut paths: BTreeMap<&DevfsPath, &str> = BTreeMap::new();
    for d in devices {
        let Some(key) = &d.devfs else { continue };
        if let Some(first) = paths.get(key) {
            problems.push(Problem::beyond(
                &rules::VM_PAYLOAD_INVALID,
                format!("{}.path", d.location),
                format!("{} is already given at {first}.path", d.path),
            ));
        } else {
            paths.insert(key, &d.location);
        }
    }
}

/// Reserved slots, buses bhyve cannot describe, and slots given twice.
fn slot_rules(devices: &[PayloadDevice], ctx: &GuestContext, problems: &mut Vec<Problem>) {
    let mut slots: BTreeMap<PciSlot, String> = ctx
        .others
        .iter()
        .map(|o| (o.slot, format!("{} (a disk)", o.location)))
        .collect();
    for d in devices {
        let Some(slot) = d.slot else { continue };
        let loc = format!("{}.pci_slot", d.location);
        if let Some(what) = reserved_use(slot.bus, slot.device) {
            problems.push(Problem::beyond(
                &rules::GUEST_SLOT_RESERVED,
                loc.clone(),
                format!(
                    "pci_slot \"{slot}\" is reserved: the bhyve brand puts its {what} on bus 0 device {}",
                    slot.device
                ),
            ));
        }
        if let Some(why) = bus_problem(slot, ctx) {
            problems.push(Problem::beyond(&rules::GUEST_BUS_MPTABLE, loc.clone(), why));
        }
        if let Some(first) = slots.get(&slot) {
            problems.push(Problem::beyond(
                &rules::GUEST_SLOT_CONFLICT,
                loc,
                format!("pci_slot \"{slot}\" is already used by {first}; bhyve refuses two devices in one slot"),
            ));
        } else {
            slots.insert(slot, d.location.clone());
        }
    }
}

/// Guest devices whose functions lack function 0.
fn function_0(devices: &[PayloadDevice], ctx: &GuestContext, problems: &mut Vec<Problem>) {
    let mut guest_devices: BTreeMap<(u8, u8), (Vec<&PayloadDevice>, bool)> = BTreeMap::new();
    for d in devices {
        let Some(slot) = d.slot else { continue };
        let e = guest_devices.entry((slot.bus, slot.device)).or_default();
        e.0.push(d);
        e.1 |= slot.function == 0;
    }
    for o in &ctx.others {
        if let Some(e) = guest_devices.get_mut(&(o.slot.bus, o.slot.device)) {
            e.1 |= o.slot.function == 0;
        }
    }
    for ((bus, dev), (members, has_0)) in guest_devices {
        if has_0 {
            continue;
        }
        if let Some(first) = members.first() {
            problems.push(Problem::beyond(
                &rules::GUEST_SLOT_NO_FUNCTION_0,
                format!("{}.pci_slot", first.location),
                format!(
                    "guest device {bus}:{dev} has no function 0; guests generally \
                     do not look for functions 1-7 of a device without function 0"
                ),
            ));
        }
    }
}

/// Every rule across the payload's entries.
pub fn cross_checks(devices: &[PayloadDevice], ctx: &GuestContext, problems: &mut Vec<Problem>) {
    // Path duplicates came first per entry before; keep their order by
    // entry, then the slot rules, then function 0.
    let mut by_entry = Vec::new();
    duplicate_paths(devices, &mut by_entry);
    slot_rules(devices, ctx, &mut by_entry);
    by_entry.sort_by_key(|p| entry_index(devices, &p.location));
    problems.extend(by_entry);
    function_0(devices, ctx, problems);
}

/// The index of the entry a location (`pci_devices.1.path`) belongs to.
fn entry_index(devices: &[PayloadDevice], location: &str) -> usize {
    devices
        .iter()
        .position(|d| {
            location
                .strip_prefix(d.location.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .unwrap_or(usize::MAX)
}
