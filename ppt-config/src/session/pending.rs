//! The pending configuration for `check`, as the plain data the rules read:
//! the next boot's binding per function and what each `ppt_aliases` entry
//! binds (pci-illumos `binding::predict`), the functions `ppt_matches`
//! lists (libppt's matching), and VM payloads (vmadm validation).

use pci_core::Host;
use pci_illumos::binding::{BindingReport, PPT};
use pci_illumos::matches::{NodeIds, PptMatches};
use serde_json::Value;

use crate::viability::pending::{VmDevice, VmPlan};
use crate::viability::Plan;
use crate::vmadm;

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
/// prediction. A prediction that is not known is kept only for a node on
/// ppt now (only `ppt_aliases` could keep it there); for any other node it
/// would claim "a host driver other than ppt" without evidence.
pub(super) fn next_boot(host: &Host, report: &BindingReport, plan: &mut Plan) {
    for p in &report.predictions {
        let Some(f) = host.functions.get(p.function) else {
            continue;
        };
        if p.known || p.driver_now.as_deref() == Some(PPT) {
            plan.next_boot.insert(f.address, p.clone());
        }
    }
    plan.pending.aliases = report.ppt_aliases.clone();
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
