//! The pending configuration: what the next boot will bind, which aliases
//! do what, and whether the VMs' `pci_devices` will find their devices on
//! ppt. Inputs are plain data so the rules do not depend on how the files
//! were parsed (the CLI fills them from the alias, binding and vmadm modules).

use std::collections::{BTreeMap, BTreeSet};

use pci_core::Address;

use super::facts::FunctionFacts;
use super::function_rules::{driver_text, Prediction};
use super::rules;
use super::{FunctionReport, Reason, Verdict};

/// One `ppt_aliases` entry and what it binds at the next boot, as
/// pci-illumos reports it (the one model of an alias entry).
pub use pci_illumos::binding::AliasReport;

/// One `pci_devices` entry of a VM payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmDevice {
    /// Index in `pci_devices`.
    pub index: usize,
    /// `path` as written (`/devices/pci@0,0/...`).
    pub path: String,
    /// `pci_slot` as written.
    pub pci_slot: Option<String>,
    /// The parsed guest slot (bus, device, function), when valid.
    pub slot: Option<(u8, u8, u8)>,
}

/// One VM payload given with `--vm`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VmPlan {
    /// The file it came from.
    pub file: String,
    /// `alias` or `uuid`, when the payload has one.
    pub name: Option<String>,
    /// Its pass-through devices.
    pub devices: Vec<VmDevice>,
    /// What vmadm would reject (messages as vmadm words them).
    pub errors: Vec<String>,
}

impl VmPlan {
    fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("VM {n} ({})", self.file),
            None => format!("VM {}", self.file),
        }
    }
}

/// Everything pending, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pending {
    /// `ppt_aliases` entries and what each binds.
    pub aliases: Vec<AliasReport>,
    /// Functions `ppt_matches` lists (candidates for `pptadm list -a`).
    pub matches_listed: BTreeSet<Address>,
    /// VM payloads.
    pub vms: Vec<VmPlan>,
    /// Problems the binding prediction met (as info/warn already worded).
    pub notes: Vec<Reason>,
}

/// Normalises a vmadm `path` to the devfs key (no `/devices`, no `:minor`).
pub fn devfs_key(path: &str) -> String {
    let p = path.strip_prefix("/devices").unwrap_or(path);
    let last = p.rfind('/').unwrap_or(0);
    match p[last..].find(':') {
        Some(c) => p[..last + c].to_string(),
        None => p.to_string(),
    }
}

/// The functions each VM device resolves to (by devfs path).
pub fn vm_functions(pending: &Pending, facts: &[FunctionFacts]) -> BTreeSet<Address> {
    let by_path: BTreeMap<&str, Address> = facts
        .iter()
        .filter_map(|f| f.path.as_deref().map(|p| (p, f.address)))
        .collect();
    pending
        .vms
        .iter()
        .flat_map(|vm| vm.devices.iter())
        .filter_map(|d| by_path.get(devfs_key(&d.path).as_str()).copied())
        .collect()
}

fn on_ppt_after(a: &Address, facts: &FunctionFacts, next: &BTreeMap<Address, Prediction>) -> bool {
    match next.get(a) {
        Some(n) => n.driver_after() == Some("ppt"),
        None => facts.driver.as_deref() == Some("ppt"),
    }
}

/// The configuration findings.
pub fn check(
    pending: &Pending,
    facts: &[FunctionFacts],
    next_boot: &BTreeMap<Address, Prediction>,
    reports: &BTreeMap<Address, FunctionReport>,
) -> Vec<Reason> {
    let mut out = pending.notes.clone();
    let find = |a: &Address| facts.iter().find(|f| f.address == *a);
    alias_rules(pending, facts, &mut out);
    // rules::PENDING_CHANGE and rules::RESERVED_FAILS.
    for f in facts {
        let now = f.driver.as_deref();
        let Some(n) = next_boot.get(&f.address) else {
            continue;
        };
        let then = n.driver_after();
        let dev = n.dev_text().map(|d| format!(" as {d}")).unwrap_or_default();
        if now == Some("ppt") && then == Some("ppt") {
            out.push(Reason::new(
                &rules::PPT_KEPT,
                format!(
                    "{} stays on ppt after the next boot{dev} ({})",
                    f.address,
                    n.why()
                ),
            ));
        }
        if now != then && (now == Some("ppt") || then == Some("ppt")) {
            let msg = match (now, then) {
                (_, Some("ppt")) => format!(
                    "{} is on {} now; after the next boot ppt takes it{dev} ({})",
                    f.address,
                    now.unwrap_or("no driver"),
                    n.why()
                ),
                _ => format!(
                    "{} is on ppt now; after the next boot it gets {} ({})",
                    f.address,
                    driver_text(n),
                    n.why()
                ),
            };
            out.push(Reason::new(&rules::PENDING_CHANGE, msg));
        }
        if then == Some("ppt") {
            if let Some(r) = reports
                .get(&f.address)
                .filter(|r| r.verdict == Verdict::Fail)
            {
                let codes: Vec<&str> = r
                    .reasons
                    .iter()
                    .filter(|x| x.severity == super::Severity::Fail)
                    .map(|x| x.code)
                    .collect();
                out.push(Reason::new(
                    &rules::RESERVED_FAILS,
                    format!(
                        "{} is reserved for ppt but fails: {}",
                        f.address,
                        codes.join(", ")
                    ),
                ));
            }
        }
    }
    // rules::MATCHES_ONLY (illumos.md §7.1).
    for a in &pending.matches_listed {
        if let Some(f) = find(a) {
            if !on_ppt_after(a, f, next_boot) && f.driver.as_deref() != Some("ppt") {
                out.push(Reason::new(
                    &rules::MATCHES_ONLY,
                    format!(
                        "{a} is listed by ppt_matches but no ppt_aliases entry binds it, so it stays on {}",
                        f.driver.as_deref().unwrap_or("no driver")
                    ),
                ));
            }
        }
    }
    vm_rules(pending, facts, next_boot, &mut out);
    out
}

