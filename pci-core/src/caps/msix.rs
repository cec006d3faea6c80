//! MSI-X capability (PCI 3.0 §6.8.2): Message Control at +2, Table
//! Offset/BIR at +4, PBA Offset/BIR at +8.

use bitflags::bitflags;

use crate::config::ConfigSpace;

bitflags! {
    /// MSI-X Message Control bits (the table-size field excluded).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MsixControl: u16 {
        /// All vectors masked.
        const FUNCTION_MASK = 1 << 14;
        /// MSI-X enabled.
        const ENABLE = 1 << 15;
    }
}

/// Decoded MSI-X capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiX {
    /// Offset of the capability.
    pub offset: u16,
    /// Message Control, unknown bits kept.
    pub control: MsixControl,
    /// Number of table entries: the 11-bit field plus one.
    pub table_size: u16,
    /// BAR holding the vector table (BIR, 0..=5; 6 and 7 are reserved).
    pub table_bir: u8,
    /// Offset of the table within that BAR.
    pub table_offset: u32,
    /// BAR holding the pending-bit array.
    pub pba_bir: u8,
    /// Offset of the PBA within that BAR.
    pub pba_offset: u32,
}

impl MsiX {
    /// Decodes the capability at `offset`; `None` when its 12 bytes are
    /// not all present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let ctrl = cfg.read_u16(offset.checked_add(2)?)?;
        let table = cfg.read_u32(offset + 4)?;
        let pba = cfg.read_u32(offset + 8)?;
        Some(MsiX {
            offset: offset as u16,
            control: MsixControl::from_bits_retain(ctrl),
            table_size: (ctrl & 0x7ff) + 1,
            table_bir: (table & 0x7) as u8,
            table_offset: table & !0x7,
            pba_bir: (pba & 0x7) as u8,
            pba_offset: pba & !0x7,
        })
    }

    /// MSI-X enabled.
    pub fn enabled(&self) -> bool {
        self.control.contains(MsixControl::ENABLE)
    }

    /// Function mask set.
    pub fn masked(&self) -> bool {
        self.control.contains(MsixControl::FUNCTION_MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_msix() {
        let mut b = [0u8; 0x80];
        // lspci: "MSI-X: Enable+ Count=64 Masked-", "Vector table: BAR=3 offset=00002000",
        // "PBA: BAR=3 offset=00003000".
        b[0x70..0x7c].copy_from_slice(&[
            0x11, 0x00, 0x3f, 0x80, 0x03, 0x20, 0x00, 0x00, 0x03, 0x30, 0x00, 0x00,
        ]);
        let m = MsiX::decode(&ConfigSpace::new(&b), 0x70).unwrap();
        assert_eq!(m.table_size, 64);
        assert!(m.enabled() && !m.masked());
        assert_eq!((m.table_bir, m.table_offset), (3, 0x2000));
        assert_eq!((m.pba_bir, m.pba_offset), (3, 0x3000));
        b[0x72..0x74].copy_from_slice(&0x47ffu16.to_le_bytes());
        let m = MsiX::decode(&ConfigSpace::new(&b), 0x70).unwrap();
        assert_eq!(m.table_size, 2048);
        assert!(m.masked() && !m.enabled());
        assert!(MsiX::decode(&ConfigSpace::new(&b[..0x7b]), 0x70).is_none());
    }
}
