//! The rules, as data. Codes are stable (scripts read them from `--json`);
//! each rule cites where it comes from. Nothing here is guessed: a rule is
//! either a gate in illumos ppt/bhyve/vmadm (docs/illumos.md) or a check
//! the Linux/KVM/VFIO tools make (docs/viability.md), marked as advisory.

use super::Severity;

/// What a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The host as a whole (IOMMU, CPU).
    Host,
    /// One PCI function.
    Function,
    /// The pending configuration (aliases, reservations, VM payloads).
    Config,
}

/// One viability rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// How bad it is when it fires.
    pub severity: Severity,
    /// What the rule is about.
    pub scope: Scope,
    /// The fact it reads (config register, OS fact, file).
    pub reads: &'static str,
    /// One line: what the rule means.
    pub summary: &'static str,
    /// What to do when it fires.
    pub hint: &'static str,
}

const fn rule(
    code: &'static str,
    severity: Severity,
    scope: Scope,
    reads: &'static str,
    summary: &'static str,
    hint: &'static str,
) -> Rule {
    Rule {
        code,
        severity,
        scope,
        reads,
        summary,
        hint,
    }
}

use Scope::{Config, Function, Host};
use Severity::{Fail, Info, Warn};

// ---- host ---------------------------------------------------------------

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/vmm.c` `vm_assign_pptdev`
/// fails with ENXIO when `iommu_create_domain` returns NULL, and bhyve
/// reports any assign failure as "PCI device at N is not using the ppt
/// driver" (`pci_passthru.c` `passthru_init`). How Linux tools detect an
/// IOMMU (ACPI DMAR/IVRS, /sys/class/iommu): docs/viability.md.
pub const NO_IOMMU: Rule = rule(
    "no-iommu",
    Fail,
    Host,
    "ACPI DMAR/IVRS tables, /sys/class/iommu, /sys/kernel/iommu_groups; illumos: vmm_vtd module",
    "no IOMMU: bhyve cannot assign any device",
    "enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup",
);

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/io/iommu.c` `iommu_init`
/// loads `misc/vmm_vtd` on Intel; the gate builds no `vmm_amdvi` (only
/// `usr/src/uts/intel/vmm_vtd/Makefile`), which exists only in a fork
/// (nwilkens/illumos-joyent).
pub const IOMMU_UNSUPPORTED: Rule = rule(
    "iommu-unsupported",
    Fail,
    Host,
    "CPU vendor (/proc/cpuinfo vendor_id or vmx/svm flags), IOMMU kind",
    "the IOMMU is not Intel VT-d: upstream illumos bhyve only drives VT-d",
    "use an Intel host with VT-d, or an illumos build whose vmm has an AMD-Vi backend (vmm_amdvi)",
);

/// Source: illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`,
/// `setup_subproc_env`: zoneadmd resolves every pass-through device through
/// libppt (`ppt_devpath_to_dev`, which lists every `/dev/ppt*` link with
/// `ppt_list_assigned`); one link that does not resolve makes the boot hook
/// fail with "failed to resolve passthru device" for every VM with
/// pass-through (docs/illumos.md).
pub const STALE_PPT_LINK: Rule = rule(
    "stale-ppt-link",
    Fail,
    Host,
    "/dev/ppt* links vs the device tree and the driver holding each node",
    "a /dev/ppt* link does not resolve: zoneadmd fails to start every VM with pass-through",
    "remove the stale links (`devfsadm -C -c ppt` or `rm` the /dev/pptN link), then start the VMs",
);

/// No other tool has this rule: the source recorded no host facts (a dump),
/// so the host gates above cannot be evaluated. Warn, never ok, because
/// those gates (`no-iommu`, `iommu-unsupported`) are fatal when they fail.
pub const IOMMU_UNKNOWN: Rule = rule(
    "iommu-unknown",
    Warn,
    Host,
    "host facts recorded by the source",
    "the source says nothing about the CPU or IOMMU",
    "check on the host itself, or from a snapshot taken there (`pptctl snapshot`)",
);

