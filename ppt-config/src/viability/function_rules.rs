//! The per-function rules: each reads [`FunctionFacts`] (and, for the
//! rules about neighbours, the [`FunctionContext`]) and returns findings.

use std::collections::{BTreeMap, BTreeSet};

use pci_core::{Address, HostFacts};
use pci_illumos::binding::PPT;

use super::facts::{BarKind, ConfigDepth, FunctionFacts};
use super::isolation::Groups;
use super::rules::{self, Rule};
use super::Reason;

/// bhyve's page size for BAR mapping (pci_passthru.c uses PAGE_SIZE, 4 KiB on x86).
pub(crate) const PAGE_SIZE: u64 = 4096;
/// A BAR at least this large is "large" (docs/viability.md, "Large BARs").
pub(crate) const LARGE_BAR_SIZE: u64 = 1 << 32;

/// The next boot's binding of a function, as pci-illumos predicts it (the
/// one model of the next boot; the rules read it as is).
pub use pci_illumos::binding::Prediction;

/// The driver after the next boot, in words.
pub(crate) fn driver_text(n: &Prediction) -> &str {
    match (n.driver_after(), n.known) {
        (Some(d), _) => d,
        (None, true) => "no driver",
        (None, false) => "a host driver other than ppt",
    }
}

/// What the per-function rules may look at besides the function itself.
#[derive(Debug, Clone, Copy)]
pub struct FunctionContext<'a> {
    /// Host facts (boot devices).
    pub host: &'a HostFacts,
    /// Every function's facts (siblings, group members).
    pub all: &'a [FunctionFacts],
    /// Where each address is in `all` ([`index`]): a host of thousands of
    /// functions is judged in linear, not quadratic, time.
    pub by_address: &'a BTreeMap<Address, usize>,
    /// Predicted Linux IOMMU groups.
    pub groups: &'a Groups,
    /// Functions meant for pass-through (selected, on ppt now or after the
    /// next boot, or named by a VM payload).
    pub planned: &'a BTreeSet<Address>,
    /// The next boot's driver per function, where predicted.
    pub next_boot: &'a BTreeMap<Address, Prediction>,
}

/// The position of each function of `all` by address, for
/// [`FunctionContext::by_address`].
pub fn index(all: &[FunctionFacts]) -> BTreeMap<Address, usize> {
    all.iter()
        .enumerate()
        .map(|(i, f)| (f.address, i))
        .collect()
}

impl FunctionContext<'_> {
    fn facts_of(&self, a: &Address) -> Option<&FunctionFacts> {
        self.by_address.get(a).and_then(|&i| self.all.get(i))
    }

    /// The other functions of `f`'s device, by function number.
    fn siblings<'s>(&'s self, f: &FunctionFacts) -> impl Iterator<Item = &'s FunctionFacts> + 's {
        let a = f.address;
        let first = Address { function: 0, ..a };
        let last = Address { function: 7, ..a };
        self.by_address
            .range(first..=last)
            .filter(move |(b, _)| **b != a)
            .filter_map(|(_, &i)| self.all.get(i))
    }

    /// `driver` now, plus after the next boot when that differs.
    fn driver_story(&self, f: &FunctionFacts) -> String {
        let now = f.driver.as_deref().unwrap_or("no driver");
        match self.next_boot.get(&f.address) {
            Some(n) if n.driver_after() != f.driver.as_deref() => {
                format!("{now} now, {} after the next boot", driver_text(n))
            }
            _ => now.to_string(),
        }
    }
}

/// Every per-function finding for `f`.
pub fn check(f: &FunctionFacts, ctx: &FunctionContext<'_>) -> Vec<Reason> {
    let mut out = Vec::new();
    identity_rules(f, ctx, &mut out);
    config_rules(f, &mut out);
    os_rules(f, ctx, &mut out);
    neighbour_rules(f, ctx, &mut out);
    out
}

fn push(out: &mut Vec<Reason>, rule: &Rule, message: String) {
    out.push(Reason::new(rule, message));
}

fn identity_rules(f: &FunctionFacts, ctx: &FunctionContext<'_>, out: &mut Vec<Reason>) {
    // rules::BRIDGE and rules::HOST_CRITICAL: the never-pass-through table
    // (pci_core::passthrough::never), which `reserve` refuses by as well.
    for n in f.never(&ctx.host.boot_devices) {
        push(out, rules::never_rule(&n), n.message(f.address));
    }
}

