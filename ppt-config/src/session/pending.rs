//! The pending configuration for `check`, as the plain data the rules read:
//! the next boot's binding per function and what each `ppt_aliases` entry
//! binds (pci-illumos `binding::predict`), the functions `ppt_matches`
//! lists (libppt's matching), and VM payloads (vmadm validation).

use pci_core::Host;
use pci_illumos::binding::{BindingReport, PPT};
use pci_illumos::matches::{NodeIds, PptMatches};
use serde_json::Value;

use super::{CheckAnswer, NextBootSource, Session, SessionError};
use crate::selector::{self, Selector};
use crate::viability::pending::VmPlan;
use crate::viability::{self, Plan};

impl Session {
    /// The viability report for the functions `selectors` name (every
    /// function a user could pass through when empty), with the pending
    /// configuration and `vms`.
    pub fn check(
        &self,
        selectors: &[Selector],
        vms: Vec<VmPlan>,
    ) -> Result<CheckAnswer, SessionError> {
        self.check_scope(selectors, vms, false)
    }

    /// What to do when the next boot is not known
    /// ([`Session::next_boot_unknown`]): with the boot media read (or a
    /// persistent root's file lists), the fix is in the lines the message
    /// names, not more media; only a SmartOS root without its media needs
    /// `--boot-media` (the rule's own hint). `check` and `match` say the same.
    pub fn next_boot_fix(&self) -> &'static str {
        if self.captured().media.is_some() {
            "fix the boot configuration lines named above (docs/next-boot.md)"
        } else if !self.is_smartos() {
            "make the boot archive's file lists readable (docs/next-boot.md)"
        } else {
            crate::viability::rules::NEXT_BOOT_UNKNOWN.hint
        }
    }

    /// [`Session::check`]; with `all` and no selectors, infrastructure
    /// (host bridges, root ports, ISA bridges) is judged too
    /// ([`crate::viability::Plan::all`]).
    pub fn check_scope(
        &self,
        selectors: &[Selector],
        vms: Vec<VmPlan>,
        all: bool,
    ) -> Result<CheckAnswer, SessionError> {
        let selected = selector::resolve(&self.host, selectors)?
            .iter()
            .map(|f| f.address)
            .collect();
        let mut plan = Plan {
            selected,
            all,
            ..Default::default()
        };
        match self.next_boot_source() {
            NextBootSource::Unknown(why) => {
                let rule = &crate::viability::rules::NEXT_BOOT_UNKNOWN;
                plan.pending.notes.push(crate::viability::Reason::with_hint(
                    rule,
                    why,
                    self.next_boot_fix(),
                ));
            }
            _ => {
                let report = self.binding()?;
                next_boot(&self.host, &report, &mut plan);
            }
        }
        plan.pending
            .notes
            .extend(super::nextboot::verdicts::reasons(
                self.captured(),
                &self.host,
                &self.opts.root,
            ));
        for n in &self.captured().archive_notes {
            plan.pending.notes.push(crate::viability::Reason::new(
                &crate::viability::rules::ARCHIVE_STALE,
                n.clone(),
            ));
        }
        let matches = self.next_matches()?;
        matches_listed(&self.host, &matches, &mut plan);
        plan.pending.vms = vms;
        Ok(CheckAnswer {
            report: viability::evaluate(&self.host, &plan),
            diagnostics: matches.diagnostics,
        })
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
