//! The messages bhyve, zoneadmd and the bhyve brand write when
//! pass-through goes wrong, each with the source that writes it.
//!
//! The texts were read in the public sources (facts, not code):
//!
//! * bhyve, `usr/src/cmd/bhyve/common/pci_passthru.c` (illumos-gate
//!   5c4a5fe1): `passthru_init`, `cfginit`, `cfginitbar`, `init_msix_table`,
//!   `passthru_legacy_config`, `passthru_cfgwrite_default`,
//!   `passthru_mmio_addr`/`passthru_msix_addr`;
//! * bhyve, `usr/src/cmd/bhyve/common/pci_emul.c`:
//!   `modify_bar_registration` (`assert(error == 0)` after
//!   `register_mem`/`register_inout`) and `pci_parse_slot`;
//! * bhyve, `usr/src/cmd/bhyve/common/bhyverun.c` (illumos-gate 34d47eb9):
//!   `main` (`Unable to allocate memory (…), retrying in 1 second` while
//!   `vm_setup_memory` fails with ENOMEM, `Unable to set up memory (%d)`,
//!   `Device emulation initialization error: …` after `init_pci`) and
//!   `do_open` (`vm_create` via perror, `Does the VM already exist in the
//!   global or another zone?`); older bhyve spells it `Unable to setup memory`;
//! * zoneadmd, illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`:
//!   `resolve_device_match`, `do_subproc`, `zone_bootup`;
//! * the bhyve brand, illumos-joyent `usr/src/lib/brand/bhyve/zone/boot.c`:
//!   `add_arg`, `parse_pcislot`, `add_ppt`, `add_devices`;
//! * the ppt driver and vmm (illumos-gate `usr/src/uts/intel/io/vmm/io/ppt.c`
//!   `ppt_assign_device`, `vmm.c` `vm_assign_pptdev`) write nothing to
//!   platform.log; their error numbers reach it through bhyve's messages
//!   (docs/illumos.md), which [`errno_hint`] explains.

use serde::Serialize;

/// Who writes a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The bhyve process (its stderr).
    Bhyve,
    /// zoneadmd itself.
    Zoneadmd,
    /// The bhyve brand's boot program run by zoneadmd.
    BrandBoot,
    /// zoneadm or vmadm relaying a failure.
    Zoneadm,
}

/// What kind of device reference a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
    /// The message names no device.
    Nothing,
    /// A `/dev/pptN` or `/devices/...` path appears in the text.
    Path,
    /// A guest slot `B:D:F` follows `pci slot `.
    GuestSlot,
    /// The configured `pci_slot` text follows `illegal PCI slot: ` (the
    /// brand's `parse_pcislot` prints the parsed device number before it,
    /// which names no device).
    SlotText,
}

/// A recognised message: how to spot it and what it means.
#[derive(Debug)]
pub struct Pattern {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// Who writes it.
    pub origin: Origin,
    /// Source file and function that write it.
    pub source: &'static str,
    /// Whether seeing it means the VM did not start as configured.
    pub problem: bool,
    /// What happened, in plain words.
    pub what: &'static str,
    /// The likely cause.
    pub cause: &'static str,
    /// What to do.
    pub action: &'static str,
    /// Whether zoneadmd writes it before the brand's boot program runs
    /// (so it begins a new boot attempt in the log).
    pub before_boot: bool,
    /// Every one of these must occur in the text.
    needles: &'static [&'static str],
    names: Names,
}

/// A message matched to a [`Pattern`], with the device it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// The pattern.
    pub pattern: &'static Pattern,
    /// A `/dev/pptN`, `/devices/...` path or guest slot named in the text.
    pub device: Option<String>,
    /// The system error text at the end of the message (`: Device busy`).
    pub errno: Option<String>,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for Pattern {}

mod patterns;

pub(crate) use patterns::PATTERNS;

/// The first `/dev/pptN` or `/devices/...` path in `text`.
fn path_in(text: &str) -> Option<String> {
    for start in ["/dev/ppt", "/devices/"] {
        if let Some(i) = text.find(start) {
            let tail = &text[i..];
            let end = tail
                .find(|c: char| {
                    c.is_whitespace()
                        || c == '\''
                        || c == '"'
                        || c == ':' && tail.starts_with("/dev/")
                })
                .unwrap_or(tail.len());
            let p = tail[..end].trim_end_matches([',', '.', ':']);
            return Some(p.to_string());
        }
    }
    None
}

