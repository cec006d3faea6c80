//! Base Address Registers and the expansion ROM BAR (PCI 3.0 §6.2.5).
//!
//! Config space holds only the addresses and types; sizes are found by
//! writing all-ones, which only the operating system may do, so sizes
//! come from the source ([`crate::Function::bar_sizes`]).

use super::{reg, ConfigSpace, HeaderType};

/// What a BAR decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BarKind {
    /// 32-bit memory (also the legacy "below 1 MiB" type and the reserved
    /// type 3, which lspci shows as 32-bit too).
    Mem32,
    /// 64-bit memory: this slot and the next one.
    Mem64,
    /// I/O ports.
    Io,
}

impl BarKind {
    /// `mem32`, `mem64` or `io`, as `show --json` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BarKind::Mem32 => "mem32",
            BarKind::Mem64 => "mem64",
            BarKind::Io => "io",
        }
    }
}

/// One decoded BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// BAR slot (0..=5); a 64-bit BAR has the index of its low half.
    pub index: u8,
    /// Memory or I/O, 32 or 64 bit.
    pub kind: BarKind,
    /// Prefetchable memory (bit 3); always false for I/O.
    pub prefetchable: bool,
    /// Base address with the type bits masked off.
    pub address: u64,
    /// Size in bytes when the source knows it.
    pub size: Option<u64>,
    /// The raw low register value.
    pub raw: u32,
}

/// A BAR slot that could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BarError {
    /// The register lies beyond the available config bytes.
    #[error("BAR {index}: register at {offset:#04x} is beyond the {len} config bytes available")]
    Truncated {
        /// BAR slot.
        index: u8,
        /// Register offset.
        offset: usize,
        /// Config bytes available.
        len: usize,
    },
    /// A 64-bit memory BAR sits in the last slot, so it has no upper half.
    #[error("BAR {index}: 64-bit memory BAR in the last slot has no upper half (raw {raw:#010x})")]
    Mem64InLastSlot {
        /// BAR slot.
        index: u8,
        /// Raw register value.
        raw: u32,
    },
}

/// The expansion ROM BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpansionRom {
    /// ROM base address (bits 31:11).
    pub address: u32,
    /// ROM address decoding enabled (bit 0).
    pub enabled: bool,
    /// Size in bytes when the source knows it.
    pub size: Option<u64>,
    /// Raw register value.
    pub raw: u32,
}

impl<'a> ConfigSpace<'a> {
    /// Decodes the BARs of a type 0 (6 slots), type 1 (2 slots) or type 2
    /// (1 slot: the CardBus socket register) header, in slot order,
    /// skipping unimplemented slots (raw 0 or all-ones with no known size,
    /// the same slots `lspci` omits). A 64-bit BAR consumes two slots; its
    /// size is taken from `sizes[index]`. Unknown header types have none.
    pub fn bars(&self, sizes: &[Option<u64>]) -> Vec<Result<Bar, BarError>> {
        let count = self.header_type().map_or(0, HeaderType::bar_count);
        let size_of = |i: usize| sizes.get(i).copied().flatten();
        let mut out = Vec::new();
        let mut i = 0;
        while i < count {
            let offset = reg::BAR0 + 4 * i;
            let index = i as u8;
            let Some(raw) = self.read_u32(offset) else {
                out.push(Err(BarError::Truncated {
                    index,
                    offset,
                    len: self.len(),
                }));
                break;
            };
            i += 1;
            let size = size_of(index.into()).filter(|&s| s != 0);
            if (raw == 0 || raw == u32::MAX) && size.is_none() {
                continue;
            }
            if raw & 1 == 1 {
                out.push(Ok(Bar {
                    index,
                    kind: BarKind::Io,
                    prefetchable: false,
                    // I/O BARs are 32 bits wide; the upper half of the
                    // register is ignored by x86 port decoding but kept.
                    address: u64::from(raw & !0x3),
                    size,
                    raw,
                }));
                continue;
            }
            let prefetchable = raw & 0x8 != 0;
            let low = u64::from(raw & !0xf);
            if (raw >> 1) & 0x3 == 0x2 {
                if i >= count {
                    out.push(Err(BarError::Mem64InLastSlot { index, raw }));
                    break;
                }
                let hi_off = reg::BAR0 + 4 * i;
                let Some(hi) = self.read_u32(hi_off) else {
                    out.push(Err(BarError::Truncated {
                        index: i as u8,
                        offset: hi_off,
                        len: self.len(),
                    }));
                    break;
                };
                i += 1;
                out.push(Ok(Bar {
                    index,
                    kind: BarKind::Mem64,
                    prefetchable,
                    address: low | (u64::from(hi) << 32),
                    size,
                    raw,
                }));
                continue;
            }
            out.push(Ok(Bar {
                index,
                kind: BarKind::Mem32,
                prefetchable,
                address: low,
                size,
                raw,
            }));
        }
        out
    }

