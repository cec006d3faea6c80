//! Advanced Error Reporting extended capability (PCIe base spec 6.0
//! §7.8.4): presence, version and the two status registers.

use crate::config::ConfigSpace;

/// Decoded AER capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aer {
    /// Offset of the capability.
    pub offset: u16,
    /// Capability version (header bits 19:16).
    pub version: u8,
    /// Uncorrectable Error Status (+4), when present.
    pub uncorrectable_status: Option<u32>,
    /// Correctable Error Status (+0x10), when present.
    pub correctable_status: Option<u32>,
}

impl Aer {
    /// Decodes the capability at `offset`; `None` when its header is not
    /// present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let header = cfg.read_u32(offset)?;
        Some(Aer {
            offset: offset as u16,
            version: ((header >> 16) & 0xf) as u8,
            uncorrectable_status: cfg.read_u32(offset.checked_add(4)?),
            correctable_status: cfg.read_u32(offset.checked_add(0x10)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_aer() {
        let mut b = vec![0u8; 0x1000];
        b[0x100..0x104].copy_from_slice(&0x1402_0001u32.to_le_bytes());
        b[0x110..0x114].copy_from_slice(&0x2000u32.to_le_bytes());
        let a = Aer::decode(&ConfigSpace::new(&b), 0x100).unwrap();
        assert_eq!(a.version, 2);
        assert_eq!(a.correctable_status, Some(0x2000));
        let a = Aer::decode(&ConfigSpace::new(&b[..0x108]), 0x100).unwrap();
        assert_eq!(a.correctable_status, None);
        assert!(Aer::decode(&ConfigSpace::new(&b[..0x102]), 0x100).is_none());
    }
}