/// The `B:D:F` after `pci slot `.
fn slot_in(text: &str) -> Option<String> {
    let rest = text.split_once("pci slot ")?.1;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let s = rest[..end].trim_end_matches(':');
    (!s.is_empty()).then(|| s.to_string())
}

/// The `pci_slot` text after `illegal PCI slot: `, as configured.
fn slot_text_in(text: &str) -> Option<String> {
    let rest = text.split_once("illegal PCI slot: ")?.1.trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The `strerror` text zoneadmd appends (`…: No such file or directory`)
/// or bhyve's `err(3C)` appends.
fn errno_in(text: &str) -> Option<String> {
    const KNOWN: &[&str] = &[
        "Device busy",
        "No such device or address",
        "No such file or directory",
        "No such device",
        "Not enough space",
        "Resource temporarily unavailable",
        "Permission denied",
        "Invalid argument",
        "Operation not supported",
    ];
    KNOWN
        .iter()
        .find(|k| text.ends_with(*k))
        .map(|k| k.to_string())
}

/// What an error text from the ppt driver or vmm means for pass-through
/// (illumos-gate `ppt.c` `ppt_assign_device` EBUSY, MSI and MSI-X exclusive
/// with EBUSY; `vmm.c` `vm_assign_pptdev` ENXIO without an IOMMU domain).
pub fn errno_hint(errno: &str) -> Option<&'static str> {
    Some(match errno {
        "Device busy" => "EBUSY: the device is assigned to another VM, or MSI and MSI-X were both requested (ppt.c)",
        "No such device or address" => "ENXIO: vmm could not create an IOMMU domain; VT-d off or vmm_vtd not loaded (vmm.c vm_assign_pptdev)",
        "No such file or directory" => "ENOENT: no /dev/pptN (libppt found no ppt device with that path)",
        "Not enough space" | "Resource temporarily unavailable" => "the host could not lock the memory or interrupts asked for",
        _ => return None,
    })
}

/// Every distinct needle of [`PATTERNS`], and per first byte the needles
/// that start with it: one pass over a line finds all needles in it.
struct NeedleIndex {
    needles: Vec<&'static str>,
    by_first_byte: Vec<Vec<usize>>,
}

fn needle_index() -> &'static NeedleIndex {
    static INDEX: std::sync::OnceLock<NeedleIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut needles: Vec<&'static str> = Vec::new();
        for p in PATTERNS {
            for n in p.needles {
                if !needles.contains(n) {
                    needles.push(n);
                }
            }
        }
        let mut by_first_byte = vec![Vec::new(); 256];
        for (i, n) in needles.iter().enumerate() {
            if let Some(&b) = n.as_bytes().first() {
                by_first_byte[usize::from(b)].push(i);
            }
        }
        NeedleIndex {
            needles,
            by_first_byte,
        }
    })
}

/// Which needles occur in `text`, as a bit set over the index.
fn needles_in(text: &str) -> u128 {
    let idx = needle_index();
    let bytes = text.as_bytes();
    let mut found = 0u128;
    for (i, &b) in bytes.iter().enumerate() {
        for &n in &idx.by_first_byte[usize::from(b)] {
            if bytes[i..].starts_with(idx.needles[n].as_bytes()) {
                found |= 1 << n;
            }
        }
    }
    found
}

