//! Selecting functions the way `lspci -s` and `lspci -d` do.
//!
//! Syntax and messages follow pciutils 3.9.0 (lib/filter.c, behaviour
//! only): `-s [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]]` and
//! `-d [VENDOR]:[DEVICE][:CLASS[:PROGIF]]`; an empty field or `*` matches
//! anything, fields are hex with range checks, and in CLASS an `x` matches
//! any digit. The messages are lspci's, so scripts see the same text.

use crate::address::Address;
use crate::function::Identity;

/// Longest expression lspci accepts (its buffer is 64 bytes).
const MAX_EXPR: usize = 63;

/// Why a `-s` or `-d` expression was rejected; the text is lspci's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub &'static str);

/// A parsed `-s` expression; `None` fields match anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotFilter {
    /// Domain.
    pub domain: Option<u32>,
    /// Bus.
    pub bus: Option<u32>,
    /// Device (slot) number.
    pub device: Option<u32>,
    /// Function number.
    pub function: Option<u32>,
}

/// A parsed `-d` expression; `None` fields match anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdFilter {
    /// Vendor ID.
    pub vendor: Option<u32>,
    /// Device ID.
    pub device: Option<u32>,
    /// 16-bit class (base and sub class) with its mask (`x` digits clear
    /// mask bits).
    pub class: Option<(u32, u32)>,
    /// Programming interface.
    pub prog_if: Option<u32>,
}

fn split(s: &str, sep: char, max: usize) -> Result<Vec<&str>, FilterError> {
    let parts: Vec<&str> = s.split(sep).collect();
    if parts.len() > max {
        return Err(FilterError("Too many fields"));
    }
    Ok(parts)
}

fn defined(field: Option<&str>) -> Option<&str> {
    field.filter(|f| !f.is_empty() && *f != "*")
}

/// Parses a hex field with lspci's bound check; `wildcard` allows `x`.
/// Returns (value, mask).
fn hex_field(s: &str, max: u32, wildcard: bool) -> Option<(u32, u32)> {
    let (mut out, mut mask, mut bound) = (0u32, !0u32, 0u32);
    for c in s.chars() {
        if wildcard && (c == 'x' || c == 'X') {
            out = out.wrapping_shl(4);
            bound = bound.wrapping_shl(4) | 1;
            mask = mask.wrapping_shl(4);
        } else {
            let d = c.to_digit(16)?;
            out = out.wrapping_shl(4) | d;
            bound = bound.wrapping_shl(4) | d;
            mask = mask.wrapping_shl(4) | 0xf;
        }
        if bound > max {
            return None;
        }
    }
    Some((out, mask))
}

fn field(s: Option<&str>, max: u32, msg: &'static str) -> Result<Option<u32>, FilterError> {
    match defined(s) {
        None => Ok(None),
        Some(f) => hex_field(f, max, false)
            .map(|(v, _)| Some(v))
            .ok_or(FilterError(msg)),
    }
}

impl SlotFilter {
    /// Parses `[[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]]`.
    pub fn parse(s: &str) -> Result<Self, FilterError> {
        if s.len() > MAX_EXPR {
            return Err(FilterError("Expression too long"));
        }
        let fields = split(s, ':', 3)?;
        let mut f = SlotFilter::default();
        let mut i = 0;
        if fields.len() == 3 {
            f.domain = field(Some(fields[0]), 0x7fff_ffff, "Invalid domain number")?;
            i += 1;
        }
        if fields.len() > i + 1 {
            f.bus = field(Some(fields[i]), 0xff, "Invalid bus number")?;
            i += 1;
        }
        if let Some(dev) = defined(Some(fields[i])) {
            let parts =
                split(dev, '.', 2).map_err(|_| FilterError("Invalid slot/function number"))?;
            f.device = field(parts.first().copied(), 0x1f, "Invalid slot number")?;
            f.function = field(parts.get(1).copied(), 7, "Invalid function number")?;
        }
        Ok(f)
    }

    /// Whether `a` is selected.
    pub fn matches(&self, a: &Address) -> bool {
        self.domain.is_none_or(|d| d == a.domain)
            && self.bus.is_none_or(|b| b == u32::from(a.bus))
            && self.device.is_none_or(|d| d == u32::from(a.device))
            && self.function.is_none_or(|f| f == u32::from(a.function))
    }
}

