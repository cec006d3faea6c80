//! PCI Express capability (PCIe base spec 6.0 §7.5.3): the device/port
//! type, Device Capabilities (FLR), link capability/status and slot.

use bitflags::bitflags;

use crate::config::ConfigSpace;

/// Device/port type (PCI Express Capabilities register bits 7:4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PciePortType {
    /// PCI Express endpoint (0).
    Endpoint,
    /// Legacy PCI Express endpoint (1).
    LegacyEndpoint,
    /// Root port of a root complex (4).
    RootPort,
    /// Upstream port of a switch (5).
    UpstreamPort,
    /// Downstream port of a switch (6).
    DownstreamPort,
    /// PCI Express to PCI/PCI-X bridge (7).
    PcieToPciBridge,
    /// PCI/PCI-X to PCI Express bridge (8).
    PciToPcieBridge,
    /// Root complex integrated endpoint (9).
    RcIntegratedEndpoint,
    /// Root complex event collector (10).
    RcEventCollector,
    /// A reserved encoding.
    Unknown(u8),
}

impl PciePortType {
    /// Decodes the 4-bit type field.
    pub(crate) fn from_bits(bits: u8) -> Self {
        match bits & 0xf {
            0 => PciePortType::Endpoint,
            1 => PciePortType::LegacyEndpoint,
            4 => PciePortType::RootPort,
            5 => PciePortType::UpstreamPort,
            6 => PciePortType::DownstreamPort,
            7 => PciePortType::PcieToPciBridge,
            8 => PciePortType::PciToPcieBridge,
            9 => PciePortType::RcIntegratedEndpoint,
            10 => PciePortType::RcEventCollector,
            other => PciePortType::Unknown(other),
        }
    }

    /// snake_case name used in JSON (`root_port`, ...); `unknown` for
    /// reserved encodings.
    pub fn as_str(self) -> &'static str {
        match self {
            PciePortType::Endpoint => "endpoint",
            PciePortType::LegacyEndpoint => "legacy_endpoint",
            PciePortType::RootPort => "root_port",
            PciePortType::UpstreamPort => "upstream_port",
            PciePortType::DownstreamPort => "downstream_port",
            PciePortType::PcieToPciBridge => "pcie_pci_bridge",
            PciePortType::PciToPcieBridge => "pci_pcie_bridge",
            PciePortType::RcIntegratedEndpoint => "rc_integrated_endpoint",
            PciePortType::RcEventCollector => "rc_event_collector",
            PciePortType::Unknown(_) => "unknown",
        }
    }

    /// Whether the function has a link (lspci skips link registers for
    /// root complex integrated endpoints and event collectors, which sit
    /// inside the root complex).
    pub fn has_link(self) -> bool {
        !matches!(
            self,
            PciePortType::RcIntegratedEndpoint | PciePortType::RcEventCollector
        )
    }

    /// Whether the Slot Implemented bit is meaningful for this type
    /// (ports that lead to a slot: root and downstream ports, and
    /// PCI-to-PCIe bridges, as lspci reads it).
    pub(crate) fn may_have_slot(self) -> bool {
        matches!(
            self,
            PciePortType::RootPort | PciePortType::DownstreamPort | PciePortType::PciToPcieBridge
        )
    }
}

bitflags! {
    /// Device Capabilities register bits (§7.5.3.3) that matter here.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct DevCap: u32 {
        /// Extended (8-bit) tag field supported.
        const EXT_TAG = 1 << 5;
        /// Role-based error reporting.
        const ROLE_BASED_ERR = 1 << 15;
        /// Function Level Reset capable.
        const FLR = 1 << 28;
    }
}

/// lspci's spelling of a link speed encoding (LnkCap/LnkSta bits 3:0):
/// `2.5GT/s` ... `64GT/s`, and `unknown` for anything else.
pub fn link_speed_name(code: u8) -> &'static str {
    match code {
        1 => "2.5GT/s",
        2 => "5GT/s",
        3 => "8GT/s",
        4 => "16GT/s",
        5 => "32GT/s",
        6 => "64GT/s",
        _ => "unknown",
    }
}

/// Link capability and current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcieLink {
    /// Port number (LnkCap bits 31:24).
    pub port: u8,
    /// Maximum speed encoding (LnkCap bits 3:0).
    pub cap_speed: u8,
    /// Maximum width (LnkCap bits 9:4).
    pub cap_width: u8,
    /// Current speed encoding (LnkSta bits 3:0).
    pub speed: u8,
    /// Negotiated width (LnkSta bits 9:4).
    pub width: u8,
    /// Data link layer active (LnkSta bit 13).
    pub dl_active: bool,
}

impl PcieLink {
    /// Maximum speed as lspci spells it.
    pub fn cap_speed_name(&self) -> &'static str {
        link_speed_name(self.cap_speed)
    }

    /// Current speed as lspci spells it.
    pub fn speed_name(&self) -> &'static str {
        link_speed_name(self.speed)
    }
}

/// Decoded PCI Express capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciExpress {
    /// Offset of the capability.
    pub offset: u16,
    /// Capability version (bits 3:0 of the capabilities register).
    pub version: u8,
    /// Device/port type.
    pub port_type: PciePortType,
    /// Slot Implemented (bit 8).
    pub slot_implemented: bool,
    /// Interrupt message number (bits 13:9).
    pub interrupt_message: u8,
    /// Device Capabilities register.
    pub devcap: DevCap,
    /// Max payload size supported, in bytes.
    pub max_payload: u16,
    /// Link registers; `None` for types without a link or when the
    /// registers are not in the bytes.
    pub link: Option<PcieLink>,
    /// Physical slot number (SltCap bits 31:19) when a slot is implemented.
    pub slot_number: Option<u16>,
}