/// Source: libvirt `tools/virt-host-validate-common.c`
/// `virHostValidateIOMMU` (the firmware table is there but
/// `/sys/kernel/iommu_groups` is empty: the kernel did not turn the IOMMU
/// on; docs/viability.md). Only matters to Linux; the illumos kernel
/// decides itself, so it is info.
pub const IOMMU_OFF_IN_LINUX: Rule = rule(
    "iommu-off-in-linux",
    Info,
    Host,
    "/sys/firmware/acpi/tables/DMAR vs /sys/class/iommu",
    "the firmware has an IOMMU table but the running Linux kernel did not enable it",
    "irrelevant for illumos; on Linux add intel_iommu=on to the kernel command line",
);

// ---- function: hard gates (fail) ----------------------------------------

/// Source: illumos-gate `usr/src/cmd/bhyve/common/pci_passthru.c`
/// `cfginitmsi` needs a capability list and MSI or MSI-X, else `cfginit`
/// fails ("failed to initialize MSI for PCI %d"); legacy INTx is not
/// delivered to the guest (the comment in `passthru_init`).
pub const NO_MSI: Rule = rule(
    "no-msi",
    Fail,
    Function,
    "Status bit 4 (capability list), capability IDs 0x05 (MSI) and 0x11 (MSI-X)",
    "no MSI and no MSI-X: bhyve delivers no INTx, so the device gets no interrupts",
    "this function cannot be passed through with bhyve",
);

/// Source: illumos-gate `usr/src/cmd/bhyve/common/pci_passthru.c`
/// `cfginitbar`: every BAR that is not I/O needs a page aligned base and
/// size ("passthru device %d BAR %d: base %#lx or size %#lx not page
/// aligned"), else `cfginit` fails.
pub const BAR_NOT_PAGE_ALIGNED: Rule = rule(
    "bar-not-page-aligned",
    Fail,
    Function,
    "memory BAR base (0x10–0x24) and size (OS resource / assigned-addresses)",
    "a memory BAR is smaller than 4 KiB or not 4 KiB aligned: bhyve refuses the device",
    "such devices cannot be passed through with bhyve",
);

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/io/ppt.c`
/// `ppt_ddi_attach` calls `ppt_bar_crawl`, which needs
/// `assigned-addresses`, else attach fails with EIO.
pub const NO_ASSIGNED_ADDRESSES: Rule = rule(
    "no-assigned-addresses",
    Fail,
    Function,
    "devinfo property assigned-addresses",
    "the node has no assigned-addresses: ppt will not attach",
    "the firmware or OS assigned no BARs; check the firmware settings (e.g. Above 4G decoding)",
);

/// Source: libvirt `src/util/virpci.c` `virPCIDeviceReset` resets only
/// endpoints (header type 0; docs/viability.md), and illumos-gate
/// `usr/src/uts/intel/io/vmm/io/ppt.c` `ppt_ddi_attach` makes no class
/// check, so nothing else stops binding a bridge, which takes everything
/// below it away from the host.
pub const BRIDGE: Rule = rule(
    "bridge",
    Fail,
    Function,
    "header type (0x0e & 0x7f) 1 or 2",
    "a PCI-to-PCI or CardBus bridge, not an endpoint",
    "pass the endpoint functions below the bridge instead",
);

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/io/ppt.c`
/// `ppt_ddi_attach` makes no class check, so the tool refuses host bridges
/// (class 0600), ISA/LPC bridges (0601) and the controller of the boot
/// pool, whose loss would take the host down.
pub const HOST_CRITICAL: Rule = rule(
    "host-critical",
    Fail,
    Function,
    "class code; host facts boot devices",
    "the host needs this function (host bridge, ISA/LPC bridge or boot pool controller)",
    "never reserve it for ppt",
);

