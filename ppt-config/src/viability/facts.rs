//! The facts the rules read, extracted once per function.
//!
//! Rules never touch config bytes: config space is decoded by pci-core's
//! decoders (header, BARs, capability chains) in [`FunctionFacts::extract`],
//! and OS facts (BAR sizes, driver, devinfo properties, `boot_vga`) come
//! from the [`Function`] model. Every fact the source could not provide is
//! `None` (unknown), never guessed.

use pci_core::caps::PciePortType;
pub use pci_core::config::BarKind;
use pci_core::passthrough;
use pci_core::{Address, Function, PropValue};

/// How much config space the source gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigDepth {
    /// None at all (a devinfo snapshot without `--cfgspace`).
    Missing,
    /// The 64-byte header only (`lspci -x` as non-root): capabilities unknown.
    Header,
    /// 256 bytes: standard capabilities known, extended ones unknown.
    Standard,
    /// 4096 bytes: everything.
    Extended,
}

impl ConfigDepth {
    /// The depth of `len` bytes of config space.
    pub(crate) fn of_len(len: usize) -> ConfigDepth {
        match len {
            0..=63 => ConfigDepth::Missing,
            64..=255 => ConfigDepth::Header,
            256..=4095 => ConfigDepth::Standard,
            _ => ConfigDepth::Extended,
        }
    }

    /// Whether the standard capability list (0x40–0xff) could be read.
    pub fn has_caps(self) -> bool {
        matches!(self, ConfigDepth::Standard | ConfigDepth::Extended)
    }

    /// Whether extended capabilities (0x100–0xfff) could be read.
    pub(crate) fn has_ext_caps(self) -> bool {
        self == ConfigDepth::Extended
    }
}

/// One implemented BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarFact {
    /// BAR index 0..=5 (the lower register of a 64-bit BAR).
    pub index: u8,
    /// Memory or I/O, 32 or 64 bit.
    pub kind: BarKind,
    /// Prefetchable memory.
    pub prefetchable: bool,
    /// Base address as programmed.
    pub base: u64,
    /// Size, when the source knows it.
    pub size: Option<u64>,
}

/// The PCI Express capability facts the rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcieFacts {
    /// Device/port type (PCIe Capabilities register bits 7:4).
    pub port_type: PciePortType,
    /// Device Capabilities bit 28, Function Level Reset.
    pub flr: bool,
}

/// ACS capability and control registers (extended capability 0x000d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcsFacts {
    /// ACS Capability register (offset 4).
    pub cap: u16,
    /// ACS Control register (offset 6).
    pub ctrl: u16,
}

/// What the rules know about one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionFacts {
    /// The function.
    pub address: Address,
    /// 24-bit class code.
    pub class: u32,
    /// Header layout (0 endpoint, 1 PCI bridge, 2 CardBus), when known.
    pub header_layout: Option<u8>,
    /// Header type bit 7, when known.
    pub multifunction: Option<bool>,
    /// How much config space there is.
    pub depth: ConfigDepth,
    /// Status bit 4: the function has a capability list (None without config).
    pub cap_list: Option<bool>,
    /// MSI capability present (None when capabilities are unknown).
    pub msi: Option<bool>,
    /// MSI-X capability present (None when capabilities are unknown).
    pub msix: Option<bool>,
    /// PCIe capability facts; `None` either when there is none or when
    /// capabilities are unknown (see `depth`).
    pub pcie: Option<PcieFacts>,
    /// Advanced Features capability with FLR.
    pub af_flr: bool,
    /// PM capability present: `Some(no_soft_reset)`.
    pub pm_no_soft_reset: Option<bool>,
    /// ACS (None when absent or extended capabilities unknown).
    pub acs: Option<AcsFacts>,
    /// SR-IOV: (TotalVFs, NumVFs), when the capability is present.
    pub sriov: Option<(u16, u16)>,
    /// Resizable BAR capability present.
    pub rebar: bool,
    /// Implemented BARs.
    pub bars: Vec<BarFact>,
    /// Bridges: secondary and subordinate bus numbers.
    pub bridge_buses: Option<(u8, u8)>,
    /// Problems met while decoding BARs and capability chains.
    pub decode_errors: Vec<String>,
    /// Driver bound now (OS driver or devinfo driver).
    pub driver: Option<String>,
    /// illumos devfs path, when known.
    pub path: Option<String>,
    /// Whether `path` was read from a devinfo tree (not predicted).
    pub path_from_devinfo: bool,
    /// Devinfo node has `assigned-addresses` (None when no devinfo node).
    pub assigned_addresses: Option<bool>,
    /// Linux `boot_vga`.
    pub boot_vga: Option<bool>,
    /// SR-IOV: this is a VF of that PF.
    pub physfn: Option<Address>,
    /// SR-IOV: number of VF links (Linux virtfnN).
    pub virtfns: usize,
}

