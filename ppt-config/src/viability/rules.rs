//! The rules, as data. Codes are stable (scripts read them from `--json`);
//! each rule cites where it comes from. Nothing here is guessed: a rule is
//! either a gate in illumos ppt/bhyve/vmadm (docs/illumos.md) or a check
//! the Linux/KVM/VFIO tools make (docs/viability.md), marked as advisory.

use pci_core::passthrough::Never;

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

mod config;
mod function;
mod next_boot;

pub use config::*;
pub use function::*;
pub use next_boot::*;

use Scope::Host;
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
    &GUEST_BUS_MPTABLE,
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
    &MATCHES_ONLY,
    &ARCHIVE_OMITS,
    &DRIVER_DISABLED,
];

/// The rule with `code`, if any (the tests check that each code names
/// one rule; the code joins problems to rules by the rule itself).
#[cfg(test)]
pub(crate) fn by_code(code: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.code == code)
}

/// The rule a never-pass-through reason (pci-core's
/// [`pci_core::passthrough::never`] table, which `reserve` refuses by too)
/// is reported under. The match is exhaustive, so a new reason does not
/// compile until it has a rule; [`Never::code`] names the same rule.
pub(crate) fn never_rule(never: &Never) -> &'static Rule {
    match never {
        Never::Bridge { .. } => &BRIDGE,
        Never::HostCritical { .. } | Never::BootDevice { .. } => &HOST_CRITICAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = BTreeSet::new();
        for r in ALL {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(
                r.code.split('-').all(|w| !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
                "{} is not kebab-case",
                r.code
            );
            assert!(!r.reads.is_empty() && !r.summary.is_empty());
            if r.severity != Severity::Info {
                assert!(!r.hint.is_empty(), "{} needs a hint", r.code);
            }
        }
        assert_eq!(by_code("no-msi"), Some(&NO_MSI));
        assert_eq!(by_code("nope"), None);
    }

    #[test]
    fn every_never_reason_has_its_own_rule() {
        for n in [
            Never::Bridge {
                header_layout: Some(1),
            },
            Never::HostCritical { class: 0x0600 },
            Never::BootDevice {
                device: "/pci@0,0/pci8086,2829@1f,2".to_string(),
            },
        ] {
            assert_eq!(never_rule(&n).code, n.code(), "{n:?}");
            assert_eq!(by_code(n.code()), Some(never_rule(&n)));
        }
    }
}