// ---- function: advisories (warn) ----------------------------------------

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/io/ppt.c` `ppt_flr` (from
/// `ppt_assign_device`) resets only when the PCIe DevCap FLR bit (28) is
/// set; without it nothing is reset (a comment leaves a PM reset for
/// later). The reset methods Linux tools know: docs/viability.md.
pub const NO_RESET: Rule = rule(
    "no-reset",
    Warn,
    Function,
    "PCIe DevCap bit 28 (FLR); AF capability FLR bit; PM PMCSR NoSoftRst",
    "ppt cannot reset the function between guests (ppt resets only with PCIe FLR)",
    "the device keeps its state between VM runs; reboot the host before giving it to another guest",
);

/// Source: guests see the functions of a device only when function 0 is
/// there (smartos-live `src/vm/man/vmadm.8.md`, `disks.*.pci_slot`); GPU
/// practice passes every function (Proxmox qemu-server
/// `PVE/QemuServer/PCI.pm`, "All Functions"; docs/viability.md).
pub const SIBLINGS_LEFT_BEHIND: Rule = rule(
    "siblings-left-behind",
    Warn,
    Function,
    "other functions of the same bus:device and their driver now / after the next boot",
    "other functions of this device stay with the host",
    "reserve every function of the device (e.g. the GPU's audio function) unless you mean to split it",
);

/// Source: Linux sysfs `boot_vga` (`drivers/pci/pci-sysfs.c`); the host
/// framebuffer holds the BAR (docs/viability.md). No illumos source covers
/// it (illumos-gate `pci_boot.c` only lists VGA devices), so a warning.
pub const CONSOLE_VGA: Rule = rule(
    "console-vga",
    Warn,
    Function,
    "Linux boot_vga",
    "the firmware's boot display: the host console uses it",
    "use another display for the host console, or expect to lose the console when the VM starts",
);

/// Source: the Linux kernel's groups (`drivers/iommu/iommu.c`
/// `pci_device_group`, `REQ_ACS_FLAGS`: every bridge upstream needs ACS
/// SV|RR|CR|UF, functions of a multifunction device without ACS share;
/// docs/viability.md). illumos enforces no isolation (no ACS or group check
/// in ppt.c, iommu.c or libppt), so this is advisory.
pub const SHARED_ISOLATION: Rule = rule(
    "shared-isolation",
    Warn,
    Function,
    "PCIe port types and ACS capability/control on the path upstream, multifunction bit",
    "without ACS the device can do peer-to-peer DMA with other devices (Linux would put them in one IOMMU group)",
    "pass every device of the group, or use a slot behind a port with ACS",
);

/// A dump holds config space only, and a BAR's size is found by writing
/// ones to it (PCI Local Bus Specification 3.0 §6.2.5.1), so the size
/// alignment of bhyve's gate (illumos-gate
/// `usr/src/cmd/bhyve/common/pci_passthru.c` `cfginitbar`) cannot be
/// checked.
pub const BAR_SIZE_UNKNOWN: Rule = rule(
    "bar-size-unknown",
    Warn,
    Function,
    "BAR sizes from the source",
    "the source has no BAR sizes, so bhyve's page-size rule cannot be checked",
    "check on the host, from sysfs, a devinfo snapshot or a pptctl snapshot",
);

/// Source: Proxmox VE documentation (pve-docs `qm-pci-passthrough.adoc`,
/// SR-IOV): pass VFs, not the PF whose driver manages them
/// (docs/viability.md).
pub const SRIOV_PF_WITH_VFS: Rule = rule(
    "sriov-pf-with-vfs",
    Warn,
    Function,
    "SR-IOV extended capability NumVFs; virtfn links",
    "an SR-IOV physical function with virtual functions enabled: the VFs depend on the PF's host driver",
    "pass a virtual function instead, or disable the VFs first",
);

/// Source: reports that guest firmware has no room for large 64-bit or
/// resizable BARs (cloud-hypervisor/cloud-hypervisor issue 4375,
/// LekKit/RVVM issue 197; docs/viability.md).
pub const LARGE_BAR: Rule = rule(
    "large-bar",
    Warn,
    Function,
    "64-bit BAR sizes; Resizable BAR extended capability 0x15",
    "a BAR of 4 GiB or more, or Resizable BAR: the guest firmware must have room in its 64-bit MMIO window",
    "turn Resizable BAR off in the host firmware, or give the guest a firmware with a large MMIO window",
);

/// Source: illumos-gate `usr/src/cmd/bhyve/common/pci_passthru.c`
/// `passthru_read`/`passthru_write` emulate I/O BAR accesses through the
/// ppt ioctls PPT_BAR_READ/WRITE (ppt.c `ppt_ioctl`); I/O BARs are not
/// mapped.
pub const IO_BAR: Rule = rule(
    "io-bar",
    Warn,
    Function,
    "BAR bit 0 (I/O space)",
    "an I/O port BAR: bhyve emulates every access, which is slow",
    "usually harmless; drivers that use I/O ports heavily will be slow",
);

/// No other tool has this rule: without (enough) config space the bhyve
/// gates (illumos-gate `usr/src/cmd/bhyve/common/pci_passthru.c`
/// `cfginitmsi`, `cfginitbar`) cannot be checked, and they are fatal, so
/// warn.
pub const CONFIG_UNKNOWN: Rule = rule(
    "config-unknown",
    Warn,
    Function,
    "length of the config space the source provided",
    "the source has no (or only 64 bytes of) config space, so MSI, BAR and reset checks could not run",
    "give config space: --cfgspace DIR (pcieadm save-cfgspace -a DIR), sysfs, a root lspci -xxxx dump or a snapshot",
);

/// Capability chains that loop or point outside config space are decoded as
/// far as they go (`pci-core/src/caps/chain.rs`); what lies beyond is
/// unknown.
pub const CONFIG_BROKEN: Rule = rule(
    "config-broken",
    Warn,
    Function,
    "capability chain pointers, BAR registers",
    "config space does not decode cleanly (a broken capability list or BAR); facts after the break are unknown",
    "re-read config space on the host; a broken list usually means a broken dump or device",
);

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/io/ppt.c` `ppt_bar_crawl`
/// records BARs from `assigned-addresses`; an unassigned BAR is not mapped
/// into the guest.
pub const BAR_UNASSIGNED: Rule = rule(
    "bar-unassigned",
    Warn,
    Function,
    "BAR address 0 with a non-zero size",
    "a BAR has no address assigned: the guest will not see it",
    "check the firmware settings (Above 4G decoding, resource allocation)",
);