impl PciExpress {
    /// Decodes the capability at `offset`; `None` unless the header,
    /// capabilities register and DevCap are present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let flags = cfg.read_u16(offset.checked_add(2)?)?;
        let devcap = cfg.read_u32(offset + 0x04)?;
        let port_type = PciePortType::from_bits(((flags >> 4) & 0xf) as u8);
        let link = if port_type.has_link() {
            let cap = cfg.read_u32(offset + 0x0c);
            let sta = cfg.read_u16(offset + 0x12);
            cap.zip(sta).map(|(cap, sta)| PcieLink {
                port: (cap >> 24) as u8,
                cap_speed: (cap & 0xf) as u8,
                cap_width: ((cap >> 4) & 0x3f) as u8,
                speed: (sta & 0xf) as u8,
                width: ((sta >> 4) & 0x3f) as u8,
                dl_active: sta & (1 << 13) != 0,
            })
        } else {
            None
        };
        let slot_implemented = flags & (1 << 8) != 0;
        let slot_number = if slot_implemented && port_type.may_have_slot() {
            cfg.read_u32(offset + 0x14).map(|s| (s >> 19) as u16)
        } else {
            None
        };
        Some(PciExpress {
            offset: offset as u16,
            version: (flags & 0xf) as u8,
            port_type,
            slot_implemented,
            interrupt_message: ((flags >> 9) & 0x1f) as u8,
            devcap: DevCap::from_bits_retain(devcap),
            max_payload: 128 << (devcap & 0x7).min(5),
            link,
            slot_number,
        })
    }

    /// Function Level Reset capable (DevCap bit 28). The bit means FLR only
    /// for endpoints (PCIe Base spec r4.0 §7.5.3.3: "applies to Endpoints
    /// only", hardwired to 0 for other function types); some ports set it
    /// anyway (QEMU's x3130 upstream port does), and lspci ignores it there.
    pub fn flr(&self) -> bool {
        matches!(
            self.port_type,
            PciePortType::Endpoint
                | PciePortType::LegacyEndpoint
                | PciePortType::RcIntegratedEndpoint
        ) && self.devcap.contains(DevCap::FLR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_port() -> Vec<u8> {
        let mut b = vec![0u8; 0x100];
        let o = 0x40;
        b[o] = 0x10;
        b[o + 2..o + 4].copy_from_slice(&0x0142u16.to_le_bytes()); // v2, root port, slot
        b[o + 4..o + 8].copy_from_slice(&0x1000_8002u32.to_le_bytes()); // FLR, 512 B
        b[o + 0x0c..o + 0x10].copy_from_slice(&0x0300_0c43u32.to_le_bytes()); // #3, 8GT/s x4
        b[o + 0x12..o + 0x14].copy_from_slice(&0x2011u16.to_le_bytes()); // 2.5GT/s x1, DLActive
        b[o + 0x14..o + 0x18].copy_from_slice(&(5u32 << 19).to_le_bytes());
        b
    }

    #[test]
    fn decode_root_port() {
        let b = root_port();
        let p = PciExpress::decode(&ConfigSpace::new(&b), 0x40).unwrap();
        assert_eq!(p.version, 2);
        assert_eq!(p.port_type, PciePortType::RootPort);
        assert_eq!(p.port_type.as_str(), "root_port");
        // DevCap bit 28 is set, but FLR is an endpoint capability only
        assert!(p.devcap.contains(DevCap::FLR));
        assert!(!p.flr());
        let mut e = root_port();
        e[0x42] = 0x02; // v2, endpoint
        let e = PciExpress::decode(&ConfigSpace::new(&e), 0x40).unwrap();
        assert_eq!(e.port_type, PciePortType::Endpoint);
        assert!(e.flr());
        assert_eq!(p.max_payload, 512);
        let l = p.link.unwrap();
        assert_eq!((l.port, l.cap_speed_name(), l.cap_width), (3, "8GT/s", 4));
        assert_eq!((l.speed_name(), l.width, l.dl_active), ("2.5GT/s", 1, true));
        assert_eq!(p.slot_number, Some(5));
    }

    #[test]
    fn rc_integrated_has_no_link_and_truncation() {
        let mut b = root_port();
        b[0x42] = 0x92; // v2, RC integrated endpoint
        let p = PciExpress::decode(&ConfigSpace::new(&b), 0x40).unwrap();
        assert_eq!(p.port_type.as_str(), "rc_integrated_endpoint");
        assert!(p.link.is_none());
        // Link registers cut off: the rest still decodes.
        let b = root_port();
        let p = PciExpress::decode(&ConfigSpace::new(&b[..0x50]), 0x40).unwrap();
        assert!(p.link.is_none() && p.slot_number.is_none());
        assert!(PciExpress::decode(&ConfigSpace::new(&b[..0x47]), 0x40).is_none());
    }

    #[test]
    fn speeds_and_types() {
        let names: Vec<_> = (0..8).map(link_speed_name).collect();
        assert_eq!(
            names,
            ["unknown", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s", "unknown"]
        );
        assert_eq!(PciePortType::from_bits(7).as_str(), "pcie_pci_bridge");
        assert_eq!(PciePortType::from_bits(8).as_str(), "pci_pcie_bridge");
        assert_eq!(PciePortType::from_bits(10).as_str(), "rc_event_collector");
        assert_eq!(PciePortType::from_bits(3), PciePortType::Unknown(3));
    }
}