fn alias_rules(pending: &Pending, facts: &[FunctionFacts], out: &mut Vec<Reason>) {
    for a in &pending.aliases {
        let place = format!("{}:{}", a.file, a.line);
        // The functions it binds, by address (a path no function has is
        // not counted).
        let binds: Vec<Address> = a
            .matches
            .iter()
            .filter_map(|p| {
                facts
                    .iter()
                    .find(|f| f.path.as_deref() == Some(p.as_str()))
                    .map(|f| f.address)
            })
            .collect();
        if binds.is_empty() {
            let notes: Vec<&str> = a.lints.iter().map(|l| l.message.as_str()).collect();
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            out.push(Reason::new(
                &rules::ALIAS_BINDS_NOTHING,
                format!(
                    "{place}: \"{}\" binds no device on this host{notes}",
                    a.alias
                ),
            ));
        } else if a.kind != "path" && binds.len() > 1 {
            let list: Vec<String> = binds.iter().map(Address::to_string).collect();
            out.push(Reason::new(
                &rules::ALIAS_TAKES_MORE,
                format!(
                    "{place}: the ID alias \"{}\" binds {} functions: {}",
                    a.alias,
                    binds.len(),
                    list.join(", ")
                ),
            ));
        }
    }
}

/// bus-0 guest devices the bhyve brand uses (illumos.md §5.4): hostbridge
/// 0, CD 3, boot disk 4, disks 5, NICs 6, framebuffer 30, LPC 31.
fn brand_slot_use(bus: u8, device: u8) -> Option<&'static str> {
    if bus != 0 {
        return None;
    }
    Some(match device {
        0 => "the host bridge",
        3 => "the CD-ROM",
        4 => "the boot disk",
        5 => "the other disks",
        6 => "the NICs",
        30 => "the framebuffer and tablet",
        31 => "the LPC device",
        _ => return None,
    })
}

fn vm_rules(
    pending: &Pending,
    facts: &[FunctionFacts],
    next_boot: &BTreeMap<Address, Prediction>,
    out: &mut Vec<Reason>,
) {
    let by_path: BTreeMap<&str, &FunctionFacts> = facts
        .iter()
        .filter_map(|f| f.path.as_deref().map(|p| (p, f)))
        .collect();
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for vm in &pending.vms {
        let label = vm.label();
        for e in &vm.errors {
            out.push(Reason::new(
                &rules::VM_PAYLOAD_INVALID,
                format!("{label}: {e}"),
            ));
        }
        let mut slots: BTreeMap<(u8, u8, u8), usize> = BTreeMap::new();
        let mut devices_of: BTreeMap<(u8, u8), Vec<u8>> = BTreeMap::new();
        for d in &vm.devices {
            let key = devfs_key(&d.path);
            users.entry(key.clone()).or_default().push(label.clone());
            match by_path.get(key.as_str()) {
                None => out.push(Reason::new(
                    &rules::VM_DEVICE_MISSING,
                    format!(
                        "{label}: pci_devices.{}.path {} is not a device on this host",
                        d.index, d.path
                    ),
                )),
                Some(f) => {
                    let now = f.driver.as_deref() == Some("ppt");
                    let after = on_ppt_after(&f.address, f, next_boot);
                    if !now && !after {
                        out.push(Reason::new(
                            &rules::PPT_NOT_BOUND,
                            format!(
                                "{label}: pci_devices.{} ({}, {}) is on {} and no alias binds it to ppt at the next boot",
                                d.index,
                                f.address,
                                key,
                                f.driver.as_deref().unwrap_or("no driver")
                            ),
                        ));
                    } else if now && !after {
                        out.push(Reason::with_hint(
                            &rules::PPT_NOT_BOUND,
                            format!(
                                "{label}: pci_devices.{} ({}) is on ppt now but will not be after the next boot",
                                d.index, f.address
                            ),
                            "keep its ppt_aliases entry (pptctl reserve PATH) before rebooting",
                        ));
                    }
                }
            }
            let Some((b, dev, func)) = d.slot else {
                continue;
            };
            if let Some(what) = brand_slot_use(b, dev) {
                out.push(Reason::new(
                    &rules::GUEST_SLOT_RESERVED,
                    format!(
                        "{label}: pci_devices.{} uses guest slot {b}:{dev}:{func}, where the bhyve brand puts {what}",
                        d.index
                    ),
                ));
            }
            if let Some(first) = slots.insert((b, dev, func), d.index) {
                out.push(Reason::new(
                    &rules::GUEST_SLOT_CONFLICT,
                    format!(
                        "{label}: pci_devices.{first} and pci_devices.{} both use guest slot {b}:{dev}:{func}",
                        d.index
                    ),
                ));
            }
            devices_of.entry((b, dev)).or_default().push(func);
        }
        for ((b, dev), funcs) in devices_of {
            if !funcs.contains(&0) {
                out.push(Reason::new(
                    &rules::GUEST_SLOT_NO_FUNCTION_0,
                    format!(
                        "{label}: guest device {b}:{dev} has function{} {} but no function 0",
                        if funcs.len() == 1 { "" } else { "s" },
                        funcs
                            .iter()
                            .map(u8::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    for (path, who) in users {
        let mut distinct = who.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.len() > 1 {
            out.push(Reason::new(
                &rules::VM_DEVICE_SHARED,
                format!("{path} is used by {}", distinct.join(" and ")),
            ));
        }
    }
}