// ---- function: info ------------------------------------------------------

/// The driver bound now (reserved = ppt bound; ppt ships with no aliases of
/// its own, illumos-gate `usr/src/pkg/manifests/system-bhyve.p5m`, so only
/// an alias reserves a function).
pub const PPT_NOW: Rule = rule(
    "ppt-now",
    Info,
    Function,
    "driver bound now",
    "bound to ppt now",
    "",
);

/// The driver after the next boot: aliases are read once at boot
/// (illumos-gate `usr/src/uts/common/os/modsysfile.c` `make_aliases`, from
/// `modctl.c` `mod_setup`) and path aliases win (`devcfg.c` `init_node`);
/// see docs/illumos.md.
pub const NEXT_BOOT: Rule = rule(
    "next-boot",
    Info,
    Function,
    "ppt_aliases, driver_aliases and the node's compatible list",
    "what the next boot will bind",
    "",
);

/// Source: Linux/VFIO could reset it another way: Advanced Features FLR or
/// PM D3hot→D0 (`drivers/pci/pci.c` `pci_af_flr`, `pci_pm_reset`;
/// docs/viability.md).
pub const OTHER_RESET: Rule = rule(
    "other-reset",
    Info,
    Function,
    "AF capability FLR bit; PM PMCSR NoSoftRst",
    "Linux/VFIO could reset the function without PCIe FLR, ppt cannot",
    "",
);

/// Source: pve-docs `qm-pci-passthrough.adoc` (SR-IOV VFs); libvirt takes
/// VFs as FLR-capable (`src/util/virpci.c`
/// `virPCIDeviceDetectFunctionLevelReset`; docs/viability.md).
pub const SRIOV_VF: Rule = rule(
    "sriov-vf",
    Info,
    Function,
    "physfn link",
    "an SR-IOV virtual function: it exists only while its PF's driver keeps VFs enabled",
    "make sure the PF driver enables the VFs at boot on the host",
);

