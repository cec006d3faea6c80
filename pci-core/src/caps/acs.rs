//! Access Control Services extended capability (PCIe base spec 6.0
//! §7.7.11): capability at +4, control at +6.

use bitflags::bitflags;

use crate::config::ConfigSpace;

bitflags! {
    /// ACS Capability / Control bits (same layout in both registers).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AcsFlags: u16 {
        /// Source Validation.
        const SOURCE_VALIDATION = 1 << 0;
        /// Translation Blocking.
        const TRANSLATION_BLOCKING = 1 << 1;
        /// P2P Request Redirect.
        const REQUEST_REDIRECT = 1 << 2;
        /// P2P Completion Redirect.
        const COMPLETION_REDIRECT = 1 << 3;
        /// Upstream Forwarding.
        const UPSTREAM_FORWARDING = 1 << 4;
        /// P2P Egress Control.
        const EGRESS_CONTROL = 1 << 5;
        /// Direct Translated P2P.
        const DIRECT_TRANSLATED = 1 << 6;
    }
}

/// lspci's short names, in register bit order.
const NAMES: [(AcsFlags, &str); 7] = [
    (AcsFlags::SOURCE_VALIDATION, "SrcValid"),
    (AcsFlags::TRANSLATION_BLOCKING, "TransBlk"),
    (AcsFlags::REQUEST_REDIRECT, "ReqRedir"),
    (AcsFlags::COMPLETION_REDIRECT, "CmpltRedir"),
    (AcsFlags::UPSTREAM_FORWARDING, "UpstreamFwd"),
    (AcsFlags::EGRESS_CONTROL, "EgressCtrl"),
    (AcsFlags::DIRECT_TRANSLATED, "DirectTrans"),
];

impl AcsFlags {
    /// The set flags with lspci's names (`SrcValid`, `TransBlk`, ...), in
    /// bit order.
    pub fn names(self) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// Decoded ACS capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acs {
    /// Offset of the capability.
    pub offset: u16,
    /// What the port can do (ACS Capability register).
    pub capability: AcsFlags,
    /// What is enabled (ACS Control register).
    pub control: AcsFlags,
    /// Egress control vector size (capability bits 15:8; 0 means 256).
    pub egress_vector_bits: u16,
}

impl Acs {
    /// Decodes the capability at `offset`; `None` when its 8 bytes are
    /// not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let cap = cfg.read_u16(offset.checked_add(4)?)?;
        let ctl = cfg.read_u16(offset + 6)?;
        let vec = cap >> 8;
        Some(Acs {
            offset: offset as u16,
            capability: AcsFlags::from_bits_retain(cap & 0xff),
            control: AcsFlags::from_bits_retain(ctl),
            egress_vector_bits: if vec == 0 { 256 } else { vec },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_acs() {
        let mut b = vec![0u8; 0x1000];
        b[0x148..0x14c].copy_from_slice(&0x0001_000du32.to_le_bytes());
        b[0x14c..0x14e].copy_from_slice(&0x001fu16.to_le_bytes());
        b[0x14e..0x150].copy_from_slice(&0x0005u16.to_le_bytes());
        let a = Acs::decode(&ConfigSpace::new(&b), 0x148).unwrap();
        assert_eq!(
            a.capability.names(),
            [
                "SrcValid",
                "TransBlk",
                "ReqRedir",
                "CmpltRedir",
                "UpstreamFwd"
            ]
        );
        assert_eq!(a.control.names(), ["SrcValid", "ReqRedir"]);
        assert_eq!(a.egress_vector_bits, 256);
        assert_eq!(AcsFlags::all().names().len(), 7);
        assert!(Acs::decode(&ConfigSpace::new(&b[..0x14f]), 0x148).is_none());
    }
}
