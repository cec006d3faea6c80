//! Lazy, loop-safe walks of the standard and extended capability chains.
//!
//! Where the two walks stop follows `lspci` 3.9.0's behaviour (observed on
//! its own regression dumps), which the corpus test checks:
//! * standard: only when Status bit 4 says there is a list; pointers are
//!   masked with `!3` (PCI 3.0 §6.7: the low two bits are reserved); a
//!   revisited offset is a loop; ID 0xff is a broken chain (what a
//!   missing function reads); an entry whose first dword is not in the
//!   bytes is truncated (`lspci` prints `<access denied>`).
//! * extended: a header of 0 or 0xffffffff ends the list silently (PCIe
//!   base spec §7.6.3: an empty list has a zero header); next pointers
//!   are masked with `0xffc` as the spec says software must.
//!
//! We are stricter than `lspci` in one place each: a standard pointer
//! below 0x40 points into the predefined header and an extended pointer
//! below 0x100 into standard space; `lspci` would decode header bytes as
//! a capability there, we report an error (as Linux's
//! `pci_find_next_capability` also refuses such pointers).

use std::fmt;

use super::names::{cap_name, ext_cap_name};
use crate::config::ConfigSpace;

/// One entry of the standard chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capability {
    /// Offset of the capability header.
    pub offset: u8,
    /// Capability ID.
    pub id: u8,
    /// Next pointer, masked.
    pub next: u8,
}

impl Capability {
    /// Short snake_case name (`pm`, `msi`, `pcie`, ...), `None` for IDs
    /// lspci does not know.
    pub fn name(&self) -> Option<&'static str> {
        cap_name(self.id)
    }
}

/// One entry of the extended chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtCapability {
    /// Offset of the capability header (0x100..0xffc).
    pub offset: u16,
    /// Extended capability ID.
    pub id: u16,
    /// Capability version (header bits 19:16).
    pub version: u8,
    /// Next pointer, masked.
    pub next: u16,
}

impl ExtCapability {
    /// Short snake_case name (`aer`, `acs`, `sriov`, ...), `None` for IDs
    /// lspci does not know.
    pub fn name(&self) -> Option<&'static str> {
        ext_cap_name(self.id)
    }
}

/// Why a capability walk stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    /// The entry at `offset` lies beyond the available config bytes
    /// (e.g. a 64-byte `lspci -x` dump).
    #[error("capability at {offset:#x} lies beyond the {len} config bytes available")]
    Truncated {
        /// Offset of the entry.
        offset: u16,
        /// Config bytes available.
        len: usize,
    },
    /// The chain came back to an offset it already visited.
    #[error("capability chain loops back to {offset:#x}")]
    Loop {
        /// The revisited offset.
        offset: u16,
    },
    /// The entry reads ID 0xff: the chain is broken.
    #[error("capability chain broken at {offset:#x} (ID 0xff)")]
    Broken {
        /// Offset of the entry.
        offset: u16,
    },
    /// A standard pointer below 0x40 points into the predefined header.
    #[error("capability pointer {offset:#x} points into the configuration header")]
    PointerIntoHeader {
        /// The pointer value.
        offset: u16,
    },
    /// An extended pointer below 0x100 points into standard space.
    #[error("extended capability pointer {offset:#x} points below 0x100")]
    PointerIntoStandard {
        /// The pointer value.
        offset: u16,
    },
}

impl CapError {
    /// The offset the error is about.
    pub fn offset(&self) -> u16 {
        match *self {
            CapError::Truncated { offset, .. }
            | CapError::Loop { offset }
            | CapError::Broken { offset }
            | CapError::PointerIntoHeader { offset }
            | CapError::PointerIntoStandard { offset } => offset,
        }
    }
}

/// A set of dword-aligned offsets below `64 * WORDS * 4`.
#[derive(Clone, Copy)]
struct Visited<const WORDS: usize>([u64; WORDS]);

