//! Linux host facts for the viability check: CPU vendor and IOMMU presence.
//!
//! Linux (docs/viability.md, as libvirt's virt-host-validate,
//! `virHostValidateIOMMU`, and Proxmox's `check_iommu_support` read
//! them): the CPU vendor from `/proc/cpuinfo` (`vendor_id`, else the
//! `vmx`/`svm` flags); the IOMMU from the ACPI `DMAR` (Intel VT-d)
//! or `IVRS` (AMD-Vi) table under `/sys/firmware/acpi/tables`, the units in
//! `/sys/class/iommu` (`dmarN`, `ivhdN`) and the groups in
//! `/sys/kernel/iommu_groups`. The firmware table is what matters to a host
//! that will boot illumos; whether the running Linux enabled the IOMMU is
//! noted in the evidence only.
//!
//! The illumos counterpart (data under `--root`) lives in pci-illumos
//! (`pci_illumos::hostfacts`).
//!
//! Each tree is read as its own root (see [`crate::root`]): a link in a
//! copied tree resolves inside it, never to the running host's files.
//!
//! Nothing here panics on odd files; unreadable files become [`Diagnostic`]s.

use std::path::Path;

use crate::host::{CpuVendor, Diagnostic, HostFacts, IommuFacts};
use crate::root::{HostRoot, ReadError};

/// The CPU vendor named by `/proc/cpuinfo` text: `vendor_id` first, then
/// the virtualization flags (`vmx` Intel, `svm` AMD) as virt-host-validate does.
pub(crate) fn cpu_vendor_from_cpuinfo(text: &str) -> Option<CpuVendor> {
    let mut flags_vendor = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim() {
            "vendor_id" => {
                return Some(match value.trim() {
                    "GenuineIntel" => CpuVendor::Intel,
                    "AuthenticAMD" => CpuVendor::Amd,
                    _ => CpuVendor::Other,
                })
            }
            "flags" if flags_vendor.is_none() => {
                let mut words = value.split_whitespace();
                flags_vendor = if value.split_whitespace().any(|w| w == "vmx") {
                    Some(CpuVendor::Intel)
                } else if words.any(|w| w == "svm") {
                    Some(CpuVendor::Amd)
                } else {
                    None
                };
            }
            _ => {}
        }
    }
    flags_vendor
}

