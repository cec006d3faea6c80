//! Guest PCI slots: vmadm's `pci_slot` syntax, the slots the bhyve brand
//! keeps for itself, and whether bhyve can describe a bus other than 0.
//!
//! Sources (docs/guest-slots.md restates them):
//!
//! * vmadm `parsePCIslot` (smartos-live `src/vm/node_modules/VM.js`, with
//!   `jsprim.parseInteger`): the syntax and the ranges;
//! * the bhyve brand, illumos-joyent `usr/src/lib/brand/bhyve/zone/boot.c`:
//!   the `pci_slot_t` slots (host bridge 0, CD 3, boot disk 4, other disks
//!   5, NICs 6, framebuffer and xhci tablet 30, LPC 31), `add_ppt` (`-S`
//!   before the first passthru device, `-A` when its bus is above 0) and
//!   `add_bhyve_extra_opts` (the only way a VM adds `-Y`: the brand never
//!   passes it);
//! * bhyve, illumos-gate `usr/src/cmd/bhyve/mptbl.c` `mptable_build`: the
//!   MPtable describes bus 0 only, so with any device on bus 1-255 bhyve
//!   stops ("MPtable is incompatible with multiple PCI hierarchies")
//!   unless `x86.mptable` is false (`-Y`, or `-o x86.mptable=false`;
//!   `bhyverun.c`), and `pci_emul.c` `pci_parse_slot` (bus below
//!   `MAXBUSES` 256, device below `MAXSLOTS` 32, function below `MAXFUNCS`
//!   8; one emulation per bus:device:function).

use std::fmt;

/// Guest bus-0 devices the bhyve brand uses itself, with what uses them.
pub(crate) const RESERVED_DEVICES: [(u8, &str); 7] = [
    (0, "host bridge"),
    (3, "CD-ROM"),
    (4, "boot disk"),
    (5, "disks"),
    (6, "network interfaces"),
    (30, "framebuffer and tablet"),
    (31, "LPC bridge"),
];

/// First guest device `vm-json` uses when `--device` is not given: 8, as in
/// John Levon's 2018 how-to (`0:8:0`, `0:8:1`); 1, 2 and 7 are free as well.
pub const DEFAULT_FIRST_DEVICE: u8 = 8;

/// What the brand uses bus 0 device `device` for, if it is reserved.
pub(crate) fn reserved_use(bus: u8, device: u8) -> Option<&'static str> {
    if bus != 0 {
        return None;
    }
    RESERVED_DEVICES
        .iter()
        .find(|(d, _)| *d == device)
        .map(|(_, what)| *what)
}

/// A guest PCI slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciSlot {
    /// Guest bus, 0–255.
    pub bus: u8,
    /// Guest device, 0–31.
    pub device: u8,
    /// Guest function, 0–7.
    pub function: u8,
}

impl fmt::Display for PciSlot {
    /// `B:D:F` in decimal, the form vmadm and the brand read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.bus, self.device, self.function)
    }
}

/// Why a `pci_slot` string is not valid. Displays as vmadm says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pci_slot \"{text}\" is not valid")]
pub struct SlotError {
    /// The string given.
    pub text: String,
    /// Which rule it breaks (not part of vmadm's message).
    pub reason: String,
}

/// `jsprim.parseInteger` with its default options: optional `+`/`-`, base
/// 10 digits only, nothing else, exact (≤ 2^53).
fn parse_integer(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(format!("`{s}` has no digits"));
    }
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!("`{s}` is not a base-10 integer (unexpected {c:?})"));
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .filter(|v| *v <= 1 << 53)
            .ok_or_else(|| format!("`{s}` is too large"))?;
    }
    Ok(if neg { -v } else { v })
}

/// Parses a `pci_slot` exactly as vmadm does (`parsePCIslot`).
pub fn parse_pci_slot(text: &str) -> Result<PciSlot, SlotError> {
    let err = |reason: String| SlotError {
        text: text.to_string(),
        reason,
    };
    let parts: Vec<&str> = text.split(':').collect();
    let nums = parts
        .iter()
        .map(|p| parse_integer(p))
        .collect::<Result<Vec<i64>, String>>()
        .map_err(err)?;
    let (bus, device, function) = match nums.as_slice() {
        [d] => (0, *d, 0),
        [d, f] => (0, *d, *f),
        [b, d, f] => (*b, *d, *f),
        _ => {
            return Err(err(format!(
                "{} parts; at most 3 (bus:device:function)",
                nums.len()
            )))
        }
    };
    let check = |v: i64, max: i64, what: &str| {
        if (0..=max).contains(&v) {
            Ok(v as u8)
        } else {
            Err(err(format!("{what} {v} is out of range 0-{max}")))
        }
    };
    Ok(PciSlot {
        bus: check(bus, 255, "bus")?,
        device: check(device, 31, "device")?,
        function: check(function, 7, "function")?,
    })
}

/// Whether bhyve builds an MPtable for the VM, from the VM's
/// `bhyve_extra_opts` (the brand adds nothing that changes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mptable {
    /// Built: only bus 0 can hold devices.
    Built,
    /// Turned off (`-Y` or `-o x86.mptable=false`): other buses work.
    Off,
    /// Cannot be told from the options (a `-k` configuration file).
    Unknown(String),
}