// ---- configuration ------------------------------------------------------

/// Source: illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`
/// `resolve_device_match` turns the path into /dev/pptN with libppt
/// `ppt_devpath_to_dev`, so the device must be bound to ppt with a
/// /dev/pptN link at boot.
pub const PPT_NOT_BOUND: Rule = rule(
    "ppt-not-bound",
    Fail,
    Config,
    "vmadm pci_devices paths; driver now and after the next boot",
    "a VM needs the device but it is not bound to ppt now and will not be after the next boot",
    "reserve it (pptctl reserve PATH; on SmartOS pptctl reserve --boot-media DIR PATH), then reboot",
);

/// Source: illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`
/// `resolve_device_match` ("failed to resolve passthru device").
pub const VM_DEVICE_MISSING: Rule = rule(
    "vm-device-missing",
    Fail,
    Config,
    "vmadm pci_devices paths vs the device tree",
    "a VM names a device path that does not exist on this host",
    "fix the path: use `pptctl vm-json SELECTOR` to produce it",
);

/// Source: smartos-live `src/vm/node_modules/VM.js` (`validatePCIDevice` /
/// `parsePCIslot` errors).
pub const VM_PAYLOAD_INVALID: Rule = rule(
    "vm-payload-invalid",
    Fail,
    Config,
    "vmadm payload",
    "vmadm would reject the payload",
    "fix the payload; `pptctl vm-json --check FILE` explains",
);

/// Source: smartos-live `src/vm/node_modules/VM.js` removes `pci_devices.*`
/// sub-properties without an entry in `src/vm/node_modules/proptable.js`
/// from the payload.
pub const VM_PAYLOAD_DROPPED: Rule = rule(
    "vm-payload-dropped",
    Warn,
    Config,
    "vmadm payload",
    "vmadm drops a property it does not know from the payload",
    "remove the property, or check its spelling",
);

/// Source: illumos-joyent `usr/src/lib/brand/bhyve/zone/boot.c` (enum
/// `pci_slot_t`: hostbridge 0, CD 3, disks 4–5, NICs 6, fbuf 30, LPC 31);
/// vmadm does not cross-check, and bhyve rejects a slot used twice when the
/// VM boots (illumos-gate `usr/src/cmd/bhyve/common/pci_emul.c`
/// `pci_parse_slot`). A fail: the payload cannot be trusted to start, and
/// `vm-json --check` calls it an error.
pub const GUEST_SLOT_RESERVED: Rule = rule(
    "guest-slot-reserved",
    Fail,
    Config,
    "vmadm pci_devices pci_slot",
    "the guest slot is one the bhyve brand uses for its own devices",
    "use bus 0 devices 1–2 or 7–29, or another bus",
);

/// Source: bhyve rejects a slot used twice (illumos-gate
/// `usr/src/cmd/bhyve/common/pci_emul.c` `pci_parse_slot`, "already
/// occupied"); the brand's boot.c does not check.
pub const GUEST_SLOT_CONFLICT: Rule = rule(
    "guest-slot-conflict",
    Fail,
    Config,
    "vmadm pci_devices pci_slot",
    "two devices of one VM use the same guest slot: bhyve will not start",
    "give each device its own slot",
);