fn config_rules(f: &FunctionFacts, out: &mut Vec<Reason>) {
    match f.depth {
        ConfigDepth::Missing => {
            // Without config space only the BARs are known, and only when
            // the devinfo node has assigned-addresses.
            let what = if f.bars.is_empty() {
                "MSI/MSI-X, BAR alignment and reset"
            } else {
                "MSI/MSI-X and reset"
            };
            push(
                out,
                &rules::CONFIG_UNKNOWN,
                format!(
                    "the source has no config space for {}: {what} could not be checked",
                    f.address
                ),
            );
            bar_rules(f, out);
            return;
        }
        ConfigDepth::Header if f.cap_list != Some(false) => push(
            out,
            &rules::CONFIG_UNKNOWN,
            format!(
                "only the 64-byte header of {} is known: its capabilities (MSI/MSI-X, reset) could not be checked",
                f.address
            ),
        ),
        ConfigDepth::Header => {}
        ConfigDepth::Standard | ConfigDepth::Extended => {}
    }
    for e in &f.decode_errors {
        push(
            out,
            &rules::CONFIG_BROKEN,
            format!("config space of {}: {e}", f.address),
        );
    }
    interrupt_rules(f, out);
    bar_rules(f, out);
    reset_rules(f, out);
    // rules::SRIOV_PF_WITH_VFS (docs/viability.md, "SR-IOV").
    let num_vfs = f
        .sriov
        .map(|(_, n)| usize::from(n))
        .unwrap_or(0)
        .max(f.virtfns);
    if num_vfs > 0 {
        push(
            out,
            &rules::SRIOV_PF_WITH_VFS,
            format!(
                "{} is an SR-IOV physical function with {num_vfs} virtual function{} enabled",
                f.address,
                if num_vfs == 1 { "" } else { "s" }
            ),
        );
    }
    if let Some(pf) = f.physfn {
        push(
            out,
            &rules::SRIOV_VF,
            format!("{} is a virtual function of {pf}", f.address),
        );
    }
}

/// rules::NO_MSI (bhyve `pci_passthru.c` `cfginitmsi`): bhyve needs a capability list and MSI
/// or MSI-X; it never delivers INTx.
fn interrupt_rules(f: &FunctionFacts, out: &mut Vec<Reason>) {
    if !f.caps_known() {
        return;
    }
    if f.cap_list == Some(false) {
        push(
            out,
            &rules::NO_MSI,
            format!(
                "{} has no capability list at all: bhyve fails with \"failed to initialize MSI\"; only INTx, which bhyve does not deliver",
                f.address
            ),
        );
        return;
    }
    if f.msi == Some(false) && f.msix == Some(false) {
        push(
            out,
            &rules::NO_MSI,
            format!(
                "{} has neither MSI nor MSI-X: only INTx, which bhyve does not deliver",
                f.address
            ),
        );
    }
}

fn human_size(s: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (u, name) in UNITS {
        if s >= u && s & (u - 1) == 0 {
            return format!("{} {name}", s / u);
        }
    }
    format!("{s} bytes")
}

fn bar_rules(f: &FunctionFacts, out: &mut Vec<Reason>) {
    let mut unknown_size = Vec::new();
    for b in &f.bars {
        if b.kind == BarKind::Io {
            // rules::IO_BAR (`pci_passthru.c`: emulated via PPT_BAR_READ/WRITE).
            push(
                out,
                &rules::IO_BAR,
                format!(
                    "BAR {} of {} is an I/O port BAR at {:#x}: bhyve emulates every access",
                    b.index, f.address, b.base
                ),
            );
            continue;
        }
        // rules::BAR_NOT_PAGE_ALIGNED (pci_passthru.c `cfginitbar`).
        let misaligned_base = b.base != 0 && b.base % PAGE_SIZE != 0;
        let bad_size = b.size.is_some_and(|s| s % PAGE_SIZE != 0);
        if misaligned_base || bad_size {
            let size = b
                .size
                .map(|s| format!("size {}", human_size(s)))
                .unwrap_or_else(|| "size unknown".to_string());
            push(
                out,
                &rules::BAR_NOT_PAGE_ALIGNED,
                format!(
                    "memory BAR {} of {} (base {:#x}, {size}) is not 4 KiB aligned: bhyve says \"base or size not page aligned\"",
                    b.index, f.address, b.base
                ),
            );
        } else if b.base == 0 && b.size.is_some_and(|s| s > 0) {
            push(
                out,
                &rules::BAR_UNASSIGNED,
                format!(
                    "memory BAR {} of {} has no address assigned",
                    b.index, f.address
                ),
            );
        }
        if b.size.is_none() && !misaligned_base {
            unknown_size.push(b.index.to_string());
        }
        // rules::LARGE_BAR (docs/viability.md, "Large BARs").
        if let Some(s) = b.size.filter(|&s| s >= LARGE_BAR_SIZE) {
            push(
                out,
                &rules::LARGE_BAR,
                format!(
                    "memory BAR {} of {} is {}: the guest firmware must map it above 4 GiB",
                    b.index,
                    f.address,
                    human_size(s)
                ),
            );
        }
    }
    if !unknown_size.is_empty() {
        push(
            out,
            &rules::BAR_SIZE_UNKNOWN,
            format!(
                "the source has no size for memory BAR {} of {}: bhyve needs sizes that are multiples of 4 KiB",
                unknown_size.join(", "),
                f.address
            ),
        );
    }
    if f.rebar {
        push(
            out,
            &rules::LARGE_BAR,
            format!(
                "{} has Resizable BAR: the host firmware may give it a BAR larger than the guest can map",
                f.address
            ),
        );
    }
}

