//! The pending configuration for `check`, as the plain data the rules read:
//! the next boot's binding per function and what each `ppt_aliases` entry
//! binds (pci-illumos `binding::predict`), the functions `ppt_matches`
//! lists (libppt's matching), and VM payloads (vmadm validation).

use pci_core::{Address, Host};
use pci_illumos::binding::{BindingReport, BoundBy, PPT};
use pci_illumos::matches::{NodeIds, PptMatches};
use serde_json::Value;

use crate::viability::function_rules::NextBoot;
use crate::viability::pending::{AliasUse, VmDevice, VmPlan};
use crate::viability::Plan;
use crate::vmadm;

/// The address of the function with devfs `path`.
fn address_of(host: &Host, path: &str) -> Option<Address> {
    host.functions
        .iter()
        .find(|f| f.illumos.as_ref().is_some_and(|n| n.path == path))
        .map(|f| f.address)
}

/// `<file>:<line>`, or the file alone for line 0 (a driver name standing
/// in for a missing name_to_major).
pub fn by_string(file: &str, line: usize) -> String {
    if line == 0 {
        file.to_string()
    } else {
        format!("{file}:{line}")
    }
}

/// Fills `plan.pending.matches_listed`: the functions `ppt_matches` lists.
pub(super) fn matches_listed(host: &Host, matches: &PptMatches, plan: &mut Plan) {
    for f in &host.functions {
        if let Some(node) = NodeIds::of(f) {
            if matches.first_match(&node).is_some() {
                plan.pending.matches_listed.insert(f.address);
            }
        }
    }
}

/// Fills `plan.next_boot` and `plan.pending.aliases` from the binding
/// prediction.
pub(super) fn next_boot(host: &Host, report: &BindingReport, plan: &mut Plan) {
    for p in &report.predictions {
        let Some(f) = host.functions.get(p.function) else {
            continue;
        };
        let prediction = if p.known {
            let why = match &p.after {
                Some(d) => {
                    let place = format!("{} line {}", d.binding.file, d.binding.line);
                    match &d.via {
                        BoundBy::PathAlias => format!("path alias in {place}"),
                        BoundBy::Compatible(c) => format!("\"{c}\" in {place}"),
                        BoundBy::NodeName(n) => format!("node name {n}"),
                    }
                }
                None => "no alias binds it".to_string(),
            };
            NextBoot {
                dev: p.dev.as_ref().map(|d| {
                    if d.certain {
                        d.dev.clone()
                    } else {
                        format!("{} (a guess: the instance is not recorded yet)", d.dev)
                    }
                }),
                dev_certain: p.dev.as_ref().is_some_and(|d| d.certain),
                by: p
                    .after
                    .as_ref()
                    .map(|d| by_string(&d.binding.file, d.binding.line)),
                ..NextBoot::new(p.driver_after(), why)
            }
        } else if p.driver_now.as_deref() == Some(PPT) {
            // ppt ships with no aliases of its own (illumos.md §2.2), so
            // a node no ppt_aliases entry decides leaves ppt; which host
            // driver takes it needs driver_aliases, which was not read.
            NextBoot {
                driver: None,
                why: "no ppt_aliases entry binds it; /etc/driver_aliases was not read".into(),
                known: false,
                dev: None,
                dev_certain: false,
                by: None,
            }
        } else {
            continue;
        };
        plan.next_boot.insert(f.address, prediction);
    }
    for a in &report.ppt_aliases {
        plan.pending.aliases.push(AliasUse {
            alias: a.alias.clone(),
            file: a.file.clone(),
            line: Some(a.line),
            is_path: a.kind == "path",
            binds: a
                .matches
                .iter()
                .filter_map(|p| address_of(host, p))
                .collect(),
            notes: a.lints.iter().map(|l| l.message.clone()).collect(),
        });
    }
}

/// One vmadm payload as `check --vm` weighs it: vmadm's own rejections,
/// and the device entries for the host checks. `file` names it.
pub fn vm_plan(file: &str, v: &Value) -> VmPlan {
    let (problems, devices) = vmadm::validate_payload(v);
    let mut plan = VmPlan {
        file: file.to_string(),
        name: v
            .get("alias")
            .or_else(|| v.get("uuid"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Default::default()
    };
    // Problems beyond vmadm (duplicate or reserved slots, function 0) are
    // the check's own rules; only vmadm's rejections are taken here.
    plan.errors = problems
        .iter()
        .filter(|p| p.vmadm)
        .map(|p| {
            if p.location.is_empty() || p.message.contains(&p.location) {
                p.message.clone()
            } else {
                format!("{}: {}", p.location, p.message)
            }
        })
        .collect();
    plan.devices = devices
        .into_iter()
        .map(|d| VmDevice {
            index: d
                .location
                .rsplit('.')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            path: d.path,
            pci_slot: d.slot.map(|s| s.to_string()),
            slot: d.slot.map(|s| (s.bus, s.device, s.function)),
        })
        .collect();
    plan
}
