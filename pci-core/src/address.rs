//! PCI function addresses (`domain:bus:device.function`), parsed and printed
//! the way `lspci` does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The address of one PCI function: `DDDD:BB:DD.F`.
///
/// The domain is 32 bits wide because Linux gives Intel VMD domains numbers
/// above `0xffff` (`10000:00:00.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// PCI segment (domain) number.
    pub domain: u32,
    /// Bus number.
    pub bus: u8,
    /// Device number, 0..=31.
    pub device: u8,
    /// Function number, 0..=7.
    pub function: u8,
}

/// Why a string is not a PCI address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PCI address `{}`: {reason}", crate::text::Escaped(.text))]
pub struct AddressError {
    /// The text that was parsed.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Address {
    /// Builds an address, checking the device (0..=31) and function (0..=7) ranges.
    pub fn new(domain: u32, bus: u8, device: u8, function: u8) -> Option<Self> {
        (device < 32 && function < 8).then_some(Address {
            domain,
            bus,
            device,
            function,
        })
    }

    /// The address as `BB:DD.F` (no domain), as lspci prints it without `-D`.
    pub fn short(&self) -> String {
        format!("{:02x}:{:02x}.{:x}", self.bus, self.device, self.function)
    }

    /// The same physical device (domain, bus, device), any function.
    pub fn same_device(&self, other: &Address) -> bool {
        self.domain == other.domain && self.bus == other.bus && self.device == other.device
    }
}

impl fmt::Display for Address {
    /// Full form `DDDD:BB:DD.F`, as `lspci -D` and Linux sysfs spell it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.domain, self.bus, self.device, self.function
        )
    }
}

impl FromStr for Address {
    type Err = AddressError;

    /// Parses `DDDD:BB:DD.F` or `BB:DD.F` (hex, either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| AddressError {
            text: s.to_string(),
            reason,
        };
        let (head, func) = s
            .rsplit_once('.')
            .ok_or_else(|| err("missing `.function`"))?;
        let mut parts: Vec<&str> = head.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(err("expected [domain:]bus:device.function"));
        }
        let domain = if parts.len() == 3 {
            let d = parts.remove(0);
            hex_field(d, 8).ok_or_else(|| err("bad domain"))?
        } else {
            0
        };
        let bus = hex_field(parts[0], 2).ok_or_else(|| err("bad bus"))?;
        let device = hex_field(parts[1], 2).ok_or_else(|| err("bad device"))?;
        let function = hex_field(func, 1).ok_or_else(|| err("bad function"))?;
        let bus = u8::try_from(bus).map_err(|_| err("bus out of range"))?;
        if device > 31 {
            return Err(err("device out of range (0-1f)"));
        }
        if function > 7 {
            return Err(err("function out of range (0-7)"));
        }
        Ok(Address {
            domain,
            bus,
            device: device as u8,
            function: function as u8,
        })
    }
}

/// Parses 1..=`max_len` hex digits.
fn hex_field(s: &str, max_len: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let a: Address = "0000:03:00.1".parse().unwrap();
        assert_eq!(a, Address::new(0, 3, 0, 1).unwrap());
        assert_eq!(a.to_string(), "0000:03:00.1");
        assert_eq!(a.short(), "03:00.1");
        let b: Address = "1F:1f.7".parse().unwrap();
        assert_eq!(b.to_string(), "0000:1f:1f.7");
        let c: Address = "10000:00:00.0".parse().unwrap();
        assert_eq!(c.to_string(), "10000:00:00.0");
    }

    #[test]
    fn rejects_bad() {
        for bad in [
            "",
            "00:00",
            "00:20.0",
            "00:00.8",
            "100:00.0",
            "x:00.0",
            "0:0:0:0.0",
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
    }
}
