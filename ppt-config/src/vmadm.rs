//! vmadm `pci_devices`: generation and validation.
//!
//! Facts from smartos-live `src/vm/node_modules/VM.js` and `jsprim`, and
//! the bhyve brand's `boot.c` (illumos-joyent):
//!
//! * A `pci_devices` entry is `{"path": "/devices/<devfs path>", "pci_slot":
//!   "B:D:F"}`; `model`, when present, must be `passthru`.
//! * `pci_slot` is split on `:` (1 part = device, 2 = device:function,
//!   3 = bus:device:function, missing parts are 0) and each part is read by
//!   `jsprim.parseInteger` with its defaults: base 10, an optional sign, no
//!   `0x` prefix, no trailing characters, no whitespace trimming. Ranges:
//!   bus 0–255, device 0–31, function 0–7.
//! * The bhyve brand uses bus 0 devices 0 (host bridge), 3 (CD), 4 (boot
//!   disk), 5 (disks), 6 (NICs), 30 (framebuffer, tablet) and 31 (LPC).
//! * vmadm checks none of the cross-entry rules; a clash only shows when
//!   bhyve starts. The checks here go beyond vmadm and say so.

use std::collections::BTreeMap;
use std::fmt;

use pci_core::text::Escaped;
use pci_core::{Address, Function, Host};
use pci_illumos::binding::PPT;
use pci_illumos::devfs::DevfsPath;
use serde::Serialize;
use serde_json::Value;

use crate::viability::rules::{self, Rule};
use crate::viability::Severity as RuleSeverity;

/// Guest bus-0 devices the bhyve brand uses itself, with what uses them.
pub const RESERVED_DEVICES: [(u8, &str); 7] = [
    (0, "host bridge"),
    (3, "CD-ROM"),
    (4, "boot disk"),
    (5, "disks"),
    (6, "network interfaces"),
    (30, "framebuffer and tablet"),
    (31, "LPC bridge"),
];

/// First guest device `vm-json` uses when `--device` is not given: 8, as in
/// John Levon's 2018 how-to (`0:8:0`, `0:8:1`); 1, 2 and 7 are free as well.
pub const DEFAULT_FIRST_DEVICE: u8 = 8;

/// What the brand uses bus 0 device `device` for, if it is reserved.
pub fn reserved_use(bus: u8, device: u8) -> Option<&'static str> {
    if bus != 0 {
        return None;
    }
    RESERVED_DEVICES
        .iter()
        .find(|(d, _)| *d == device)
        .map(|(_, what)| *what)
}

/// A guest PCI slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciSlot {
    /// Guest bus, 0–255.
    pub bus: u8,
    /// Guest device, 0–31.
    pub device: u8,
    /// Guest function, 0–7.
    pub function: u8,
}

impl fmt::Display for PciSlot {
    /// `B:D:F` in decimal, the form vmadm and the brand read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.bus, self.device, self.function)
    }
}

/// Why a `pci_slot` string is not valid. Displays as vmadm says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pci_slot \"{text}\" is not valid")]
pub struct SlotError {
    /// The string given.
    pub text: String,
    /// Which rule it breaks (not part of vmadm's message).
    pub reason: String,
}

/// `jsprim.parseInteger` with its default options: optional `+`/`-`, base
/// 10 digits only, nothing else, exact (≤ 2^53).
fn parse_integer(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(format!("`{s}` has no digits"));
    }
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!("`{s}` is not a base-10 integer (unexpected {c:?})"));
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .filter(|v| *v <= 1 << 53)
            .ok_or_else(|| format!("`{s}` is too large"))?;
    }
    Ok(if neg { -v } else { v })
}

/// Parses a `pci_slot` exactly as vmadm does (`parsePCIslot`).
pub fn parse_pci_slot(text: &str) -> Result<PciSlot, SlotError> {
    let err = |reason: String| SlotError {
        text: text.to_string(),
        reason,
    };
    let parts: Vec<&str> = text.split(':').collect();
    let nums = parts
        .iter()
        .map(|p| parse_integer(p))
        .collect::<Result<Vec<i64>, String>>()
        .map_err(err)?;
    let (bus, device, function) = match nums.as_slice() {
        [d] => (0, *d, 0),
        [d, f] => (0, *d, *f),
        [b, d, f] => (*b, *d, *f),
        _ => {
            return Err(err(format!(
                "{} parts; at most 3 (bus:device:function)",
                nums.len()
            )))
        }
    };
    let check = |v: i64, max: i64, what: &str| {
        if (0..=max).contains(&v) {
            Ok(v as u8)
        } else {
            Err(err(format!("{what} {v} is out of range 0-{max}")))
        }
    };
    Ok(PciSlot {
        bus: check(bus, 255, "bus")?,
        device: check(device, 31, "device")?,
        function: check(function, 7, "function")?,
    })
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The payload is rejected, or the VM will not start with it.
    Error,
    /// It works, but probably not as intended.
    Warning,
}

