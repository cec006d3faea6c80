//! What changed between two snapshots of one host, function by function:
//! added and removed functions, driver, `/dev/pptN`, reservation and
//! verdict changes. Works on stored rows ([`crate::Fleet::snapshot_functions`])
//! and on files ([`crate::derive`]) alike.

use std::collections::BTreeMap;
use std::fmt;

use pci_core::text::Escaped;
use pci_illumos::binding::PPT;
use serde::Serialize;

use crate::record::FunctionRow;

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// A function present only in the newer snapshot.
    Added {
        /// `DDDD:BB:DD.F`.
        address: String,
        /// `vvvv:dddd`.
        ids: String,
    },
    /// A function present only in the older snapshot.
    Removed {
        /// `DDDD:BB:DD.F`.
        address: String,
        /// `vvvv:dddd`.
        ids: String,
    },
    /// A field of a function changed.
    Changed {
        /// `DDDD:BB:DD.F`.
        address: String,
        /// `ids`, `driver`, `ppt`, `reserved`, `verdict`.
        field: &'static str,
        /// Before (`-` for none).
        from: String,
        /// After (`-` for none).
        to: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { address, ids } => write!(f, "+ {} {}", Escaped(address), Escaped(ids)),
            Change::Removed { address, ids } => {
                write!(f, "- {} {}", Escaped(address), Escaped(ids))
            }
            Change::Changed {
                address,
                field,
                from,
                to,
            } => write!(
                f,
                "~ {} {field}: {} -> {}",
                Escaped(address),
                Escaped(from),
                Escaped(to)
            ),
        }
    }
}

fn ids(f: &FunctionRow) -> String {
    format!("{:04x}:{:04x}", f.vendor, f.device)
}

fn opt(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

fn opt_bool(b: Option<bool>) -> String {
    match b {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => "unknown".into(),
    }
}

/// The changes from `old` to `new`, in address order.
pub fn diff_functions(old: &[FunctionRow], new: &[FunctionRow]) -> Vec<Change> {
    let a: BTreeMap<&str, &FunctionRow> = old.iter().map(|f| (f.address.as_str(), f)).collect();
    let b: BTreeMap<&str, &FunctionRow> = new.iter().map(|f| (f.address.as_str(), f)).collect();
    let mut keys: Vec<&str> = a.keys().chain(b.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        match (a.get(k), b.get(k)) {
            (None, Some(n)) => out.push(Change::Added {
                address: k.to_string(),
                ids: ids(n),
            }),
            (Some(o), None) => out.push(Change::Removed {
                address: k.to_string(),
                ids: ids(o),
            }),
            (Some(o), Some(n)) => {
                let mut field = |field: &'static str, from: String, to: String| {
                    if from != to {
                        out.push(Change::Changed {
                            address: k.to_string(),
                            field,
                            from,
                            to,
                        });
                    }
                };
                field("ids", ids(o), ids(n));
                field("driver", opt(o.driver.as_deref()), opt(n.driver.as_deref()));
                field("ppt", opt(o.ppt_dev.as_deref()), opt(n.ppt_dev.as_deref()));
                field("reserved", opt_bool(o.reserved), opt_bool(n.reserved));
                let verdict = |f: &FunctionRow| match &f.fail_reason {
                    Some(r) => format!("{} ({r})", f.verdict),
                    None => f.verdict.clone(),
                };
                if o.verdict != n.verdict {
                    field("verdict", verdict(o), verdict(n));
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// Whether one binding predicted before a reboot held after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// `DDDD:BB:DD.F` in the before-state.
    pub address: String,
    /// `vvvv:dddd`.
    pub ids: String,
    /// The driver predicted for after the next boot.
    pub expected: String,
    /// What the after-state shows (`-`: no driver, `missing`: no such function).
    pub found: String,
    /// Whether the prediction held.
    pub held: bool,
}

/// Checks every next-boot prediction of `before` that the function goes
/// to ppt against `after`: the function (same address, same IDs) must be
/// there and bound to ppt. `None` when `before` predicts nothing (a
/// format 1 snapshot, or no boot media recorded).
pub fn expect(before: &[FunctionRow], after: &[FunctionRow]) -> Option<Vec<Expectation>> {
    if before.iter().all(|f| f.next_boot_ppt.is_none()) {
        return None;
    }
    let now: BTreeMap<&str, &FunctionRow> = after.iter().map(|f| (f.address.as_str(), f)).collect();
    Some(
        before
            .iter()
            .filter(|f| f.next_boot_ppt == Some(true))
            .map(|f| {
                let found = match now.get(f.address.as_str()) {
                    None => "missing".to_string(),
                    Some(n) if (n.vendor, n.device) != (f.vendor, f.device) => {
                        format!("another device ({})", ids(n))
                    }
                    Some(n) => opt(n.driver.as_deref()),
                };
                Expectation {
                    address: f.address.clone(),
                    ids: ids(f),
                    expected: PPT.to_string(),
                    held: found == PPT,
                    found,
                }
            })
            .collect(),
    )
}
