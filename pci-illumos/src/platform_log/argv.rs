//! bhyve's argument vector as the bhyve brand built it: the
//! `add_arg: argv[N]='VALUE'` lines (illumos-joyent
//! `usr/src/lib/brand/bhyve/zone/boot.c`, `add_arg`), and the `-s` slot
//! specifications in it.
//!
//! A `-s` value is `SLOT,EMULATION[,CONFIG]` where SLOT is `B:D:F`, `D:F` or
//! `D` (bhyve `usr/src/cmd/bhyve/common/pci_emul.c`, `pci_parse_slot`); the
//! brand writes pass-through devices as `B:D:F,passthru,PATH`
//! (boot.c `add_ppt`), adding `-S` (wired guest memory) before the first
//! one and `-A` when a bus other than 0 is used.

use serde::Serialize;

/// Parses `add_arg: argv[N]='VALUE'`; a line cut before the closing quote
/// keeps what is there.
pub(crate) fn parse_add_arg(text: &str) -> Option<(usize, String)> {
    let rest = text.split_once("add_arg: argv[")?.1;
    let (index, rest) = rest.split_once("]='")?;
    let index: usize = index.parse().ok()?;
    let value = rest.strip_suffix('\'').unwrap_or(rest);
    Some((index, value.to_string()))
}

/// A guest PCI slot `bus:device:function`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct GuestSlot {
    /// Guest bus (0..=255).
    pub bus: u8,
    /// Guest device (0..=31).
    pub device: u8,
    /// Guest function (0..=7).
    pub function: u8,
}

impl std::fmt::Display for GuestSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.bus, self.device, self.function)
    }
}

impl GuestSlot {
    /// Parses bhyve's `B:D:F`, `D:F` or `D`, with its limits (bus ≤ 255,
    /// device ≤ 31, function ≤ 7).
    pub fn parse(s: &str) -> Option<GuestSlot> {
        let parts: Vec<&str> = s.split(':').collect();
        let nums: Option<Vec<u32>> = parts.iter().map(|p| p.trim().parse().ok()).collect();
        let nums = nums?;
        let (b, d, f) = match nums.as_slice() {
            [d] => (0, *d, 0),
            [d, f] => (0, *d, *f),
            [b, d, f] => (*b, *d, *f),
            _ => return None,
        };
        if b > 255 || d > 31 || f > 7 {
            return None;
        }
        Some(GuestSlot {
            bus: b as u8,
            device: d as u8,
            function: f as u8,
        })
    }
}

/// One `-s` argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotArg {
    /// Index of the value in argv.
    pub argv_index: usize,
    /// Log line of the value.
    pub line: usize,
    /// The guest slot, when it parses.
    pub slot: Option<GuestSlot>,
    /// The slot text as written.
    pub slot_text: String,
    /// The emulation (`passthru`, `virtio-blk`, `lpc`, ...).
    pub emulation: String,
    /// The rest (`/dev/ppt0`, a disk path, options).
    pub config: String,
}

impl SlotArg {
    /// Parses a `-s` value.
    pub fn parse(value: &str, argv_index: usize, line: usize) -> SlotArg {
        let mut parts = value.splitn(3, ',');
        let slot_text = parts.next().unwrap_or_default().to_string();
        let emulation = parts.next().unwrap_or_default().to_string();
        let config = parts.next().unwrap_or_default().to_string();
        SlotArg {
            argv_index,
            line,
            slot: GuestSlot::parse(&slot_text),
            slot_text,
            emulation,
            config,
        }
    }

    /// The device path of a pass-through slot: the first option without
    /// `=` (bhyve `pci_passthru.c`, `passthru_legacy_config`), or `path=`.
    pub fn passthru_path(&self) -> Option<&str> {
        if self.emulation != "passthru" {
            return None;
        }
        self.config
            .split(',')
            .find_map(|o| match o.split_once('=') {
                None if !o.is_empty() => Some(o),
                Some(("path", v)) => Some(v),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_add_arg_and_slots() {
        assert_eq!(
            parse_add_arg("add_arg: argv[26]='0:8:1,passthru,/dev/ppt1'"),
            Some((26, "0:8:1,passthru,/dev/ppt1".to_string()))
        );
        assert_eq!(parse_add_arg("add_arg:"), None);
        assert_eq!(
            parse_add_arg("add_arg: argv[5]='cut"),
            Some((5, "cut".to_string()))
        );
        let s = SlotArg::parse("0:8:1,passthru,/dev/ppt1", 26, 9);
        assert_eq!(s.slot.unwrap().to_string(), "0:8:1");
        assert_eq!(s.passthru_path(), Some("/dev/ppt1"));
        let s = SlotArg::parse("31,lpc", 7, 1);
        assert_eq!(s.slot.unwrap().to_string(), "0:31:0");
        assert_eq!(s.passthru_path(), None);
        assert_eq!(GuestSlot::parse("6:0").unwrap().to_string(), "0:6:0");
        assert_eq!(GuestSlot::parse("0:32:0"), None);
        assert_eq!(GuestSlot::parse("x"), None);
    }
}
