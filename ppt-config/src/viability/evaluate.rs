//! Runs every rule over a host and its pending configuration.

use std::collections::{BTreeMap, BTreeSet};

use pci_core::{Address, Host};
use pci_illumos::binding::PPT;

use super::facts::FunctionFacts;
use super::function_rules::{self, FunctionContext, Prediction};
use super::pending::{self, Pending};
use super::{
    host_rules, isolation, DriverNow, FunctionReport, NextBootReport, Report, Section, Verdict,
};

/// What the user asked about and what is pending.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Functions named by SELECTORs; empty means every function a user
    /// could pass through (see [`Plan::all`]).
    pub selected: Vec<Address>,
    /// With nothing selected: every function, infrastructure included.
    /// Otherwise infrastructure (`pci_core::passthrough::is_infrastructure`:
    /// bridges, host bridges, ISA/LPC and other bridge-class functions) is
    /// left out unless it is on ppt now, after the next boot, or named by
    /// a VM, so a plain check on a healthy host passes.
    pub all: bool,
    /// The next boot's driver per function, where predicted.
    pub next_boot: BTreeMap<Address, Prediction>,
    /// Aliases, ppt_matches candidates and VM payloads.
    pub pending: Pending,
}

/// Evaluates every rule; the report lists the selected functions (or every
/// function a user could pass through, every function with
/// [`Plan::all`]), plus any function that is on ppt now, after the next
/// boot, or named by a VM, so a reserved bridge cannot hide.
pub fn evaluate(host: &Host, plan: &Plan) -> Report {
    let facts: Vec<FunctionFacts> = host.functions.iter().map(FunctionFacts::extract).collect();
    evaluate_facts(host, &facts, plan)
}

/// [`evaluate`] on facts already extracted (tests build facts by hand).
pub(crate) fn evaluate_facts(host: &Host, facts: &[FunctionFacts], plan: &Plan) -> Report {
    let groups = isolation::predict(facts);
    let planned = planned(facts, plan);
    let by_address = function_rules::index(facts);
    let ctx = FunctionContext {
        host: &host.facts,
        all: facts,
        by_address: &by_address,
        groups: &groups,
        planned: &planned,
        next_boot: &plan.next_boot,
    };
    let reports = function_reports(host, facts, plan, &ctx);
    let config = Section::from_reasons(pending::check(
        host,
        &plan.pending,
        facts,
        &plan.next_boot,
        &reports,
    ));
    let shown: Vec<FunctionReport> = facts
        .iter()
        .filter(|f| {
            if plan.selected.is_empty() {
                plan.all || !f.is_infrastructure() || planned.contains(&f.address)
            } else {
                plan.selected.contains(&f.address)
            }
        })
        .filter_map(|f| reports.get(&f.address).cloned())
        .collect();
    let mut shown = shown;
    shown.sort_by(|a, b| a.slot.cmp(&b.slot));
    let mut host_reasons = host_rules::check(&host.facts);
    host_reasons.extend(host_rules::links(host));
    let host_section = Section::from_reasons(host_reasons);
    Report {
        host: host_section,
        functions: shown,
        config,
    }
}

/// The functions meant for pass-through: the selected ones, those a VM
/// names, and those on ppt after the next boot (or now, when the next
/// boot is not predicted).
fn planned(facts: &[FunctionFacts], plan: &Plan) -> BTreeSet<Address> {
    let vm_fns = pending::vm_functions(&plan.pending, facts);
    let mut planned: BTreeSet<Address> = plan.selected.iter().copied().collect();
    planned.extend(vm_fns.iter().copied());
    // On ppt after the next boot: the session's one answer (see
    // crate::session::NextBootPpt), the driver now where it is unknown.
    let after = crate::session::NextBootPpt::from_predictions(&plan.next_boot);
    let then = |f: &&FunctionFacts| after.at(f.address).or_now(f.driver.as_deref() == Some(PPT));
    planned.extend(facts.iter().filter(then).map(|f| f.address));
    planned
}

/// Every function's report: its rules' verdict, its driver now and after
/// the next boot.
fn function_reports(
    host: &Host,
    facts: &[FunctionFacts],
    plan: &Plan,
    ctx: &FunctionContext<'_>,
) -> BTreeMap<Address, FunctionReport> {
    let host_functions: BTreeMap<Address, &pci_core::Function> =
        host.functions.iter().map(|h| (h.address, h)).collect();
    let mut reports: BTreeMap<Address, FunctionReport> = BTreeMap::new();
    for f in facts {
        let reasons = function_rules::check(f, ctx);
        let section = Section::from_reasons(reasons);
        reports.insert(
            f.address,
            FunctionReport {
                slot: f.address.to_string(),
                path: f.path.clone(),
                ids: host_functions
                    .get(&f.address)
                    .map(|h| h.ids_string())
                    .unwrap_or_default(),
                verdict: section.verdict,
                reasons: section.reasons,
                now: DriverNow {
                    driver: f.driver.clone(),
                },
                next_boot: plan
                    .next_boot
                    .get(&f.address)
                    .filter(|n| n.known)
                    .map(|n| NextBootReport {
                        driver: n.driver_after().map(str::to_string),
                        dev: n.certain_dev().map(str::to_string),
                        by: n.by(),
                    })
                    .unwrap_or_default(),
            },
        );
    }
    reports
}

impl Report {
    /// `N functions: a ok, b warn, c fail; host …; config …`.
    pub fn summary(&self) -> String {
        let count = |v: Verdict| self.functions.iter().filter(|f| f.verdict == v).count();
        format!(
            "{} function{}: {} ok, {} warn, {} fail; host {}; config {}",
            self.functions.len(),
            if self.functions.len() == 1 { "" } else { "s" },
            count(Verdict::Ok),
            count(Verdict::Warn),
            count(Verdict::Fail),
            self.host.verdict,
            self.config.verdict
        )
    }
}
