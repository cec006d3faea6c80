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

/// What became of one binding to ppt predicted before a reboot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Bound to ppt, under the same `/dev/pptN` (or none was known before).
    Held,
    /// No function at that devfs path or address any more.
    Missing,
    /// Bound to ppt, but under another `/dev/pptN`: a bhyve configuration
    /// naming the old node now opens another device, or none.
    Renumbered,
    /// Another vendor, device, subsystem or revision under the same path.
    IdentityChanged,
    /// A VM used it before the reboot; it is not on ppt after it.
    VmDeviceOffPpt,
    /// A driver other than ppt attached.
    HostDriver,
    /// No driver attached.
    Unbound,
}

impl Outcome {
    /// The kebab-case name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::Missing => "missing",
            Outcome::Renumbered => "renumbered",
            Outcome::IdentityChanged => "identity-changed",
            Outcome::VmDeviceOffPpt => "vm-device-off-ppt",
            Outcome::HostDriver => "host-driver",
            Outcome::Unbound => "unbound",
        }
    }

    /// What the outcome means, in words (docs/fleet.md's table).
    pub fn meaning(self) -> &'static str {
        match self {
            Outcome::Held => {
                "there, same identity, bound to ppt under the same /dev/pptN (or none was known before)"
            }
            Outcome::Missing => "no function at that devfs path (or address, without paths)",
            Outcome::Renumbered => {
                "on ppt under another /dev/pptN: a bhyve configuration naming the old node opens another device, or none"
            }
            Outcome::IdentityChanged => {
                "another vendor, device, subsystem or revision under the same path"
            }
            Outcome::VmDeviceOffPpt => "a VM used it before the reboot and it is not on ppt now",
            Outcome::HostDriver => "a driver other than ppt attached",
            Outcome::Unbound => "no driver attached",
        }
    }
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
    /// What became of it.
    pub outcome: Outcome,
    /// The illumos devfs path, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devfs_path: Option<String>,
}

/// The identity a function keeps across a reboot: vendor, device,
/// subsystem vendor, subsystem and revision. A part unknown on either
/// side (`None`) is not compared.
pub fn same_identity(a: &FunctionRow, b: &FunctionRow) -> bool {
    fn same<T: PartialEq>(x: Option<T>, y: Option<T>) -> bool {
        x.zip(y).is_none_or(|(x, y)| x == y)
    }
    (a.vendor, a.device) == (b.vendor, b.device)
        && same(a.subsystem_vendor, b.subsystem_vendor)
        && same(a.subsystem, b.subsystem)
        && same(a.revision, b.revision)
}

/// The full identity as text: `vvvv:dddd`, then `sub ssss:ssss` and
/// `rev rr` where known.
pub fn identity(f: &FunctionRow) -> String {
    let mut s = ids(f);
    if let (Some(v), Some(d)) = (f.subsystem_vendor, f.subsystem) {
        s.push_str(&format!(" sub {v:04x}:{d:04x}"));
    }
    if let Some(r) = f.revision {
        s.push_str(&format!(" rev {r:02x}"));
    }
    s
}

/// The functions of a snapshot by devfs path and by address: a function
/// is followed across snapshots by its devfs path where both record one
/// (bus numbers can change when hardware is added), else by address.
pub struct Matcher<'a> {
    by_path: BTreeMap<&'a str, &'a FunctionRow>,
    by_address: BTreeMap<&'a str, &'a FunctionRow>,
}

impl<'a> Matcher<'a> {
    /// Indexes `functions`.
    pub fn new(functions: &'a [FunctionRow]) -> Self {
        Matcher {
            by_path: functions
                .iter()
                .filter_map(|f| Some((f.devfs_path.as_deref()?, f)))
                .collect(),
            by_address: functions.iter().map(|f| (f.address.as_str(), f)).collect(),
        }
    }

    /// The function that `f` (of another snapshot) is now.
    pub fn find(&self, f: &FunctionRow) -> Option<&'a FunctionRow> {
        match f.devfs_path.as_deref() {
            Some(p) if !self.by_path.is_empty() => self.by_path.get(p).copied(),
            _ => self.by_address.get(f.address.as_str()).copied(),
        }
    }
}

/// What became of `before`, predicted to be bound to ppt, given what
/// the after-state holds there; and what was found, as text.
fn judge(before: &FunctionRow, after: Option<&FunctionRow>) -> (Outcome, String) {
    let Some(n) = after else {
        return (Outcome::Missing, "missing".to_string());
    };
    if !same_identity(before, n) {
        return (
            Outcome::IdentityChanged,
            format!("another device ({})", identity(n)),
        );
    }
    let found = opt(n.driver.as_deref());
    if n.driver.as_deref() == Some(PPT) {
        return match (&before.ppt_dev, &n.ppt_dev) {
            (Some(was), Some(now)) if was != now => {
                (Outcome::Renumbered, format!("{PPT} as {now} (was {was})"))
            }
            _ => (Outcome::Held, found),
        };
    }
    let outcome = if before.in_vm == Some(true) {
        Outcome::VmDeviceOffPpt
    } else if n.driver.is_some() {
        Outcome::HostDriver
    } else {
        Outcome::Unbound
    };
    (outcome, found)
}

/// Checks every next-boot prediction of `before` that the function goes
/// to ppt against `after`: the function (followed by devfs path, else
/// address) must be there with the same identity, bound to ppt under the
/// same `/dev/pptN` when one was known. `None` when `before` predicts
/// nothing (a format 1 snapshot, or no boot media recorded). The one
/// comparison behind `pptctl diff --expect` and `pptctl fleet verify`.
pub fn expect(before: &[FunctionRow], after: &[FunctionRow]) -> Option<Vec<Expectation>> {
    if before.iter().all(|f| f.next_boot_ppt.is_none()) {
        return None;
    }
    let now = Matcher::new(after);
    Some(
        before
            .iter()
            .filter(|f| f.next_boot_ppt == Some(true))
            .map(|f| {
                let (outcome, found) = judge(f, now.find(f));
                Expectation {
                    address: f.address.clone(),
                    ids: ids(f),
                    expected: PPT.to_string(),
                    held: outcome == Outcome::Held,
                    found,
                    outcome,
                    devfs_path: f.devfs_path.clone(),
                }
            })
            .collect(),
    )
}
