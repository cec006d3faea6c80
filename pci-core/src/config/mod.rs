//! A zero-copy, bounds-checked view of PCI configuration space.
//!
//! [`ConfigSpace`] borrows the raw bytes a source read (64, 256 or 4096 bytes,
//! or any other length a truncated dump left) and decodes registers on
//! demand. Every read is checked: a register that lies (partly) outside the
//! bytes reads as `None`, never as a panic. Register offsets follow the PCI
//! Local Bus Specification 3.0 §6.1–6.2 (type 0/1 headers) and the PC Card
//! (CardBus) specification for type 2.

mod bar;
mod bridge;
mod header;
mod identity;

pub use bar::{Bar, BarError, BarKind, ExpansionRom};
pub use bridge::{BridgeHeader, BridgeWindow, CardbusHeader};
pub use header::{Command, HeaderType, Status};

use crate::caps::{Capability, CapabilityIter, ExtCapability, ExtCapabilityIter};
use crate::function::Function;

/// Size of the configuration space of a conventional PCI function.
pub const PCI_CONFIG_SIZE: usize = 256;
/// Size of the configuration space of a PCI Express (or PCI-X 2.0) function.
pub const PCIE_CONFIG_SIZE: usize = 4096;
/// Size of the predefined header (the part `lspci -x` shows).
pub const HEADER_SIZE: usize = 64;

/// Register offsets of the predefined header (PCI 3.0 §6.1).
pub mod reg {
    /// Vendor ID (16 bits).
    pub const VENDOR_ID: usize = 0x00;
    /// Device ID (16 bits).
    pub const DEVICE_ID: usize = 0x02;
    /// Command register (16 bits).
    pub const COMMAND: usize = 0x04;
    /// Status register (16 bits).
    pub const STATUS: usize = 0x06;
    /// Revision ID (8 bits).
    pub const REVISION: usize = 0x08;
    /// Programming interface (8 bits); class code occupies 0x09..0x0c.
    pub const PROG_IF: usize = 0x09;
    /// Sub class (8 bits).
    pub const SUBCLASS: usize = 0x0a;
    /// Base class (8 bits).
    pub const BASE_CLASS: usize = 0x0b;
    /// Cache line size (8 bits).
    pub const CACHE_LINE_SIZE: usize = 0x0c;
    /// Latency timer (8 bits).
    pub const LATENCY_TIMER: usize = 0x0d;
    /// Header type (8 bits, bit 7 = multifunction).
    pub const HEADER_TYPE: usize = 0x0e;
    /// Built-in self test (8 bits).
    pub const BIST: usize = 0x0f;
    /// First base address register.
    pub const BAR0: usize = 0x10;
    /// Type 0: CardBus CIS pointer.
    pub const CARDBUS_CIS: usize = 0x28;
    /// Type 0: subsystem vendor ID.
    pub const SUBSYSTEM_VENDOR_ID: usize = 0x2c;
    /// Type 0: subsystem ID.
    pub const SUBSYSTEM_ID: usize = 0x2e;
    /// Type 0: expansion ROM base address.
    pub const ROM_ADDRESS: usize = 0x30;
    /// Types 0 and 1: capabilities pointer.
    pub const CAPABILITY_LIST: usize = 0x34;
    /// Type 1: expansion ROM base address.
    pub const BRIDGE_ROM_ADDRESS: usize = 0x38;
    /// Interrupt line (8 bits).
    pub const INTERRUPT_LINE: usize = 0x3c;
    /// Interrupt pin (8 bits, 1 = INTA#).
    pub const INTERRUPT_PIN: usize = 0x3d;
    /// Type 0: Min_Gnt.
    pub const MIN_GNT: usize = 0x3e;
    /// Type 0: Max_Lat.
    pub const MAX_LAT: usize = 0x3f;
    /// Type 2 (CardBus): capabilities pointer.
    pub const CB_CAPABILITY_LIST: usize = 0x14;
    /// Type 2 (CardBus): subsystem vendor ID.
    pub const CB_SUBSYSTEM_VENDOR_ID: usize = 0x40;
    /// Type 2 (CardBus): subsystem ID.
    pub const CB_SUBSYSTEM_ID: usize = 0x42;
}

