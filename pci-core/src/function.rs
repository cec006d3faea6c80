//! The per-function model every source produces: identity, raw config
//! space and the facts the operating system adds (driver, IOMMU group, BAR
//! sizes, illumos devinfo facts).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::address::Address;

/// The identity registers of a function.
///
/// Sources with config space read them from bytes 0x00..0x30; the illumos
/// devinfo source reads them from the node's `vendor-id`, `device-id`, ...
/// properties, so they are kept apart from [`Function::config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Vendor ID (config offset 0x00).
    pub vendor: u16,
    /// Device ID (0x02).
    pub device: u16,
    /// Subsystem vendor ID (0x2c for header type 0, 0x40 of the SSVID
    /// capability for bridges); `None` when the source does not know it.
    pub subsystem_vendor: Option<u16>,
    /// Subsystem ID.
    pub subsystem: Option<u16>,
    /// 24-bit class code: base class, sub class, programming interface.
    pub class: u32,
    /// Revision ID (0x08).
    pub revision: u8,
    /// Header type register (0x0e) including the multifunction bit 7, when known.
    pub header_type: Option<u8>,
}

/// Where an illumos devfs path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathSource {
    /// Read from a devinfo tree (live or snapshot): the truth.
    Devinfo,
    /// Computed from topology with the x86 naming rules; root complexes
    /// other than `pci@0,0` cannot be predicted (they come from firmware).
    Predicted,
}

impl PathSource {
    /// The name in documents and output (`devinfo`, `predicted`), as
    /// serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PathSource::Devinfo => "devinfo",
            PathSource::Predicted => "predicted",
        }
    }

    /// The source [`as_str`](Self::as_str) names; `None` for another word.
    pub fn from_name(name: &str) -> Option<PathSource> {
        [PathSource::Devinfo, PathSource::Predicted]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A devinfo property value, typed as the devinfo snapshot types it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropValue {
    /// A property with no value (presence is the value).
    Boolean,
    /// 32-bit integer cells.
    Ints(Vec<i32>),
    /// 64-bit integers.
    Int64s(Vec<i64>),
    /// A list of strings.
    Strings(Vec<String>),
    /// Raw bytes (also untyped properties).
    Bytes(Vec<u8>),
}

/// What the illumos device tree says (or is predicted to say) about a node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IllumosNode {
    /// devfs path without `/devices` and without a minor, e.g.
    /// `/pci@0,0/pci8086,151@1/display@0`, with every level's unit
    /// address filled in: the path the kernel matches path-oriented
    /// aliases against once the parent nexus has named the node, and the
    /// path the node has once it is initialised.
    pub path: String,
    /// The devfs path as `di_devfs_path()` (libppt, `/devices`) shows it
    /// now, when it differs from [`IllumosNode::path`]: a node that never
    /// reached DS_INITIALIZED has no address yet, so its last component is
    /// the bare node name. `None` when the two agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devfs_path: Option<String>,
    /// Position in the devinfo walk libppt makes (`di_walk_node` with
    /// DI_WALK_CLDFIRST: a node, then its children, then its siblings);
    /// `None` for predicted nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_index: Option<u32>,
    /// The DDI node state (`ddi_node_state_t` in illumos
    /// `sys/ddi_impldefs.h`: 1 linked, 2 bound, 3 initialised, 4 probed,
    /// 5 attached, 6 ready), when a devinfo tree told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_state: Option<i32>,
    /// Whether `path` is real or predicted; `None` only for placeholder nodes.
    pub path_source: Option<PathSource>,
    /// Node name (the part before `@`).
    pub node_name: String,
    /// Unit address (the part after `@`), if the node has one.
    pub unit_address: Option<String>,
    /// Bound driver name, if any.
    pub driver: Option<String>,
    /// Driver instance number, if assigned.
    pub instance: Option<i32>,
    /// The `compatible` entry the driver was bound by.
    pub binding_name: Option<String>,
    /// The `compatible` list, most specific first.
    pub compatible: Vec<String>,
    /// `device_type` property of the parent node (`pci`, `pciex`); libppt only
    /// lists children of such nodes.
    pub parent_device_type: Option<String>,
    /// `device_type` property of this node, if any.
    pub device_type: Option<String>,
    /// Properties by name, first match in libdevinfo's drv, sys, global, hw order.
    pub props: BTreeMap<String, PropValue>,
    /// Minor node names (`ppt`, `devctl`, `reg`, ...).
    pub minors: Vec<String>,
}

/// DDI node state DS_INITIALIZED: the parent nexus has named the node
/// (`sys/ddi_impldefs.h`).
pub(crate) const DS_INITIALIZED: i32 = 3;