/// Matches `text` against the catalogue's patterns.
pub fn recognise(text: &str) -> Option<Recognised> {
    let found = needles_in(text);
    if found == 0 {
        return None;
    }
    let idx = needle_index();
    let bit = |n: &str| {
        idx.needles
            .iter()
            .position(|x| *x == n)
            .map_or(0, |i| 1u128 << i)
    };
    let pattern = PATTERNS
        .iter()
        .find(|p| p.needles.iter().all(|n| found & bit(n) != 0))?;
    let device = match pattern.names {
        Names::Nothing => path_in(text),
        Names::Path => path_in(text),
        Names::GuestSlot => slot_in(text),
        Names::SlotText => slot_text_in(text),
    };
    Some(Recognised {
        pattern,
        device,
        errno: errno_in(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sourced() {
        let mut codes: Vec<&str> = PATTERNS.iter().map(|p| p.code).collect();
        codes.sort();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
        assert!(PATTERNS
            .iter()
            .all(|p| !p.source.is_empty() && !p.needles.is_empty()));
        assert!(
            needle_index().needles.len() <= 128,
            "the needle set is a u128"
        );
    }

    #[test]
    fn every_code_is_documented() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/diagnose.md"))
                .unwrap();
        for p in PATTERNS {
            assert!(
                doc.contains(&format!("| `{}` |", p.code)),
                "{} missing from docs/diagnose.md",
                p.code
            );
        }
    }

    #[test]
    fn recognises_the_field_messages() {
        let r = recognise(
            "Assertion failed: error == 0, file pci_emul.c, line 517, function modify_bar_registration",
        )
        .unwrap();
        assert_eq!(r.pattern.code, "bar-registration-assert");
        let r = recognise(
            "failed to resolve passthru device /devices/pci@0,0/pci8086,151@1/display@0: No such file or directory",
        )
        .unwrap();
        assert_eq!(r.pattern.code, "passthru-unresolved");
        assert_eq!(
            r.device.as_deref(),
            Some("/devices/pci@0,0/pci8086,151@1/display@0")
        );
        assert_eq!(r.errno.as_deref(), Some("No such file or directory"));
        let r = recognise("pci slot 0:8:0 already occupied!").unwrap();
        assert_eq!(r.pattern.code, "guest-slot-occupied");
        assert_eq!(r.device.as_deref(), Some("0:8:0"));
        let r = recognise("invalid passthru match value '/dev/ppt1'").unwrap();
        assert_eq!(r.device.as_deref(), Some("/dev/ppt1"));
        let r = recognise("Assertion failed: x, file foo.c, line 1, function bar").unwrap();
        assert_eq!(r.pattern.code, "bhyve-assertion");
        assert!(recognise("add_arg: argv[2]='-U'").is_none());
        let code = |t: &str| recognise(t).map(|r| r.pattern.code);
        assert_eq!(
            code("Unable to set up memory (12)"),
            Some("memory-setup-failed")
        );
        assert_eq!(
            code("Unable to setup memory (12)"),
            Some("memory-setup-failed")
        );
        assert_eq!(
            code("Unable to allocate memory (4294967296), retrying in 1 second"),
            Some("memory-retrying")
        );
        assert_eq!(
            code("Device emulation initialization error: Device busy"),
            Some("device-init-failed")
        );
        assert_eq!(
            recognise("Device emulation initialization error: Device busy")
                .unwrap()
                .errno
                .as_deref(),
            Some("Device busy")
        );
        assert_eq!(
            code("PCI device at 5 is not using the ppt driver"),
            Some("ppt-assign-failed")
        );
        assert_eq!(
            code("Error: device _x has no PCI slot"),
            Some("brand-no-pci-slot")
        );
        assert_eq!(
            code("Error: cannot open zone root '/z/root': x"),
            Some("brand-error")
        );
    }

    /// pci_passthru.c init_msix_table warns and goes on when mprotect
    /// fails; only the mmap failure (and cfginit's own message) fail.
    #[test]
    fn the_unmap_warning_is_no_failure() {
        let r = recognise("Failed to unmap MSI-X table BAR region: Not enough space").unwrap();
        assert_eq!(r.pattern.code, "msix-unmap-warning");
        assert!(!r.pattern.problem);
        let r = recognise("Failed to map MSI-X table BAR on 5: Invalid argument").unwrap();
        assert_eq!(r.pattern.code, "msix-table-failed");
        assert!(r.pattern.problem);
        let r = recognise("failed to initialize MSI-X table for PCI 5").unwrap();
        assert_eq!(r.pattern.code, "msix-table-failed");
    }

    /// boot.c parse_pcislot prints `*devp` (a number) and then the slot
    /// text: the slot text is what names the device.
    #[test]
    fn an_illegal_slot_names_its_text_not_the_number() {
        let r = recognise("Error: device 8 has illegal PCI slot: 0:8:9").unwrap();
        assert_eq!(r.pattern.code, "brand-illegal-pci-slot");
        assert_eq!(r.device.as_deref(), Some("0:8:9"));
    }
}