/// A borrowed view of one function's configuration space.
///
/// Construction never fails; reads outside the bytes give `None`.
///
/// ```
/// use pci_core::config::ConfigSpace;
/// let mut bytes = [0u8; 64];
/// bytes[0..4].copy_from_slice(&[0x86, 0x80, 0x51, 0x01]);
/// let cfg = ConfigSpace::new(&bytes);
/// assert_eq!(cfg.vendor_id(), Some(0x8086));
/// assert_eq!(cfg.device_id(), Some(0x0151));
/// assert_eq!(cfg.read_u32(4096), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigSpace<'a> {
    bytes: &'a [u8],
}

impl<'a> ConfigSpace<'a> {
    /// Wraps raw configuration bytes (offset 0 first).
    pub fn new(bytes: &'a [u8]) -> Self {
        ConfigSpace { bytes }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of bytes available.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when no bytes are available (a source without config space).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// True when bytes beyond 0x100 are present, so extended capabilities
    /// can be read (PCIe base spec §7.2.2: extended space is 0x100..0x1000).
    pub fn has_extended_space(&self) -> bool {
        self.bytes.len() > PCI_CONFIG_SIZE
    }

    /// `len` bytes at `offset`, or `None` when any of them is missing.
    pub(crate) fn bytes_at(&self, offset: usize, len: usize) -> Option<&'a [u8]> {
        let end = offset.checked_add(len)?;
        self.bytes.get(offset..end)
    }

    /// The byte at `offset`.
    pub fn read_u8(&self, offset: usize) -> Option<u8> {
        self.bytes.get(offset).copied()
    }