impl FunctionFacts {
    /// Facts with only identity known; the base both [`Self::extract`] and
    /// tests build on.
    pub fn bare(address: Address, class: u32, header_type: Option<u8>) -> FunctionFacts {
        FunctionFacts {
            address,
            class,
            header_layout: header_type.map(|h| h & 0x7f),
            multifunction: header_type.map(|h| h & 0x80 != 0),
            depth: ConfigDepth::Missing,
            cap_list: None,
            msi: None,
            msix: None,
            pcie: None,
            af_flr: false,
            pm_no_soft_reset: None,
            acs: None,
            sriov: None,
            rebar: false,
            bars: Vec::new(),
            bridge_buses: None,
            decode_errors: Vec::new(),
            driver: None,
            path: None,
            path_from_devinfo: false,
            assigned_addresses: None,
            boot_vga: None,
            physfn: None,
            virtfns: 0,
        }
    }

    /// Everything the rules read about `f`.
    pub fn extract(f: &Function) -> FunctionFacts {
        let mut facts = FunctionFacts::bare(f.address, f.ids.class, f.ids.header_type);
        facts.depth = ConfigDepth::of_len(f.config.len());
        super::facts_config::fill(&mut facts, f);
        let node = f.illumos.as_ref();
        facts.driver = f.driver_now().map(str::to_string);
        facts.path = f.devfs_path().map(str::to_string);
        facts.path_from_devinfo = f.has_devinfo_node();
        if facts.path_from_devinfo {
            facts.assigned_addresses = node.map(|_| {
                f.assigned_addresses().is_some_and(|v| match v {
                    PropValue::Ints(c) => !c.is_empty(),
                    PropValue::Int64s(c) => !c.is_empty(),
                    PropValue::Bytes(b) => !b.is_empty(),
                    PropValue::Boolean | PropValue::Strings(_) => false,
                })
            });
        }
        if facts.depth == ConfigDepth::Missing {
            if let Some(PropValue::Ints(cells)) = f.assigned_addresses() {
                facts.bars = bars_from_assigned_addresses(cells);
            }
        }
        facts.boot_vga = f.boot_vga;
        facts.physfn = f.physfn;
        facts.virtfns = f.virtfns.len();
        facts
    }

    /// Forwards a bus: [`passthrough::is_bridge`], the one definition.
    pub fn is_bridge(&self) -> bool {
        passthrough::is_bridge(self.class, self.header_layout)
    }

    /// Host infrastructure: [`passthrough::is_infrastructure`].
    pub fn is_infrastructure(&self) -> bool {
        passthrough::is_infrastructure(self.class, self.header_layout)
    }

    /// The never-pass-through table ([`passthrough::never`]) for this function.
    pub fn never(&self, boot_devices: &[String]) -> Vec<passthrough::Never> {
        passthrough::never(
            &passthrough::Candidate {
                address: self.address,
                class: self.class,
                header_layout: self.header_layout,
                path: self.path.as_deref(),
            },
            boot_devices,
        )
    }

    /// Whether the capability facts (MSI, MSI-X, PCIe, PM, AF) are known:
    /// the standard capability area was read, or Status says there is no
    /// capability list at all.
    pub(crate) fn caps_known(&self) -> bool {
        self.depth.has_caps() || self.cap_list == Some(false)
    }
}

/// BARs from an illumos `assigned-addresses` property when there is no
/// config space (entries decoded by `pci_illumos::pci_reg`). This is what ppt's
/// `ppt_bar_crawl` records (illumos-gate `ppt.c`), so bhyve's alignment gate can
/// be checked from a devinfo snapshot alone.
pub(crate) fn bars_from_assigned_addresses(cells: &[i32]) -> Vec<BarFact> {
    let mut out: Vec<BarFact> = Vec::new();
    for e in pci_illumos::pci_reg::decode(cells) {
        let (Some(index), Some(kind)) = (e.bar_index(), e.bar_kind()) else {
            continue;
        };
        if out.iter().any(|b| b.index == index) {
            continue;
        }
        out.push(BarFact {
            index,
            kind,
            prefetchable: e.prefetchable,
            base: e.address,
            size: (e.size != 0).then_some(e.size),
        });
    }
    out.sort_by_key(|b| b.index);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_addresses_give_bars() {
        // BAR 0 mem32 16 MiB, BAR 1 mem64 prefetchable 256 MiB, BAR 5 I/O
        // 128 bytes, an expansion ROM entry (0x30, ignored), bad space code.
        let cells: Vec<i32> = vec![
            0x8201_0010u32 as i32,
            0,
            0xf600_0000u32 as i32,
            0,
            0x0100_0000,
            0xc301_0014u32 as i32,
            0,
            0xe000_0000u32 as i32,
            0,
            0x1000_0000,
            0x8101_0024u32 as i32,
            0,
            0xe000,
            0,
            0x80,
            0x8201_0030u32 as i32,
            0,
            0xf700_0000u32 as i32,
            0,
            0x8_0000,
            0x0001_0018,
            0,
            0,
            0,
            0x10,
            7,
            8,
        ];
        let bars = bars_from_assigned_addresses(&cells);
        assert_eq!(bars.len(), 3);
        assert_eq!(
            (bars[0].index, bars[0].kind, bars[0].size),
            (0, BarKind::Mem32, Some(16 << 20))
        );
        assert_eq!(bars[1].kind, BarKind::Mem64);
        assert!(bars[1].prefetchable);
        assert_eq!(bars[1].base, 0xe000_0000);
        assert_eq!(
            (bars[2].index, bars[2].kind, bars[2].size),
            (5, BarKind::Io, Some(128))
        );
    }
}
