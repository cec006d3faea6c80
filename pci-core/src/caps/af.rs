//! PCI Advanced Features capability (ID 0x13, PCI Advanced Capabilities
//! ECN 2006): the conventional-PCI way to advertise FLR.

use bitflags::bitflags;

use crate::config::ConfigSpace;

bitflags! {
    /// AF Capabilities register (+3).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AfCapabilities: u8 {
        /// Transactions Pending bit supported.
        const TP = 1 << 0;
        /// Function Level Reset supported.
        const FLR = 1 << 1;
    }
}

/// Decoded Advanced Features capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvancedFeatures {
    /// Offset of the capability.
    pub offset: u16,
    /// Length field (+2), normally 6.
    pub length: u8,
    /// AF Capabilities.
    pub capabilities: AfCapabilities,
    /// Transactions pending now (AF Status bit 0).
    pub transactions_pending: bool,
}

impl AdvancedFeatures {
    /// Decodes the capability at `offset`; `None` when its 6 bytes are
    /// not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let b = cfg.bytes_at(offset, 6)?;
        Some(AdvancedFeatures {
            offset: offset as u16,
            length: b[2],
            capabilities: AfCapabilities::from_bits_retain(b[3]),
            transactions_pending: b[5] & 1 != 0,
        })
    }

    /// FLR supported.
    pub fn flr(&self) -> bool {
        self.capabilities.contains(AfCapabilities::FLR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_af() {
        let mut b = [0u8; 0x50];
        b[0x48..0x4e].copy_from_slice(&[0x13, 0x00, 0x06, 0x03, 0x00, 0x01]);
        let af = AdvancedFeatures::decode(&ConfigSpace::new(&b), 0x48).unwrap();
        assert!(af.flr());
        assert!(af.transactions_pending);
        assert_eq!(af.length, 6);
        b[0x4b] = 0x01;
        assert!(!AdvancedFeatures::decode(&ConfigSpace::new(&b), 0x48)
            .unwrap()
            .flr());
        assert!(AdvancedFeatures::decode(&ConfigSpace::new(&b[..0x4d]), 0x48).is_none());
    }
}