    /// The expansion ROM BAR (0x30 for type 0, 0x38 for type 1), or `None`
    /// when the header has none, the register is missing, or it reads 0
    /// and the source knows no size.
    pub fn expansion_rom(&self, size: Option<u64>) -> Option<ExpansionRom> {
        let offset = match self.header_type()? {
            HeaderType::Normal => reg::ROM_ADDRESS,
            HeaderType::Bridge => reg::BRIDGE_ROM_ADDRESS,
            _ => return None,
        };
        let raw = self.read_u32(offset)?;
        let size = size.filter(|&s| s != 0);
        if raw == 0 && size.is_none() {
            return None;
        }
        Some(ExpansionRom {
            address: raw & 0xffff_f800,
            enabled: raw & 1 != 0,
            size,
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header0(bars: [u32; 6]) -> [u8; 64] {
        let mut b = [0u8; 64];
        for (i, v) in bars.iter().enumerate() {
            b[0x10 + 4 * i..0x14 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    #[test]
    fn decodes_all_kinds() {
        let b = header0([
            0xfea1_5000,
            0xe001,
            0xc000_000c,
            0x0000_0001,
            0,
            0xfe00_0008,
        ]);
        let cfg = ConfigSpace::new(&b);
        let sizes = [Some(4096), Some(32), Some(1 << 28), None, None, None];
        let bars: Vec<Bar> = cfg.bars(&sizes).into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(bars.len(), 4);
        assert_eq!(bars[0].kind, BarKind::Mem32);
        assert_eq!(bars[0].address, 0xfea1_5000);
        assert_eq!(bars[0].size, Some(4096));
        assert_eq!(bars[1].kind, BarKind::Io);
        assert_eq!(bars[1].address, 0xe000);
        assert_eq!(bars[2].kind, BarKind::Mem64);
        assert!(bars[2].prefetchable);
        assert_eq!(bars[2].address, 0x1_c000_0000);
        assert_eq!(bars[3].index, 5);
        assert!(bars[3].prefetchable);
        assert_eq!(bars[3].size, None);
    }

    #[test]
    fn unassigned_and_unimplemented() {
        // An I/O BAR at 0 is shown (lspci: "<unassigned>"); all-ones is not.
        let b = header0([0x1, 0xffff_ffff, 0x8, 0, 0, 0]);
        let bars: Vec<Bar> = ConfigSpace::new(&b)
            .bars(&[None; 6])
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(bars.len(), 2);
        assert_eq!(
            (bars[0].index, bars[0].kind, bars[0].address),
            (0, BarKind::Io, 0)
        );
        assert_eq!((bars[1].index, bars[1].prefetchable), (2, true));
        // A known size makes a zero BAR visible.
        let mut sizes = [None; 6];
        sizes[4] = Some(4096);
        assert_eq!(ConfigSpace::new(&b).bars(&sizes).len(), 3);
        // CardBus: one slot, the socket register.
        let mut b = header0([0xfc40_2000, 0x1234_5000, 0, 0, 0, 0]);
        b[0x0e] = 0x02;
        let r = ConfigSpace::new(&b).bars(&[None; 6]);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn mem64_in_last_slot_is_an_error() {
        let b = header0([0, 0, 0, 0, 0, 0xf000_0004]);
        let cfg = ConfigSpace::new(&b);
        let r = cfg.bars(&[None; 6]);
        assert_eq!(
            r,
            vec![Err(BarError::Mem64InLastSlot {
                index: 5,
                raw: 0xf000_0004
            })]
        );
        // Bridge: slot 1 is the last one.
        let mut b = header0([0, 0xf000_0004, 0, 0, 0, 0]);
        b[0x0e] = 1;
        let r = ConfigSpace::new(&b).bars(&[None; 6]);
        assert!(matches!(
            r[0],
            Err(BarError::Mem64InLastSlot { index: 1, .. })
        ));
    }

    #[test]
    fn truncated_bars() {
        let b = header0([0xfe00_0000; 6]);
        let r = ConfigSpace::new(&b[..0x1a]).bars(&[None; 6]);
        assert_eq!(r.len(), 3);
        assert!(matches!(r[2], Err(BarError::Truncated { index: 2, .. })));
        // Sizes shorter than the slot count are fine.
        assert_eq!(ConfigSpace::new(&b).bars(&[]).len(), 6);
    }

    #[test]
    fn rom() {
        let mut b = header0([0; 6]);
        b[0x30..0x34].copy_from_slice(&0xfeb0_0001u32.to_le_bytes());
        let rom = ConfigSpace::new(&b).expansion_rom(Some(0x10000)).unwrap();
        assert_eq!(rom.address, 0xfeb0_0000);
        assert!(rom.enabled);
        b[0x30..0x34].fill(0);
        assert!(ConfigSpace::new(&b).expansion_rom(None).is_none());
    }
}
