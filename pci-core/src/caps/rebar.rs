//! Resizable BAR extended capability (PCIe base spec 6.0 §7.8.6): one
//! capability/control dword pair per resizable BAR, from +4.

use crate::config::ConfigSpace;

/// One resizable BAR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebarEntry {
    /// BAR index (control bits 2:0).
    pub bar: u8,
    /// Supported sizes in bytes, ascending (capability bits 31:4 are
    /// 1 MiB..128 TiB, control bits 31:16 continue from 256 TiB).
    pub supported: Vec<u64>,
    /// Current size in bytes (1 MiB << control bits 13:8).
    pub current: u64,
}

/// Decoded Resizable BAR capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResizableBar {
    /// Offset of the capability.
    pub offset: u16,
    /// Number of resizable BARs the first control register announces
    /// (bits 7:5). The spec allows 1..=6; `entries` holds at most 6.
    pub count: u8,
    /// The entries that are present in the bytes.
    pub entries: Vec<RebarEntry>,
}

const MIB: u64 = 1 << 20;

impl ResizableBar {
    /// Decodes the capability at `offset`; `None` when the first entry is
    /// not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let first_ctl = cfg.read_u32(offset.checked_add(8)?)?;
        let count = ((first_ctl >> 5) & 0x7) as u8;
        let mut entries = Vec::new();
        for i in 0..usize::from(count.min(6)) {
            let at = offset + 4 + 8 * i;
            let (Some(cap), Some(ctl)) = (cfg.read_u32(at), cfg.read_u32(at + 4)) else {
                break;
            };
            let mut supported = Vec::new();
            for bit in 4..32 {
                if cap & (1 << bit) != 0 {
                    supported.push(MIB << (bit - 4));
                }
            }
            for bit in 16..32 {
                if ctl & (1 << bit) != 0 {
                    supported.push(MIB << (bit - 16 + 28));
                }
            }
            entries.push(RebarEntry {
                bar: (ctl & 0x7) as u8,
                supported,
                current: MIB << ((ctl >> 8) & 0x3f).min(43),
            });
        }
        Some(ResizableBar {
            offset: offset as u16,
            count,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rebar() {
        let mut b = vec![0u8; 0x1000];
        let o = 0x200;
        // BAR 0: 256 MiB..8 GiB supported, current 256 MiB, 2 BARs.
        b[o + 4..o + 8].copy_from_slice(&0x0003_f000u32.to_le_bytes());
        b[o + 8..o + 12].copy_from_slice(&0x0000_0840u32.to_le_bytes());
        // BAR 2: 2 MiB, current 2 MiB.
        b[o + 12..o + 16].copy_from_slice(&0x0000_0020u32.to_le_bytes());
        b[o + 16..o + 20].copy_from_slice(&0x0000_0102u32.to_le_bytes());
        let r = ResizableBar::decode(&ConfigSpace::new(&b), o).unwrap();
        assert_eq!(r.count, 2);
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.entries[0].bar, 0);
        assert_eq!(r.entries[0].supported.first(), Some(&(256 * MIB)));
        assert_eq!(r.entries[0].supported.last(), Some(&(8192 * MIB)));
        assert_eq!(r.entries[0].current, 256 * MIB);
        assert_eq!(r.entries[1].bar, 2);
        assert_eq!(r.entries[1].supported, vec![2 * MIB]);
        assert_eq!(r.entries[1].current, 2 * MIB);
        // Second entry cut off.
        let r = ResizableBar::decode(&ConfigSpace::new(&b[..o + 16]), o).unwrap();
        assert_eq!(r.entries.len(), 1);
        assert!(ResizableBar::decode(&ConfigSpace::new(&b[..o + 11]), o).is_none());
    }
}
