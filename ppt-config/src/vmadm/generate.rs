//! `vm-json`'s generation: guest slots for host functions, and the vmadm
//! payload that carries them.

use pci_core::{Address, Function};
use serde::Serialize;
use serde_json::Value;

use super::slots::{parse_pci_slot, reserved_use, PciSlot, DEFAULT_FIRST_DEVICE};

/// Why guest slots could not be assigned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotAssignError {
    /// The requested first device is one the brand uses.
    #[error("guest device {device} on bus 0 is reserved by the bhyve brand ({what}); choose another --device")]
    Reserved {
        /// The device asked for.
        device: u8,
        /// What the brand puts there.
        what: &'static str,
    },
    /// Devices ran out on the bus.
    #[error("no free guest device left on bus {bus} for {address}")]
    Full {
        /// The guest bus.
        bus: u8,
        /// The host function that did not fit.
        address: Address,
    },
    /// A function has no devfs path.
    #[error("{address} has no illumos devfs path in this source; vmadm needs /devices/... paths (use --from devinfo:FILE or a snapshot taken on the host)")]
    NoPath {
        /// The function.
        address: Address,
    },
    /// A `--device` above 31.
    #[error("guest device {0} is out of range 0-31")]
    OutOfRange(u8),
}

/// The `bhyve_extra_opts` a payload with devices beyond bus 0 sets: bhyve's
/// `-Y`, no MPtable (the brand passes the words to bhyve as they are).
pub const MPTABLE_OFF: &str = "-Y";

/// One `pci_devices` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PciDevice {
    /// `/devices/<devfs path>`.
    pub path: String,
    /// `B:D:F`, decimal.
    pub pci_slot: String,
}

/// The vmadm payload object for `devices`: `{"pci_devices": [...]}` for
/// `vmadm create`, or with `update` `{"add_pci_devices": [...]}` for
/// `vmadm update`. A device on a bus other than 0 needs bhyve's MPtable
/// off, so the payload then sets `"bhyve_extra_opts": "-Y"`
/// ([`MPTABLE_OFF`]). [`super::validate_payload`] accepts both as they are.
pub fn payload(devices: &[PciDevice], update: bool) -> Value {
    let key = if update {
        "add_pci_devices"
    } else {
        "pci_devices"
    };
    let entries: Vec<Value> = devices
        .iter()
        .map(|d| serde_json::json!({ "path": d.path, "pci_slot": d.pci_slot }))
        .collect();
    let mut obj = serde_json::Map::new();
    let other_bus = devices
        .iter()
        .any(|d| parse_pci_slot(&d.pci_slot).is_ok_and(|s| s.bus > 0));
    if other_bus {
        obj.insert("bhyve_extra_opts".into(), Value::from(MPTABLE_OFF));
    }
    obj.insert(key.to_string(), Value::Array(entries));
    Value::Object(obj)
}

/// Builds `pci_devices` for the given functions: the functions of one host
/// device share one guest device and keep their function numbers; guest
/// devices are taken in order from `first_device` (default
/// [`DEFAULT_FIRST_DEVICE`]) on `bus`, skipping the brand's reserved ones.
pub fn pci_devices(
    functions: &[&Function],
    bus: u8,
    first_device: Option<u8>,
) -> Result<Vec<PciDevice>, SlotAssignError> {
    if let Some(d) = first_device {
        if d > 31 {
            return Err(SlotAssignError::OutOfRange(d));
        }
        if let Some(what) = reserved_use(bus, d) {
            return Err(SlotAssignError::Reserved { device: d, what });
        }
    }
    // Host devices in the order their functions were given.
    let mut groups: Vec<Vec<&Function>> = Vec::new();
    for f in functions {
        match groups
            .iter_mut()
            .find(|g| g[0].address.same_device(&f.address))
        {
            Some(g) => {
                if !g.iter().any(|x| x.address == f.address) {
                    g.push(f)
                }
            }
            None => groups.push(vec![f]),
        }
    }
    let mut next = first_device.unwrap_or(DEFAULT_FIRST_DEVICE);
    let mut out = Vec::new();
    for mut g in groups {
        g.sort_by_key(|f| f.address.function);
        while next <= 31 && reserved_use(bus, next).is_some() {
            next += 1;
        }
        if next > 31 {
            return Err(SlotAssignError::Full {
                bus,
                address: g[0].address,
            });
        }
        for f in g {
            let path = f
                .illumos
                .as_ref()
                .map(|n| n.path.clone())
                .filter(|p| p.starts_with('/'))
                .ok_or(SlotAssignError::NoPath { address: f.address })?;
            out.push(PciDevice {
                path: format!("/devices{path}"),
                pci_slot: PciSlot {
                    bus,
                    device: next,
                    function: f.address.function,
                }
                .to_string(),
            });
        }
        next += 1;
    }
    Ok(out)
}
