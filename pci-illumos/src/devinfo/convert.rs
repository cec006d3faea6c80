//! From a devinfo tree to the `pci_core` model.
//!
//! A node is a PCI function when libppt's `is_pci` holds (its parent's
//! `device_type` is `pci` or `pciex`, docs/illumos.md) or, as pcieadm
//! decides, its `compatible` list has a `pciclass,`/`pciexclass,` entry
//! (docs/illumos.md); it must also carry a `reg` property, whose
//! first cell (PCI phys.hi) gives bus, device and function.

use std::collections::{BTreeMap, HashSet};

use pci_core::{Address, Diagnostic, Function, Host, Identity, IllumosNode, PathSource, PropValue};

use super::{Node, PropData, Snapshot};

/// Bus, device and function from the first `reg` cell (PCI phys.hi:
/// bus bits 23..16, device 15..11, function 10..8), domain 0.
pub fn reg_address(phys_hi: u32) -> Address {
    Address {
        domain: 0,
        bus: ((phys_hi >> 16) & 0xff) as u8,
        device: ((phys_hi >> 11) & 0x1f) as u8,
        function: ((phys_hi >> 8) & 0x7) as u8,
    }
}

fn is_pci_parent(n: &Node) -> bool {
    matches!(
        n.string("device_type").as_deref(),
        Some("pci") | Some("pciex")
    )
}

/// Whether node `idx` is a PCI function (see the module docs).
pub(crate) fn is_function(snap: &Snapshot, idx: usize) -> bool {
    let Some(n) = snap.nodes.get(idx) else {
        return false;
    };
    let parent_pci = n
        .parent
        .and_then(|p| snap.nodes.get(p))
        .is_some_and(is_pci_parent);
    let class_compat = n
        .compatible
        .iter()
        .any(|c| c.starts_with("pciclass,") || c.starts_with("pciexclass,"));
    (parent_pci || class_compat) && n.ints("reg").is_some_and(|r| !r.is_empty())
}

/// The `pci_core` view of node `idx`.
pub(crate) fn illumos_node(snap: &Snapshot, idx: usize) -> IllumosNode {
    let n = &snap.nodes[idx];
    // One value per name: the first defined entry in lookup order.
    // Undefined entries are skipped, as libdevinfo's lookups skip them.
    let mut props = BTreeMap::new();
    for p in &n.props {
        if props.contains_key(&p.name) {
            continue;
        }
        let v = match &p.value {
            PropData::Undefined => continue,
            PropData::Boolean => PropValue::Boolean,
            PropData::Ints(v) => PropValue::Ints(v.clone()),
            PropData::Int64s(v) => PropValue::Int64s(v.clone()),
            PropData::Strings(v) => PropValue::Strings(v.clone()),
            PropData::Bytes(v) => PropValue::Bytes(v.clone()),
        };
        props.insert(p.name.clone(), v);
    }
    let path = snap.path_ua(idx);
    let devfs = snap.devfs_path(idx);
    IllumosNode {
        devfs_path: (devfs != path).then_some(devfs),
        // Snapshot order is the children-first walk (see `Snapshot::nodes`).
        walk_index: u32::try_from(idx).ok(),
        node_state: Some(n.node_state),
        path,
        path_source: Some(PathSource::Devinfo),
        node_name: n.name.clone(),
        unit_address: n.unit_address(),
        driver: n.driver.clone(),
        instance: n.instance,
        binding_name: n.bind_name.clone(),
        compatible: n.compatible.clone(),
        parent_device_type: n
            .parent
            .and_then(|p| snap.nodes.get(p))
            .and_then(|p| p.string("device_type")),
        device_type: n.string("device_type"),
        props,
        minors: n.minors.iter().map(|m| m.name.clone()).collect(),
    }
}

/// BAR and ROM sizes from `assigned-addresses` (what the OS assigned),
/// filled in from `reg` (what the BARs decode) where the former is silent
/// (both decoded by [`crate::pci_reg`]).
fn bar_sizes(n: &Node, bridge: bool) -> ([Option<u64>; 6], Option<u64>) {
    let mut bars = [None; 6];
    let mut rom = None;
    let rom_reg = if bridge { 0x38 } else { 0x30 };
    for name in ["assigned-addresses", "reg"] {
        let Some(cells) = n.ints(name) else { continue };
        for e in crate::pci_reg::decode(&cells).filter(|e| e.size != 0) {
            if let Some(i) = e.bar_index() {
                bars[usize::from(i)].get_or_insert(e.size);
            } else if e.register == rom_reg {
                rom.get_or_insert(e.size);
            }
        }
    }
    (bars, rom)
}

/// Converts a snapshot to a [`Host`]: one [`Function`] per PCI function
/// node (sorted by address), root complexes and other PCI nexus nodes that
/// are not functions in [`Host::nexus`]. Nodes that lack identity
/// properties become warnings naming `file`.
pub fn to_host(snap: &Snapshot, file: &str) -> Host {
    let mut host = Host::default();
    host.facts.os = Some("illumos".to_string());
    let mut seen = HashSet::new();
    for idx in 0..snap.nodes.len() {
        let n = &snap.nodes[idx];
        if !is_function(snap, idx) {
            if is_pci_parent(n) && n.parent.is_some() {
                host.nexus.push(illumos_node(snap, idx));
            }
            continue;
        }
        let path = snap.path_ua(idx);
        let reg0 = n.int("reg").unwrap_or(0) as u32;
        let address = reg_address(reg0);
        let (Some(vendor), Some(device)) = (n.int("vendor-id"), n.int("device-id")) else {
            host.warnings.push(Diagnostic::at(
                file,
                None,
                format!("{path}: PCI node without vendor-id/device-id, skipped"),
            ));
            continue;
        };
        if !seen.insert(address) {
            host.warnings.push(Diagnostic::at(
                file,
                None,
                format!("{path}: reg says {address}, already used by another node; skipped"),
            ));
            continue;
        }
        let class = n.int("class-code").unwrap_or(0) as u32 & 0xff_ffff;
        let ids = Identity {
            vendor: vendor as u16,
            device: device as u16,
            subsystem_vendor: n.int("subsystem-vendor-id").map(|v| v as u16),
            subsystem: n.int("subsystem-id").map(|v| v as u16),
            class,
            revision: n.int("revision-id").unwrap_or(0) as u8,
            header_type: None,
        };
        let mut f = Function::new(address, ids, Vec::new());
        // Without config space pci-core tells a bridge by its class code;
        // its expansion ROM register is at 0x38, not 0x30.
        let (bars, rom) = bar_sizes(n, f.is_bridge());
        f.bar_sizes = bars;
        f.rom_size = rom;
        f.driver = n.driver.clone();
        f.illumos = Some(illumos_node(snap, idx));
        host.functions.push(f);
    }
    host.functions.sort_by_key(|f| f.address);
    host
}