/// Names in a directory of the tree, sorted; `Ok(None)` when it does not
/// exist.
fn dir_names(root: &HostRoot, dir: &str) -> Result<Option<Vec<String>>, ReadError> {
    match root.read_dir(dir) {
        Ok(names) => Ok(Some(
            names
                .into_iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect(),
        )),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn note(warnings: &mut Vec<Diagnostic>, root: &HostRoot, e: &ReadError) {
    warnings.push(Diagnostic::at(
        root.path(e.path()).display().to_string(),
        None,
        format!("cannot read: {}", e.reason()),
    ));
}

/// The most of `/proc/cpuinfo` read (a 1024-CPU host writes about 1.5 MiB;
/// procfs files report size 0, so the limit applies while reading).
const CPUINFO_LIMIT: u64 = 16 << 20;

/// Collects Linux host facts from a sysfs tree `sys` (normally `/sys`) and
/// a procfs tree `proc_dir` (normally `/proc`; may be absent for a copied
/// sysfs tree). Returns the facts and the problems met.
pub fn linux(sys: &Path, proc_dir: &Path) -> (HostFacts, Vec<Diagnostic>) {
    let mut warnings = Vec::new();
    let mut facts = HostFacts {
        os: Some("linux".to_string()),
        ..Default::default()
    };
    let procfs = HostRoot::new(proc_dir);
    match procfs.read("/cpuinfo", CPUINFO_LIMIT) {
        Ok(bytes) => facts.cpu_vendor = cpu_vendor_from_cpuinfo(&String::from_utf8_lossy(&bytes)),
        Err(e) if e.is_not_found() => {}
        Err(e) => note(&mut warnings, &procfs, &e),
    }
    let sysfs = HostRoot::new(sys);
    let mut read = |p: &str| match dir_names(&sysfs, p) {
        Ok(v) => v,
        Err(e) => {
            note(&mut warnings, &sysfs, &e);
            None
        }
    };
    let table_names = read("/firmware/acpi/tables");
    let units = read("/class/iommu");
    let groups = read("/kernel/iommu_groups");
    let has_table = |t: &str| {
        table_names
            .as_ref()
            .is_some_and(|n| n.iter().any(|x| x == t))
    };
    let (dmar, ivrs) = (has_table("DMAR"), has_table("IVRS"));
    let units = units.unwrap_or_default();
    let group_count = groups.as_ref().map_or(0, Vec::len);
    let kind = if dmar || units.iter().any(|u| u.starts_with("dmar")) {
        Some("vt-d")
    } else if ivrs || units.iter().any(|u| u.starts_with("ivhd")) {
        Some("amd-vi")
    } else if !units.is_empty() {
        Some("other")
    } else {
        None
    };
    let firmware = if dmar {
        "ACPI DMAR table present"
    } else if ivrs {
        "ACPI IVRS table present"
    } else {
        "no ACPI DMAR or IVRS table"
    };
    let kernel = if !units.is_empty() {
        format!(
            "kernel IOMMU units {} and {group_count} IOMMU groups",
            units.join(", ")
        )
    } else if group_count > 0 {
        format!("{group_count} IOMMU groups")
    } else {
        "not enabled by the running kernel (no /sys/class/iommu units, no IOMMU groups)".to_string()
    };
    let present = dmar || ivrs || !units.is_empty() || group_count > 0;
    // Only say "absent" when the tree shows where it would be: a copied
    // sysfs tree without firmware/ or class/ says nothing either way.
    if present || table_names.is_some() {
        facts.iommu = Some(IommuFacts {
            present,
            kind: kind.map(str::to_string),
            evidence: format!("{firmware}; {kernel}"),
        });
    }
    (facts, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn cpuinfo_vendor_and_flags() {
        assert_eq!(
            cpu_vendor_from_cpuinfo(
                "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx\n"
            ),
            Some(CpuVendor::Intel)
        );
        assert_eq!(
            cpu_vendor_from_cpuinfo("vendor_id : AuthenticAMD\n"),
            Some(CpuVendor::Amd)
        );
        assert_eq!(
            cpu_vendor_from_cpuinfo("vendor_id : HygonGenuine\n"),
            Some(CpuVendor::Other)
        );
        assert_eq!(
            cpu_vendor_from_cpuinfo("flags : fpu svm lm\n"),
            Some(CpuVendor::Amd)
        );
        assert_eq!(cpu_vendor_from_cpuinfo("garbage\n\0\u{fffd}"), None);
    }

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"x").unwrap();
    }

    #[test]
    fn linux_intel_with_dmar() {
        let t = tempfile::tempdir().unwrap();
        let sys = t.path().join("sys");
        let proc_dir = t.path().join("proc");
        touch(&proc_dir.join("cpuinfo"));
        fs::write(proc_dir.join("cpuinfo"), "vendor_id\t: GenuineIntel\n").unwrap();
        touch(&sys.join("firmware/acpi/tables/DMAR"));
        fs::create_dir_all(sys.join("class/iommu/dmar0")).unwrap();
        fs::create_dir_all(sys.join("kernel/iommu_groups/0")).unwrap();
        let (f, w) = linux(&sys, &proc_dir);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(f.cpu_vendor, Some(CpuVendor::Intel));
        let i = f.iommu.unwrap();
        assert!(i.present);
        assert_eq!(i.kind.as_deref(), Some("vt-d"));
        assert!(i.evidence.contains("dmar0"), "{}", i.evidence);
    }

    #[test]
    fn linux_no_iommu_and_table_only() {
        let t = tempfile::tempdir().unwrap();
        let sys = t.path().join("sys");
        fs::create_dir_all(sys.join("firmware/acpi/tables")).unwrap();
        touch(&sys.join("firmware/acpi/tables/APIC"));
        let (f, _) = linux(&sys, &t.path().join("proc"));
        assert_eq!(f.cpu_vendor, None);
        assert!(!f.iommu.unwrap().present);

        touch(&sys.join("firmware/acpi/tables/DMAR"));
        let (f, _) = linux(&sys, &t.path().join("proc"));
        let i = f.iommu.unwrap();
        assert!(i.present);
        assert!(i.evidence.contains("not enabled by the running kernel"));
    }

    #[test]
    fn linux_bare_tree_is_unknown() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("sys/bus/pci/devices")).unwrap();
        let (f, w) = linux(&t.path().join("sys"), &t.path().join("proc"));
        assert!(w.is_empty());
        assert_eq!(f.iommu, None);
        assert_eq!(f.os.as_deref(), Some("linux"));
    }
}