impl<const WORDS: usize> Visited<WORDS> {
    /// Marks `offset` (dword-aligned); true when it was already marked.
    fn test_and_set(&mut self, offset: usize) -> bool {
        let slot = offset / 4;
        let (word, bit) = (slot / 64, slot % 64);
        match self.0.get_mut(word) {
            Some(w) => {
                let seen = *w & (1 << bit) != 0;
                *w |= 1 << bit;
                seen
            }
            // Out of range cannot happen for masked pointers; treat as seen
            // so a bug can never become an endless walk.
            None => true,
        }
    }
}

impl<const WORDS: usize> fmt::Debug for Visited<WORDS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Visited")
    }
}

/// Iterator over the standard capability chain.
#[derive(Debug, Clone)]
pub struct CapabilityIter<'a> {
    cfg: ConfigSpace<'a>,
    /// Next offset to visit; 0 when done.
    next: usize,
    /// 256 bytes / 4 = 64 dword slots.
    visited: Visited<1>,
}

impl<'a> CapabilityIter<'a> {
    /// Starts at the capabilities pointer of `cfg` (nothing when Status
    /// says there is no list).
    pub fn new(cfg: ConfigSpace<'a>) -> Self {
        let next = cfg.capability_pointer().map_or(0, |p| usize::from(p & !3));
        CapabilityIter {
            cfg,
            next,
            visited: Visited([0; 1]),
        }
    }

    /// Starts at an explicit pointer (for tests and unusual layouts).
    pub fn starting_at(cfg: ConfigSpace<'a>, pointer: u8) -> Self {
        CapabilityIter {
            cfg,
            next: usize::from(pointer & !3),
            visited: Visited([0; 1]),
        }
    }
}

impl Iterator for CapabilityIter<'_> {
    type Item = Result<Capability, CapError>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = std::mem::take(&mut self.next);
        if at == 0 {
            return None;
        }
        let offset = at as u16;
        if at < 0x40 {
            return Some(Err(CapError::PointerIntoHeader { offset }));
        }
        let Some(head) = self.cfg.bytes_at(at, 4) else {
            return Some(Err(CapError::Truncated {
                offset,
                len: self.cfg.len(),
            }));
        };
        if self.visited.test_and_set(at) {
            return Some(Err(CapError::Loop { offset }));
        }
        let (id, next) = (head[0], head[1] & !3);
        if id == 0xff {
            return Some(Err(CapError::Broken { offset }));
        }
        self.next = usize::from(next);
        Some(Ok(Capability {
            offset: at as u8,
            id,
            next,
        }))
    }
}

impl std::iter::FusedIterator for CapabilityIter<'_> {}

/// Iterator over the extended capability chain.
#[derive(Debug, Clone)]
pub struct ExtCapabilityIter<'a> {
    cfg: ConfigSpace<'a>,
    next: usize,
    first: bool,
    /// 4096 bytes / 4 = 1024 dword slots.
    visited: Visited<16>,
}

impl<'a> ExtCapabilityIter<'a> {
    /// Walks from 0x100 regardless of what the standard chain says. Yields
    /// nothing when the bytes end at or before 0x100.
    pub fn new(cfg: ConfigSpace<'a>) -> Self {
        ExtCapabilityIter {
            cfg,
            next: 0x100,
            first: true,
            visited: Visited([0; 16]),
        }
    }

    /// An iterator that yields nothing.
    pub fn empty(cfg: ConfigSpace<'a>) -> Self {
        ExtCapabilityIter {
            next: 0,
            ..Self::new(cfg)
        }
    }
}

impl Iterator for ExtCapabilityIter<'_> {
    type Item = Result<ExtCapability, CapError>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = std::mem::take(&mut self.next);
        let first = std::mem::replace(&mut self.first, false);
        if at == 0 {
            return None;
        }
        let offset = at as u16;
        if at < 0x100 {
            return Some(Err(CapError::PointerIntoStandard { offset }));
        }
        let Some(header) = self.cfg.read_u32(at) else {
            // No extended space at all is not an error, only a pointer
            // into bytes the source did not give us.
            return (!first).then_some(Err(CapError::Truncated {
                offset,
                len: self.cfg.len(),
            }));
        };
        if header == 0 || header == 0xffff_ffff {
            return None;
        }
        if self.visited.test_and_set(at) {
            return Some(Err(CapError::Loop { offset }));
        }
        let next = ((header >> 20) & 0xffc) as u16;
        self.next = usize::from(next);
        Some(Ok(ExtCapability {
            offset,
            id: (header & 0xffff) as u16,
            version: ((header >> 16) & 0xf) as u8,
            next,
        }))
    }
}

