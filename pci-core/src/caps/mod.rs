//! Capability chains and typed capability decoders.
//!
//! The standard chain (PCI 3.0 §6.7) starts at the capabilities pointer
//! and lives in 0x40..0x100; the extended chain (PCIe base spec §7.6)
//! starts at 0x100. Both are walked lazily and yield one
//! `Result<_, CapError>` per entry, so a broken chain still gives every
//! well-formed entry before the break, in the order `lspci -vvv` prints
//! them. The walk stops after the first error.
//!
//! ```
//! use pci_core::caps::CapError;
//! use pci_core::config::ConfigSpace;
//!
//! let mut b = [0u8; 256];
//! b[0x06] = 0x10; // Status: capability list present
//! b[0x34] = 0x40; // first capability
//! b[0x40..0x42].copy_from_slice(&[0x01, 0x50]); // PM, next 0x50
//! b[0x50..0x52].copy_from_slice(&[0x05, 0x40]); // MSI, next 0x40: a loop
//! let cfg = ConfigSpace::new(&b);
//! let chain: Vec<_> = cfg.capabilities().collect();
//! assert_eq!(chain[0].unwrap().name(), Some("pm"));
//! assert_eq!(chain[1].unwrap().offset, 0x50);
//! assert_eq!(chain[2], Err(CapError::Loop { offset: 0x40 }));
//! assert_eq!(chain.len(), 3);
//! assert!(cfg.power_management().is_some());
//! ```

mod acs;
mod aer;
mod af;
mod ari;
mod chain;
mod msi;
mod msix;
mod names;
mod pcie;
mod pm;
mod rebar;
mod sriov;
mod ssvid;
mod vendor;

pub use acs::{Acs, AcsFlags};
pub use aer::Aer;
pub use af::{AdvancedFeatures, AfCapabilities};
pub use ari::Ari;
pub use chain::{CapError, Capability, CapabilityIter, ExtCapability, ExtCapabilityIter};
pub use msi::{Msi, MsiControl};
pub use msix::{MsiX, MsixControl};
pub use names::{cap_title, ext_cap_title};
pub use pcie::{link_speed_name, DevCap, PciExpress, PcieLink, PciePortType};
pub use pm::{PmCapabilities, PowerManagement, PowerState};
pub use rebar::{RebarEntry, ResizableBar};
pub use sriov::SrIov;
pub use ssvid::SubsystemIds;
pub use vendor::{VendorSpecific, VendorSpecificExt};

use crate::config::ConfigSpace;

/// Standard capability IDs (PCI Code and ID Assignment spec §2).
pub mod id {
    /// Null capability.
    pub const NULL: u8 = 0x00;
    /// Power Management.
    pub const PM: u8 = 0x01;
    /// AGP.
    pub const AGP: u8 = 0x02;
    /// Vital Product Data.
    pub const VPD: u8 = 0x03;
    /// Slot identification.
    pub const SLOT_ID: u8 = 0x04;
    /// MSI.
    pub const MSI: u8 = 0x05;
    /// CompactPCI hot swap.
    pub const CHSWP: u8 = 0x06;
    /// PCI-X.
    pub const PCIX: u8 = 0x07;
    /// HyperTransport.
    pub const HT: u8 = 0x08;
    /// Vendor specific.
    pub const VENDOR: u8 = 0x09;
    /// Debug port.
    pub const DEBUG_PORT: u8 = 0x0a;
    /// CompactPCI central resource control.
    pub const CCRC: u8 = 0x0b;
    /// PCI standard hot-plug controller.
    pub const HOTPLUG: u8 = 0x0c;
    /// Bridge subsystem vendor/device ID.
    pub const SSVID: u8 = 0x0d;
    /// AGP 8x.
    pub const AGP3: u8 = 0x0e;
    /// Secure device.
    pub const SECURE: u8 = 0x0f;
    /// PCI Express.
    pub const PCIE: u8 = 0x10;
    /// MSI-X.
    pub const MSIX: u8 = 0x11;
    /// Serial ATA data/index configuration.
    pub const SATA: u8 = 0x12;
    /// PCI Advanced Features.
    pub const AF: u8 = 0x13;
    /// Enhanced Allocation.
    pub const EA: u8 = 0x14;
    /// Flattening Portal Bridge.
    pub const FPB: u8 = 0x15;
}

