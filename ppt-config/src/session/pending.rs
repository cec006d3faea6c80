//! The pending configuration for `check`, as the plain data the rules read:
//! the next boot's binding per function and what each `ppt_aliases` entry
//! binds (pci-illumos `binding::predict`), the functions `ppt_matches`
//! lists (libppt's matching), and VM payloads (vmadm validation).

use pci_core::Host;
use pci_illumos::binding::{BindingReport, PPT};
use pci_illumos::matches::{NodeIds, PptMatches};
use serde_json::Value;

use crate::viability::pending::VmPlan;
use crate::viability::Plan;

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

/// One vmadm payload as `check --vm` weighs it: the same judgement
/// `vm-json --check` makes ([`crate::vmadm::judge`]) runs over it when the
/// plan is evaluated. `file` names it.
pub fn vm_plan(file: &str, v: &Value) -> VmPlan {
    VmPlan::from_payload(file, v.clone())
}
