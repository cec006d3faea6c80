//! Config-space facts for the rules, read through pci-core's decoders
//! (`ConfigSpace`, BARs, capability chains); nothing here decodes bytes
//! itself.

use pci_core::caps::{id, DevCap};
use pci_core::config::Status;
use pci_core::Function;

use super::facts::{AcsFacts, BarFact, ConfigDepth, FunctionFacts, PcieFacts};

/// Fills the config-derived facts of `facts` from `f.config`.
pub fn fill(facts: &mut FunctionFacts, f: &Function) {
    if facts.depth == ConfigDepth::Missing {
        return;
    }
    let cfg = f.config_space();
    // Identity comes from the source (the kernel may fix a class code);
    // config space fills only what the source left out.
    if facts.header_layout.is_none() {
        if let Some(h) = cfg.header_type_raw() {
            facts.header_layout = Some(h & 0x7f);
            facts.multifunction = Some(h & 0x80 != 0);
        }
    }
    for bar in f.bars() {
        match bar {
            Ok(b) => facts.bars.push(BarFact {
                index: b.index,
                kind: b.kind,
                prefetchable: b.prefetchable,
                base: b.address,
                size: b.size,
            }),
            Err(e) => facts.decode_errors.push(e.to_string()),
        }
    }
    facts.bridge_buses = cfg.bridge().map(|b| (b.secondary_bus, b.subordinate_bus));
    // Status bit 4 is in the 64-byte header: when it is clear the function
    // has no capabilities at all, which even an `lspci -x` dump proves.
    facts.cap_list = cfg.status().map(|s| s.contains(Status::CAP_LIST));
    if facts.cap_list == Some(false) {
        facts.msi = Some(false);
        facts.msix = Some(false);
        return;
    }
    if !facts.depth.has_caps() || facts.cap_list != Some(true) {
        return;
    }
    for e in cfg.capabilities().filter_map(Result::err) {
        facts.decode_errors.push(e.to_string());
    }
    facts.msi = Some(cfg.find_capability(id::MSI).is_some());
    facts.msix = Some(cfg.find_capability(id::MSIX).is_some());
    facts.pcie = cfg.pci_express().map(|p| PcieFacts {
        port_type: p.port_type,
        flr: p.devcap.contains(DevCap::FLR),
    });
    facts.af_flr = cfg.advanced_features().is_some_and(|a| a.flr());
    facts.pm_no_soft_reset = cfg.power_management().map(|p| p.no_soft_reset);
    if !facts.depth.has_ext_caps() {
        return;
    }
    for e in cfg.extended_capabilities().filter_map(Result::err) {
        facts.decode_errors.push(e.to_string());
    }
    facts.acs = cfg.acs().map(|a| AcsFacts {
        cap: a.capability.bits(),
        ctrl: a.control.bits(),
    });
    facts.sriov = cfg.sriov().map(|s| (s.total_vfs, s.num_vfs));
    facts.rebar = cfg.resizable_bar().is_some();
}
