//! Names for the terse line, formatted as libpci's `pci_lookup_name` does
//! (pciutils lib/names.c, behaviour only): the class falls back to the
//! base class with the number, or `Class cccc`; vendor/device fall back to
//! `Device vvvv:dddd` or `Vendor Device dddd`; `-nn` appends the numbers in
//! brackets. lspci formats into 128-byte buffers, so a longer result ends
//! in `...` at 127 bytes; we cut the same way.

use pci_core::names::PciNames;

use super::Naming;

/// lspci's name buffer size.
const BUF: usize = 128;

/// Cuts `s` as `snprintf` into a 128-byte buffer and lspci's `...` mark do.
fn fit(s: String) -> String {
    if s.len() < BUF {
        return s;
    }
    let mut b = s.into_bytes();
    b.truncate(BUF - 4);
    b.extend_from_slice(b"...");
    String::from_utf8_lossy(&b).into_owned()
}

/// The class part: `Host bridge`, `Bridge [0680]`, `Class ff00`, or with
/// `-nn` `Host bridge [0600]`.
pub fn class(names: &PciNames, class16: u16, naming: Naming) -> String {
    let num = format!("{class16:04x}");
    let (base, sub) = ((class16 >> 8) as u8, class16 as u8);
    let s = match (names.subclass(base, sub), names.class(base), naming) {
        (Some(n), _, Naming::Names) => n.to_string(),
        (Some(n), _, _) => format!("{n} [{num}]"),
        // Only the base class is known: lspci adds the full number.
        (None, Some(n), _) => format!("{n} [{num}]"),
        (None, None, Naming::Names) => format!("Class {num}"),
        (None, None, _) => format!("Class [{num}]"),
    };
    fit(s)
}

/// The vendor/device part.
pub fn vendor_device(names: &PciNames, vendor: u16, device: u16, naming: Naming) -> String {
    let num = format!("{vendor:04x}:{device:04x}");
    let v = names.vendor(vendor);
    let d = names.device(vendor, device);
    let s = match (v, d, naming) {
        (Some(v), Some(d), Naming::Names) => format!("{v} {d}"),
        (Some(v), Some(d), _) => format!("{v} {d} [{num}]"),
        (None, _, Naming::Names) => format!("Device {num}"),
        (None, _, _) => format!("Device [{num}]"),
        (Some(v), None, Naming::Names) => format!("{v} Device {device:04x}"),
        (Some(v), None, _) => format!("{v} Device [{num}]"),
    };
    fit(s)
}

/// The subsystem as `lspci -v` names it: `Vendor Device`, falling back
/// to `Vendor Device dddd` and `Device vvvv:dddd` like the pair above.
pub fn subsystem(names: &PciNames, ids: (u16, u16), sub: (u16, u16), naming: Naming) -> String {
    let num = format!("{:04x}:{:04x}", sub.0, sub.1);
    if naming == Naming::Numeric {
        return num;
    }
    let v = names.vendor(sub.0);
    // A subsystem that repeats the function's own ids is the device itself:
    // lspci names it by the device entry and does not look for a
    // subsystem entry (pciutils lib/names.c, pci_lookup_name, case
    // PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE).
    let d = if sub == ids {
        names.device(ids.0, ids.1)
    } else {
        names.subsystem(ids.0, ids.1, sub.0, sub.1)
    };
    let s = match (v, d, naming) {
        (Some(v), Some(d), Naming::Names) => format!("{v} {d}"),
        (Some(v), Some(d), _) => format!("{v} {d} [{num}]"),
        (None, _, Naming::Names) => format!("Device {num}"),
        (None, _, _) => format!("Device [{num}]"),
        (Some(v), None, Naming::Names) => format!("{v} Device {:04x}", sub.1),
        (Some(v), None, _) => format!("{v} Device [{num}]"),
    };
    fit(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subsystem_equal_to_the_device_is_named_by_the_device() {
        let n = PciNames::from_text(
            "pci.ids".into(),
            "1af4  Red Hat, Inc.\n\t1041  Virtio 1.0 network device\n\t1000  Virtio network device\n".into(),
        );
        assert_eq!(
            subsystem(&n, (0x1af4, 0x1041), (0x1af4, 0x1041), Naming::Names),
            "Red Hat, Inc. Virtio 1.0 network device"
        );
        // Another pair still needs a subsystem entry.
        assert_eq!(
            subsystem(&n, (0x1af4, 0x1041), (0x1af4, 0x1000), Naming::Names),
            "Red Hat, Inc. Device 1000"
        );
    }

    #[test]
    fn long_names_are_cut_like_lspci() {
        let s = fit("x".repeat(200));
        assert_eq!(s.len(), 127);
        assert!(s.ends_with("x..."));
        assert_eq!(fit("short".into()), "short");
    }
}
