//! Command and Status registers and the header type (PCI 3.0 §6.2).

use bitflags::bitflags;

bitflags! {
    /// Command register bits (PCI 3.0 §6.2.2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Command: u16 {
        /// I/O space decoding enabled.
        const IO = 1 << 0;
        /// Memory space decoding enabled.
        const MEMORY = 1 << 1;
        /// May act as bus master (DMA).
        const BUS_MASTER = 1 << 2;
        /// Special cycles.
        const SPECIAL = 1 << 3;
        /// Memory write and invalidate.
        const MWI = 1 << 4;
        /// VGA palette snooping.
        const VGA_SNOOP = 1 << 5;
        /// Parity error response.
        const PARITY = 1 << 6;
        /// Address/data stepping (legacy).
        const STEPPING = 1 << 7;
        /// SERR# driver enable.
        const SERR = 1 << 8;
        /// Fast back-to-back enable.
        const FAST_BACK = 1 << 9;
        /// INTx emulation disabled.
        const INTX_DISABLE = 1 << 10;
    }
}

bitflags! {
    /// Status register bits (PCI 3.0 §6.2.3).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Status: u16 {
        /// Immediate readiness (PCIe).
        const IMM_READY = 1 << 0;
        /// INTx asserted.
        const INTX = 1 << 3;
        /// A capability list exists at the capabilities pointer.
        const CAP_LIST = 1 << 4;
        /// 66 MHz capable.
        const MHZ66 = 1 << 5;
        /// User-definable features (obsolete).
        const UDF = 1 << 6;
        /// Fast back-to-back capable.
        const FAST_BACK = 1 << 7;
        /// Master data parity error.
        const PARITY = 1 << 8;
        /// DEVSEL timing bit 0.
        const DEVSEL_LO = 1 << 9;
        /// DEVSEL timing bit 1.
        const DEVSEL_HI = 1 << 10;
        /// Signalled target abort.
        const SIG_TARGET_ABORT = 1 << 11;
        /// Received target abort.
        const REC_TARGET_ABORT = 1 << 12;
        /// Received master abort.
        const REC_MASTER_ABORT = 1 << 13;
        /// Signalled system error.
        const SIG_SYSTEM_ERROR = 1 << 14;
        /// Detected parity error.
        const DETECTED_PARITY = 1 << 15;
    }
}

/// Layout of the predefined header (header type bits 6:0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderType {
    /// Type 0: an ordinary function (endpoint).
    Normal,
    /// Type 1: PCI-to-PCI bridge.
    Bridge,
    /// Type 2: CardBus bridge.
    Cardbus,
    /// Any other value (bits 6:0).
    Unknown(u8),
}

impl HeaderType {
    /// Decodes the header type register, ignoring the multifunction bit.
    pub(crate) fn from_register(raw: u8) -> Self {
        match raw & 0x7f {
            0 => HeaderType::Normal,
            1 => HeaderType::Bridge,
            2 => HeaderType::Cardbus,
            other => HeaderType::Unknown(other),
        }
    }

    /// The layout number (0, 1, 2 or the unknown value).
    pub fn number(self) -> u8 {
        match self {
            HeaderType::Normal => 0,
            HeaderType::Bridge => 1,
            HeaderType::Cardbus => 2,
            HeaderType::Unknown(n) => n,
        }
    }

    /// Number of BAR slots this layout has (6, 2, 1 for CardBus's socket
    /// register, 0 otherwise).
    pub(crate) fn bar_count(self) -> usize {
        match self {
            HeaderType::Normal => 6,
            HeaderType::Bridge => 2,
            HeaderType::Cardbus => 1,
            HeaderType::Unknown(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_type_masks_multifunction() {
        assert_eq!(HeaderType::from_register(0x81), HeaderType::Bridge);
        assert_eq!(HeaderType::from_register(0x02), HeaderType::Cardbus);
        assert_eq!(HeaderType::from_register(0xff), HeaderType::Unknown(0x7f));
        assert_eq!(HeaderType::from_register(0x80).number(), 0);
    }
}
