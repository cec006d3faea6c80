//! vmadm `pci_devices`: generation and validation.
//!
//! Facts from smartos-live `src/vm/node_modules/VM.js` and `jsprim`, the
//! bhyve brand's `boot.c` (illumos-joyent) and bhyve itself (illumos-gate
//! `usr/src/cmd/bhyve`); docs/guest-slots.md restates them with sources:
//!
//! * A `pci_devices` entry is `{"path": "/devices/<devfs path>", "pci_slot":
//!   "B:D:F"}`; `model`, when present, must be `passthru`.
//! * `pci_slot` syntax and ranges, the brand's own slots, and whether a bus
//!   other than 0 works (bhyve's MPtable): [`slots`].
//! * vmadm checks none of the cross-entry rules; a clash only shows when
//!   bhyve starts. The checks here go beyond vmadm and say so ([`guest`]).
//!
//! [`payload`](mod@payload) reads a payload on its own, [`generate`] builds one, and
//! this module joins a payload with a host ([`check_against_host`],
//! [`judge`]).

pub mod generate;
pub mod guest;
pub mod payload;
pub mod slots;

use std::fmt;

use pci_core::text::Escaped;
use pci_core::{Address, Function, Host};
use pci_illumos::binding::PPT;
use pci_illumos::devfs::DevfsPath;
use serde::Serialize;
use serde_json::Value;

use crate::session::NextBootPpt;
use crate::viability::rules::{self, Rule};
use crate::viability::Severity as RuleSeverity;

pub use generate::{payload, pci_devices, PciDevice, SlotAssignError, MPTABLE_OFF};
pub use payload::{devfs_path, validate_payload, PayloadDevice};
pub use slots::{mptable, parse_pci_slot, Mptable, PciSlot, SlotError, DEFAULT_FIRST_DEVICE};

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
    /// The rule itself, so `check` reports the problem under it without
    /// looking its code up again.
    #[serde(skip)]
    rule: &'static Rule,
}

impl Problem {
    fn vmadm(location: String, message: String) -> Self {
        Problem {
            vmadm: true,
            ..Problem::beyond(&rules::VM_PAYLOAD_INVALID, location, message)
        }
    }

    /// A problem beyond vmadm's own checks, reported under `rule`.
    fn beyond(rule: &'static Rule, location: String, message: String) -> Self {
        Problem {
            location,
            code: rule.code,
            rule,
            severity: if rule.severity == RuleSeverity::Fail {
                Severity::Error
            } else {
                Severity::Warning
            },
            message,
            vmadm: false,
        }
    }

    /// The `check` rule this problem is reported under.
    pub(crate) fn rule(&self) -> &'static Rule {
        self.rule
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

/// Whether `f` is bound to ppt now.
pub(crate) fn bound_now(f: &Function) -> bool {
    f.driver_now() == Some(PPT)
}

/// Checks the payload's devices against a host: each path must be a PCI
/// function of the host, bound to ppt now or after the next boot, and the
/// other functions of its device should go along. "After the next boot" is
/// the session's one answer ([`crate::session::Session::next_ppt`]); an
/// unknown answer counts as "as now" ([`NextBootPpt::default`] knows
/// nothing).
pub fn check_against_host(
    devices: &[PayloadDevice],
    host: &Host,
    next: &NextBootPpt,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let given: Vec<&str> = devices
        .iter()
        .filter_map(|d| d.devfs.as_ref().map(DevfsPath::as_str))
        .collect();
    let mut seen_devices: Vec<Address> = Vec::new();
    for d in devices {
        let loc = format!("{}.path", d.location);
        // A path zoneadmd cannot resolve is already an error.
        let Some(key) = d.devfs.as_ref().map(DevfsPath::as_str) else {
            continue;
        };
        let Some(f) = host.functions.iter().find(|f| f.devfs_path() == Some(key)) else {
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
            problems.push(Problem::beyond(
                rules::never_rule(n),
                loc,
                format!(
                    "{}; it may never be passed through, choose another device",
                    n.message(f.address)
                ),
            ));
            continue;
        }
        problems.extend(binding_problem(f, key, &loc, next));
        if seen_devices.iter().any(|a| a.same_device(&f.address)) {
            continue;
        }
        seen_devices.push(f.address);
        problems.extend(siblings_left(f, host, &given, loc));
    }
    problems
}

/// Whether `f` is on ppt now and after the next boot, as the VM needs.
fn binding_problem(f: &Function, key: &str, loc: &str, next: &NextBootPpt) -> Option<Problem> {
    let from = if next.read_from().is_empty() {
        "no ppt_aliases was found"
    } else {
        next.read_from()
    };
    let now = bound_now(f);
    let after = next.at(f.address).or_now(now);
    let (rule, message) = match (now, after) {
        (false, false) => (
            &rules::PPT_NOT_BOUND,
            format!(
                "{} ({}) is not bound to ppt and is not reserved for the next boot \
                 (read: {from}); zoneadmd cannot resolve it to /dev/pptN. \
                 Reserve it (`pptctl reserve {}`; on SmartOS with --boot-media DIR) and reboot",
                f.address, key, f.address
            ),
        ),
        (false, true) => (
            &rules::PENDING_CHANGE,
            format!(
                "{} is reserved for ppt but not bound until the host reboots",
                f.address
            ),
        ),
        (true, false) => (
            &rules::PPT_NOT_BOUND,
            format!(
                "{} is bound to ppt now but no longer reserved after the next boot (read: {from}); \
                 the VM will not start after the reboot",
                f.address
            ),
        ),
        (true, true) => return None,
    };
    Some(Problem::beyond(rule, loc.to_string(), message))
}

/// The other functions of `f`'s device that the payload leaves with the host.
fn siblings_left(f: &Function, host: &Host, given: &[&str], loc: String) -> Option<Problem> {
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
    (!left.is_empty()).then(|| {
        Problem::beyond(
            &rules::SIBLINGS_LEFT_BEHIND,
            loc,
            format!(
                "other functions of this device stay with the host: {}",
                left.join(", ")
            ),
        )
    })
}

/// "; did you mean /devices...?" for a path that names no function: a
/// node name without its unit address (the 2018 blog's `pci1462,2291` for
/// `pci1462,2291@0,1`) is the common slip. Empty when nothing is near.
pub(crate) fn did_you_mean(host: &Host, key: &str) -> String {
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
pub fn judge(payload: &Value, host: Option<(&Host, &NextBootPpt)>) -> Vec<Problem> {
    let (mut problems, devices) = validate_payload(payload);
    if let Some((host, next)) = host {
        problems.extend(check_against_host(&devices, host, next));
    }
    problems
}
