//! MSI capability (PCI 3.0 §6.8.1): Message Control at +2.

use bitflags::bitflags;

use crate::config::ConfigSpace;

bitflags! {
    /// MSI Message Control bits (the two 3-bit count fields excluded).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MsiControl: u16 {
        /// MSI enabled.
        const ENABLE = 1 << 0;
        /// 64-bit message address capable.
        const ADDR64 = 1 << 7;
        /// Per-vector masking capable.
        const MASKABLE = 1 << 8;
    }
}

/// Decoded MSI capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msi {
    /// Offset of the capability.
    pub offset: u16,
    /// Message Control, unknown bits kept.
    pub control: MsiControl,
    /// Vectors the function can request (2^MMC; values 6 and 7 are
    /// reserved and decode as 64 and 128 like lspci's `Count=` does).
    pub vectors_capable: u16,
    /// Vectors enabled by software (2^MME).
    pub vectors_enabled: u16,
    /// Message address (upper half only when 64-bit capable), if present.
    pub address: Option<u64>,
    /// Message data, if present.
    pub data: Option<u16>,
}

impl Msi {
    /// Decodes the capability at `offset`; `None` when the header and
    /// Message Control are not present. Address and data are filled only
    /// when their registers are present too.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let ctrl = cfg.read_u16(offset.checked_add(2)?)?;
        let control = MsiControl::from_bits_retain(ctrl);
        let is64 = control.contains(MsiControl::ADDR64);
        let lo = cfg.read_u32(offset + 4);
        let (address, data_at) = if is64 {
            let hi = cfg.read_u32(offset + 8);
            (
                lo.zip(hi).map(|(l, h)| u64::from(l) | u64::from(h) << 32),
                offset + 12,
            )
        } else {
            (lo.map(u64::from), offset + 8)
        };
        Some(Msi {
            offset: offset as u16,
            control,
            vectors_capable: 1 << ((ctrl >> 1) & 0x7),
            vectors_enabled: 1 << ((ctrl >> 4) & 0x7),
            address,
            data: cfg.read_u16(data_at),
        })
    }

    /// MSI enabled.
    pub fn enabled(&self) -> bool {
        self.control.contains(MsiControl::ENABLE)
    }

    /// 64-bit address capable.
    pub fn is_64bit(&self) -> bool {
        self.control.contains(MsiControl::ADDR64)
    }

    /// Per-vector masking capable.
    pub fn maskable(&self) -> bool {
        self.control.contains(MsiControl::MASKABLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_msi() {
        let mut b = [0u8; 0x60];
        // Control 0x01a5: enable, MMC=2 (4 vectors), MME=2 (4), 64-bit, maskable.
        b[0x50..0x52].copy_from_slice(&[0x05, 0x00]);
        b[0x52..0x54].copy_from_slice(&0x01a5u16.to_le_bytes());
        b[0x54..0x58].copy_from_slice(&0xfee0_0000u32.to_le_bytes());
        b[0x5c..0x5e].copy_from_slice(&0x4021u16.to_le_bytes());
        let m = Msi::decode(&ConfigSpace::new(&b), 0x50).unwrap();
        assert!(m.enabled() && m.is_64bit() && m.maskable());
        assert_eq!((m.vectors_capable, m.vectors_enabled), (4, 4));
        assert_eq!(m.address, Some(0xfee0_0000));
        assert_eq!(m.data, Some(0x4021));
        // 32-bit, 1 vector, disabled.
        b[0x52..0x54].copy_from_slice(&0x0000u16.to_le_bytes());
        let m = Msi::decode(&ConfigSpace::new(&b), 0x50).unwrap();
        assert!(!m.enabled() && !m.is_64bit() && !m.maskable());
        assert_eq!((m.vectors_capable, m.vectors_enabled), (1, 1));
        assert_eq!(m.data, Some(0));
        // Truncated after control: still decodes, without address/data.
        let m = Msi::decode(&ConfigSpace::new(&b[..0x54]), 0x50).unwrap();
        assert_eq!((m.address, m.data), (None, None));
        assert!(Msi::decode(&ConfigSpace::new(&b[..0x53]), 0x50).is_none());
    }
}