impl IllumosNode {
    /// Whether a devinfo tree (live, cached, or recorded in a snapshot)
    /// described this node, rather than predicted by node naming.
    pub fn is_from_devinfo(&self) -> bool {
        self.path_source == Some(PathSource::Devinfo)
    }

    /// Whether pptctl predicted this node's path from the PCI topology
    /// (no devinfo tree described it). A node of unknown origin (an older
    /// snapshot) is neither predicted nor [from devinfo](Self::is_from_devinfo).
    pub fn is_predicted(&self) -> bool {
        self.path_source == Some(PathSource::Predicted)
    }

    /// The path `di_devfs_path()` gives now (what libppt lists and
    /// `ppt_matches` path rules are compared with).
    pub fn current_path(&self) -> &str {
        self.devfs_path.as_deref().unwrap_or(&self.path)
    }

    /// Whether the node never reached DS_INITIALIZED: its devfs path has
    /// no unit address yet. `false` when no devinfo tree told the state.
    pub fn uninitialized(&self) -> bool {
        self.node_state.is_some_and(|s| s < DS_INITIALIZED)
    }
}

/// A BAR as the operating system reports it (Linux `resource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsBar {
    /// Start address (I/O port or memory).
    pub start: u64,
    /// An I/O port range (else memory).
    pub io: bool,
    /// A 64-bit memory BAR.
    pub mem64: bool,
    /// Prefetchable memory.
    pub prefetchable: bool,
}

fn no_os_bars(bars: &[Option<OsBar>; 6]) -> bool {
    bars.iter().all(Option::is_none)
}

/// One PCI function as a source saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// `domain:bus:device.function`.
    pub address: Address,
    /// Identity registers.
    pub ids: Identity,
    /// Raw configuration space: 64, 256 or 4096 bytes; empty when the source
    /// has none (a devinfo snapshot without `--cfgspace`).
    #[serde(with = "crate::hexbytes")]
    pub config: Vec<u8>,
    /// Sizes of BARs 0..=5 when the source knows them (Linux `resource`,
    /// illumos `assigned-addresses`); a dump knows none.
    pub bar_sizes: [Option<u64>; 6],
    /// BARs 0..=5 as the OS reports them (Linux `resource` start and
    /// flags), kept for BARs whose config register reads zero although the
    /// OS assigned them: an SR-IOV VF's BARs (the PF's SR-IOV capability
    /// places them) and an IDE controller's legacy ports.
    #[serde(default, skip_serializing_if = "no_os_bars")]
    pub bar_os: [Option<OsBar>; 6],
    /// Size of the expansion ROM BAR when known.
    pub rom_size: Option<u64>,
    /// Driver bound now, as the operating system reports it.
    pub driver: Option<String>,
    /// Linux IOMMU group number.
    pub iommu_group: Option<u32>,
    /// SR-IOV: the physical function of this virtual function.
    pub physfn: Option<Address>,
    /// SR-IOV: the virtual functions of this physical function.
    pub virtfns: Vec<Address>,
    /// Linux `boot_vga`: the firmware's boot display device.
    pub boot_vga: Option<bool>,
    /// Linux `numa_node`: the NUMA node the device is attached to (`None`:
    /// not recorded, or the kernel says -1, no node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numa_node: Option<u32>,
    /// illumos devinfo facts (real or predicted).
    pub illumos: Option<IllumosNode>,
}

impl Function {
    /// A function with identity and config bytes and no OS facts.
    pub fn new(address: Address, ids: Identity, config: Vec<u8>) -> Self {
        Function {
            address,
            ids,
            config,
            bar_sizes: [None; 6],
            bar_os: [None; 6],
            rom_size: None,
            driver: None,
            iommu_group: None,
            physfn: None,
            virtfns: Vec::new(),
            boot_vga: None,
            numa_node: None,
            illumos: None,
        }
    }

    /// `vvvv:dddd`, lower-case, as lspci prints IDs.
    pub fn ids_string(&self) -> String {
        format!("{:04x}:{:04x}", self.ids.vendor, self.ids.device)
    }

    /// The driver bound now: the OS's answer, else the devinfo node's.
    pub fn driver_now(&self) -> Option<&str> {
        self.driver
            .as_deref()
            .or_else(|| self.illumos.as_ref().and_then(|n| n.driver.as_deref()))
    }

    /// The function's node when a devinfo tree described it; `None` when
    /// it has no node or only a predicted one.
    pub fn devinfo_node(&self) -> Option<&IllumosNode> {
        self.illumos.as_ref().filter(|n| n.is_from_devinfo())
    }

