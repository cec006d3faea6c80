//! Vendor-specific capabilities: the standard one (ID 0x09, PCI 3.0
//! §6.7: length byte at +2, the rest is the vendor's) and the extended one
//! (ID 0x000b, PCIe base spec §7.9.5: VSEC ID, revision and length at +4).

use crate::config::ConfigSpace;

/// A standard vendor-specific capability: only its place and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorSpecific {
    /// Offset of the capability.
    pub offset: u16,
    /// Length byte (+2), covering the whole capability.
    pub length: u8,
}

impl VendorSpecific {
    /// Decodes the capability at `offset`; `None` when its first 3 bytes
    /// are not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        Some(VendorSpecific {
            offset: offset as u16,
            length: cfg.read_u8(offset.checked_add(2)?)?,
        })
    }
}

/// A vendor-specific extended capability header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorSpecificExt {
    /// Offset of the capability.
    pub offset: u16,
    /// VSEC ID (bits 15:0 of the second dword).
    pub id: u16,
    /// VSEC revision (bits 19:16).
    pub revision: u8,
    /// VSEC length in bytes (bits 31:20).
    pub length: u16,
}

impl VendorSpecificExt {
    /// Decodes the capability at `offset`; `None` when its 8 bytes are
    /// not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let h = cfg.read_u32(offset.checked_add(4)?)?;
        Some(VendorSpecificExt {
            offset: offset as u16,
            id: (h & 0xffff) as u16,
            revision: ((h >> 16) & 0xf) as u8,
            length: (h >> 20) as u16,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_vendor() {
        let mut b = vec![0u8; 0x1000];
        b[0x84..0x87].copy_from_slice(&[0x09, 0x00, 0x10]);
        let v = VendorSpecific::decode(&ConfigSpace::new(&b), 0x84).unwrap();
        assert_eq!(v.length, 0x10);
        assert!(VendorSpecific::decode(&ConfigSpace::new(&b[..0x86]), 0x84).is_none());
        b[0x200..0x208].copy_from_slice(&[0x0b, 0, 0x01, 0, 0x23, 0x01, 0x81, 0x01]);
        let v = VendorSpecificExt::decode(&ConfigSpace::new(&b), 0x200).unwrap();
        assert_eq!((v.id, v.revision, v.length), (0x0123, 1, 0x18));
    }
}
