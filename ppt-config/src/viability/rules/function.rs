//! The rules about one PCI function: hard gates, advisories and facts.

use super::Scope::Function;
use super::{rule, Rule};
use crate::viability::Severity::{Fail, Info, Warn};

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