/// One problem found in a payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// JSON location, e.g. `pci_devices.1.pci_slot` (empty for the whole payload).
    pub location: String,
    /// The `check` rule it is reported under (`vm-payload-invalid`, ...);
    /// the severity is that rule's: a `fail` rule is an error.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in vmadm's words where vmadm has them.
    pub message: String,
    /// Whether vmadm itself rejects this (otherwise it is a check beyond vmadm).
    pub vmadm: bool,
}

impl Problem {
    fn vmadm(location: String, message: String) -> Self {
        Problem {
            vmadm: true,
            ..Problem::beyond(&rules::VM_PAYLOAD_INVALID, location, message)
        }
    }

    /// A problem beyond vmadm's own checks, reported under `rule`.
    fn beyond(rule: &Rule, location: String, message: String) -> Self {
        Problem {
            location,
            code: rule.code,
            severity: if rule.severity == RuleSeverity::Fail {
                Severity::Error
            } else {
                Severity::Warning
            },
            message,
            vmadm: false,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // Locations and messages quote the payload and the host: shown
        // escaped (pci_core::text), never raw on a terminal.
        let message = Escaped(&self.message);
        if self.location.is_empty() {
            write!(f, "{sev}: {message}")
        } else {
            write!(f, "{sev}: {}: {message}", Escaped(&self.location))
        }
    }
}

/// The array properties that hold device objects.
const DEVICE_KEYS: [&str; 3] = ["pci_devices", "add_pci_devices", "update_pci_devices"];

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
/// own rules, then duplicate and reserved guest slots and function 0.
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
    if let Some(v) = obj.get("remove_pci_devices") {
        match v.as_array() {
            Some(arr) => {
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
            None => problems.push(Problem::vmadm(
                "remove_pci_devices".into(),
                "Invalid value(s) for: remove_pci_devices (must be an array of paths)".into(),
            )),
        }
    }
    let names_devices = DEVICE_KEYS
        .iter()
        .chain(["remove_pci_devices"].iter())
        .any(|k| {
            obj.get(*k)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        });
    if !names_devices && problems.is_empty() {
        problems.push(Problem::beyond(
            &rules::VM_PAYLOAD_INVALID,
            String::new(),
            "the payload names no PCI devices: give pci_devices (vmadm create), \
             add_pci_devices or update_pci_devices (vmadm update) with at least one entry"
                .into(),
        ));
    }
    cross_checks(&devices, &mut problems);
    (problems, devices)
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
    let path = match o.get("path") {
        None => {
            problems.push(Problem::vmadm(
                path_loc.clone(),
                format!("Missing required properties: {path_loc}"),
            ));
            None
        }
        Some(Value::String(s)) if s.starts_with("/devices") => Some(s.clone()),
        Some(v) => {
            problems.push(Problem::vmadm(
                path_loc.clone(),
                format!(
                    "Invalid value(s) for: {path_loc} ({} does not start with /devices)",
                    v
                ),
            ));
            None
        }
    };
    let slot_loc = format!("{loc}.pci_slot");
    let slot = match o.get("pci_slot") {
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
    };
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

fn cross_checks(devices: &[PayloadDevice], problems: &mut Vec<Problem>) {
    let mut slots: BTreeMap<PciSlot, &str> = BTreeMap::new();
    let mut paths: BTreeMap<&DevfsPath, &str> = BTreeMap::new();
    let mut guest_devices: BTreeMap<(u8, u8), Vec<&PayloadDevice>> = BTreeMap::new();
    for d in devices {
        if let Some(key) = &d.devfs {
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
        if let Some(first) = slots.get(&slot) {
            problems.push(Problem::beyond(
                &rules::GUEST_SLOT_CONFLICT,
                loc,
                format!("pci_slot \"{slot}\" is already used by {first}; bhyve refuses two devices in one slot"),
            ));
        } else {
            slots.insert(slot, &d.location);
        }
        guest_devices
            .entry((slot.bus, slot.device))
            .or_default()
            .push(d);
    }
    for ((bus, dev), members) in guest_devices {
        if members
            .iter()
            .all(|d| d.slot.map(|s| s.function) != Some(0))
        {
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
}

/// What the host will bind to ppt after the next boot, from the pending
/// `ppt_aliases` (path aliases and compatible-id aliases).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingBindings {
    /// devfs paths with a `ppt` path alias.
    pub paths: Vec<String>,
    /// compatible strings with a `ppt` alias (they bind every match).
    pub ids: Vec<String>,
    /// Where the pending aliases were read from (host paths), for messages.
    pub sources: Vec<String>,
    /// The next boot cannot be known (a SmartOS root without its boot
    /// media): nothing is promised either way, every function counts as
    /// "as now", as `check` treats a function without a prediction.
    pub unknown: bool,
}

impl PendingBindings {
    /// Whether the function will be bound to ppt by these aliases.
    pub fn binds(&self, f: &Function) -> bool {
        let Some(node) = &f.illumos else { return false };
        self.paths.contains(&node.path) || node.compatible.iter().any(|c| self.ids.contains(c))
    }
}

/// Whether `f` is bound to ppt now.
pub fn bound_now(f: &Function) -> bool {
    f.driver_now() == Some(PPT)
}

/// What the next boot binds, as the host checks need it: `check` fills it
/// from its next-boot prediction, `vm-json --check` from the pending
/// `ppt_aliases` ([`PendingBindings`]).
pub struct NextBootView<'a> {
    /// Whether `f` is bound to ppt after the next boot; `None` when
    /// unknown, which counts as "as now".
    pub on_ppt_after: &'a dyn Fn(&Function) -> Option<bool>,
    /// Where the pending configuration was read, for messages; empty when
    /// nothing was read.
    pub read_from: String,
}

fn unknown_after(_: &Function) -> Option<bool> {
    None
}

impl Default for NextBootView<'_> {
    /// Nothing known about the next boot: every function counts as "as now".
    fn default() -> Self {
        NextBootView {
            on_ppt_after: &unknown_after,
            read_from: String::new(),
        }
    }
}

impl PendingBindings {
    /// Whether `f` is bound to ppt after the next boot. No `ppt_aliases`
    /// found means none binds it, as the kernel reads it (and as `check`
    /// predicts); `None` only when the next boot is [`Self::unknown`].
    pub fn on_ppt_after(&self, f: &Function) -> Option<bool> {
        (!self.unknown).then(|| self.binds(f))
    }
}

/// Checks the payload's devices against a host: each path must be a PCI
/// function of the host, bound to ppt now or after the next boot, and the
/// other functions of its device should go along.
pub fn check_against_host(
    devices: &[PayloadDevice],
    host: &Host,
    next: &NextBootView<'_>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let by_path = |p: &str| host.functions.iter().find(|f| f.devfs_path() == Some(p));
    let given: Vec<&str> = devices
        .iter()
        .filter_map(|d| d.devfs.as_ref().map(DevfsPath::as_str))
        .collect();
    let from = if next.read_from.is_empty() {
        "no ppt_aliases was found".to_string()
    } else {
        next.read_from.clone()
    };
    let mut seen_devices: Vec<Address> = Vec::new();
    for d in devices {
        let loc = format!("{}.path", d.location);
        // A path zoneadmd cannot resolve is already an error.
        let Some(key) = d.devfs.as_ref().map(DevfsPath::as_str) else {
            continue;
        };
        let Some(f) = by_path(key) else {
            let hint = did_you_mean(host, key);
            problems.push(Problem::beyond(
                &rules::VM_DEVICE_MISSING,
                loc,
                format!("no PCI function at {key} on this host{hint}"),
            ));
            continue;
        };
        // A function that may never be passed through gets no advice to
        // reserve it: the table's own reason, under its own code.
        let never = f.never_pass_through(&host.facts.boot_devices);
        if let Some(n) = never.first() {
            let rule = rules::by_code(n.code()).unwrap_or(&rules::HOST_CRITICAL);
            problems.push(Problem::beyond(
                rule,
                loc,
                format!(
                    "{}; it may never be passed through, choose another device",
                    n.message(f.address)
                ),
            ));
            continue;
        }
        let now = bound_now(f);
        let after = (next.on_ppt_after)(f).unwrap_or(now);
        match (now, after) {
            (false, false) => problems.push(Problem::beyond(
                &rules::PPT_NOT_BOUND,
                loc.clone(),
                format!(
                    "{} ({}) is not bound to ppt and is not reserved for the next boot \
                     (read: {from}); zoneadmd cannot resolve it to /dev/pptN. \
                     Reserve it (`pptctl reserve {}`; on SmartOS with --boot-media DIR) and reboot",
                    f.address, key, f.address
                ),
            )),
            (false, true) => problems.push(Problem::beyond(
                &rules::PENDING_CHANGE,
                loc.clone(),
                format!(
                    "{} is reserved for ppt but not bound until the host reboots",
                    f.address
                ),
            )),
            (true, false) => problems.push(Problem::beyond(
                &rules::PPT_NOT_BOUND,
                loc.clone(),
                format!(
                    "{} is bound to ppt now but no longer reserved after the next boot (read: {from}); \
                     the VM will not start after the reboot",
                    f.address
                ),
            )),
            (true, true) => {}
        }
        if seen_devices.iter().any(|a| a.same_device(&f.address)) {
            continue;
        }
        seen_devices.push(f.address);
        let left: Vec<String> = host
            .functions
            .iter()
            .filter(|o| o.address.same_device(&f.address) && o.address != f.address)
            .filter(|o| !o.devfs_path().is_some_and(|p| given.contains(&p)))
            .map(|o| match o.devfs_path() {
                Some(p) => format!("{} ({p})", o.address),
                None => o.address.to_string(),
            })
            .collect();
        if !left.is_empty() {
            problems.push(Problem::beyond(
                &rules::SIBLINGS_LEFT_BEHIND,
                loc,
                format!(
                    "other functions of this device stay with the host: {}",
                    left.join(", ")
                ),
            ));
        }
    }
    problems
}

/// "; did you mean /devices...?" for a path that names no function: a
/// node name without its unit address (the 2018 blog's `pci1462,2291` for
/// `pci1462,2291@0,1`) is the common slip. Empty when nothing is near.
pub fn did_you_mean(host: &Host, key: &str) -> String {
    let near = crate::selector::near_paths(host, key);
    if near.is_empty() {
        String::new()
    } else {
        format!(
            "; did you mean {}? (a node's unit address is part of its path)",
            near.join(" or ")
        )
    }
}

/// The whole judgement of a payload: [`validate_payload`], then, given a
/// host, [`check_against_host`]. `vm-json --check` reports these problems
/// and `check --vm` reports them under their rule codes, so a payload is
/// invalid for one exactly when the other fails it.
pub fn judge(payload: &Value, host: Option<(&Host, &NextBootView<'_>)>) -> Vec<Problem> {
    let (mut problems, devices) = validate_payload(payload);
    if let Some((host, next)) = host {
        problems.extend(check_against_host(&devices, host, next));
    }
    problems
}

/// The host functions a payload's device paths name.
pub fn payload_functions(payload: &Value, host: &Host) -> Vec<Address> {
    let (_, devices) = validate_payload(payload);
    devices
        .iter()
        .filter_map(|d| d.devfs.as_ref())
        .filter_map(|p| {
            host.functions
                .iter()
                .find(|f| f.devfs_path() == Some(p.as_str()))
        })
        .map(|f| f.address)
        .collect()
}

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
/// `vmadm update`. [`validate_payload`] accepts both as they are.
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn vmadm_rejects_what_vmadm_rejects() {
        for bad in [
            "0x8",
            "4 ",
            " 4",
            "4:0:0:0",
            "256:0:0",
            "-1:0:0",
            "4:32:0",
            "4:0:8",
            "",
            "4:",
            ":4",
            "4.0",
            "1e1",
            "+",
            "--1",
            "99999999999999999999",
        ] {
            let e = parse_pci_slot(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("pci_slot \"{bad}\" is not valid"));
        }
    }

    #[test]
    fn vmadm_accepts_what_vmadm_accepts() {
        let s = |b, d, f| PciSlot {
            bus: b,
            device: d,
            function: f,
        };
        assert_eq!(parse_pci_slot("4").unwrap(), s(0, 4, 0));
        assert_eq!(parse_pci_slot("+4").unwrap(), s(0, 4, 0));
        assert_eq!(parse_pci_slot("1:2").unwrap(), s(0, 1, 2));
        assert_eq!(parse_pci_slot("0:8:1").unwrap(), s(0, 8, 1));
        assert_eq!(parse_pci_slot("255:31:7").unwrap(), s(255, 31, 7));
        assert_eq!(parse_pci_slot("010").unwrap(), s(0, 10, 0));
        assert_eq!(parse_pci_slot("0:8:1").unwrap().to_string(), "0:8:1");
    }
}