/// bhyve's options that take an argument (illumos `bhyverun.c` getopt
/// string `adehuwxACDHIPSWYk:f:o:G:c:s:m:l:B:K:U:`).
const TAKES_ARGUMENT: &[u8] = b"kfoGcsmlBKU";

/// A bhyve configuration boolean as `config.c` `get_config_bool` reads it.
fn config_bool(value: &str) -> Option<bool> {
    let v = value.to_ascii_lowercase();
    match v.as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// What `x86.mptable` ends as after bhyve's getopt reads `extra`, split on
/// spaces and tabs as the brand does (`add_bhyve_extra_opts`); `None` when
/// `extra` does not set it. The last setting wins, as in bhyve.
fn mptable_option(extra: &str) -> Result<Option<bool>, String> {
    let mut words = extra.split([' ', '\t']).filter(|w| !w.is_empty());
    let mut state = None;
    while let Some(word) = words.next() {
        // getopt stops at the first word that is not an option.
        let Some(flags) = word.strip_prefix('-').filter(|f| !f.is_empty()) else {
            break;
        };
        if flags == "-" {
            break;
        }
        for (i, c) in flags.bytes().enumerate() {
            if c == b'Y' {
                state = Some(false);
            } else if TAKES_ARGUMENT.contains(&c) {
                let rest = &flags[i + 1..];
                let arg = if rest.is_empty() {
                    words.next()
                } else {
                    Some(rest)
                };
                match (c, arg) {
                    (b'o', Some(kv)) => {
                        if let Some(v) = kv.strip_prefix("x86.mptable=") {
                            state = Some(config_bool(v).ok_or_else(|| {
                                format!("-o x86.mptable={v} is not a boolean bhyve reads")
                            })?);
                        }
                    }
                    (b'k', _) => {
                        return Err("-k reads a configuration file pptctl does not see".into())
                    }
                    _ => {}
                }
                break;
            }
        }
    }
    Ok(state)
}

/// Whether bhyve builds an MPtable given the VM's `bhyve_extra_opts`
/// (`None`: the VM has none).
pub fn mptable(extra_opts: Option<&str>) -> Mptable {
    match extra_opts.map(mptable_option) {
        None | Some(Ok(None)) => Mptable::Built,
        Some(Ok(Some(true))) => Mptable::Built,
        Some(Ok(Some(false))) => Mptable::Off,
        Some(Err(why)) => Mptable::Unknown(why),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn vmadm_rejects_what_vmadm_rejects() {
        for bad in [
            "0x8",
            "4 ",
            " 4",
            "4:0:0:0",
            "256:0:0",
            "-1:0:0",
            "4:32:0",
            "4:0:8",
            "",
            "4:",
            ":4",
            "4.0",
            "1e1",
            "+",
            "--1",
            "99999999999999999999",
        ] {
            let e = parse_pci_slot(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("pci_slot \"{bad}\" is not valid"));
        }
    }

    #[test]
    fn vmadm_accepts_what_vmadm_accepts() {
        let s = |b, d, f| PciSlot {
            bus: b,
            device: d,
            function: f,
        };
        assert_eq!(parse_pci_slot("4").unwrap(), s(0, 4, 0));
        assert_eq!(parse_pci_slot("+4").unwrap(), s(0, 4, 0));
        assert_eq!(parse_pci_slot("1:2").unwrap(), s(0, 1, 2));
        assert_eq!(parse_pci_slot("0:8:1").unwrap(), s(0, 8, 1));
        assert_eq!(parse_pci_slot("255:31:7").unwrap(), s(255, 31, 7));
        assert_eq!(parse_pci_slot("010").unwrap(), s(0, 10, 0));
        assert_eq!(parse_pci_slot("0:8:1").unwrap().to_string(), "0:8:1");
    }

    #[test]
    fn mptable_follows_bhyves_getopt() {
        assert_eq!(mptable(None), Mptable::Built);
        assert_eq!(mptable(Some("")), Mptable::Built);
        assert_eq!(mptable(Some("-Y")), Mptable::Off);
        assert_eq!(mptable(Some("-c sockets=1,cores=2 -Y")), Mptable::Off);
        assert_eq!(mptable(Some("-HY")), Mptable::Off);
        assert_eq!(mptable(Some("-o x86.mptable=false")), Mptable::Off);
        assert_eq!(mptable(Some("-ox86.mptable=OFF")), Mptable::Off);
        assert_eq!(mptable(Some("-Y -o x86.mptable=true")), Mptable::Built);
        // `-cY` is -c with the argument "Y", not -Y.
        assert_eq!(mptable(Some("-cY")), Mptable::Built);
        assert_eq!(mptable(Some("-c 2 Y")), Mptable::Built);
        // getopt stops at the first word that is not an option.
        assert_eq!(mptable(Some("name -Y")), Mptable::Built);
        assert!(matches!(
            mptable(Some("-k /etc/vm.conf")),
            Mptable::Unknown(_)
        ));
        assert!(matches!(
            mptable(Some("-o x86.mptable=maybe")),
            Mptable::Unknown(_)
        ));
    }
}
