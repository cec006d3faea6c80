//! Subsystem ID capability of PCI-to-PCI bridges (ID 0x0d, PCI-to-PCI
//! Bridge Architecture 1.2 §6.8): vendor at +4, subsystem at +6.

use crate::config::ConfigSpace;

/// Decoded bridge subsystem IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubsystemIds {
    /// Offset of the capability.
    pub offset: u16,
    /// Subsystem vendor ID.
    pub subsystem_vendor: u16,
    /// Subsystem ID.
    pub subsystem: u16,
}

impl SubsystemIds {
    /// Decodes the capability at `offset`; `None` when its 8 bytes are
    /// not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        Some(SubsystemIds {
            offset: offset as u16,
            subsystem_vendor: cfg.read_u16(offset.checked_add(4)?)?,
            subsystem: cfg.read_u16(offset + 6)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigSpace;

    #[test]
    fn bridge_subsystem_via_capability() {
        let mut b = vec![0u8; 256];
        b[0x06] = 0x10;
        b[0x0e] = 0x01;
        b[0x34] = 0x88;
        b[0x88..0x90].copy_from_slice(&[0x0d, 0x00, 0x00, 0x00, 0x62, 0x14, 0x91, 0x22]);
        let cfg = ConfigSpace::new(&b);
        assert_eq!(cfg.subsystem(), Some((0x1462, 0x2291)));
        assert!(ConfigSpace::new(&b[..0x8c]).subsystem().is_none());
    }
}