/// Extended capability IDs (PCI Code and ID Assignment spec §3).
pub mod ext_id {
    /// Advanced Error Reporting.
    pub const AER: u16 = 0x0001;
    /// Virtual Channel.
    pub const VC: u16 = 0x0002;
    /// Device Serial Number.
    pub const DSN: u16 = 0x0003;
    /// Vendor-specific extended capability.
    pub const VENDOR: u16 = 0x000b;
    /// Access Control Services.
    pub const ACS: u16 = 0x000d;
    /// Alternative Routing-ID Interpretation.
    pub const ARI: u16 = 0x000e;
    /// Address Translation Services.
    pub const ATS: u16 = 0x000f;
    /// Single Root I/O Virtualization.
    pub const SRIOV: u16 = 0x0010;
    /// Resizable BAR.
    pub const REBAR: u16 = 0x0015;
    /// Designated vendor-specific.
    pub const DVSEC: u16 = 0x0023;
    /// VF Resizable BAR.
    pub const VF_REBAR: u16 = 0x0024;
}

impl<'a> ConfigSpace<'a> {
    /// Power Management capability, if the chain has one.
    pub fn power_management(&self) -> Option<PowerManagement> {
        PowerManagement::decode(self, self.find_capability(id::PM)?.offset.into())
    }

    /// MSI capability.
    pub fn msi(&self) -> Option<Msi> {
        Msi::decode(self, self.find_capability(id::MSI)?.offset.into())
    }

    /// MSI-X capability.
    pub fn msix(&self) -> Option<MsiX> {
        MsiX::decode(self, self.find_capability(id::MSIX)?.offset.into())
    }

    /// PCI Express capability.
    pub fn pci_express(&self) -> Option<PciExpress> {
        PciExpress::decode(self, self.find_capability(id::PCIE)?.offset.into())
    }

    /// PCI Advanced Features capability.
    pub fn advanced_features(&self) -> Option<AdvancedFeatures> {
        AdvancedFeatures::decode(self, self.find_capability(id::AF)?.offset.into())
    }

    /// Bridge subsystem IDs (SSVID capability).
    pub(crate) fn ssvid(&self) -> Option<SubsystemIds> {
        SubsystemIds::decode(self, self.find_capability(id::SSVID)?.offset.into())
    }

    /// Every vendor-specific standard capability, in chain order.
    pub fn vendor_capabilities(&self) -> Vec<VendorSpecific> {
        self.capabilities()
            .filter_map(Result::ok)
            .filter(|c| c.id == id::VENDOR)
            .filter_map(|c| VendorSpecific::decode(self, c.offset.into()))
            .collect()
    }

    /// Access Control Services extended capability.
    pub fn acs(&self) -> Option<Acs> {
        Acs::decode(
            self,
            self.find_extended_capability(ext_id::ACS)?.offset.into(),
        )
    }

    /// SR-IOV extended capability.
    pub fn sriov(&self) -> Option<SrIov> {
        SrIov::decode(
            self,
            self.find_extended_capability(ext_id::SRIOV)?.offset.into(),
        )
    }

    /// ARI extended capability.
    pub fn ari(&self) -> Option<Ari> {
        Ari::decode(
            self,
            self.find_extended_capability(ext_id::ARI)?.offset.into(),
        )
    }

    /// AER extended capability (presence and version).
    pub fn aer(&self) -> Option<Aer> {
        Aer::decode(
            self,
            self.find_extended_capability(ext_id::AER)?.offset.into(),
        )
    }

    /// Resizable BAR extended capability.
    pub fn resizable_bar(&self) -> Option<ResizableBar> {
        ResizableBar::decode(
            self,
            self.find_extended_capability(ext_id::REBAR)?.offset.into(),
        )
    }

    /// Whether the function advertises Function Level Reset, through the
    /// PCIe DevCap register (PCIe base spec §7.5.3.3) or the PCI Advanced
    /// Features capability (AF spec, ECN 2006). `None` when it has neither
    /// capability.
    pub fn flr(&self) -> Option<bool> {
        let pcie = self.pci_express().map(|p| p.flr());
        let af = self
            .advanced_features()
            .map(|a| a.capabilities.contains(AfCapabilities::FLR));
        match (pcie, af) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
        }
    }
}