    /// The little-endian 16-bit word at `offset` (PCI is little-endian).
    pub fn read_u16(&self, offset: usize) -> Option<u16> {
        let b = self.bytes_at(offset, 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    /// The little-endian 32-bit dword at `offset`.
    pub fn read_u32(&self, offset: usize) -> Option<u32> {
        let b = self.bytes_at(offset, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The little-endian 64-bit value at `offset` (two dwords).
    pub fn read_u64(&self, offset: usize) -> Option<u64> {
        let lo = self.read_u32(offset)?;
        let hi = self.read_u32(offset.checked_add(4)?)?;
        Some(u64::from(lo) | (u64::from(hi) << 32))
    }

    /// Vendor ID (0x00). `0xffff` means "no function" on a real bus.
    pub fn vendor_id(&self) -> Option<u16> {
        self.read_u16(reg::VENDOR_ID)
    }

    /// Device ID (0x02).
    pub fn device_id(&self) -> Option<u16> {
        self.read_u16(reg::DEVICE_ID)
    }

    /// Command register (0x04), unknown bits kept.
    pub fn command(&self) -> Option<Command> {
        self.read_u16(reg::COMMAND).map(Command::from_bits_retain)
    }

    /// Status register (0x06), unknown bits kept.
    pub fn status(&self) -> Option<Status> {
        self.read_u16(reg::STATUS).map(Status::from_bits_retain)
    }

    /// Revision ID (0x08).
    pub fn revision(&self) -> Option<u8> {
        self.read_u8(reg::REVISION)
    }

    /// 24-bit class code: base class << 16 | sub class << 8 | prog-if.
    pub fn class_code(&self) -> Option<u32> {
        let b = self.bytes_at(reg::PROG_IF, 3)?;
        Some(u32::from(b[2]) << 16 | u32::from(b[1]) << 8 | u32::from(b[0]))
    }

    /// 16-bit class (base class << 8 | sub class), as `lspci -n` prints it.
    pub fn class_device(&self) -> Option<u16> {
        self.read_u16(reg::SUBCLASS)
    }

    /// Programming interface (0x09).
    pub fn prog_if(&self) -> Option<u8> {
        self.read_u8(reg::PROG_IF)
    }

    /// Cache line size (0x0c), in dwords.
    pub fn cache_line_size(&self) -> Option<u8> {
        self.read_u8(reg::CACHE_LINE_SIZE)
    }

    /// Latency timer (0x0d).
    pub fn latency_timer(&self) -> Option<u8> {
        self.read_u8(reg::LATENCY_TIMER)
    }

    /// Raw header type register (0x0e), including the multifunction bit.
    pub fn header_type_raw(&self) -> Option<u8> {
        self.read_u8(reg::HEADER_TYPE)
    }

    /// Header layout (0x0e bits 6:0).
    pub fn header_type(&self) -> Option<HeaderType> {
        self.header_type_raw().map(HeaderType::from_register)
    }

    /// Multifunction bit (0x0e bit 7).
    pub fn multifunction(&self) -> Option<bool> {
        self.header_type_raw().map(|h| h & 0x80 != 0)
    }

    /// BIST register (0x0f).
    pub fn bist(&self) -> Option<u8> {
        self.read_u8(reg::BIST)
    }

    /// Interrupt line (0x3c): the value firmware/OS wrote, not hardware.
    pub fn interrupt_line(&self) -> Option<u8> {
        self.read_u8(reg::INTERRUPT_LINE)
    }

    /// Interrupt pin (0x3d): 0 none, 1..=4 INTA#..INTD#.
    pub fn interrupt_pin(&self) -> Option<u8> {
        self.read_u8(reg::INTERRUPT_PIN)
    }

    /// Offset of the capabilities-pointer register for this header type:
    /// 0x34 for types 0 and 1, 0x14 for CardBus, `None` for unknown layouts.
    pub(crate) fn capability_pointer_offset(&self) -> Option<usize> {
        match self.header_type()? {
            HeaderType::Normal | HeaderType::Bridge => Some(reg::CAPABILITY_LIST),
            HeaderType::Cardbus => Some(reg::CB_CAPABILITY_LIST),
            HeaderType::Unknown(_) => None,
        }
    }

    /// The capabilities pointer (raw, low two bits included), or `None`
    /// when the Status register says there is no list (PCI 3.0 §6.7) or
    /// the header layout is unknown.
    pub(crate) fn capability_pointer(&self) -> Option<u8> {
        if !self.status()?.contains(Status::CAP_LIST) {
            return None;
        }
        self.read_u8(self.capability_pointer_offset()?)
    }

    /// Subsystem vendor and subsystem ID.
    ///
    /// Type 0 headers hold them at 0x2c/0x2e, CardBus bridges at 0x40/0x42;
    /// PCI-to-PCI bridges have none in the header and use the Subsystem
    /// ID capability (ID 0x0d, PCI-to-PCI Bridge spec 1.2 §6.8).
    pub fn subsystem(&self) -> Option<(u16, u16)> {
        match self.header_type()? {
            HeaderType::Normal => Some((
                self.read_u16(reg::SUBSYSTEM_VENDOR_ID)?,
                self.read_u16(reg::SUBSYSTEM_ID)?,
            )),
            HeaderType::Cardbus => Some((
                self.read_u16(reg::CB_SUBSYSTEM_VENDOR_ID)?,
                self.read_u16(reg::CB_SUBSYSTEM_ID)?,
            )),
            HeaderType::Bridge => {
                let ss = self.ssvid()?;
                Some((ss.subsystem_vendor, ss.subsystem))
            }
            HeaderType::Unknown(_) => None,
        }
    }

    /// The standard capability chain (PCI 3.0 §6.7), lazily walked.
    pub fn capabilities(&self) -> CapabilityIter<'a> {
        CapabilityIter::new(*self)
    }

    /// The extended capability chain (PCIe base spec §7.6), lazily walked.
    ///
    /// Like `lspci`, it is only walked when config space extends past
    /// 0x100 and the standard chain holds a PCI Express or PCI-X
    /// capability: a conventional function has no extended space and what
    /// reads there is often a mirror of the first 256 bytes (pciutils'
    /// `tests/broken-ecaps`). Use [`ExtCapabilityIter::new`] to walk it
    /// unconditionally.
    pub fn extended_capabilities(&self) -> ExtCapabilityIter<'a> {
        let allowed = self.has_extended_space()
            && self
                .capabilities()
                .filter_map(Result::ok)
                .any(|c| c.id == crate::caps::id::PCIE || c.id == crate::caps::id::PCIX);
        if allowed {
            ExtCapabilityIter::new(*self)
        } else {
            ExtCapabilityIter::empty(*self)
        }
    }

    /// The first well-formed standard capability with `id`.
    pub fn find_capability(&self, id: u8) -> Option<Capability> {
        self.capabilities()
            .filter_map(Result::ok)
            .find(|c| c.id == id)
    }

    /// The first well-formed extended capability with `id`.
    pub(crate) fn find_extended_capability(&self, id: u16) -> Option<ExtCapability> {
        self.extended_capabilities()
            .filter_map(Result::ok)
            .find(|c| c.id == id)
    }

    /// Type 1 (PCI-to-PCI bridge) header fields; `None` for other types.
    pub fn bridge(&self) -> Option<BridgeHeader> {
        if self.header_type()? != HeaderType::Bridge {
            return None;
        }
        BridgeHeader::decode(self)
    }

    /// Type 2 (CardBus bridge) header fields; `None` for other types.
    pub fn cardbus(&self) -> Option<CardbusHeader> {
        if self.header_type()? != HeaderType::Cardbus {
            return None;
        }
        CardbusHeader::decode(self)
    }
}

impl Function {
    /// A [`ConfigSpace`] view of this function's raw config bytes (empty
    /// when the source had none).
    pub fn config_space(&self) -> ConfigSpace<'_> {
        ConfigSpace::new(&self.config)
    }

    /// The BARs of this function, with sizes from [`Function::bar_sizes`].
    /// A BAR whose register reads zero but which the OS reports assigned
    /// ([`Function::bar_os`]: an SR-IOV VF's BARs, legacy IDE ports) takes
    /// its kind and address from the OS, as lspci shows it (`[virtual]`).
    pub fn bars(&self) -> Vec<Result<Bar, BarError>> {
        let cfg = self.config_space();
        let mut bars = cfg.bars(&self.bar_sizes);
        for (i, os) in self.bar_os.iter().enumerate() {
            let Some(os) = os else { continue };
            let index = i as u8;
            let (kind, address) = if os.io {
                (BarKind::Io, os.start & !0x3)
            } else if os.mem64 {
                (BarKind::Mem64, os.start & !0xf)
            } else {
                (BarKind::Mem32, os.start & !0xf)
            };
            let from_os = |size| Bar {
                index,
                kind,
                prefetchable: !os.io && os.prefetchable,
                address,
                size,
                raw: 0,
            };
            match bars
                .iter()
                .position(|b| matches!(b, Ok(b) if b.index == index))
            {
                Some(p) => {
                    if let Ok(b) = &bars[p] {
                        if b.raw == 0 {
                            bars[p] = Ok(from_os(b.size));
                        }
                    }
                }
                None => {
                    // Only a zero register inside the header's BAR area that
                    // is not the upper half of a 64-bit BAR.
                    let in_header = cfg.header_type().map_or(0, HeaderType::bar_count) > i;
                    let upper_half = bars.iter().any(
                        |b| matches!(b, Ok(b) if b.kind == BarKind::Mem64 && usize::from(b.index) + 1 == i),
                    );
                    if in_header && !upper_half && cfg.read_u32(0x10 + 4 * i) == Some(0) {
                        bars.push(Ok(from_os(None)));
                    }
                }
            }
        }
        bars.sort_by_key(|b| match b {
            Ok(b) => b.index,
            Err(BarError::Truncated { index, .. } | BarError::Mem64InLastSlot { index, .. }) => {
                *index
            }
        });
        bars
    }

    /// The expansion ROM BAR, with its size from [`Function::rom_size`].
    pub fn expansion_rom(&self) -> Option<ExpansionRom> {
        self.config_space().expansion_rom(self.rom_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let b = [1u8, 2, 3];
        let c = ConfigSpace::new(&b);
        assert_eq!(c.read_u8(2), Some(3));
        assert_eq!(c.read_u8(3), None);
        assert_eq!(c.read_u16(1), Some(0x0302));
        assert_eq!(c.read_u16(2), None);
        assert_eq!(c.read_u32(0), None);
        assert_eq!(c.read_u32(usize::MAX), None);
        assert_eq!(c.bytes_at(usize::MAX, 2), None);
        assert_eq!(c.vendor_id(), Some(0x0201));
        assert_eq!(c.device_id(), None);
        assert_eq!(c.class_code(), None);
    }

    #[test]
    fn empty_is_empty() {
        let c = ConfigSpace::new(&[]);
        assert!(c.is_empty());
        assert_eq!(c.header_type(), None);
        assert_eq!(c.capabilities().count(), 0);
        assert_eq!(c.extended_capabilities().count(), 0);
        assert!(c.bars(&[None; 6]).is_empty());
    }
}
