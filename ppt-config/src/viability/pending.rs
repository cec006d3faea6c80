//! The pending configuration: what the next boot will bind, which aliases
//! do what, and whether the VMs' `pci_devices` will find their devices on
//! ppt. Inputs are plain data so the rules do not depend on how the files
//! were parsed (the CLI fills them from the alias, binding and vmadm modules).

use std::collections::{BTreeMap, BTreeSet};

use pci_core::{Address, Host};
use pci_illumos::binding::PPT;

use super::facts::FunctionFacts;
use super::function_rules::{driver_text, Prediction};
use super::rules;
use super::{FunctionReport, Reason, Verdict};
use crate::session::NextBootPpt;
use crate::vmadm;

/// One `ppt_aliases` entry and what it binds at the next boot, as
/// pci-illumos reports it (the one model of an alias entry).
pub use pci_illumos::binding::AliasReport;

/// One VM payload given with `--vm`, judged by [`crate::vmadm::judge`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VmPlan {
    /// The file it came from.
    pub file: String,
    /// `alias` or `uuid`, when the payload has one.
    pub name: Option<String>,
    /// The payload as read.
    pub payload: serde_json::Value,
}

impl VmPlan {
    /// A payload read from `file`; its name is its `alias` or `uuid`.
    pub fn from_payload(file: impl Into<String>, payload: serde_json::Value) -> VmPlan {
        let name = payload
            .get("alias")
            .or_else(|| payload.get("uuid"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        VmPlan {
            file: file.into(),
            name,
            payload,
        }
    }

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

/// The functions the VMs' device paths name.
pub(crate) fn vm_functions(pending: &Pending, facts: &[FunctionFacts]) -> BTreeSet<Address> {
    let by_path: BTreeMap<&str, Address> = facts
        .iter()
        .filter_map(|f| f.path.as_deref().map(|p| (p, f.address)))
        .collect();
    pending
        .vms
        .iter()
        .flat_map(|vm| vmadm::validate_payload(&vm.payload).1)
        .filter_map(|d| d.devfs.and_then(|p| by_path.get(p.as_str()).copied()))
        .collect()
}

/// The configuration findings.
pub fn check(
    host: &Host,
    pending: &Pending,
    facts: &[FunctionFacts],
    next_boot: &BTreeMap<Address, Prediction>,
    reports: &BTreeMap<Address, FunctionReport>,
) -> Vec<Reason> {
    let mut out = pending.notes.clone();
    alias_rules(pending, facts, &mut out);
    // rules::PENDING_CHANGE and rules::RESERVED_FAILS.
    for f in facts {
        let now = f.driver.as_deref();
        let Some(n) = next_boot.get(&f.address) else {
            continue;
        };
        let then = n.driver_after();
        let dev = n.dev_text().map(|d| format!(" as {d}")).unwrap_or_default();
        if now == Some(PPT) && then == Some(PPT) {
            out.push(Reason::new(
                &rules::PPT_KEPT,
                format!(
                    "{} stays on ppt after the next boot{dev} ({})",
                    f.address,
                    n.why()
                ),
            ));
        }
        if now != then && (now == Some(PPT) || then == Some(PPT)) {
            let msg = match (now, then) {
                (_, Some(PPT)) => format!(
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
        if then == Some(PPT) {
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
    matches_only_rules(host, pending, facts, next_boot, &mut out);
    vm_rules(host, pending, next_boot, &mut out);
    out
}

/// rules::MATCHES_ONLY (only libppt reads ppt_matches: libppt.c
/// `get_matches`): a function ppt_matches lists that is not on ppt now and
/// will not be after the next boot.
fn matches_only_rules(
    host: &Host,
    pending: &Pending,
    facts: &[FunctionFacts],
    next_boot: &BTreeMap<Address, Prediction>,
    out: &mut Vec<Reason>,
) {
    let find = |a: &Address| facts.iter().find(|f| f.address == *a);
    let after = NextBootPpt::from_predictions(next_boot);
    for a in &pending.matches_listed {
        if let Some(f) = find(a) {
            let now = f.driver.as_deref() == Some(PPT);
            if !after.at(*a).or_now(now) && !now {
                let message = format!(
                    "{a} is listed by ppt_matches but no ppt_aliases entry binds it, so it stays on {}",
                    f.driver.as_deref().unwrap_or("no driver")
                );
                // Never advise reserving what may never be passed through.
                if f.never(&host.facts.boot_devices).is_empty() {
                    out.push(Reason::new(&rules::MATCHES_ONLY, message));
                } else {
                    out.push(Reason::with_hint(
                        &rules::MATCHES_ONLY,
                        message,
                        "it may never be passed through (bridge, host bridge, ISA/LPC or boot device): narrow the ppt_matches line so it does not list it",
                    ));
                }
            }
        }
    }
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
                format!("{place}: {} binds no device on this host{notes}", a.shown()),
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

fn vm_rules(
    host: &Host,
    pending: &Pending,
    next_boot: &BTreeMap<Address, Prediction>,
    out: &mut Vec<Reason>,
) {
    // The same judgement `vm-json --check` makes, with this check's
    // next-boot prediction: a problem that is an error there is a fail here.
    let after = NextBootPpt::from_predictions(next_boot);
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for vm in &pending.vms {
        let label = vm.label();
        let problems = vmadm::judge(&vm.payload, Some((host, &after)));
        for p in problems {
            let rule = p.rule();
            let msg = if p.location.is_empty() || p.message.contains(&p.location) {
                format!("{label}: {}", p.message)
            } else {
                format!("{label}: {}: {}", p.location, p.message)
            };
            out.push(Reason::new(rule, msg));
        }
        for d in vmadm::validate_payload(&vm.payload).1 {
            if let Some(p) = d.devfs {
                users.entry(p.to_string()).or_default().push(label.clone());
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