impl IdFilter {
    /// Parses `[VENDOR]:[DEVICE][:CLASS[:PROGIF]]`.
    pub fn parse(s: &str) -> Result<Self, FilterError> {
        if s.len() > MAX_EXPR {
            return Err(FilterError("Expression too long"));
        }
        let fields = split(s, ':', 4)?;
        if fields.len() < 2 {
            return Err(FilterError("At least two fields must be given"));
        }
        let class = match defined(fields.get(2).copied()) {
            None => None,
            Some(c) => Some(hex_field(c, 0xffff, true).ok_or(FilterError("Invalid class code"))?),
        };
        Ok(IdFilter {
            vendor: field(Some(fields[0]), 0xffff, "Invalid vendor ID")?,
            device: field(Some(fields[1]), 0xffff, "Invalid device ID")?,
            class,
            prog_if: field(
                fields.get(3).copied(),
                0xff,
                "Invalid programming interface code",
            )?,
        })
    }

    /// Whether a function with identity `ids` is selected.
    pub fn matches(&self, ids: &Identity) -> bool {
        let class16 = ids.class >> 8;
        self.vendor.is_none_or(|v| v == u32::from(ids.vendor))
            && self.device.is_none_or(|d| d == u32::from(ids.device))
            && self.class.is_none_or(|(c, m)| (c ^ class16) & m == 0)
            && self.prog_if.is_none_or(|p| p == ids.class & 0xff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Address {
        s.parse().unwrap()
    }

    #[test]
    fn slot_forms() {
        let f = SlotFilter::parse("1f.3").unwrap();
        assert!(f.matches(&a("00:1f.3")) && f.matches(&a("0001:05:1f.3")));
        assert!(!f.matches(&a("00:1f.2")));
        let f = SlotFilter::parse("01:").unwrap();
        assert!(f.matches(&a("01:00.0")) && !f.matches(&a("02:00.0")));
        let f = SlotFilter::parse("1::").unwrap();
        assert!(f.matches(&a("0001:07:00.0")) && !f.matches(&a("07:00.0")));
        let f = SlotFilter::parse(".1").unwrap();
        assert!(f.matches(&a("03:04.1")) && !f.matches(&a("03:04.0")));
        assert_eq!(SlotFilter::parse("*:*.*").unwrap(), SlotFilter::default());
        assert_eq!(SlotFilter::parse("").unwrap(), SlotFilter::default());
    }

    #[test]
    fn slot_errors_are_lspcis() {
        for (s, m) in [
            ("20", "Invalid slot number"),
            ("0.8", "Invalid function number"),
            ("100:0", "Invalid bus number"),
            ("80000000::", "Invalid domain number"),
            ("1:2:3:4", "Too many fields"),
            ("1.2.3", "Invalid slot/function number"),
            ("g", "Invalid slot number"),
        ] {
            assert_eq!(SlotFilter::parse(s).unwrap_err().0, m, "{s}");
        }
        assert_eq!(
            SlotFilter::parse(&"0".repeat(64)).unwrap_err().0,
            "Expression too long"
        );
    }

    #[test]
    fn ids_and_classes() {
        let ids = crate::sources::identity_from_config(&[
            0x86, 0x80, 0x57, 0x0d, 0, 0, 0, 0, 1, 0x02, 0x03, 0x0c,
        ]);
        assert!(IdFilter::parse("8086:").unwrap().matches(&ids));
        assert!(IdFilter::parse(":0d57").unwrap().matches(&ids));
        assert!(!IdFilter::parse("8087:").unwrap().matches(&ids));
        assert!(IdFilter::parse("::0c03").unwrap().matches(&ids));
        assert!(IdFilter::parse("::0cxx").unwrap().matches(&ids));
        assert!(!IdFilter::parse("::0c04").unwrap().matches(&ids));
        assert!(IdFilter::parse("::0c03:02").unwrap().matches(&ids));
        assert!(!IdFilter::parse("::0c03:01").unwrap().matches(&ids));
        assert_eq!(
            IdFilter::parse("8086").unwrap_err().0,
            "At least two fields must be given"
        );
        assert_eq!(
            IdFilter::parse("10000:").unwrap_err().0,
            "Invalid vendor ID"
        );
        assert_eq!(IdFilter::parse(":x").unwrap_err().0, "Invalid device ID");
        assert_eq!(
            IdFilter::parse("::1x000").unwrap_err().0,
            "Invalid class code"
        );
    }
}
