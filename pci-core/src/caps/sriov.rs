//! Single Root I/O Virtualization extended capability (PCIe base spec
//! 6.0 §9.3.3).

use crate::config::ConfigSpace;

/// Decoded SR-IOV capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrIov {
    /// Offset of the capability.
    pub offset: u16,
    /// SR-IOV Capabilities register (+4).
    pub capabilities: u32,
    /// SR-IOV Control register (+8).
    pub control: u16,
    /// InitialVFs (+0x0c).
    pub initial_vfs: u16,
    /// TotalVFs (+0x0e).
    pub total_vfs: u16,
    /// NumVFs (+0x10): VFs software asked for.
    pub num_vfs: u16,
    /// Function dependency link (+0x12).
    pub function_link: u8,
    /// First VF offset (+0x14), in routing IDs from the PF.
    pub vf_offset: u16,
    /// VF stride (+0x16).
    pub vf_stride: u16,
    /// VF device ID (+0x1a).
    pub vf_device: u16,
    /// Supported page sizes (+0x1c).
    pub supported_page_sizes: u32,
    /// System page size (+0x20).
    pub system_page_size: u32,
}

impl SrIov {
    /// Decodes the capability at `offset`; `None` when its first 0x24
    /// bytes are not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        cfg.bytes_at(offset, 0x24)?;
        Some(SrIov {
            offset: offset as u16,
            capabilities: cfg.read_u32(offset + 0x04)?,
            control: cfg.read_u16(offset + 0x08)?,
            initial_vfs: cfg.read_u16(offset + 0x0c)?,
            total_vfs: cfg.read_u16(offset + 0x0e)?,
            num_vfs: cfg.read_u16(offset + 0x10)?,
            function_link: cfg.read_u8(offset + 0x12)?,
            vf_offset: cfg.read_u16(offset + 0x14)?,
            vf_stride: cfg.read_u16(offset + 0x16)?,
            vf_device: cfg.read_u16(offset + 0x1a)?,
            supported_page_sizes: cfg.read_u32(offset + 0x1c)?,
            system_page_size: cfg.read_u32(offset + 0x20)?,
        })
    }

    /// VF Enable (control bit 0).
    pub fn vf_enabled(&self) -> bool {
        self.control & 1 != 0
    }

    /// ARI Capable Hierarchy (control bit 4).
    pub fn ari_hierarchy(&self) -> bool {
        self.control & (1 << 4) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_sriov() {
        let mut b = vec![0u8; 0x1000];
        let o = 0x160;
        b[o..o + 4].copy_from_slice(&0x0001_0010u32.to_le_bytes());
        b[o + 8..o + 10].copy_from_slice(&0x0019u16.to_le_bytes());
        b[o + 0x0c..o + 0x0e].copy_from_slice(&7u16.to_le_bytes());
        b[o + 0x0e..o + 0x10].copy_from_slice(&7u16.to_le_bytes());
        b[o + 0x10..o + 0x12].copy_from_slice(&2u16.to_le_bytes());
        b[o + 0x14..o + 0x16].copy_from_slice(&0x80u16.to_le_bytes());
        b[o + 0x16..o + 0x18].copy_from_slice(&2u16.to_le_bytes());
        b[o + 0x1a..o + 0x1c].copy_from_slice(&0x10edu16.to_le_bytes());
        let s = SrIov::decode(&ConfigSpace::new(&b), o).unwrap();
        assert_eq!((s.initial_vfs, s.total_vfs, s.num_vfs), (7, 7, 2));
        assert_eq!((s.vf_offset, s.vf_stride, s.vf_device), (0x80, 2, 0x10ed));
        assert!(s.vf_enabled() && s.ari_hierarchy());
        assert!(SrIov::decode(&ConfigSpace::new(&b[..o + 0x23]), o).is_none());
    }
}
