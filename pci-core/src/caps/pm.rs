//! Power Management capability (PCI Bus Power Management Interface spec
//! 1.2 §3.2): PMC at +2, PMCSR at +4.

use bitflags::bitflags;

use crate::config::ConfigSpace;

bitflags! {
    /// Power Management Capabilities (PMC) register bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct PmCapabilities: u16 {
        /// PME clock required.
        const PME_CLOCK = 1 << 3;
        /// Immediate readiness on return to D0.
        const IMM_READINESS = 1 << 4;
        /// Device-specific initialisation required.
        const DSI = 1 << 5;
        /// D1 supported.
        const D1 = 1 << 9;
        /// D2 supported.
        const D2 = 1 << 10;
        /// PME# from D0.
        const PME_D0 = 1 << 11;
        /// PME# from D1.
        const PME_D1 = 1 << 12;
        /// PME# from D2.
        const PME_D2 = 1 << 13;
        /// PME# from D3hot.
        const PME_D3HOT = 1 << 14;
        /// PME# from D3cold.
        const PME_D3COLD = 1 << 15;
    }
}

/// A device power state (PMCSR bits 1:0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerState {
    /// Fully on.
    D0,
    /// Light sleep.
    D1,
    /// Deeper sleep.
    D2,
    /// Off, still powered (config space reachable).
    D3Hot,
}

impl PowerState {
    /// `D0`, `D1`, `D2` or `D3hot`, as lspci spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::D0 => "D0",
            PowerState::D1 => "D1",
            PowerState::D2 => "D2",
            PowerState::D3Hot => "D3hot",
        }
    }
}

/// Decoded Power Management capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerManagement {
    /// Offset of the capability.
    pub offset: u16,
    /// Spec version (PMC bits 2:0): 1 = 1.0, 2 = 1.1, 3 = 1.2.
    pub version: u8,
    /// PMC register.
    pub capabilities: PmCapabilities,
    /// Auxiliary current (PMC bits 8:6), in mA as lspci tabulates it.
    pub aux_current_ma: u16,
    /// Current power state (PMCSR bits 1:0).
    pub state: PowerState,
    /// No_Soft_Reset (PMCSR bit 3): state is kept across D3hot→D0, so a
    /// D3hot cycle does not reset the function (pass-through cares).
    pub no_soft_reset: bool,
    /// PME_En (PMCSR bit 8).
    pub pme_enabled: bool,
    /// PME_Status (PMCSR bit 15).
    pub pme_status: bool,
}

impl PowerManagement {
    /// Decodes the capability at `offset`; `None` when its 8 bytes are
    /// not all present.
    pub fn decode(cfg: &ConfigSpace<'_>, offset: usize) -> Option<Self> {
        let pmc = cfg.read_u16(offset.checked_add(2)?)?;
        let csr = cfg.read_u16(offset.checked_add(4)?)?;
        const AUX: [u16; 8] = [0, 55, 100, 160, 220, 270, 320, 375];
        Some(PowerManagement {
            offset: offset as u16,
            version: (pmc & 0x7) as u8,
            capabilities: PmCapabilities::from_bits_retain(pmc),
            aux_current_ma: AUX[usize::from((pmc >> 6) & 0x7)],
            state: match csr & 0x3 {
                0 => PowerState::D0,
                1 => PowerState::D1,
                2 => PowerState::D2,
                _ => PowerState::D3Hot,
            },
            no_soft_reset: csr & (1 << 3) != 0,
            pme_enabled: csr & (1 << 8) != 0,
            pme_status: csr & (1 << 15) != 0,
        })
    }

    /// D1 supported.
    pub fn d1(&self) -> bool {
        self.capabilities.contains(PmCapabilities::D1)
    }

    /// D2 supported.
    pub fn d2(&self) -> bool {
        self.capabilities.contains(PmCapabilities::D2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_pm() {
        let mut b = [0u8; 0x50];
        // PMC 0xca03: version 3, D1+ D2-, PME(D0+,D1-,D2-,D3hot+,D3cold+).
        b[0x40..0x48].copy_from_slice(&[0x01, 0x00, 0x03, 0xca, 0x0b, 0x01, 0x00, 0x00]);
        let pm = PowerManagement::decode(&ConfigSpace::new(&b), 0x40).unwrap();
        assert_eq!(pm.version, 3);
        assert!(pm.d1());
        assert!(!pm.d2());
        assert!(pm.capabilities.contains(
            PmCapabilities::PME_D0 | PmCapabilities::PME_D3COLD | PmCapabilities::PME_D3HOT
        ));
        assert!(!pm.capabilities.contains(PmCapabilities::PME_D1));
        assert_eq!(pm.state, PowerState::D3Hot);
        assert!(pm.no_soft_reset);
        assert!(pm.pme_enabled);
        assert_eq!(
            PowerManagement::decode(&ConfigSpace::new(&b[..0x45]), 0x40),
            None
        );
        assert_eq!(
            PowerManagement::decode(&ConfigSpace::new(&b), usize::MAX),
            None
        );
    }
}
