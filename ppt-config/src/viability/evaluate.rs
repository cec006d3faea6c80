//! Runs every rule over a host and its pending configuration.

use std::collections::{BTreeMap, BTreeSet};

use pci_core::{Address, Host};

use super::facts::FunctionFacts;
use super::function_rules::{self, FunctionContext, Prediction};
use super::pending::{self, Pending};
use super::{
    host_rules, isolation, DriverNow, FunctionReport, NextBootReport, Report, Section, Verdict,
};

/// What the user asked about and what is pending.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Functions named by SELECTORs; empty means every endpoint function.
    pub selected: Vec<Address>,
    /// The next boot's driver per function, where predicted.
    pub next_boot: BTreeMap<Address, Prediction>,
    /// Aliases, ppt_matches candidates and VM payloads.
    pub pending: Pending,
}

/// Whether `f` is an endpoint (header type 0, or unknown header).
fn is_endpoint(f: &FunctionFacts) -> bool {
    !f.is_bridge()
}

/// Evaluates every rule; the report lists the selected functions (or every
/// endpoint function), plus any function that is on ppt now, after the
/// next boot, or named by a VM, so a reserved bridge cannot hide.
pub fn evaluate(host: &Host, plan: &Plan) -> Report {
    let facts: Vec<FunctionFacts> = host.functions.iter().map(FunctionFacts::extract).collect();
    evaluate_facts(host, &facts, plan)
}

/// [`evaluate`] on facts already extracted (tests build facts by hand).
pub fn evaluate_facts(host: &Host, facts: &[FunctionFacts], plan: &Plan) -> Report {
    let groups = isolation::predict(facts);
    let vm_fns = pending::vm_functions(&plan.pending, facts);
    let mut planned: BTreeSet<Address> = plan.selected.iter().copied().collect();
    planned.extend(vm_fns.iter().copied());
    for f in facts {
        let ppt_then = match plan.next_boot.get(&f.address) {
            Some(n) => n.driver_after() == Some("ppt"),
            None => f.driver.as_deref() == Some("ppt"),
        };
        if ppt_then {
            planned.insert(f.address);
        }
    }
    let ctx = FunctionContext {
        host: &host.facts,
        all: facts,
        groups: &groups,
        planned: &planned,
        next_boot: &plan.next_boot,
    };
    let mut reports: BTreeMap<Address, FunctionReport> = BTreeMap::new();
    for f in facts {
        let reasons = function_rules::check(f, &ctx);
        let section = Section::from_reasons(reasons);
        reports.insert(
            f.address,
            FunctionReport {
                slot: f.address.to_string(),
                path: f.path.clone(),
                ids: host
                    .functions
                    .iter()
                    .find(|h| h.address == f.address)
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
    let config = Section::from_reasons(pending::check(
        &plan.pending,
        facts,
        &plan.next_boot,
        &reports,
    ));
    let shown: Vec<FunctionReport> = facts
        .iter()
        .filter(|f| {
            if plan.selected.is_empty() {
                is_endpoint(f) || planned.contains(&f.address)
            } else {
                plan.selected.contains(&f.address)
            }
        })
        .filter_map(|f| reports.get(&f.address).cloned())
        .collect();
    let mut shown = shown;
    shown.sort_by(|a, b| a.slot.cmp(&b.slot));
    let host_section = Section::from_reasons(host_rules::check(&host.facts));
    Report {
        host: host_section,
        functions: shown,
        config,
    }
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