/// Source: guests see functions of a device only when function 0 exists
/// (smartos-live `src/vm/man/vmadm.8.md`, `disks.*.pci_slot`).
pub const GUEST_SLOT_NO_FUNCTION_0: Rule = rule(
    "guest-slot-no-function-0",
    Warn,
    Config,
    "vmadm pci_devices pci_slot functions",
    "a guest device has functions but no function 0: guests may not see them",
    "put one function of the device at function 0 (e.g. 0:8:0 and 0:8:1)",
);

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/io/ppt.c`
/// `ppt_assign_device`: a ppt device is assigned to one VM at a time
/// (EBUSY).
pub const VM_DEVICE_SHARED: Rule = rule(
    "vm-device-shared",
    Warn,
    Config,
    "vmadm pci_devices paths across VMs",
    "two VMs use the same device: only one can run at a time",
    "give each VM its own device, or never run them together",
);

/// Source: a compatible alias is compared as an exact string with every
/// node's `compatible` list, so it binds every matching device
/// (illumos-gate `usr/src/uts/common/os/devcfg.c`
/// `ddi_compatible_driver_major`; seen in smartos-live issue 901).
pub const ALIAS_TAKES_MORE: Rule = rule(
    "alias-takes-more",
    Warn,
    Config,
    "ppt_aliases compatible entries vs the nodes' compatible lists",
    "an ID alias binds more than one function",
    "use path aliases (pptctl reserve PATH; on SmartOS with --boot-media DIR) to reserve single functions",
);

/// Source: a path alias must be the byte-exact `ddi_pathname` (illumos-gate
/// `usr/src/uts/common/os/devcfg.c` `init_node`).
pub const ALIAS_BINDS_NOTHING: Rule = rule(
    "alias-binds-nothing",
    Warn,
    Config,
    "ppt_aliases entries vs the device tree",
    "a ppt_aliases entry matches no device on this host",
    "fix or remove the entry; `pptctl match --explain` shows why",
);

/// Source: a function reserved for the next boot that fails a per-function
/// gate (ppt attach or bhyve, the `fail` rules of scope function above)
/// cannot work.
pub const RESERVED_FAILS: Rule = rule(
    "reserved-fails",
    Fail,
    Config,
    "per-function verdicts of reserved functions",
    "a function reserved for ppt fails a pass-through gate",
    "unreserve it (pptctl unreserve SELECTOR; on SmartOS with --boot-media DIR) or fix the cause",
);

mod next_boot;
#[cfg(test)]
mod tests;

pub use next_boot::{
    ARCHIVE_OMITS, ARCHIVE_STALE, DRIVER_DISABLED, MATCHES_ONLY, NEXT_BOOT_UNKNOWN, PENDING_CHANGE,
    PPT_KEPT,
};

/// Every rule, in report order.
pub const ALL: &[&Rule] = &[
    &NO_IOMMU,
    &IOMMU_UNSUPPORTED,
    &IOMMU_UNKNOWN,
    &IOMMU_OFF_IN_LINUX,
    &STALE_PPT_LINK,
    &NO_MSI,
    &BAR_NOT_PAGE_ALIGNED,
    &NO_ASSIGNED_ADDRESSES,
    &BRIDGE,
    &HOST_CRITICAL,
    &NO_RESET,
    &SIBLINGS_LEFT_BEHIND,
    &CONSOLE_VGA,
    &SHARED_ISOLATION,
    &BAR_SIZE_UNKNOWN,
    &SRIOV_PF_WITH_VFS,
    &LARGE_BAR,
    &IO_BAR,
    &CONFIG_UNKNOWN,
    &CONFIG_BROKEN,
    &BAR_UNASSIGNED,
    &PPT_NOW,
    &NEXT_BOOT,
    &OTHER_RESET,
    &SRIOV_VF,
    &PPT_NOT_BOUND,
    &VM_DEVICE_MISSING,
    &VM_PAYLOAD_INVALID,
    &VM_PAYLOAD_DROPPED,
    &GUEST_SLOT_RESERVED,
    &GUEST_SLOT_CONFLICT,
    &GUEST_SLOT_NO_FUNCTION_0,
    &VM_DEVICE_SHARED,
    &ALIAS_TAKES_MORE,
    &ALIAS_BINDS_NOTHING,
    &RESERVED_FAILS,
    &PENDING_CHANGE,
    &PPT_KEPT,
    &NEXT_BOOT_UNKNOWN,
    &ARCHIVE_STALE,
    &ARCHIVE_OMITS,
    &DRIVER_DISABLED,
    &MATCHES_ONLY,
];

/// The rule with `code`, if any.
pub fn by_code(code: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.code == code)
}