/// rules::NO_RESET (illumos-gate ppt.c `ppt_flr`: PCIe DevCap FLR only).
fn reset_rules(f: &FunctionFacts, out: &mut Vec<Reason>) {
    if !f.caps_known() {
        return;
    }
    if f.pcie.is_some_and(|p| p.flr) {
        return;
    }
    let why = if f.pcie.is_some() {
        "its PCIe capability does not advertise Function Level Reset (DevCap bit 28)"
    } else {
        "it has no PCIe capability, so no PCIe Function Level Reset"
    };
    push(
        out,
        &rules::NO_RESET,
        format!(
            "ppt cannot reset {}: {why}; ppt resets only with PCIe FLR",
            f.address
        ),
    );
    // rules::OTHER_RESET (docs/viability.md, "Reset").
    let mut other = Vec::new();
    if f.af_flr {
        other.push("FLR through the Advanced Features capability");
    }
    if f.pm_no_soft_reset == Some(false) {
        other.push("a PM reset (D3hot to D0, NoSoftRst clear)");
    }
    if !other.is_empty() {
        push(
            out,
            &rules::OTHER_RESET,
            format!(
                "{} supports {}, which Linux/VFIO would use but ppt does not",
                f.address,
                other.join(" and ")
            ),
        );
    }
}

fn os_rules(f: &FunctionFacts, ctx: &FunctionContext<'_>, out: &mut Vec<Reason>) {
    // rules::NO_ASSIGNED_ADDRESSES (ppt.c `ppt_bar_crawl`).
    if f.assigned_addresses == Some(false) {
        push(
            out,
            &rules::NO_ASSIGNED_ADDRESSES,
            format!(
                "{} has no assigned-addresses property: ppt attach fails with EIO",
                f.path.as_deref().unwrap_or("the node")
            ),
        );
    }
    // rules::CONSOLE_VGA (docs/viability.md, "The boot display").
    if f.boot_vga == Some(true) {
        push(
            out,
            &rules::CONSOLE_VGA,
            format!("{} is the boot display (boot_vga = 1)", f.address),
        );
    }
    if f.driver.as_deref() == Some(PPT) {
        push(
            out,
            &rules::PPT_NOW,
            format!("{} is bound to ppt now", f.address),
        );
    }
    if let Some(n) = ctx.next_boot.get(&f.address) {
        if n.driver_after() != f.driver.as_deref() || n.driver_after() == Some(PPT) {
            push(
                out,
                &rules::NEXT_BOOT,
                format!(
                    "after the next boot {} gets {} ({})",
                    f.address,
                    driver_text(n),
                    n.why()
                ),
            );
        }
    }
}

fn neighbour_rules(f: &FunctionFacts, ctx: &FunctionContext<'_>, out: &mut Vec<Reason>) {
    // rules::SIBLINGS_LEFT_BEHIND (docs/viability.md, "Multifunction devices").
    if ctx.planned.contains(&f.address) {
        let left: Vec<String> = ctx
            .siblings(f)
            .filter(|g| !ctx.planned.contains(&g.address))
            .map(|g| format!("{} ({})", g.address, ctx.driver_story(g)))
            .collect();
        // Never advise reserving a sibling the never-pass-through table
        // refuses (an ISA/LPC bridge next to a chipset's SMBus function).
        let stuck = ctx
            .siblings(f)
            .filter(|g| {
                !ctx.planned.contains(&g.address) && !g.never(&ctx.host.boot_devices).is_empty()
            })
            .count();
        if !left.is_empty() {
            let message = format!(
                "passing {} through leaves {} of the same device with the host",
                f.address,
                left.join(", ")
            );
            if stuck > 0 {
                out.push(Reason::with_hint(
                    &rules::SIBLINGS_LEFT_BEHIND,
                    message,
                    "some of them may never be passed through (bridge, host bridge, ISA/LPC or boot device), so the device can only be split; make sure the guest does not need them",
                ));
            } else {
                push(out, &rules::SIBLINGS_LEFT_BEHIND, message);
            }
        }
    }
    // rules::SHARED_ISOLATION (docs/viability.md, "Isolation"): other devices of the
    // predicted group; the device's own functions and bridges do not count
    // (Proxmox compares BB:DD and skips bridges).
    if let Some(members) = ctx.groups.members_of(&f.address) {
        let others: Vec<String> = members
            .iter()
            .filter(|m| !m.same_device(&f.address))
            .filter(|m| !ctx.facts_of(m).is_some_and(FunctionFacts::is_bridge))
            .map(|m| m.to_string())
            .collect();
        if !others.is_empty() {
            let shown = others
                .iter()
                .take(6)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if others.len() > 6 {
                format!(" and {} more", others.len() - 6)
            } else {
                String::new()
            };
            push(
                out,
                &rules::SHARED_ISOLATION,
                format!(
                    "ACS is missing upstream of {}: it is not isolated from {shown}{more}",
                    f.address
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "function_rules_tests.rs"]
mod tests;
