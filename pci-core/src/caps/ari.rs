//! Alternative Routing-ID Interpretation extended capability (PCIe base
//! spec 6.0 §7.8.7): capability at +4, control at +6.

use crate::config::ConfigSpace;

/// Decoded ARI capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ari {
    /// Offset of the capability.
    pub offset: u16,
    /// MFVC function groups capability (bit 0).
    pub mfvc: bool,
    /// ACS function groups capability (bit 1).
    pub acs: bool,
    /// Next function number in the ARI chain (bits 15:8).
    pub next_function: u8,
    /// Function group assigned (control bits 6:4).
    pub function_group: u8,
}

impl Ari {
    /// Decodes the capability at `offset`; `None` when its 8 bytes are
    /// not present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let cap = cfg.read_u16(offset.checked_add(4)?)?;
        let ctl = cfg.read_u16(offset + 6)?;
        Some(Ari {
            offset: offset as u16,
            mfvc: cap & 1 != 0,
            acs: cap & 2 != 0,
            next_function: (cap >> 8) as u8,
            function_group: ((ctl >> 4) & 0x7) as u8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_ari() {
        let mut b = vec![0u8; 0x1000];
        b[0x150..0x158].copy_from_slice(&[0x0e, 0x00, 0x01, 0x16, 0x02, 0x01, 0x20, 0x00]);
        let a = Ari::decode(&ConfigSpace::new(&b), 0x150).unwrap();
        assert_eq!(
            (a.mfvc, a.acs, a.next_function, a.function_group),
            (false, true, 1, 2)
        );
        assert!(Ari::decode(&ConfigSpace::new(&b[..0x157]), 0x150).is_none());
    }
}