impl std::iter::FusedIterator for ExtCapabilityIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// 256 bytes with a capability list: `caps` are (offset, id, next).
    fn std_space(ptr: u8, caps: &[(usize, u8, u8)]) -> Vec<u8> {
        let mut b = vec![0u8; 256];
        b[0x06] = 0x10; // Status.CAP_LIST
        b[0x34] = ptr;
        for &(o, id, next) in caps {
            b[o] = id;
            b[o + 1] = next;
        }
        b
    }

    fn collect(cfg: ConfigSpace<'_>) -> Vec<Result<(u8, u8), CapError>> {
        cfg.capabilities()
            .map(|r| r.map(|c| (c.offset, c.id)))
            .collect()
    }

    #[test]
    fn walks_in_chain_order() {
        let b = std_space(
            0x50,
            &[(0x50, 0x01, 0x70), (0x70, 0x05, 0x60), (0x60, 0x10, 0)],
        );
        assert_eq!(
            collect(ConfigSpace::new(&b)),
            vec![Ok((0x50, 1)), Ok((0x70, 5)), Ok((0x60, 0x10))]
        );
    }

    #[test]
    fn no_list_without_status_bit() {
        let mut b = std_space(0x50, &[(0x50, 0x01, 0)]);
        b[0x06] = 0;
        assert!(collect(ConfigSpace::new(&b)).is_empty());
    }

    #[test]
    fn masks_low_pointer_bits() {
        let b = std_space(0x53, &[(0x50, 0x01, 0x63), (0x60, 0x05, 0)]);
        assert_eq!(
            collect(ConfigSpace::new(&b)),
            vec![Ok((0x50, 1)), Ok((0x60, 5))]
        );
    }

    #[test]
    fn self_loop() {
        let b = std_space(0x40, &[(0x40, 0x01, 0x40)]);
        assert_eq!(
            collect(ConfigSpace::new(&b)),
            vec![Ok((0x40, 1)), Err(CapError::Loop { offset: 0x40 })]
        );
    }

    #[test]
    fn longer_loop() {
        let b = std_space(0x40, &[(0x40, 0x01, 0x80), (0x80, 0x05, 0x40)]);
        let r = collect(ConfigSpace::new(&b));
        assert_eq!(r.len(), 3);
        assert_eq!(r[2], Err(CapError::Loop { offset: 0x40 }));
    }

    #[test]
    fn pointer_into_header() {
        let b = std_space(0x50, &[(0x50, 0x01, 0x10)]);
        assert_eq!(
            collect(ConfigSpace::new(&b)),
            vec![
                Ok((0x50, 1)),
                Err(CapError::PointerIntoHeader { offset: 0x10 })
            ]
        );
        let b = std_space(0x08, &[]);
        assert_eq!(
            collect(ConfigSpace::new(&b)),
            vec![Err(CapError::PointerIntoHeader { offset: 0x08 })]
        );
    }

    #[test]
    fn pointer_past_end_and_truncated_dump() {
        let b = std_space(0x50, &[(0x50, 0x01, 0xfc)]);
        // 0xfc is in range for 256 bytes: reads a null capability (ID 0).
        assert_eq!(collect(ConfigSpace::new(&b)).len(), 2);
        // 0xfe..0x100 cut: the dword at 0xfc is not complete in 0xfe bytes.
        let r = collect(ConfigSpace::new(&b[..0xfe]));
        assert_eq!(
            r[1],
            Err(CapError::Truncated {
                offset: 0xfc,
                len: 0xfe
            })
        );
        // A 64-byte lspci -x dump cuts the chain at its first entry.
        let r = collect(ConfigSpace::new(&b[..64]));
        assert_eq!(
            r,
            vec![Err(CapError::Truncated {
                offset: 0x50,
                len: 64
            })]
        );
    }

    #[test]
    fn broken_chain() {
        let b = std_space(0x50, &[(0x50, 0x01, 0x60), (0x60, 0xff, 0x70)]);
        assert_eq!(
            collect(ConfigSpace::new(&b)),
            vec![Ok((0x50, 1)), Err(CapError::Broken { offset: 0x60 })]
        );
    }

    fn ext_space(entries: &[(usize, u32)]) -> Vec<u8> {
        let mut b = std_space(0x40, &[(0x40, 0x10, 0)]);
        b.resize(4096, 0);
        for &(o, v) in entries {
            b[o..o + 4].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn hdr(id: u16, ver: u32, next: u32) -> u32 {
        u32::from(id) | (ver << 16) | (next << 20)
    }

    fn ext(cfg: ConfigSpace<'_>) -> Vec<Result<(u16, u16, u8), CapError>> {
        cfg.extended_capabilities()
            .map(|r| r.map(|c| (c.offset, c.id, c.version)))
            .collect()
    }

    #[test]
    fn ext_walk() {
        let b = ext_space(&[(0x100, hdr(1, 2, 0x150)), (0x150, hdr(0xd, 1, 0))]);
        assert_eq!(
            ext(ConfigSpace::new(&b)),
            vec![Ok((0x100, 1, 2)), Ok((0x150, 0xd, 1))]
        );
        // 256 bytes: no extended walk at all.
        assert!(ext(ConfigSpace::new(&b[..256])).is_empty());
    }

    #[test]
    fn ext_needs_pcie_or_pcix() {
        let mut b = ext_space(&[(0x100, hdr(1, 2, 0))]);
        b[0x40] = 0x01; // PM, not PCIe
        assert!(ext(ConfigSpace::new(&b)).is_empty());
        assert_eq!(ExtCapabilityIter::new(ConfigSpace::new(&b)).count(), 1);
        b[0x40] = 0x07; // PCI-X
        assert_eq!(ext(ConfigSpace::new(&b)).len(), 1);
    }

    #[test]
    fn ext_terminators() {
        let b = ext_space(&[(0x100, 0xffff_ffff)]);
        assert!(ext(ConfigSpace::new(&b)).is_empty());
        let b = ext_space(&[]);
        assert!(ext(ConfigSpace::new(&b)).is_empty());
        let b = ext_space(&[(0x100, hdr(1, 1, 0x200)), (0x200, 0)]);
        assert_eq!(ext(ConfigSpace::new(&b)).len(), 1);
    }

    #[test]
    fn ext_loops_and_bad_pointers() {
        let b = ext_space(&[(0x100, hdr(1, 1, 0x100))]);
        assert_eq!(
            ext(ConfigSpace::new(&b)),
            vec![Ok((0x100, 1, 1)), Err(CapError::Loop { offset: 0x100 })]
        );
        let b = ext_space(&[(0x100, hdr(1, 1, 0x200)), (0x200, hdr(2, 1, 0x100))]);
        assert_eq!(
            ext(ConfigSpace::new(&b))[2],
            Err(CapError::Loop { offset: 0x100 })
        );
        let b = ext_space(&[(0x100, hdr(1, 1, 0x040))]);
        assert_eq!(
            ext(ConfigSpace::new(&b))[1],
            Err(CapError::PointerIntoStandard { offset: 0x40 })
        );
        // Misaligned next pointer: the low two bits are masked (PCIe §7.6.3).
        let b = ext_space(&[(0x100, hdr(1, 1, 0x203)), (0x200, hdr(3, 1, 0))]);
        assert_eq!(
            ext(ConfigSpace::new(&b)),
            vec![Ok((0x100, 1, 1)), Ok((0x200, 3, 1))]
        );
    }

    #[test]
    fn ext_truncated() {
        let b = ext_space(&[(0x100, hdr(1, 1, 0x300))]);
        let r = ext(ConfigSpace::new(&b[..0x200]));
        assert_eq!(
            r[1],
            Err(CapError::Truncated {
                offset: 0x300,
                len: 0x200
            })
        );
        // Extended space cut inside the first header: nothing, no error.
        assert!(ext(ConfigSpace::new(&b[..0x102])).is_empty());
    }
}
