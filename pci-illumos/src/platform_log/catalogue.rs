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

/// Every recognised message, most specific first.
pub static PATTERNS: &[Pattern] = &[
    Pattern {
        code: "bar-registration-assert",
        origin: Origin::Bhyve,
        source: "bhyve pci_emul.c modify_bar_registration",
        problem: true,
        what: "bhyve aborted: registering a guest BAR failed (assertion error == 0 in modify_bar_registration)",
        cause: "the guest firmware or OS moved a BAR of an emulated or passed-through device to an address where bhyve already has a memory or I/O range registered; seen with guests that re-assign 64-bit BARs of devices with several memory BARs",
        action: "update the platform image and the guest's bootrom (newer UEFI firmware can relocate BARs), try another bootrom or guest OS, and compare the device's BARs (pptctl show -v) with the other devices of the VM",
        before_boot: false,
        needles: &["Assertion failed", "modify_bar_registration"],
        names: Names::Nothing,
    },
    Pattern {
        code: "bar-not-page-aligned",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c cfginitbar",
        problem: true,
        what: "bhyve refused a memory BAR whose base or size is not a multiple of the page size",
        cause: "a memory BAR smaller than 4 KiB or not 4 KiB aligned cannot be mapped into the guest",
        action: "this function cannot be passed through as it is; check its BARs with pptctl check",
        before_boot: false,
        needles: &["passthru device", "not page aligned"],
        names: Names::Nothing,
    },
    Pattern {
        code: "bar-init-failed",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c cfginit",
        problem: true,
        what: "bhyve could not set up the BARs of a passed-through device",
        cause: "a BAR is not page aligned, or the guest address space for BARs is exhausted",
        action: "look at the message before this one; pptctl check shows the BARs",
        before_boot: false,
        needles: &["failed to initialize BARs for PCI"],
        names: Names::Nothing,
    },
    Pattern {
        code: "msi-init-failed",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c cfginit (cfginitmsi)",
        problem: true,
        what: "bhyve found neither an MSI nor an MSI-X capability on a passed-through device",
        cause: "the device has no capability list (bhyve only emulates MSI for devices that have one); legacy INTx is not delivered to guests",
        action: "pass through a device with MSI or MSI-X; pptctl check reports no-msi",
        before_boot: false,
        needles: &["failed to initialize MSI for PCI"],
        names: Names::Nothing,
    },
    Pattern {
        code: "msix-table-failed",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c init_msix_table, ppt.c ppt_devmap",
        problem: true,
        what: "bhyve could not map the BAR that holds the device's MSI-X table",
        cause: "mmap of /dev/pptN failed: the ppt driver maps only the MSI-X table BAR, page aligned",
        action: "check the MSI-X capability and BARs (pptctl show -v); make sure no other process holds the device",
        before_boot: false,
        needles: &["MSI-X table"],
        names: Names::Nothing,
    },
    Pattern {
        code: "msi-setup-failed",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c passthru_cfgwrite_default",
        problem: true,
        what: "bhyve exited: setting up MSI or MSI-X interrupts for a passed-through device failed",
        cause: "vmm refused the interrupt setup: MSI and MSI-X at once (EBUSY), more vectors than the host gave, or no interrupts left",
        action: "see the error text; try fewer vectors in the guest driver or another guest slot",
        before_boot: false,
        needles: &["_pptdev_msi"],
        names: Names::Nothing,
    },
    Pattern {
        code: "mmio-map-failed",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c passthru_mmio_addr, passthru_msix_addr",
        problem: true,
        what: "mapping a device BAR into the guest failed",
        cause: "the guest placed the BAR where vmm cannot map it, or the range is not inside one memory BAR of the device (ppt.c ppt_bar_verify_mmio)",
        action: "update the guest bootrom; compare the BARs with pptctl show -v",
        before_boot: false,
        needles: &["map_pptdev_mmio failed"],
        names: Names::Nothing,
    },
    Pattern {
        code: "memory-not-wired",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c passthru_init",
        problem: true,
        what: "bhyve refused pass-through because guest memory is not wired",
        cause: "bhyve was started without -S (the bhyve brand adds it before the first passthru device)",
        action: "start the VM through vmadm/zoneadm, or add -S when running bhyve by hand",
        before_boot: false,
        needles: &["passthru requires guest memory to be wired"],
        names: Names::Nothing,
    },
    Pattern {
        code: "ppt-open-failed",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c passthru_init",
        problem: true,
        what: "bhyve could not open the /dev/pptN of a passthru device",
        cause: "the /dev/pptN link is missing or stale (the device is not attached to ppt now), or the path option is missing",
        action: "compare the /dev/pptN of each passthru argument with pptctl list -a; reserve the device (pptctl reserve) and reboot if it is not on ppt",
        before_boot: false,
        needles: &["invalid passthru options"],
        names: Names::Nothing,
    },
    Pattern {
        code: "ppt-assign-failed",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c passthru_init (vm_assign_pptdev); vmm.c vm_assign_pptdev; ppt.c ppt_assign_device",
        problem: true,
        what: "vmm refused to assign a passthru device to the VM",
        cause: "the device is assigned to another running VM (EBUSY), there is no IOMMU domain because the IOMMU is off or vmm_vtd is not loaded (ENXIO), or the file is not a ppt device",
        action: "stop the other VM that uses it; enable VT-d in the firmware and check that vmm_vtd loads (pptctl check shows the host IOMMU)",
        before_boot: false,
        needles: &["is not using the ppt driver"],
        names: Names::Nothing,
    },
    Pattern {
        code: "passthru-bad-path",
        origin: Origin::Bhyve,
        source: "bhyve pci_passthru.c passthru_legacy_config",
        problem: true,
        what: "bhyve rejected a passthru path that does not start with /dev/ppt",
        cause: "the passthru argument names something other than a /dev/pptN device",
        action: "configure the device by its /devices path; zoneadmd resolves it to /dev/pptN",
        before_boot: false,
        needles: &["passthru: invalid path"],
        names: Names::Path,
    },
    Pattern {
        code: "guest-slot-occupied",
        origin: Origin::Bhyve,
        source: "bhyve pci_emul.c pci_parse_slot",
        problem: true,
        what: "two devices were given the same guest PCI slot",
        cause: "a pci_slot in the VM configuration collides with another device (disks, NICs, lpc at 31, the host bridge at 0)",
        action: "give each pci_devices entry its own slot (pptctl vm-json picks free ones; vm-json --check validates a payload)",
        before_boot: false,
        needles: &["pci slot", "already occupied"],
        names: Names::GuestSlot,
    },
    Pattern {
        code: "guest-slot-unknown-device",
        origin: Origin::Bhyve,
        source: "bhyve pci_emul.c pci_parse_slot",
        problem: true,
        what: "bhyve does not know the emulation named for a guest slot",
        cause: "a typo or an emulation this bhyve lacks in a -s argument (bhyve_extra_opts, or a model value)",
        action: "correct the model of the device in the VM configuration",
        before_boot: false,
        needles: &["pci slot", "unknown device"],
        names: Names::GuestSlot,
    },
    Pattern {
        code: "memory-retrying",
        origin: Origin::Bhyve,
        source: "bhyve bhyverun.c main (vm_setup_memory, ENOMEM loop)",
        problem: true,
        what: "bhyve cannot allocate the guest memory and retries every second: the VM hangs while starting",
        cause: "pass-through wires all guest memory (-S); the host has not that much free memory to lock",
        action: "lower the VM's ram or free memory on the host (other VMs, the ZFS ARC)",
        before_boot: false,
        needles: &["Unable to allocate memory", "retrying"],
        names: Names::Nothing,
    },
    Pattern {
        code: "memory-setup-failed",
        origin: Origin::Bhyve,
        source: "bhyve bhyverun.c main (vm_setup_memory)",
        problem: true,
        what: "bhyve could not set up the guest memory and exited",
        cause: "wiring the guest memory (-S, required by pass-through) or reserving it failed",
        action: "lower the VM's ram or free memory on the host (other VMs, the ZFS ARC)",
        before_boot: false,
        needles: &["Unable to set", "memory ("],
        names: Names::Nothing,
    },
    Pattern {
        code: "device-init-failed",
        origin: Origin::Bhyve,
        source: "bhyve bhyverun.c main (init_pci)",
        problem: true,
        what: "a device emulation failed to initialise and bhyve exited",
        cause: "the message before it names the device: for passthru, the device could not be opened, assigned or set up",
        action: "read the finding before this one",
        before_boot: false,
        needles: &["Device emulation initialization error"],
        names: Names::Nothing,
    },
    Pattern {
        code: "vm-open-failed",
        origin: Origin::Bhyve,
        source: "bhyve bhyverun.c do_open",
        problem: true,
        what: "bhyve could not open the VM instance it created",
        cause: "the VM already exists in the global zone or another zone",
        action: "destroy the leftover VM instance in the global zone (bhyvectl --vm=NAME --destroy)",
        before_boot: false,
        needles: &["Does the VM already exist"],
        names: Names::Nothing,
    },
    Pattern {
        code: "vm-create-failed",
        origin: Origin::Bhyve,
        source: "bhyve bhyverun.c do_open",
        problem: true,
        what: "bhyve could not create or open the VM instance in vmm",
        cause: "a VM of that name still exists (in the global zone or another zone), or vmm is not loaded",
        action: "check for a leftover VM instance (bhyvectl --vm=NAME --destroy in the global zone) and that vmm is loaded",
        before_boot: false,
        needles: &["vm_create: "],
        names: Names::Nothing,
    },
    Pattern {
        code: "passthru-unresolved",
        origin: Origin::Zoneadmd,
        source: "zoneadmd.c resolve_device_match (libppt ppt_devpath_to_dev)",
        problem: true,
        what: "zoneadmd could not turn a passthru device's /devices path into a /dev/pptN",
        cause: "the device is not attached to ppt now (no ppt_aliases entry at the last boot, or the attach failed), or a stale /dev/ppt link makes libppt's whole listing fail",
        action: "reserve the device for ppt (pptctl reserve) and reboot; remove stale /dev/ppt links; pptctl list -a shows what libppt sees",
        before_boot: true,
        needles: &["failed to resolve passthru device"],
        names: Names::Path,
    },
    Pattern {
        code: "passthru-match-invalid",
        origin: Origin::Zoneadmd,
        source: "zoneadmd.c resolve_device_match",
        problem: true,
        what: "zoneadmd rejected a passthru device whose match value is not a /devices path",
        cause: "the zone configuration names /dev/pptN (or anything else) instead of the device's /devices path",
        action: "configure pci_devices by path (/devices/...), e.g. with pptctl vm-json",
        before_boot: true,
        needles: &["invalid passthru match value"],
        names: Names::Path,
    },
    Pattern {
        code: "hook-environment-failed",
        origin: Origin::Zoneadmd,
        source: "zoneadmd.c do_subproc",
        problem: true,
        what: "zoneadmd could not prepare the environment of the brand's boot program, so the VM was not started",
        cause: "usually a passthru device that did not resolve (the message before this one)",
        action: "fix the device named by the previous message",
        before_boot: true,
        needles: &["failed to setup environment"],
        names: Names::Nothing,
    },
    Pattern {
        code: "brand-no-pci-slot",
        origin: Origin::BrandBoot,
        source: "bhyve brand boot.c add_ppt",
        problem: true,
        what: "a passthru device has no pci_slot in the zone configuration",
        cause: "the VM's pci_devices entry lacks pci_slot",
        action: "give every pci_devices entry a pci_slot (pptctl vm-json)",
        before_boot: false,
        needles: &["Error: device", "has no PCI slot"],
        names: Names::Nothing,
    },
    Pattern {
        code: "brand-illegal-pci-slot",
        origin: Origin::BrandBoot,
        source: "bhyve brand boot.c parse_pcislot",
        problem: true,
        what: "a pci_slot value is not B:D:F (bus ≤ 255, device ≤ 31, function ≤ 7)",
        cause: "a malformed pci_slot in the VM configuration",
        action: "correct the pci_slot (pptctl vm-json --check validates a payload)",
        before_boot: false,
        needles: &["has illegal PCI slot"],
        names: Names::Nothing,
    },
    Pattern {
        code: "brand-device-incomplete",
        origin: Origin::BrandBoot,
        source: "bhyve brand boot.c add_devices",
        problem: true,
        what: "a device resource lacks its path or model",
        cause: "an incomplete device in the zone configuration",
        action: "recreate the device with vmadm update (path, model and pci_slot)",
        before_boot: false,
        needles: &["Error: device", "has no "],
        names: Names::Nothing,
    },
    Pattern {
        code: "brand-too-many-arguments",
        origin: Origin::BrandBoot,
        source: "bhyve brand boot.c add_arg",
        problem: true,
        what: "the bhyve command line would exceed the brand's argument limit",
        cause: "too many devices, disks or bhyve_extra_opts words",
        action: "remove devices or extra options",
        before_boot: false,
        needles: &["Error: too many arguments"],
        names: Names::Nothing,
    },
    Pattern {
        code: "brand-error",
        origin: Origin::BrandBoot,
        source: "bhyve brand boot.c (main and the add_* helpers print Error: …)",
        problem: true,
        what: "the bhyve brand's boot program stopped with an error",
        cause: "the message says which setting or file it could not use",
        action: "correct what the message names in the VM configuration",
        before_boot: false,
        needles: &["Error: "],
        names: Names::Nothing,
    },
    Pattern {
        code: "boot-program-failed",
        origin: Origin::Zoneadmd,
        source: "zoneadmd.c zone_bootup / do_subproc",
        problem: true,
        what: "the brand's boot program failed or was killed, so the zone did not boot",
        cause: "see the messages before this one",
        action: "fix what the earlier messages name",
        before_boot: false,
        needles: &["unexpectedly terminated due to signal"],
        names: Names::Nothing,
    },
    Pattern {
        code: "zoneadmd-call-failed",
        origin: Origin::Zoneadm,
        source: "zoneadm (relayed by vmadm start)",
        problem: true,
        what: "zoneadm reported that the zone could not be started",
        cause: "a consequence: the messages before it give the reason",
        action: "read the findings above this one",
        before_boot: false,
        needles: &["call to zoneadmd failed"],
        names: Names::Nothing,
    },
    Pattern {
        code: "bhyve-assertion",
        origin: Origin::Bhyve,
        source: "bhyve (assert)",
        problem: true,
        what: "bhyve aborted on an internal assertion",
        cause: "the file and function in the message tell which part of bhyve; not one pptctl knows more about",
        action: "report it with the platform image version and this log",
        before_boot: false,
        needles: &["Assertion failed"],
        names: Names::Nothing,
    },
];

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

/// Matches `text` against [`PATTERNS`].
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
}