    /// Whether a devinfo tree described this function (see
    /// [`IllumosNode::is_from_devinfo`]).
    pub fn has_devinfo_node(&self) -> bool {
        self.devinfo_node().is_some()
    }

    /// The illumos devfs path (no `/devices`, no minor), when known.
    pub fn devfs_path(&self) -> Option<&str> {
        self.illumos
            .as_ref()
            .map(|n| n.path.as_str())
            .filter(|p| !p.is_empty())
    }

    /// The devinfo `assigned-addresses` property (the BARs the OS
    /// assigned), when the function has a devinfo node that has it.
    pub fn assigned_addresses(&self) -> Option<&PropValue> {
        self.illumos
            .as_ref()
            .and_then(|n| n.props.get("assigned-addresses"))
    }

    /// Header layout (header type & 0x7f), from the identity or the config bytes.
    pub fn header_layout(&self) -> Option<u8> {
        self.ids
            .header_type
            .or_else(|| self.config.get(0x0e).copied())
            .map(|h| h & 0x7f)
    }

    /// Whether the function is PCI Express: its devinfo `compatible` list
    /// has `pciex` entries (illumos gives PCIe functions both sets), else
    /// its config space has a PCI Express capability.
    pub fn is_pcie(&self) -> bool {
        if let Some(n) = &self.illumos {
            if !n.compatible.is_empty() {
                return n.compatible.iter().any(|c| c.starts_with("pciex"));
            }
        }
        self.config.len() >= 64
            && crate::config::ConfigSpace::new(&self.config)
                .find_capability(crate::caps::id::PCIE)
                .is_some()
    }

    /// Forwards a bus (header layout 1 or 2); see [`crate::passthrough::is_bridge`].
    pub fn is_bridge(&self) -> bool {
        crate::passthrough::is_bridge(self.ids.class, self.header_layout())
    }

    /// The bus number below a bridge ([`Self::is_bridge`]): config offset
    /// 0x19, the secondary bus of a PCI-to-PCI bridge (PCI-to-PCI Bridge
    /// spec 1.2 §3.2.5.4) and the CardBus bus of a CardBus bridge. `None`
    /// for other functions or when the header was not read.
    pub fn secondary_bus(&self) -> Option<u8> {
        self.is_bridge()
            .then(|| self.config.get(0x19).copied())
            .flatten()
    }

    /// Class code base 0x06; see [`crate::passthrough::is_bridge_class`].
    pub fn is_bridge_class(&self) -> bool {
        crate::passthrough::is_bridge_class(self.ids.class)
    }

    /// Host infrastructure; see [`crate::passthrough::is_infrastructure`].
    pub fn is_infrastructure(&self) -> bool {
        crate::passthrough::is_infrastructure(self.ids.class, self.header_layout())
    }

    /// The table of [`crate::passthrough::never`] for this function.
    pub fn never_pass_through(&self, boot_devices: &[String]) -> Vec<crate::passthrough::Never> {
        crate::passthrough::never(
            &crate::passthrough::Candidate {
                address: self.address,
                class: self.ids.class,
                header_layout: self.header_layout(),
                path: self.devfs_path(),
            },
            boot_devices,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(header: u8, class: u32) -> Function {
        let mut config = vec![0u8; 64];
        config[0x0e] = header;
        config[0x19] = 5;
        let ids = Identity {
            vendor: 0x8086,
            device: 0x1234,
            subsystem_vendor: None,
            subsystem: None,
            class,
            revision: 0,
            header_type: Some(header),
        };
        Function::new("0000:00:01.0".parse().unwrap(), ids, config)
    }

    #[test]
    fn path_source_names_are_serdes() {
        for s in [PathSource::Devinfo, PathSource::Predicted] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(PathSource::from_name(s.as_str()), Some(s));
        }
        assert_eq!(PathSource::from_name("guessed"), None);
    }

    #[test]
    fn secondary_bus_only_below_bridges() {
        // PCI-to-PCI bridge (header 1) and CardBus bridge (header 2), the
        // multi-function bit set on the first: both name the bus below.
        assert_eq!(with_header(0x81, 0x060400).secondary_bus(), Some(5));
        assert_eq!(with_header(0x02, 0x060700).secondary_bus(), Some(5));
        // An endpoint's byte 0x19 is part of a BAR, not a bus number.
        assert_eq!(with_header(0x00, 0x020000).secondary_bus(), None);
        // No config space read: nothing to tell.
        let mut bare = with_header(0x01, 0x060400);
        bare.config.clear();
        assert_eq!(bare.secondary_bus(), None);
    }
}
