//! `reg` and `assigned-addresses` of a PCI devinfo node, decoded in one
//! place.
//!
//! Both properties are arrays of 5-cell PCI addresses of the IEEE 1275 PCI
//! bus binding, which illumos uses unchanged (illumos-gate
//! `usr/src/uts/common/sys/pci.h`, `pci_regspec_t` and the `PCI_REG_*`
//! masks): phys.hi holds the register offset in bits 7:0 and the address
//! space in bits 25:24 (0 configuration, 1 I/O, 2 32-bit memory, 3 64-bit
//! memory), prefetchable in bit 30; then phys.mid and phys.lo (the
//! address) and size.hi and size.lo. `assigned-addresses` is what the OS
//! assigned; ppt's `ppt_bar_crawl` maps BARs from it (illumos-gate `ppt.c`).

use pci_core::config::BarKind;

/// The address space of an entry (phys.hi bits 25:24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// Configuration space (the `reg` entry naming the function itself).
    Config,
    /// I/O ports.
    Io,
    /// 32-bit memory.
    Mem32,
    /// 64-bit memory.
    Mem64,
}

/// One 5-cell entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegEntry {
    /// Address space.
    pub space: Space,
    /// Prefetchable memory (phys.hi bit 30).
    pub prefetchable: bool,
    /// Config register offset the entry belongs to (phys.hi bits 7:0).
    pub register: u8,
    /// Address (phys.mid:phys.lo).
    pub address: u64,
    /// Size (size.hi:size.lo).
    pub size: u64,
}

impl RegEntry {
    /// The BAR index 0..=5 when the register is a BAR (0x10..=0x24, aligned).
    pub fn bar_index(&self) -> Option<u8> {
        let r = self.register;
        ((0x10..=0x24).contains(&r) && r & 3 == 0).then(|| (r - 0x10) / 4)
    }

    /// The BAR kind of a memory or I/O entry.
    pub fn bar_kind(&self) -> Option<BarKind> {
        match self.space {
            Space::Config => None,
            Space::Io => Some(BarKind::Io),
            Space::Mem32 => Some(BarKind::Mem32),
            Space::Mem64 => Some(BarKind::Mem64),
        }
    }
}

/// The entries of a property's cells; a trailing partial entry is ignored.
pub fn decode(cells: &[i32]) -> impl Iterator<Item = RegEntry> + '_ {
    cells.chunks_exact(5).map(|e| {
        let hi = e[0] as u32;
        RegEntry {
            space: match (hi >> 24) & 3 {
                0 => Space::Config,
                1 => Space::Io,
                2 => Space::Mem32,
                _ => Space::Mem64,
            },
            prefetchable: hi & (1 << 30) != 0,
            register: (hi & 0xff) as u8,
            address: (u64::from(e[1] as u32) << 32) | u64::from(e[2] as u32),
            size: (u64::from(e[3] as u32) << 32) | u64::from(e[4] as u32),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bars_and_skips_partial_entries() {
        let cells = [
            0xc301_0014u32 as i32,
            0,
            0xe000_0000u32 as i32,
            0,
            0x1000_0000,
            0x8201_0030u32 as i32,
            0,
            0,
            0,
            0x8_0000,
            7,
        ];
        let e: Vec<RegEntry> = decode(&cells).collect();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].space, Space::Mem64);
        assert!(e[0].prefetchable);
        assert_eq!(
            (e[0].bar_index(), e[0].address, e[0].size),
            (Some(1), 0xe000_0000, 1 << 28)
        );
        assert_eq!(e[1].bar_index(), None);
        assert_eq!(e[1].register, 0x30);
    }
}
