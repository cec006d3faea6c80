//! Type 1 (PCI-to-PCI bridge, PCI-to-PCI Bridge Architecture 1.2 §3.2) and
//! type 2 (CardBus bridge, PC Card standard) header fields.

use super::ConfigSpace;

/// An address window a bridge forwards downstream: `base..=limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeWindow {
    /// First address forwarded.
    pub base: u64,
    /// Last address forwarded.
    pub limit: u64,
    /// Whether the window decodes 32-bit I/O or 64-bit memory addresses.
    pub wide: bool,
}

impl BridgeWindow {
    /// A window is disabled when its base lies above its limit (bridge spec
    /// §3.2.5.6); `lspci` prints such windows as `[disabled]`.
    pub fn is_enabled(&self) -> bool {
        self.base <= self.limit
    }
}

/// Fields of a type 1 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeHeader {
    /// Primary bus number (0x18).
    pub primary_bus: u8,
    /// Secondary bus number (0x19).
    pub secondary_bus: u8,
    /// Subordinate bus number (0x1a).
    pub subordinate_bus: u8,
    /// Secondary latency timer (0x1b).
    pub secondary_latency: u8,
    /// I/O window (0x1c/0x1d, upper 16 bits at 0x30); `None` when the
    /// bridge implements no I/O window (base and limit both read 0).
    pub io_window: Option<BridgeWindow>,
    /// Non-prefetchable memory window (0x20/0x22).
    pub memory_window: BridgeWindow,
    /// Prefetchable memory window (0x24/0x26, upper halves 0x28/0x2c);
    /// `None` when not implemented (base and limit both read 0).
    pub prefetchable_window: Option<BridgeWindow>,
    /// Secondary status (0x1e).
    pub secondary_status: u16,
    /// Bridge control (0x3e).
    pub bridge_control: u16,
}

impl BridgeHeader {
    pub(super) fn decode(cfg: &ConfigSpace<'_>) -> Option<Self> {
        let io_base = cfg.read_u8(0x1c)?;
        let io_limit = cfg.read_u8(0x1d)?;
        // I/O window: bits 7:4 are address bits 15:12, bits 3:0 the
        // decode type (0 = 16-bit, 1 = 32-bit with upper halves at 0x30).
        let io_window = if io_base == 0 && io_limit == 0 {
            None
        } else {
            let wide = io_base & 0x0f == 1;
            let (ub, ul) = if wide {
                (
                    u64::from(cfg.read_u16(0x30)?),
                    u64::from(cfg.read_u16(0x32)?),
                )
            } else {
                (0, 0)
            };
            Some(BridgeWindow {
                base: (ub << 16) | (u64::from(io_base & 0xf0) << 8),
                limit: (ul << 16) | (u64::from(io_limit & 0xf0) << 8) | 0xfff,
                wide,
            })
        };
        let mem_base = cfg.read_u16(0x20)?;
        let mem_limit = cfg.read_u16(0x22)?;
        let memory_window = BridgeWindow {
            base: u64::from(mem_base & 0xfff0) << 16,
            limit: (u64::from(mem_limit & 0xfff0) << 16) | 0xf_ffff,
            wide: false,
        };
        let pref_base = cfg.read_u16(0x24)?;
        let pref_limit = cfg.read_u16(0x26)?;
        let prefetchable_window = if pref_base == 0 && pref_limit == 0 {
            None
        } else {
            let wide = pref_base & 0x0f == 1;
            let (ub, ul) = if wide {
                (
                    u64::from(cfg.read_u32(0x28)?),
                    u64::from(cfg.read_u32(0x2c)?),
                )
            } else {
                (0, 0)
            };
            Some(BridgeWindow {
                base: (ub << 32) | (u64::from(pref_base & 0xfff0) << 16),
                limit: (ul << 32) | (u64::from(pref_limit & 0xfff0) << 16) | 0xf_ffff,
                wide,
            })
        };
        Some(BridgeHeader {
            primary_bus: cfg.read_u8(0x18)?,
            secondary_bus: cfg.read_u8(0x19)?,
            subordinate_bus: cfg.read_u8(0x1a)?,
            secondary_latency: cfg.read_u8(0x1b)?,
            io_window,
            memory_window,
            prefetchable_window,
            secondary_status: cfg.read_u16(0x1e)?,
            bridge_control: cfg.read_u16(0x3e)?,
        })
    }
}

/// Fields of a type 2 (CardBus bridge) header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardbusHeader {
    /// CardBus socket/ExCA base address (0x10).
    pub socket_base: u32,
    /// Secondary status (0x16).
    pub secondary_status: u16,
    /// PCI bus number (0x18).
    pub primary_bus: u8,
    /// CardBus bus number (0x19).
    pub cardbus_bus: u8,
    /// Subordinate bus number (0x1a).
    pub subordinate_bus: u8,
    /// CardBus latency timer (0x1b).
    pub cardbus_latency: u8,
    /// Memory windows 0 and 1 (0x1c..0x2b).
    pub memory_windows: [BridgeWindow; 2],
    /// I/O windows 0 and 1 (0x2c..0x3b).
    pub io_windows: [BridgeWindow; 2],
    /// Bridge control (0x3e).
    pub bridge_control: u16,
}

impl CardbusHeader {
    pub(super) fn decode(cfg: &ConfigSpace<'_>) -> Option<Self> {
        let mem = |i: usize| -> Option<BridgeWindow> {
            let at = 0x1c + 8 * i;
            Some(BridgeWindow {
                base: u64::from(cfg.read_u32(at)? & !0xfff),
                limit: u64::from(cfg.read_u32(at + 4)? | 0xfff),
                wide: false,
            })
        };
        let io = |i: usize| -> Option<BridgeWindow> {
            let at = 0x2c + 8 * i;
            let base = cfg.read_u32(at)?;
            let limit = cfg.read_u32(at + 4)?;
            // Bit 0 of the base selects 32-bit I/O decoding.
            let wide = base & 1 != 0;
            let mask: u32 = if wide { !3 } else { 0xfffc };
            Some(BridgeWindow {
                base: u64::from(base & mask),
                limit: u64::from((limit & mask) | 3),
                wide,
            })
        };
        Some(CardbusHeader {
            socket_base: cfg.read_u32(0x10)?,
            secondary_status: cfg.read_u16(0x16)?,
            primary_bus: cfg.read_u8(0x18)?,
            cardbus_bus: cfg.read_u8(0x19)?,
            subordinate_bus: cfg.read_u8(0x1a)?,
            cardbus_latency: cfg.read_u8(0x1b)?,
            memory_windows: [mem(0)?, mem(1)?],
            io_windows: [io(0)?, io(1)?],
            bridge_control: cfg.read_u16(0x3e)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_windows() {
        let mut b = [0u8; 64];
        b[0x0e] = 0x81;
        b[0x18] = 0;
        b[0x19] = 1;
        b[0x1a] = 3;
        b[0x1c] = 0x21; // I/O base 0x2000, 32-bit
        b[0x1d] = 0x21; // limit 0x2fff
        b[0x30] = 0x01; // upper base 0x0001
        b[0x32] = 0x01;
        b[0x20..0x22].copy_from_slice(&0xfe00u16.to_le_bytes());
        b[0x22..0x24].copy_from_slice(&0xfe10u16.to_le_bytes());
        b[0x24..0x26].copy_from_slice(&0xfff1u16.to_le_bytes());
        b[0x26..0x28].copy_from_slice(&0x0001u16.to_le_bytes());
        let cfg = ConfigSpace::new(&b);
        let br = cfg.bridge().unwrap();
        assert_eq!(
            (br.primary_bus, br.secondary_bus, br.subordinate_bus),
            (0, 1, 3)
        );
        let io = br.io_window.unwrap();
        assert_eq!((io.base, io.limit, io.wide), (0x1_2000, 0x1_2fff, true));
        assert_eq!(br.memory_window.base, 0xfe00_0000);
        assert_eq!(br.memory_window.limit, 0xfe1f_ffff);
        let pf = br.prefetchable_window.unwrap();
        assert!(!pf.is_enabled());
        assert!(pf.wide);
        assert!(cfg.cardbus().is_none());
        // A truncated header gives nothing, not a panic.
        assert!(ConfigSpace::new(&b[..0x20]).bridge().is_none());
    }

    #[test]
    fn cardbus_fields() {
        let mut b = [0u8; 128];
        b[0x0e] = 0x02;
        b[0x19] = 5;
        b[0x1a] = 6;
        b[0x2c] = 0x01;
        b[0x30] = 0xff;
        let cfg = ConfigSpace::new(&b);
        let cb = cfg.cardbus().unwrap();
        assert_eq!((cb.cardbus_bus, cb.subordinate_bus), (5, 6));
        assert!(cb.io_windows[0].wide);
        assert_eq!(cb.io_windows[0].limit, 0xff);
        assert!(cfg.bridge().is_none());
    }
}
